// The Tags page: the top links of a period, and each tag with its
// links and clicks, renamed (onto another tag: merged) or deleted over every link carrying it.
// The API has no tag endpoint for that (nor does the Shlink API's), so the page finds the links
// (`GET /api/links?tag=`, every page, archived ones too) and PATCHes each one's tags with the bulk
// actions' machinery (bulk.tsx): If-Match, one retry on 412, four at a time, "n of m", failures
// with the API's message. What each link gets and what the result says are decided in logic.ts.
import { useEffect, useRef, useState } from "preact/hooks";
import { enc, get, type Link, messageOf, qs } from "../api";
import { presetPeriod, PRESETS, renameTarget, type Preset, type TagChange, tagChangeStep, tagChangeSummary, utcDay } from "../logic";
import { ConfirmButton, LoadError, Select, useLoad } from "../ui";
import { BulkStatus, useBulk } from "./bulk";

interface TagRow {
  tag: string;
  links: number;
  clicks: number;
}

interface Page {
  links: Link[];
  next_cursor: string | null;
}

/// Every link of the caller's carrying `tag`: the list hides archived links unless asked for
/// only them, so both lists are read to their last page.
async function linksTagged(tag: string): Promise<Link[]> {
  const found = new Map<string, Link>();
  for (const archived of [undefined, "true"]) {
    let cursor: string | null = null;
    do {
      const page: Page = await get<Page>(`/api/links${qs({ tag, archived, limit: "100", cursor })}`);
      for (const l of page.links) found.set(l.slug, l);
      cursor = page.next_cursor;
    } while (cursor);
  }
  return [...found.values()];
}

const TOP_LIMIT = "10";

