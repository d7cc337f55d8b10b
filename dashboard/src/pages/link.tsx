// One link: its fields, QR code, clicks by day (chart) with the stats breakdowns (and the A/B
// variants' results) over a period kept in the hash query, and history.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, enc, get, type Link, messageOf, qs } from "../api";
import { ConfirmButton, CopyButton, fmtDate, LoadError, navigate, Notice, noticeForNextPage, useLoad } from "../ui";
import { FlagControl } from "./links";
import { type Period, variantRows } from "../logic";
import { Breakdown, BREAKDOWNS, ClicksChart, PeriodForm, periodKey, type Stats, statsQuery, usePeriod } from "./stats";

interface HistoryPage {
  history: { version: number; op: string; actor: string; at: string; link: Link | null }[];
  next_cursor: string | null;
}

/// The link's stats API query for `p` and `group`.
function statsPath(slug: string, p: Period, group: string): string {
  return `/api/links/${enc(slug)}/stats${statsQuery(p, group)}`;
}

/// The A/B result: each variant's clicks and share of the period's clicks, labelled with its URL
/// and weight (the stats' `variant` groups are the variants' places in the link's list).
function VariantsBreakdown({ slug, variants, period }: { slug: string; variants: { url: string; weight: number }[]; period: Period }) {
  const s = useLoad(() => get<Stats>(statsPath(slug, period, "variant")), [slug, periodKey(period)]);
  const rows = s.data ? variantRows(variants, s.data) : [];
  const max = Math.max(1, ...rows.map((r) => r.clicks));
  return (
    <article class="breakdown variants" data-group="variant">
      <h3>Variants</h3>
      <LoadError error={s.error} />
      <div class="overflow-auto">
        <table>
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col">
                <span class="visually-hidden">Share as a bar</span>
              </th>
              <th scope="col" class="num">
                Clicks
              </th>
              <th scope="col" class="num">
                Share
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} data-variant={r.key}>
                <th scope="row" class="url">
                  {r.label}
                </th>
                <td class="bar">
                  <meter min={0} max={max} value={r.clicks} aria-label={`${r.label}: ${r.clicks}`} />
                </td>
                <td class="num clicks">{r.clicks}</td>
                <td class="num share">{r.share} %</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </article>
  );
}

