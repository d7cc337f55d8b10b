// The link lists: a user's own (`GET /api/links`) and, for the admin, everybody's
// (`GET /api/admin/links`), with search, tag, state and archive filters, sort and keyset pages;
// rows are selected for the bulk actions (bulk.tsx) a page at a time.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, enc, get, type Link, messageOf, qs } from "../api";
import { keepShown, linkNotes, pageSelection, toggledPage } from "../logic";
import { ConfirmButton, CopyButton, type Deleted, fmtDate, LoadError, Notice, Pager, Select, takeNotice, useLoad } from "../ui";
import { BulkBar, BulkStatus, useBulk } from "./bulk";

interface Page {
  links: Link[];
  next_cursor: string | null;
  total?: number;
}

interface Filters {
  q: string;
  tag: string;
  state: string;
  archived: string;
  owner: string;
  sort: string;
  order: string;
}

const NO_FILTERS: Filters = {
  q: "",
  tag: "",
  state: "",
  archived: "",
  owner: "",
  sort: "created",
  order: "desc",
};

/// `tag`: the tag filter to start with (`#/links?tag=…`, the Tags page's links).
/// The tag filter's choices: the user's tags, and the one asked for (`#/links?tag=…`) before
/// they have loaded, so that the select shows it from the first draw (a select's value without
/// its option shows the first option, and is not set again when the options arrive).
function tagOptions(tags: { tag: string }[], current: string): [string, string][] {
  const names = tags.map((t) => t.tag);
  if (current && !names.includes(current)) names.push(current);
  return names.map((t) => [t, t]);
}

export function LinkList({ tag = "" }: { tag?: string }) {
  return <LinksBrowser admin={false} tag={tag} />;
}

