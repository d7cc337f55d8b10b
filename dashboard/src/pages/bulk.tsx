// The link list's bulk actions: the selected links archived, unarchived, deleted or tagged, each
// by its own single-link request (PATCH or DELETE /api/links/{slug}; the API has no bulk change),
// BULK_CONCURRENCY at a time, with the progress and, per link, what failed and why. Which request
// each link needs and what the result says are decided in logic.ts; this file only sends them.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, enc, get, type Link, messageOf } from "../api";
import {
  BULK_CONCURRENCY,
  type BulkAction,
  type BulkOutcome,
  type BulkStep,
  bulkSteps,
  type BulkSummary,
  bulkSummary,
  parseTags,
  progressText,
  runPool,
  tagStep,
} from "../logic";
import { ConfirmButton } from "../ui";

async function send(step: BulkStep & { kind: "send" }): Promise<void> {
  const headers = step.ifMatch ? { "If-Match": step.ifMatch } : undefined;
  await api(step.method, `/api/links/${enc(step.slug)}`, step.body, headers);
}

/// One link's step, its failure as the API's message. A step sent with `If-Match` and refused
/// with 412 was computed from a listed copy older than the link (changed since the list was
/// read): it is decided again, once, by `again` from the link itself.
async function perform(step: BulkStep, again: (l: Link) => BulkStep): Promise<BulkOutcome> {
  const { slug } = step;
  if (step.kind === "skip") return { slug, status: "skipped", reason: step.reason };
  try {
    try {
      await send(step);
    } catch (e) {
      if (!(step.ifMatch && e instanceof ApiError && e.status === 412)) throw e;
      const next = again(await get<Link>(`/api/links/${enc(slug)}`));
      if (next.kind === "skip") return { slug, status: "skipped", reason: next.reason };
      await send(next);
    }
    return { slug, status: "done" };
  } catch (e) {
    return { slug, status: "failed", error: messageOf(e) };
  }
}

export interface BulkRun {
  /// "3 of 12" while running.
  progress: { done: number; total: number } | null;
  summary: BulkSummary | null;
  running: boolean;
  run: (action: BulkAction, links: Link[], tags?: string[]) => Promise<void>;
}

/// The state of a bulk action; `finished` runs after each (the list reloads).
export function useBulk(finished: () => void): BulkRun {
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [summary, setSummary] = useState<BulkSummary | null>(null);
  // `again` decides a step anew from the link's newest state after a 412.
  const runSteps = async (steps: BulkStep[], again: (l: Link) => BulkStep, summarise: (o: BulkOutcome[]) => BulkSummary) => {
    setSummary(null);
    setProgress({ done: 0, total: steps.length });
    const outcomes = await runPool(steps, BULK_CONCURRENCY, (s) => perform(s, again), (done) =>
      setProgress({ done, total: steps.length }),
    );
    setProgress(null);
    setSummary(summarise(outcomes));
    finished();
  };
  const run = (action: BulkAction, links: Link[], tags: string[] = []) =>
    runSteps(bulkSteps(action, links, tags), (l) => tagStep(l, tags), (o) => bulkSummary(action, o, tags));
  return { progress, summary, running: progress !== null, run };
}

/// The bulk action's progress and then its result, in one live region; the result takes the
/// focus, as the controls that started it may have gone with the links they acted on.
/// `working` names what is being done while it runs.
export function BulkStatus({ bulk, working = "Working on the selected links" }: { bulk: BulkRun; working?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (bulk.summary) box.current?.focus();
  }, [bulk.summary]);
  const { progress, summary } = bulk;
  return (
    <div class="bulk-status" role="status" tabIndex={-1} ref={box}>
      {progress && (
        <p>
          <progress value={progress.done} max={progress.total} aria-hidden="true" /> {working}:{" "}
          {progressText(progress.done, progress.total)}
        </p>
      )}
      {summary && <Outcome summary={summary} />}
    </div>
  );
}

/// A finished run's result: its sentence, and each link that failed (to its page) with why.
export function Outcome({ summary }: { summary: { text: string; failed: { slug: string; error: string }[] } }) {
  return (
    <div class={summary.failed.length ? "bulk-result failed" : "bulk-result"}>
      <p>{summary.text}</p>
      {summary.failed.length > 0 && (
        <ul class="bulk-failures">
          {summary.failed.map((f) => (
            <li key={f.slug} data-slug={f.slug}>
              <a href={`#/links/${enc(f.slug)}`}>{f.slug}</a>: {f.error}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/// The actions on the selected links; "Add tag" only on the owner's list (the admin's list is
/// for moderation).
export function BulkBar({
  selected,
  admin,
  bulk,
  onClear,
}: {
  selected: Link[];
  admin: boolean;
  bulk: BulkRun;
  onClear: () => void;
}) {
  const [tag, setTag] = useState("");
  const [tagError, setTagError] = useState("");
  const n = selected.length;
  const some = (archived: boolean) => selected.some((l) => l.archived === archived);
  const addTag = (e: Event) => {
    e.preventDefault();
    const parsed = parseTags(tag);
    if ("error" in parsed) {
      setTagError(parsed.error);
      return;
    }
    setTagError("");
    void bulk.run("tag", selected, parsed.tags).then(() => setTag(""));
  };
  return (
    <section class="bulk" aria-label="Actions on the selected links">
      <p class="bulk-count">
        <strong>
          {n} link{n === 1 ? "" : "s"} selected
        </strong>
      </p>
      <div class="buttons">
        <button type="button" class="secondary" disabled={bulk.running || !some(false)} onClick={() => void bulk.run("archive", selected)}>
          Archive selected
        </button>
        <button type="button" class="secondary" disabled={bulk.running || !some(true)} onClick={() => void bulk.run("unarchive", selected)}>
          Unarchive selected
        </button>
        {bulk.running ? (
          <button type="button" class="secondary" disabled>
            Delete selected
          </button>
        ) : (
          <ConfirmButton
            label="Delete selected"
            question={`Delete ${n} link${n === 1 ? "" : "s"}?`}
            onConfirm={() => bulk.run("delete", selected)}
          />
        )}
        <button type="button" class="secondary outline" disabled={bulk.running} onClick={onClear}>
          Clear selection
        </button>
      </div>
      {!admin && (
        <form class="add-tag" onSubmit={addTag} aria-label="Add a tag to the selected links">
          <label for="f-bulk-tag">Tag to add</label>
          <fieldset role="group">
            <input
              id="f-bulk-tag"
              name="bulk-tag"
              value={tag}
              onInput={(e) => setTag((e.target as HTMLInputElement).value)}
              aria-invalid={tagError ? "true" : undefined}
              aria-describedby={tagError ? "f-bulk-tag-err" : "f-bulk-tag-hint"}
            />
            <button type="submit" disabled={bulk.running}>
              Add tag
            </button>
          </fieldset>
          {tagError ? (
            <small id="f-bulk-tag-err" class="field-error" role="alert">
              {tagError}
            </small>
          ) : (
            <small id="f-bulk-tag-hint">Kept with each link's other tags; several separated by commas or spaces.</small>
          )}
        </form>
      )}
    </section>
  );
}