/// The link's versions, newest first, each but the current one restorable. `current`: the
/// link's version, `null` when the link is gone (then every version can bring it back),
/// `undefined` while it loads.
function History({
  slug,
  current,
  onRestore,
}: {
  slug: string;
  current: number | null | undefined;
  onRestore: (version: number, at: string) => Promise<void>;
}) {
  const [cursor, setCursor] = useState<string | null>(null);
  const [rows, setRows] = useState<HistoryPage["history"]>([]);
  const page = useLoad(() => get<HistoryPage>(`/api/links/${enc(slug)}/history${qs({ limit: "20", cursor })}`), [slug, cursor]);
  useEffect(() => {
    if (page.data) setRows((r) => (cursor ? [...r, ...page.data!.history] : page.data!.history));
  }, [page.data]);
  return (
    <section class="history">
      <h2>History</h2>
      {current === null && rows.length > 0 && (
        <p class="notice">This link was deleted. Restore a version below to bring it back as it was then.</p>
      )}
      <LoadError error={page.error} />
      <div class="overflow-auto">
        <table class="history">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Change</th>
              <th scope="col">By</th>
              <th scope="col">Destination</th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((h) => (
              <tr key={h.version} data-version={h.version}>
                <td>{fmtDate(h.at)}</td>
                <td>{h.op}</td>
                <td>{h.actor}</td>
                <td class="url">{h.link?.url ?? "—"}</td>
                <td>{h.link ? `${h.link.state ?? (h.link.is_active ? "active" : "disabled")}${h.link.archived ? ", archived" : ""}` : "—"}</td>
                <td>
                  {h.version === current ? (
                    <span class="muted">current</span>
                  ) : (
                    current !== undefined &&
                    h.link && (
                      <ConfirmButton
                        label="Restore"
                        name={`Restore the version of ${fmtDate(h.at)}`}
                        question={current === null ? `Bring ${slug} back as it was on ${fmtDate(h.at)}?` : `Make ${slug} as it was on ${fmtDate(h.at)}?`}
                        onConfirm={() => onRestore(h.version, h.at)}
                      />
                    )
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.data?.next_cursor && (
        <button type="button" class="secondary" onClick={() => setCursor(page.data!.next_cursor)}>
          Older changes
        </button>
      )}
    </section>
  );
}

function Qr({ slug }: { slug: string }) {
  const base = `/api/links/${enc(slug)}/qr`;
  return (
    <article class="qr">
      <h2>QR code</h2>
      <img src={`${base}${qs({ format: "svg", size: "240", margin: "2" })}`} width={240} height={240} alt={`QR code of the short link ${slug}`} />
      <p class="buttons">
        <a href={`${base}${qs({ format: "svg", size: "512" })}`} download={`${slug}.svg`} role="button" class="secondary">
          Download SVG
        </a>
        <a href={`${base}${qs({ format: "png", size: "512" })}`} download={`${slug}.png`} role="button" class="secondary">
          Download PNG
        </a>
      </p>
    </article>
  );
}

/// The smart and password options a link has, as rows of its details; nothing for the unset
/// ones but the password, whose absence is worth saying.
function SmartFields({ l }: { l: Link }) {
  const t = l.targets;
  const devices: [string, string | undefined][] = [
    ["iOS", t?.ios],
    ["Android", t?.android],
    ["Desktop", t?.desktop],
  ];
  const total = (l.variants ?? []).reduce((n, v) => n + v.weight, 0);
  return (
    <>
      <dt>Password</dt>
      <dd>{l.has_password ? "yes: visitors must give it" : "no"}</dd>
      {l.valid_since && (
        <>
          <dt>Starts</dt>
          <dd>{fmtDate(l.valid_since)}</dd>
        </>
      )}
      {t && (
        <>
          <dt>Targets</dt>
          <dd>
            <ul class="options">
              {devices.map(([name, url]) =>
                url ? (
                  <li key={name}>
                    {name}: <span class="url">{url}</span>
                  </li>
                ) : null,
              )}
              {Object.entries(t.countries ?? {}).map(([code, url]) => (
                <li key={code}>
                  {code}: <span class="url">{url}</span>
                </li>
              ))}
            </ul>
          </dd>
        </>
      )}
      {l.variants && (
        <>
          <dt>Variants</dt>
          <dd>
            <ol class="options">
              {l.variants.map((v, i) => (
                <li key={i}>
                  <span class="url">{v.url}</span> (weight {v.weight}, {Math.round((v.weight * 100) / total)} %)
                </li>
              ))}
            </ol>
          </dd>
        </>
      )}
      {l.preview && (
        <>
          <dt>Social preview</dt>
          <dd>
            <ul class="options">
              {l.preview.title && <li>Title: {l.preview.title}</li>}
              {l.preview.description && <li>Description: {l.preview.description}</li>}
              {l.preview.image && (
                <li>
                  Image: <span class="url">{l.preview.image}</span>
                </li>
              )}
            </ul>
          </dd>
        </>
      )}
    </>
  );
}

/// `created`: the page is shown right after the link was made (`#/links/<slug>?created`);
/// `params`: the hash query, with the stats' period (logic.ts, `periodOf`).
export function LinkPage({
  slug,
  admin,
  created = false,
  params = new URLSearchParams(),
}: {
  slug: string;
  admin: boolean;
  created?: boolean;
  params?: URLSearchParams;
}) {
  const link = useLoad(() => get<Link>(`/api/links/${enc(slug)}`), [slug]);
  const [period, changePeriod] = usePeriod(`#/links/${enc(slug)}`, params);
  const stats = useLoad(() => get<Stats>(statsPath(slug, period, "day")), [slug, periodKey(period)]);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  const act = async (what: string, f: () => Promise<unknown>, then?: () => void) => {
    setError("");
    try {
      await f();
      setMessage(what);
      then ? then() : link.reload();
    } catch (e) {
      setError(messageOf(e));
    }
  };
  // A restore remounts the history, to show its new row.
  const [historyKey, setHistoryKey] = useState(0);
  const restore = (version: number, at: string) =>
    act(
      `Restored: ${slug} is as it was on ${fmtDate(at)}.`,
      () => api("POST", `/api/links/${enc(slug)}/restore`, { version }),
      () => {
        link.reload();
        setHistoryKey((k) => k + 1);
      },
    );
  const l = link.data;
  const gone = link.error instanceof ApiError && link.error.status === 404;
  return (
    <section>
      <h1 tabIndex={-1}>{slug}</h1>
      {/* A link that is gone may still have a history to bring it back from: that says so. */}
      {!gone && <LoadError error={link.error} />}
      {message && <Notice>{message}</Notice>}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {l && (
        <>
          {created && (
            <div class="notice created">
              Created: <a href={l.short_url}>{l.short_url}</a> <CopyButton text={l.short_url} name="the new short link" />
            </div>
          )}
          <dl class="fields">
            <dt>Short link</dt>
            <dd>
              <a href={l.short_url} class="short">
                {l.short_url}
              </a>{" "}
              <CopyButton text={l.short_url} name="the short link" />
            </dd>
            <dt>Destination</dt>
            <dd class="url">{l.url}</dd>
            <dt>Title</dt>
            <dd>{l.title ?? "—"}</dd>
            <dt>Tags</dt>
            <dd>{(l.tags ?? []).join(", ") || "—"}</dd>
            <dt>State</dt>
            <dd>
              {l.expired ? "expired" : l.state}
              {l.flag_reason ? ` (${l.flag_reason})` : ""}
              {l.archived ? ", archived" : ""}
            </dd>
            <dt>Redirect</dt>
            <dd>
              {l.redirect_type}, query {l.forward_query ? "forwarded" : "not forwarded"}
              {l.max_clicks ? `, at most ${l.max_clicks} clicks` : ""}
            </dd>
            <dt>Expires</dt>
            <dd>{fmtDate(l.expires_at)}</dd>
            <SmartFields l={l} />
            <dt>Clicks</dt>
            <dd>{l.clicks ?? "—"}</dd>
            <dt>Created / updated</dt>
            <dd>
              {fmtDate(l.created_at)} / {fmtDate(l.updated_at)}
            </dd>
          </dl>
          <p class="buttons">
            <a href={`#/links/${enc(slug)}/edit`} role="button">
              Edit
            </a>
            <button
              type="button"
              class="secondary"
              onClick={() =>
                act(l.archived ? "Unarchived." : "Archived.", () => api("PATCH", `/api/links/${enc(slug)}`, { archived: !l.archived }))
              }
            >
              {l.archived ? "Unarchive" : "Archive"}
            </button>
            <ConfirmButton
              label="Delete"
              question={`Delete ${slug}?`}
              onConfirm={() =>
                act("Deleted.", () => api("DELETE", `/api/links/${enc(slug)}`), () => {
                  noticeForNextPage({ text: `Deleted ${slug}.`, deleted: { slug, version: l.version } });
                  navigate("#/links");
                })
              }
            />
            {admin && <FlagControl link={l} onDone={(m) => { setMessage(m); link.reload(); }} onError={setError} />}
          </p>
          <Qr slug={slug} />
        </>
      )}
      {!gone && (
        <section>
          <h2>Clicks</h2>
          <PeriodForm
            period={period}
            onChange={changePeriod}
            check={(p) => get<Stats>(statsPath(slug, p, "day")).then(() => undefined)}
            loadError={stats.error}
          />
          <LoadError error={stats.error} />
          <div aria-busy={stats.loading ? "true" : undefined}>{stats.data && <ClicksChart stats={stats.data} />}</div>
          <div class="breakdowns">
            {l?.variants && <VariantsBreakdown slug={slug} variants={l.variants} period={period} />}
            {BREAKDOWNS.map(([g, label]) => (
              <Breakdown key={g} path={statsPath(slug, period, g)} group={g} label={label} />
            ))}
          </div>
        </section>
      )}
      <History key={historyKey} slug={slug} current={l ? l.version : gone ? null : undefined} onRestore={restore} />
    </section>
  );
}
