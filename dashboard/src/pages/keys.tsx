// API keys: a user's own (`/api/keys`), or, for the admin, any user's
// (`/api/admin/users/{id}/keys`): list, create (the key is shown once), revoke.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { api, enc, get, messageOf, type Session } from "../api";
import { ConfirmButton, CopyButton, errorsFrom, type Errors, Field, fmtDate, FormError, LoadError, useLoad } from "../ui";

interface Key {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export function Keys({ session }: { session: Session }) {
  return <KeyManager base="/api/keys" owner={session.user?.email ?? ""} />;
}

export function UserKeys({ id, email }: { id: string; email: string }) {
  return (
    <KeyManager base={`/api/admin/users/${enc(id)}/keys`} owner={email || id} handOver>
      <p>
        <a href="#/admin/users">Back to the users</a>
      </p>
    </KeyManager>
  );
}

function KeyManager({
  base,
  owner,
  handOver = false,
  children,
}: {
  base: string;
  owner: string;
  handOver?: boolean;
  children?: ComponentChildren;
}) {
  const keys = useLoad(() => get<{ keys: Key[] }>(base), [base]);
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [made, setMade] = useState<string>("");
  const create = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    try {
      const k = await api<{ api_key: string }>("POST", base, name.trim() ? { name: name.trim() } : {});
      setMade(k.api_key);
      setName("");
      keys.reload();
    } catch (err) {
      setErrors(errorsFrom(err));
    }
  };
  return (
    <section>
      <h1 tabIndex={-1}>API keys of {owner}</h1>
      {children}
      <form onSubmit={create}>
        <Field label="New key's name" name="name" value={name} onInput={setName} errors={errors} />
        <FormError errors={errors} />
        <button type="submit">Create key</button>
      </form>
      {made && (
        <div class="notice">
          <span role="status">
            New key (shown only now, {handOver ? "hand it over" : "copy it"}): <code class="secret">{made}</code>
          </span>{" "}
          <CopyButton text={made} name="the new key" />
        </div>
      )}
      <LoadError error={keys.error} />
      <div class="overflow-auto">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {keys.data?.keys.map((k) => (
              <tr key={k.id} data-key-id={k.id}>
                <td>{k.name}</td>
                <td>{fmtDate(k.created_at)}</td>
                <td>{fmtDate(k.last_used_at)}</td>
                <td>
                  <ConfirmButton
                    label="Revoke"
                    question={`Revoke ${k.name}?`}
                    onConfirm={() =>
                      api("DELETE", `${base}/${enc(k.id)}`).then(keys.reload, (e) => setErrors({ _form: messageOf(e) }))
                    }
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