export function LinksBrowser({ admin, owner = "", tag = "" }: { admin: boolean; owner?: string; tag?: string }) {
  const [filters, setFilters] = useState<Filters>({ ...NO_FILTERS, owner, tag });
  const [draft, setDraft] = useState({ q: "", owner });
  // Keyset paging: the cursors of the pages before this one, for "Previous".
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  // A delete made on a link's page arrives here with its Undo.
  const [arrived] = useState(takeNotice);
  const [message, setMessage] = useState(arrived?.text ?? "");
  const [deleted, setDeleted] = useState<Deleted | null>(arrived?.deleted ?? null);
  const [actionError, setActionError] = useState("");
  const cursor = cursors[cursors.length - 1];
  const tags = useLoad(
    () => (admin ? Promise.resolve({ tags: [] }) : get<{ tags: { tag: string }[] }>("/api/tags")),
    [admin],
  );
  const page = useLoad(
    () =>
      get<Page>(
        (admin ? "/api/admin/links" : "/api/links") +
          qs({
            q: filters.q,
            tag: filters.tag,
            state: filters.state,
            archived: admin ? undefined : filters.archived,
            owner: admin ? filters.owner : undefined,
            sort: filters.sort,
            order: filters.order,
            limit: "20",
            cursor: cursor ?? undefined,
          }),
      ),
    [filters, cursor],
  );
  // Only a first page carries `total`; later pages keep showing it.
  const [total, setTotal] = useState<number | undefined>();
  useEffect(() => {
    if (page.data?.total !== undefined) setTotal(page.data.total);
  }, [page.data]);
  // The selection: slugs of the rows shown. Rows that leave the list (another page, a filter,
  // archived out of view, deleted) leave the selection, so an action never reaches a link the
  // user no longer sees.
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const shown = (page.data?.links ?? []).map((l) => l.slug);
  // "scheduled" is judged against the time the page was drawn.
  const now = new Date();
  useEffect(() => {
    if (page.data) setSelected((s) => keepShown(s, shown));
  }, [page.data]);
  // A bulk action's summary replaces the last single action's notice.
  const bulk = useBulk(() => {
    setMessage("");
    setActionError("");
    page.reload();
  });
  const all = pageSelection(selected, shown);
  const allBox = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (allBox.current) allBox.current.indeterminate = all === "some";
  }, [all]);
  const toggle = (slug: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (!next.delete(slug)) next.add(slug);
      return next;
    });

  const apply = (change: Partial<Filters>) => {
    setFilters((f) => ({ ...f, ...change }));
    setCursors([null]);
  };
  const act = async (what: string, f: () => Promise<unknown>, undo: Deleted | null = null) => {
    setActionError("");
    try {
      await f();
      setMessage(what);
      setDeleted(undo);
      page.reload();
    } catch (e) {
      setActionError(messageOf(e));
    }
  };
  const undoDelete = (d: Deleted) =>
    act(`Restored ${d.slug}.`, () => api("POST", `/api/links/${enc(d.slug)}/restore`, { version: d.version }));

  return (
    <section>
      {/* The button sits apart from the count, which arrives with the list: a control that
          moves as the page loads takes a click meant for it somewhere else. */}
      <div class="page-head">
        <hgroup>
          <h1 tabIndex={-1}>{admin ? "All links" : "Your links"}</h1>
          <p aria-live="polite">{total === undefined ? "\u00a0" : `${total} link${total === 1 ? "" : "s"} match`}</p>
        </hgroup>
        {!admin && (
          <p class="buttons">
            <a href="#/deleted" class="secondary" role="button">
              Recently deleted
            </a>
            <a href="#/links/new" role="button">
              New link
            </a>
          </p>
        )}
      </div>
      <form
        class="filters"
        aria-label="Search and filters"
        onSubmit={(e) => {
          e.preventDefault();
          apply({ q: draft.q.trim(), owner: draft.owner.trim() });
        }}
      >
        <fieldset role="group">
          <input
            type="search"
            name="q"
            aria-label="Search slug, URL, title or tag"
            placeholder="Search slug, URL, title or tag"
            value={draft.q}
            onInput={(e) => setDraft({ ...draft, q: (e.target as HTMLInputElement).value })}
          />
          <button type="submit">Search</button>
        </fieldset>
        <div class="grid filters-grid">
          {admin ? (
            <label for="f-owner">
              Owner (id or e-mail)
              <input
                id="f-owner"
                name="owner"
                value={draft.owner}
                onInput={(e) => setDraft({ ...draft, owner: (e.target as HTMLInputElement).value })}
                onChange={(e) => apply({ owner: (e.target as HTMLInputElement).value.trim() })}
              />
            </label>
          ) : (
            <Select
              label="Tag"
              name="tag"
              value={filters.tag}
              onChange={(tag) => apply({ tag })}
              options={[["", "Any tag"], ...tagOptions(tags.data?.tags ?? [], filters.tag)]}
            />
          )}
          <Select
            label="State"
            name="state"
            value={filters.state}
            onChange={(state) => apply({ state })}
            options={[
              ["", "Any state"],
              ["active", "Active"],
              ["disabled", "Disabled"],
              ["flagged", "Flagged"],
            ]}
          />
          {!admin && (
            <Select
              label="Archive"
              name="archived"
              value={filters.archived}
              onChange={(archived) => apply({ archived })}
              options={[
                ["", "Not archived"],
                ["true", "Archived"],
              ]}
            />
          )}
          <Select
            label="Sort by"
            name="sort"
            value={`${filters.sort}:${filters.order}`}
            onChange={(v) => {
              const [sort, order] = v.split(":");
              apply({ sort, order });
            }}
            options={[
              ["created:desc", "Newest first"],
              ["created:asc", "Oldest first"],
              ["updated:desc", "Recently updated"],
              ["slug:asc", "Slug A–Z"],
              ["slug:desc", "Slug Z–A"],
              ["clicks:desc", "Most clicks"],
              ["clicks:asc", "Fewest clicks"],
            ]}
          />
        </div>
      </form>
      {message && (
        <Notice>
          {message}
          {deleted && (
            <>
              {" "}
              <button type="button" class="secondary inline-action" onClick={() => void undoDelete(deleted)}>
                Undo
              </button>
            </>
          )}
        </Notice>
      )}
      {actionError && (
        <p class="form-error" role="alert">
          {actionError}
        </p>
      )}
      <LoadError error={page.error} />
      {selected.size > 0 && (
        <BulkBar
          selected={(page.data?.links ?? []).filter((l) => selected.has(l.slug))}
          admin={admin}
          bulk={bulk}
          onClear={() => setSelected(new Set())}
        />
      )}
      <BulkStatus bulk={bulk} />
      <div class="overflow-auto" aria-busy={page.loading}>
        <table class="links">
          <thead>
            <tr>
              <th scope="col" class="select">
                <input
                  id="f-select-page"
                  type="checkbox"
                  ref={allBox}
                  checked={all === "all" && shown.length > 0}
                  disabled={bulk.running || shown.length === 0}
                  onChange={() => setSelected((s) => toggledPage(s, shown))}
                />
                <label for="f-select-page" class="select-all">
                  Select all on this page
                </label>
              </th>
              <th scope="col">Slug</th>
              <th scope="col">Destination</th>
              {admin && <th scope="col">Owner</th>}
              <th scope="col">Tags</th>
              <th scope="col">State</th>
              <th scope="col" class="num">
                Clicks
              </th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.links.map((l) => (
              <tr key={l.slug} data-slug={l.slug} class={selected.has(l.slug) ? "selected" : undefined}>
                <td class="select">
                  <input
                    type="checkbox"
                    aria-label={`Select ${l.slug}`}
                    checked={selected.has(l.slug)}
                    disabled={bulk.running}
                    onChange={() => toggle(l.slug)}
                  />
                </td>
                <td data-label="Slug">
                  <a href={`#/links/${enc(l.slug)}`}>{l.slug}</a> <CopyButton text={l.short_url} name={`the short link ${l.slug}`} />
                  {l.title && <div class="muted">{l.title}</div>}
                </td>
                <td class="url" data-label="Destination">
                  <span title={l.url}>{l.url}</span>
                </td>
                {admin && <td data-label="Owner">{l.owner_email ?? l.owner}</td>}
                <td data-label="Tags">
                  {(l.tags ?? []).map((t) => (
                    <span class="tag" key={t}>
                      {t}
                    </span>
                  ))}
                </td>
                <td data-label="State">
                  {l.expired ? "expired" : l.state}
                  {l.archived ? ", archived" : ""}
                  {linkNotes(l, now).map((n) => (
                    <span class="note" key={n}>
                      {n}
                    </span>
                  ))}
                </td>
                <td class="num" data-label="Clicks">{l.clicks ?? "—"}</td>
                <td data-label="Created">{fmtDate(l.created_at)}</td>
                <td class="actions" data-label="Actions">
                  {admin ? (
                    <FlagControl link={l} onDone={(what) => act(what, async () => {})} onError={setActionError} />
                  ) : (
                    <>
                      <a href={`#/links/${enc(l.slug)}/edit`} role="button" class="secondary outline">
                        Edit
                      </a>{" "}
                      <button
                        type="button"
                        class="secondary outline"
                        onClick={() =>
                          act(l.archived ? `Unarchived ${l.slug}.` : `Archived ${l.slug}.`, () =>
                            api("PATCH", `/api/links/${enc(l.slug)}`, { archived: !l.archived }),
                          )
                        }
                      >
                        {l.archived ? "Unarchive" : "Archive"}
                      </button>{" "}
                      <ConfirmButton
                        label="Delete"
                        question={`Delete ${l.slug}?`}
                        onConfirm={() =>
                          act(`Deleted ${l.slug}.`, () => api("DELETE", `/api/links/${enc(l.slug)}`), {
                            slug: l.slug,
                            version: l.version,
                          })
                        }
                      />
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {page.data && page.data.links.length === 0 && <p>No links match.</p>}
      </div>
      <Pager cursors={cursors} next={page.data?.next_cursor} onChange={setCursors} />
    </section>
  );
}

const REASONS = ["spam", "phishing", "malware", "abuse", "illegal", "other"];

export function FlagControl({
  link,
  onDone,
  onError,
}: {
  link: Link;
  onDone: (what: string) => void;
  onError: (m: string) => void;
}) {
  const [reason, setReason] = useState("spam");
  const path = `/api/admin/links/${enc(link.slug)}/flag`;
  const run = async (what: string, f: () => Promise<unknown>) => {
    try {
      await f();
      onDone(what);
    } catch (e) {
      onError(messageOf(e));
    }
  };
  if (link.state === "flagged")
    return (
      <button type="button" class="secondary" onClick={() => run(`Unflagged ${link.slug}.`, () => api("DELETE", path))}>
        Unflag ({link.flag_reason})
      </button>
    );
  return (
    <span class="flag" role="group" aria-label={`Flag ${link.slug}`}>
      <select
        aria-label={`Reason to flag ${link.slug}`}
        value={reason}
        onChange={(e) => setReason((e.target as HTMLSelectElement).value)}
      >
        {REASONS.map((r) => (
          <option key={r}>{r}</option>
        ))}
      </select>
      <button type="button" class="danger" onClick={() => run(`Flagged ${link.slug}.`, () => api("POST", path, { reason }))}>
        Flag
      </button>
    </span>
  );
}
