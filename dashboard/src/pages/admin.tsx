// The admin's pages: users, everybody's links (with flagging), the blocklist, consistency.
import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { api, enc, get, messageOf, qs } from "../api";
import { ConfirmButton, CopyButton, errorsFrom, type Errors, Field, fmtDate, FormError, LoadError, Notice, useLoad } from "../ui";
import { LinksBrowser } from "./links";

interface User {
  id: string;
  email: string;
  role: "user" | "admin";
  disabled: boolean;
  created_at?: string;
  link_count?: number;
}

export function AdminUsers() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const users = useLoad(
    () => get<{ users: User[]; next_cursor: string | null }>(`/api/admin/users${qs({ limit: "50", cursor })}`),
    [cursor],
  );
  const [email, setEmail] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [made, setMade] = useState<{ email: string; api_key: string } | null>(null);
  const [message, setMessage] = useState("");
  const create = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    try {
      const u = await api<{ email: string; api_key: string }>("POST", "/api/admin/users", { email: email.trim() });
      setMade(u);
      setEmail("");
      users.reload();
    } catch (err) {
      setErrors(errorsFrom(err));
    }
  };
  const patch = async (u: User, body: Partial<User>, what: string) => {
    try {
      await api("PATCH", `/api/admin/users/${enc(u.id)}`, body);
      setMessage(what);
      users.reload();
    } catch (e) {
      setErrors({ _form: messageOf(e) });
    }
  };
  return (
    <section>
      <h1 tabIndex={-1}>Users</h1>
      <form onSubmit={create}>
        <Field label="New user's e-mail" name="email" type="email" required value={email} onInput={setEmail} errors={errors} />
        <button type="submit">Create user</button>
      </form>
      {made && (
        <div class="notice">
          <span role="status">
            {made.email}'s API key (shown only now, hand it over): <code class="secret">{made.api_key}</code>
          </span>{" "}
          <CopyButton text={made.api_key} name={`${made.email}'s key`} />
        </div>
      )}
      {message && <Notice>{message}</Notice>}
      <FormError errors={errors} />
      <LoadError error={users.error} />
      <div class="overflow-auto">
        <table>
          <thead>
            <tr>
              <th scope="col">E-mail</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Links
              </th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {users.data?.users.map((u) => (
              <tr key={u.id} data-user={u.email}>
                <td>
                  {u.email}
                  <div class="muted">{u.id}</div>
                </td>
                <td>{u.role}</td>
                <td>{u.disabled ? "disabled" : "enabled"}</td>
                <td class="num">
                  <a href={`#/admin/links?owner=${enc(u.id)}`} aria-label={`${u.link_count ?? "?"} links of ${u.email}`}>
                    {u.link_count ?? "—"}
                  </a>
                </td>
                <td class="actions">
                  <a href={`#/admin/users/${enc(u.id)}/keys?email=${enc(u.email)}`} aria-label={`Keys of ${u.email}`}>
                    Keys
                  </a>{" "}
                  <button
                    type="button"
                    class="secondary outline"
                    onClick={() => patch(u, { role: u.role === "admin" ? "user" : "admin" }, `${u.email} is now ${u.role === "admin" ? "a user" : "an admin"}.`)}
                  >
                    {u.role === "admin" ? "Demote" : "Promote"}
                  </button>{" "}
                  {u.disabled ? (
                    <button type="button" class="secondary outline" onClick={() => patch(u, { disabled: false }, `${u.email} enabled.`)}>
                      Enable
                    </button>
                  ) : (
                    <ConfirmButton
                      label="Disable"
                      question={`Disable ${u.email}? All their keys stop working.`}
                      onConfirm={() => patch(u, { disabled: true }, `${u.email} disabled.`)}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Pages">
        <button type="button" class="secondary" disabled={cursors.length < 2} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <button
          type="button"
          class="secondary"
          disabled={!users.data?.next_cursor}
          onClick={() => users.data?.next_cursor && setCursors((c) => [...c, users.data!.next_cursor])}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}

export function AdminLinks({ owner }: { owner: string }) {
  return <LinksBrowser admin={true} owner={owner} />;
}

export function Blocklist() {
  const list = useLoad(() => get<{ hosts: string[] }>("/api/admin/blocklist"), []);
  const [host, setHost] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const add = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    try {
      await api("POST", "/api/admin/blocklist", { host: host.trim() });
      setHost("");
      list.reload();
    } catch (err) {
      setErrors(errorsFrom(err));
    }
  };
  return (
    <section>
      <h1 tabIndex={-1}>Blocklist</h1>
      <p>A blocked host also blocks its subdomains; an IP address (IPv4 or IPv6) is blocked however a link writes it. New links and URL changes to it are refused; existing links keep redirecting until flagged.</p>
      <form onSubmit={add}>
        <Field label="Host to block" name="host" required placeholder="evil.example" value={host} onInput={setHost} errors={errors} />
        <FormError errors={errors} />
        <button type="submit">Block</button>
      </form>
      <LoadError error={list.error} />
      <ul class="hosts">
        {list.data?.hosts.map((h) => (
          <li key={h}>
            <code>{h}</code>{" "}
            <ConfirmButton
              label="Unblock"
              question={`Unblock ${h}?`}
              onConfirm={() => api("DELETE", `/api/admin/blocklist/${enc(h)}`).then(list.reload, (e) => setErrors({ _form: messageOf(e) }))}
            />
          </li>
        ))}
      </ul>
      {list.data && list.data.hosts.length === 0 && <p>No blocked hosts.</p>}
    </section>
  );
}

function Report({ value }: { value: Record<string, unknown> }) {
  return (
    <dl class="fields">
      {Object.entries(value).map(([k, v]) => (
        <Fragment key={k}>
          <dt>{k.replace(/_/g, " ")}</dt>
          <dd data-key={k}>
            {v !== null && typeof v === "object" ? <pre>{JSON.stringify(v, null, 2)}</pre> : String(v)}
          </dd>
        </Fragment>
      ))}
    </dl>
  );
}

export function Consistency() {
  const report = useLoad(() => get<Record<string, unknown>>("/api/admin/consistency"), []);
  const [run, setRun] = useState<Record<string, unknown> | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const reconcile = async (retryParked: boolean) => {
    setBusy(true);
    setError("");
    try {
      setRun(await api<Record<string, unknown>>("POST", `/api/admin/reconcile${qs({ retry_parked: retryParked ? "1" : "" })}`));
      report.reload();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h1 tabIndex={-1}>Consistency</h1>
      <p>How far the D1 index is from KV (the truth). A reconcile pass repairs drift; the cron runs one every five minutes.</p>
      <p class="buttons">
        <button type="button" aria-busy={busy} disabled={busy} onClick={() => reconcile(false)}>
          Run a reconcile pass
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={() => reconcile(true)}>
          Retry parked markers and run a pass
        </button>
      </p>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {run && (
        <article class="run" aria-live="polite">
          <h2>The pass's summary</h2>
          <Report value={run} />
        </article>
      )}
      <LoadError error={report.error} />
      {report.data && (
        <article>
          <h2>Report</h2>
          <p class="muted">{fmtDate(new Date().toISOString())}</p>
          <Report value={report.data} />
        </article>
      )}
    </section>
  );
}