/// The most clicked links of a period (people only, as the stats API counts them).
function TopLinks() {
  const [preset, setPreset] = useState<Preset>("30d");
  const p = presetPeriod(preset, utcDay(new Date()));
  const top = useLoad(
    () => get<{ links: { slug: string; url: string; clicks: number }[] }>(`/api/stats/top${qs({ from: p.from, to: p.to, limit: TOP_LIMIT })}`),
    [preset],
  );
  return (
    <section class="top-links" aria-labelledby="top-links">
      <h2 id="top-links">Top links</h2>
      <Select
        label="Period"
        name="top-period"
        value={preset}
        onChange={(v) => setPreset(v as Preset)}
        options={PRESETS.map(([v, , label]): [string, string] => [v, label])}
      />
      <LoadError error={top.error} />
      {top.data && top.data.links.length === 0 && <p class="muted">No clicks in this period.</p>}
      {top.data && top.data.links.length > 0 && (
        <div class="overflow-auto" aria-busy={top.loading ? "true" : undefined}>
          <table class="top">
            <thead>
              <tr>
                <th scope="col">Slug</th>
                <th scope="col">Destination</th>
                <th scope="col" class="num">
                  Clicks
                </th>
              </tr>
            </thead>
            <tbody>
              {top.data.links.map((l) => (
                <tr key={l.slug} data-slug={l.slug}>
                  <td>
                    <a href={`#/links/${enc(l.slug)}`}>{l.slug}</a>
                  </td>
                  <td class="url">{l.url}</td>
                  <td class="num">{l.clicks}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/// A tag's new name, typed in its row: checked by the API's rules before anything is sent.
function RenameForm({ tag, disabled, onRename, onCancel }: { tag: string; disabled: boolean; onRename: (to: string) => void; onCancel: () => void }) {
  const [name, setName] = useState("");
  const [error, setError] = useState("");
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.focus(), []);
  const submit = (e: Event) => {
    e.preventDefault();
    const target = renameTarget(tag, name);
    if ("error" in target) {
      setError(target.error);
      return;
    }
    setError("");
    onRename(target.to);
  };
  return (
    <form class="rename" onSubmit={submit} aria-label={`Rename ${tag}`}>
      <label for="f-rename">New name for {tag}</label>
      <fieldset role="group">
        <input
          id="f-rename"
          name="rename"
          ref={field}
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
          aria-invalid={error ? "true" : undefined}
          aria-describedby={error ? "f-rename-err" : "f-rename-hint"}
        />
        <button type="submit" disabled={disabled}>
          Rename
        </button>
      </fieldset>
      {error ? (
        <small id="f-rename-err" class="field-error" role="alert">
          {error}
        </small>
      ) : (
        <small id="f-rename-hint">The name of another tag merges the two.</small>
      )}
      <button type="button" class="secondary outline" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}

export function TagsPage() {
  const tags = useLoad(() => get<{ tags: TagRow[] }>("/api/tags"), []);
  // The tags are counted by the D1 index, which follows the writes within moments.
  const bulk = useBulk(() => tags.reload());
  const [renaming, setRenaming] = useState<string | null>(null);
  const [working, setWorking] = useState("");
  const [finding, setFinding] = useState(false);
  const [error, setError] = useState("");
  const busy = finding || bulk.running;

  const run = async (change: TagChange) => {
    setError("");
    setRenaming(null);
    setWorking(change.to === null ? `Removing ${change.from}` : `Renaming ${change.from} to ${change.to}`);
    setFinding(true);
    let links: Link[];
    try {
      links = await linksTagged(change.from);
    } catch (e) {
      setError(messageOf(e));
      return;
    } finally {
      setFinding(false);
    }
    const step = (l: Link) => tagChangeStep(l, change);
    await bulk.runSteps(links.map(step), step, (o) => tagChangeSummary(change, o));
  };

  const rows = tags.data?.tags ?? [];
  return (
    <section>
      <h1 tabIndex={-1}>Tags</h1>
      <TopLinks />
      <section aria-labelledby="your-tags">
        <h2 id="your-tags">Your tags</h2>
        <p class="muted">
          Renaming or deleting a tag changes every link carrying it, archived ones included, one link at a time.
        </p>
        <LoadError error={tags.error} />
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        {finding && (
          <p role="status" aria-busy="true">
            Finding the links tagged…
          </p>
        )}
        <BulkStatus bulk={bulk} working={working} />
        {tags.data && rows.length === 0 && <p class="muted">No tags yet: give a link tags in its form, or with the list's Add tag.</p>}
        {rows.length > 0 && (
          <div class="overflow-auto" aria-busy={tags.loading ? "true" : undefined}>
            <table class="tags">
              <thead>
                <tr>
                  <th scope="col">Tag</th>
                  <th scope="col" class="num">
                    Links
                  </th>
                  <th scope="col" class="num">
                    Clicks
                  </th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((t) => (
                  <tr key={t.tag} data-tag={t.tag}>
                    <th scope="row">
                      <a href={`#/links${qs({ tag: t.tag })}`} class="tag-link">
                        {t.tag}
                      </a>
                    </th>
                    <td class="num links">{t.links}</td>
                    <td class="num clicks">{t.clicks}</td>
                    <td class="actions">
                      <button
                        type="button"
                        class="secondary outline"
                        aria-label={`Rename ${t.tag}`}
                        aria-expanded={renaming === t.tag ? "true" : "false"}
                        disabled={busy}
                        onClick={() => setRenaming(renaming === t.tag ? null : t.tag)}
                      >
                        Rename
                      </button>{" "}
                      {busy ? (
                        <button type="button" class="secondary" disabled>
                          Delete
                        </button>
                      ) : (
                        <ConfirmButton
                          label="Delete"
                          name={`Delete ${t.tag}`}
                          question={`Remove ${t.tag} from ${t.links} link${t.links === 1 ? "" : "s"}?`}
                          onConfirm={() => run({ from: t.tag, to: null })}
                        />
                      )}
                      {renaming === t.tag && (
                        <RenameForm tag={t.tag} disabled={busy} onRename={(to) => void run({ from: t.tag, to })} onCancel={() => setRenaming(null)} />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </section>
  );
}
