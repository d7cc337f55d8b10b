// The Tags page: each tag with its links and clicks, renamed (onto another tag: merged) or
// deleted over every link carrying it, archived ones included, by the API's tag endpoints
// (docs/api.md, "Renaming and deleting tags": each link changed by its slug's Durable Object on
// its newest state, at most 1000 a request, so the request is sent again while the answer says
// `more`). The new name is checked here first (logic.ts), so a bad one never leaves the page.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, get, messageOf, qs } from "../api";
import { renameTarget, repeatWhileMore, type TagChange, tagChangeRequest, tagChangeSummary, type TagRound } from "../logic";
import { ConfirmButton, LoadError, useLoad } from "../ui";
import { Outcome } from "./bulk";

interface TagRow {
  tag: string;
  links: number;
  clicks: number;
}

/// Makes `change` on every link carrying the tag, as many rounds as the API asks for.
function changeTag(change: TagChange): Promise<TagRound> {
  const req = tagChangeRequest(change);
  return repeatWhileMore(() => api<TagRound>(req.method, req.path, req.body));
}

/// What the last change came to, in one live region that takes the focus (the row acted on may
/// be gone): the links changed, and each that failed, linking to its page, with the API's message.
function TagStatus({ working, summary }: { working: string; summary: ReturnType<typeof tagChangeSummary> | null }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (summary) box.current?.focus();
  }, [summary]);
  return (
    <div class="bulk-status" role="status" tabIndex={-1} ref={box}>
      {working && <p aria-busy="true">{working}…</p>}
      {summary && <Outcome summary={summary} />}
    </div>
  );
}

/// A tag's new name, typed in its row: checked by the API's rules before anything is sent.
/// `onRename` rejects with the API's refusal of the name (400), shown beside the field.
function RenameForm({
  tag,
  disabled,
  onRename,
  onCancel,
}: {
  tag: string;
  disabled: boolean;
  onRename: (to: string) => Promise<void>;
  onCancel: () => void;
}) {
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
    onRename(target.to).catch((err) => setError(messageOf(err)));
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
  const [renaming, setRenaming] = useState<string | null>(null);
  const [working, setWorking] = useState("");
  const [summary, setSummary] = useState<ReturnType<typeof tagChangeSummary> | null>(null);
  const [error, setError] = useState("");
  const busy = working !== "";

  /// A refusal of the request itself (400: the name) is thrown back to the rename form, to be
  /// shown beside its field; anything else is the page's error. The table is read again after,
  /// whatever happened (some links may have changed before a failure).
  const run = async (change: TagChange) => {
    setError("");
    setSummary(null);
    setWorking(change.to === null ? `Removing ${change.from}` : `Renaming ${change.from} to ${change.to}`);
    try {
      const result = await changeTag(change);
      setRenaming(null);
      setSummary(tagChangeSummary(change, result));
    } catch (e) {
      if (change.to !== null && e instanceof ApiError && e.status === 400) throw e;
      setError(messageOf(e));
    } finally {
      setWorking("");
      tags.reload();
    }
  };

  const rows = tags.data?.tags ?? [];
  return (
    <section>
      <h1 tabIndex={-1} id="your-tags">
        Your tags
      </h1>
      <section aria-labelledby="your-tags">
        <p class="muted">
          Renaming or deleting a tag changes every link of yours carrying it, archived ones included. The clicks of a
          period, and the most clicked links, are on the <a href="#/overview">Overview</a>.
        </p>
        <LoadError error={tags.error} />
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <TagStatus working={working} summary={summary} />
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
                          onConfirm={() => void run({ from: t.tag, to: null })}
                        />
                      )}
                      {renaming === t.tag && (
                        <RenameForm tag={t.tag} disabled={busy} onRename={(to) => run({ from: t.tag, to })} onCancel={() => setRenaming(null)} />
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
