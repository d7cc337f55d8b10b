// The dashboard's pure decisions, apart from the pages so they are unit-tested in Node
// (tests/js/dashboard.test.mjs): what a form sends, the chart's day series, an import's percent,
// the link list's bulk actions (what each selected link needs, the summary of the results), a
// stats period and the Variants breakdown, and a tag's rename or delete over its links.
import type { Link } from "./api";

/// The API's bounds on the smart options (docs/api.md, "Smart links"): the form stops adding rows
/// at the maximum; everything else is the API's to check, so the two cannot disagree.
export const COUNTRIES_MAX = 50;
export const VARIANTS_MIN = 2;
export const VARIANTS_MAX = 5;

export interface CountryRow {
  code: string;
  url: string;
}

export interface VariantRow {
  url: string;
  weight: string;
}

export interface Draft {
  url: string;
  slug: string;
  title: string;
  tags: string;
  expires_at: string;
  redirect_type: string;
  max_clicks: string;
  forward_query: boolean;
  state: string;
  archived: boolean;
  // "More options": the smart and password options.
  valid_since: string;
  /// A new password, typed; never the stored one, which the API never shows.
  password: string;
  /// What the link had when loaded (the API's `has_password`).
  has_password: boolean;
  remove_password: boolean;
  ios: string;
  android: string;
  desktop: string;
  countries: CountryRow[];
  variants: VariantRow[];
  preview_title: string;
  preview_description: string;
  preview_image: string;
}

export const EMPTY: Draft = {
  url: "",
  slug: "",
  title: "",
  tags: "",
  expires_at: "",
  redirect_type: "302",
  max_clicks: "",
  forward_query: true,
  state: "active",
  archived: false,
  valid_since: "",
  password: "",
  has_password: false,
  remove_password: false,
  ios: "",
  android: "",
  desktop: "",
  countries: [],
  variants: [],
  preview_title: "",
  preview_description: "",
  preview_image: "",
};

/// A new variant row: equal weights are the usual A/B test, so each starts at 50.
export const NEW_VARIANT: VariantRow = { url: "", weight: "50" };

/// `datetime-local` works in local time without a zone; the API takes RFC 3339.
export function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function draftOf(l: Link): Draft {
  return {
    url: l.url,
    slug: l.slug,
    title: l.title ?? "",
    tags: (l.tags ?? []).join(", "),
    expires_at: toLocalInput(l.expires_at),
    redirect_type: String(l.redirect_type),
    max_clicks: l.max_clicks == null ? "" : String(l.max_clicks),
    forward_query: l.forward_query,
    state: l.state,
    archived: l.archived,
    valid_since: toLocalInput(l.valid_since ?? null),
    password: "",
    has_password: l.has_password ?? false,
    remove_password: false,
    ios: l.targets?.ios ?? "",
    android: l.targets?.android ?? "",
    desktop: l.targets?.desktop ?? "",
    countries: Object.entries(l.targets?.countries ?? {}).map(([code, url]) => ({ code, url })),
    variants: (l.variants ?? []).map((v) => ({ url: v.url, weight: String(v.weight) })),
    preview_title: l.preview?.title ?? "",
    preview_description: l.preview?.description ?? "",
    preview_image: l.preview?.image ?? "",
  };
}

/// Whether the draft uses any of "More options" (which then start open).
export function usesMoreOptions(d: Draft): boolean {
  return (
    d.valid_since !== "" ||
    d.has_password ||
    d.password !== "" ||
    targetsOf(d) !== null ||
    d.variants.length > 0 ||
    previewOf(d) !== null
  );
}

/// The fields of an object whose trimmed value is not empty; `null` when none is.
function given(fields: Record<string, string>): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v.trim() !== "") out[k] = v.trim();
  return Object.keys(out).length ? out : null;
}

/// The API's `targets`, or `null` for none. A country row left wholly empty is ignored; a half
/// filled one is sent as it is, so the API names what is wrong with it.
export function targetsOf(d: Draft): Record<string, unknown> | null {
  const devices = given({ ios: d.ios, android: d.android, desktop: d.desktop }) ?? {};
  const rows = d.countries.filter((r) => r.code.trim() !== "" || r.url.trim() !== "");
  const out: Record<string, unknown> = { ...devices };
  if (rows.length) out.countries = Object.fromEntries(rows.map((r) => [r.code.trim(), r.url.trim()]));
  return Object.keys(out).length ? out : null;
}

/// The API's `variants`, or `null` for none. A weight that is not a number is sent as `null`,
/// which the API refuses with its own message (`invalid_variants`), next to the variants.
export function variantsOf(d: Draft): { url: string; weight: number | null }[] | null {
  const rows = d.variants.filter((r) => r.url.trim() !== "" || r.weight.trim() !== "");
  if (!rows.length) return null;
  return rows.map((r) => {
    const w = r.weight.trim() === "" ? NaN : Number(r.weight);
    return { url: r.url.trim(), weight: Number.isFinite(w) ? w : null };
  });
}

export function previewOf(d: Draft): Record<string, string> | null {
  return given({ title: d.preview_title, description: d.preview_description, image: d.preview_image });
}

const isoOf = (local: string) => (local === "" ? null : new Date(local).toISOString());

/// The request body: on create every field given, on edit only what changed from `was`; a
/// cleared option is `null`, which the API takes as "remove it". The password is never compared
/// (the form never holds the stored one): it is sent when typed, `null` when removed.
export function bodyOf(d: Draft, was: Draft | null): Record<string, unknown> {
  const full: Record<string, unknown> = {
    url: d.url.trim(),
    title: d.title.trim() === "" ? null : d.title.trim(),
    tags: splitTags(d.tags),
    expires_at: isoOf(d.expires_at),
    redirect_type: Number(d.redirect_type),
    max_clicks: d.max_clicks.trim() === "" ? null : Number(d.max_clicks),
    forward_query: d.forward_query,
    valid_since: isoOf(d.valid_since),
    targets: targetsOf(d),
    variants: variantsOf(d),
    preview: previewOf(d),
  };
  if (!was) {
    if (d.slug.trim()) full.slug = d.slug.trim();
    for (const k of ["title", "expires_at", "max_clicks", "valid_since", "targets", "variants", "preview"])
      if (full[k] === null) delete full[k];
    // Not trimmed: spaces are as much part of a password as any other character.
    if (d.password !== "") full.password = d.password;
    return full;
  }
  full.state = d.state;
  full.archived = d.archived;
  const before = bodyOf({ ...was }, null);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(full)) {
    const old = k === "state" ? was.state : k === "archived" ? was.archived : before[k] ?? null;
    if (JSON.stringify(v) !== JSON.stringify(old)) out[k] = v;
  }
  // The stored instants have seconds the input drops: keep them unless the user changed the field.
  if (d.expires_at === was.expires_at) delete out.expires_at;
  if (d.valid_since === was.valid_since) delete out.valid_since;
  if (d.remove_password && was.has_password) out.password = null;
  else if (d.password !== "") out.password = d.password;
  return out;
}

export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/// Every day from `from` to `to` (inclusive), with the stats' clicks or 0.
export function daySeries(from: string, to: string, groups: { key: string; clicks: number }[]) {
  const by = new Map(groups.map((g) => [g.key, g.clicks]));
  const days: string[] = [];
  const clicks: number[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    const d = utcDay(new Date(t));
    days.push(d);
    clicks.push(by.get(d) ?? 0);
  }
  return { days, clicks };
}

export interface Job {
  id: string;
  status: "queued" | "running" | "done";
  total: number;
  created: number;
  skipped: number;
  failed: number;
  overwritten?: number;
  renamed?: number;
  dry_run: boolean;
  report: string;
}

export function jobPercent(j: Job): number {
  if (j.status === "done") return 100;
  if (!j.total) return 0;
  return Math.min(99, Math.floor(((j.created + j.skipped + j.failed) * 100) / j.total));
}

/// The API's bounds on a link's tags (docs/api.md, "Validation").
export const TAGS_MAX = 10;
export const TAG_MAX_CHARS = 32;

/// Tags as the link form reads them: separated by commas or whitespace.
export function splitTags(s: string): string[] {
  return s.split(/[\s,]+/).filter(Boolean);
}

/// The tags typed for the list's "Add tag": split as the form splits them, checked by the API's
/// rules and lower-cased as the API stores them, so that a bad tag is refused once here rather
/// than once per selected link, and a link that already carries it is recognised.
export function parseTags(input: string): { tags: string[] } | { error: string } {
  const tags: string[] = [];
  for (const t of splitTags(input)) {
    if (/\p{Cc}/u.test(t)) return { error: `"${t}": a tag must not contain control characters.` };
    // Lower-casing can lengthen a tag (İ); the API bounds what it stores.
    const lower = t.toLowerCase();
    if ([...lower].length > TAG_MAX_CHARS) return { error: `"${t}": a tag must be at most ${TAG_MAX_CHARS} characters.` };
    if (!tags.includes(lower)) tags.push(lower);
  }
  if (!tags.length) return { error: "Type a tag to add." };
  if (tags.length > TAGS_MAX) return { error: `At most ${TAGS_MAX} tags at a time (a link may have ${TAGS_MAX}).` };
  return { tags };
}

// Bulk actions on the link list. There is no bulk endpoint for changes: each selected link gets
// the single-link request (PATCH or DELETE /api/links/{slug}), so each is decided by its slug's
// Durable Object and can fail on its own (deleted meanwhile, flagged, rate limited).

export type BulkAction = "archive" | "unarchive" | "delete" | "tag";

/// Requests in flight at once: enough to finish a page of 20 quickly, few enough to leave the
/// browser's six connections to the origin free for the page, and far under the API's limit.
export const BULK_CONCURRENCY = 4;

/// What a bulk decision reads of a listed link.
export interface Listed {
  slug: string;
  archived: boolean;
  tags?: string[];
  version: number;
}

/// The one request a selected link needs, or why it needs none.
export type BulkStep =
  | {
      kind: "send";
      slug: string;
      method: "PATCH" | "DELETE";
      body?: Record<string, unknown>;
      /// `If-Match`: the change was computed from this version of the link.
      ifMatch?: string;
    }
  | { kind: "skip"; slug: string; reason: string };

/// The "Add tag" request for one link. PATCH replaces a link's tags, so the body is the tags
/// it has plus the new ones, sent with `If-Match` on the version they were read from: a change
/// made in between is answered 412 instead of being overwritten.
export function tagStep(l: Listed, add: string[]): BulkStep {
  const have = l.tags ?? [];
  const fresh = add.filter((t) => !have.includes(t));
  if (!fresh.length) return { kind: "skip", slug: l.slug, reason: "already tagged" };
  return {
    kind: "send",
    slug: l.slug,
    method: "PATCH",
    body: { tags: [...have, ...fresh] },
    ifMatch: `"${l.version}"`,
  };
}

/// The step of each selected link, in the list's order. A link already in the state asked for
/// is skipped: the request would change nothing but its version.
export function bulkSteps(action: BulkAction, links: Listed[], tags: string[] = []): BulkStep[] {
  return links.map((l): BulkStep => {
    const path = { slug: l.slug };
    switch (action) {
      case "archive":
        return l.archived
          ? { kind: "skip", ...path, reason: "already archived" }
          : { kind: "send", ...path, method: "PATCH", body: { archived: true } };
      case "unarchive":
        return l.archived
          ? { kind: "send", ...path, method: "PATCH", body: { archived: false } }
          : { kind: "skip", ...path, reason: "not archived" };
      case "delete":
        return { kind: "send", ...path, method: "DELETE" };
      case "tag":
        return tagStep(l, tags);
    }
  });
}

export type BulkOutcome =
  | { slug: string; status: "done" }
  | { slug: string; status: "skipped"; reason: string }
  | { slug: string; status: "failed"; error: string };

export interface BulkSummary {
  /// One sentence: how many of how many, and how many failed or were skipped.
  text: string;
  failed: { slug: string; error: string }[];
  skipped: { slug: string; reason: string }[];
}

const DONE: Record<BulkAction, string> = {
  archive: "Archived",
  unarchive: "Unarchived",
  delete: "Deleted",
  tag: "Tagged",
};

const links = (n: number) => `${n} link${n === 1 ? "" : "s"}`;

/// What a finished bulk action says, the failures with the API's message each.
export function bulkSummary(action: BulkAction, outcomes: BulkOutcome[], tags: string[] = []): BulkSummary {
  return summarise(DONE[action], outcomes, action === "tag" ? ` with ${tags.join(", ")}` : "");
}

/// "`lead` 2 of 3 links`tail`. 1 skipped (why). 1 failed." (just "`lead` 3 links`tail`." when all
/// were done).
function summarise(lead: string, outcomes: BulkOutcome[], tail: string): BulkSummary {
  const failed = outcomes.flatMap((o) => (o.status === "failed" ? [{ slug: o.slug, error: o.error }] : []));
  const skipped = outcomes.flatMap((o) => (o.status === "skipped" ? [{ slug: o.slug, reason: o.reason }] : []));
  const done = outcomes.length - failed.length - skipped.length;
  const count = failed.length || skipped.length ? `${done} of ${links(outcomes.length)}` : links(done);
  let text = `${lead} ${count}${tail}.`;
  if (skipped.length) text += ` ${skipped.length} skipped (${[...new Set(skipped.map((s) => s.reason))].join(", ")}).`;
  if (failed.length) text += ` ${failed.length} failed.`;
  return { text, failed, skipped };
}

export const progressText = (done: number, total: number) => `${done} of ${total}`;

/// Runs `work` on every item, at most `limit` at once, and calls `settled` with the count done
/// after each; the results keep the items' order. `work` returns its failure rather than
/// throwing, so one failure never stops the others.
export async function runPool<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
  settled?: (done: number) => void,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
      settled?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/// The selection once the list shows other rows: only the slugs still shown stay selected.
export function keepShown(selected: ReadonlySet<string>, shown: string[]): Set<string> {
  return new Set(shown.filter((s) => selected.has(s)));
}

/// The "select all on this page" box: checked, mixed, or not.
export function pageSelection(selected: ReadonlySet<string>, shown: string[]): "all" | "some" | "none" {
  const n = shown.filter((s) => selected.has(s)).length;
  return n === 0 ? "none" : n === shown.length ? "all" : "some";
}

/// The selection after the "select all" box is pressed: all of the page, or (when all of it
/// already was) none of it.
export function toggledPage(selected: ReadonlySet<string>, shown: string[]): Set<string> {
  if (pageSelection(selected, shown) === "all") return new Set([...selected].filter((s) => !shown.includes(s)));
  return new Set([...selected, ...shown]);
}

/// What the list says of a link beside its state: what a visitor meets that a plain redirect
/// would not (a password, a start date still ahead, a click limit, routing, a test, a card).
export function linkNotes(l: Link, now: Date): string[] {
  const notes: string[] = [];
  if (l.valid_since && Date.parse(l.valid_since) > now.getTime()) notes.push("scheduled");
  if (l.has_password) notes.push("password");
  if (l.max_clicks != null) notes.push(`max ${l.max_clicks} clicks`);
  const t = l.targets;
  if (t && (t.ios || t.android || t.desktop)) notes.push("device targets");
  if (t?.countries && Object.keys(t.countries).length) notes.push("country targets");
  if (l.variants?.length) notes.push(`A/B ${l.variants.length}`);
  if (l.preview) notes.push("preview");
  return notes;
}

// A link's stats over a period (the link page) and the top links (the Tags page). The period
// lives in the page's hash query, so a reload or a shared URL keeps it: a preset as
// `period=7d|30d|90d|12m` (relative: "the last 7 days" stays the last 7 days), a custom one as
// `from=&to=` (UTC dates, both inclusive, as the stats API takes them), `bots=1` for bots counted.

export type Preset = "7d" | "30d" | "90d" | "12m";

/// The presets, with their span in days (today included) and label.
export const PRESETS: [Preset, number, string][] = [
  ["7d", 7, "Last 7 days"],
  ["30d", 30, "Last 30 days"],
  ["90d", 90, "Last 90 days"],
  ["12m", 365, "Last 12 months"],
];

/// The stats API's default window, so a bare `#/links/<slug>` shows what it always did.
export const DEFAULT_PRESET: Preset = "30d";

export interface Period {
  /// A preset, or "custom" for the dates given.
  preset: Preset | "custom";
  from: string;
  to: string;
  bots: boolean;
}

const DAY_MS = 86_400_000;

/// The UTC date `days` before `day` (`YYYY-MM-DD`).
export function daysBefore(day: string, days: number): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) - days * DAY_MS));
}

/// A preset's dates as of `today` (a UTC date).
export function presetPeriod(preset: Preset, today: string, bots = false): Period {
  const span = PRESETS.find(([p]) => p === preset)![1];
  return { preset, from: daysBefore(today, span - 1), to: today, bots };
}

/// The period a page's hash query asks for. A custom period's dates are kept as written: the
/// stats API judges them, and its message is shown beside the date at fault.
export function periodOf(params: URLSearchParams, today: string): Period {
  const bots = params.get("bots") === "1";
  const from = params.get("from");
  const to = params.get("to");
  if (from !== null || to !== null) return { preset: "custom", from: from ?? "", to: to ?? "", bots };
  const asked = params.get("period");
  const preset = PRESETS.some(([p]) => p === asked) ? (asked as Preset) : DEFAULT_PRESET;
  return presetPeriod(preset, today, bots);
}

/// The hash query that brings `p` back: empty for the default, so plain URLs stay plain.
export function periodQuery(p: Period): string {
  const q = new URLSearchParams();
  if (p.preset === "custom") {
    q.set("from", p.from);
    q.set("to", p.to);
  } else if (p.preset !== DEFAULT_PRESET) q.set("period", p.preset);
  if (p.bots) q.set("bots", "1");
  const s = q.toString();
  return s ? `?${s}` : "";
}

/// Which field of the custom period a refused date concerns: the API names the date it could
/// not read (`'2026-13-01' is not a date like …`); an order or span error concerns the pair.
export function periodErrorField(message: string, p: { from: string; to: string }): "from" | "to" | "period" {
  if (p.from && message.includes(`'${p.from}'`)) return "from";
  if (p.to && message.includes(`'${p.to}'`)) return "to";
  return "period";
}

/// A custom period's dates checked before any request: an empty date would be read by the API as
/// its default, not refused, so the page says so itself.
export function customPeriodError(p: { from: string; to: string }): { field: "from" | "to"; error: string } | null {
  if (!p.from) return { field: "from", error: "Choose the first day." };
  if (!p.to) return { field: "to", error: "Choose the last day." };
  return null;
}

export interface VariantRowStats {
  key: string;
  label: string;
  clicks: number;
  /// Share of the period's clicks, in whole percent.
  share: number;
}

const percent = (n: number, of: number) => (of > 0 ? Math.round((n * 100) / of) : 0);

/// The Variants breakdown: one row per variant of the link (in its order, 0 when not clicked),
/// labelled with its place, URL and weight; a group the link no longer has (its variants were
/// changed) keeps its place; then the clicks in no group ("before variants / other": a target
/// sent them elsewhere, or they came before the link had variants). Shares are of `total`.
export function variantRows(
  variants: { url: string; weight: number }[],
  stats: { total: number; groups: { key: string; clicks: number }[] },
): VariantRowStats[] {
  const by = new Map(stats.groups.map((g) => [g.key, g.clicks]));
  const rows: VariantRowStats[] = variants.map((v, i) => {
    const key = String(i + 1);
    const clicks = by.get(key) ?? 0;
    return { key, label: `${key} · ${v.url} (weight ${v.weight})`, clicks, share: percent(clicks, stats.total) };
  });
  const known = new Set(rows.map((r) => r.key));
  for (const g of stats.groups)
    if (!known.has(g.key) && g.key !== "")
      rows.push({ key: g.key, label: `${g.key} · (no longer a variant)`, clicks: g.clicks, share: percent(g.clicks, stats.total) });
  const grouped = rows.reduce((n, r) => n + r.clicks, 0);
  const other = Math.max(0, stats.total - grouped);
  rows.push({ key: "other", label: "before variants / other", clicks: other, share: percent(other, stats.total) });
  return rows;
}

// The Tags page: a tag renamed or deleted over every link carrying it, by the API's tag
// endpoints; the new name is checked here first, so a bad one is refused beside its field.

/// One tag normalised by the API's rules (src/link/tags.rs, `parse_tag`): trimmed of Unicode
/// white space, 1–32 characters, no white space, commas or control characters, lower-cased by
/// Unicode's rules (and still at most 32 characters once lower-cased).
export function parseTag(raw: string): { tag: string } | { error: string } {
  const t = raw.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, "");
  if (t === "") return { error: "A tag must not be empty." };
  const long = `A tag must be at most ${TAG_MAX_CHARS} characters.`;
  if ([...t].length > TAG_MAX_CHARS) return { error: long };
  if (/[\p{White_Space}\p{Cc},]/u.test(t)) return { error: "A tag must not contain white space, commas or control characters." };
  const tag = t.toLowerCase();
  if ([...tag].length > TAG_MAX_CHARS) return { error: long };
  return { tag };
}

/// A change of one tag on every link of the caller's carrying it: renamed to `to` (merged into
/// `to` where a link carries both), or removed (`to` null). The API makes it (docs/api.md,
/// "Renaming and deleting tags"), each link by its slug's Durable Object on its newest state.
export interface TagChange {
  from: string;
  to: string | null;
}

/// The request a change is: `POST /api/tags/rename` or `DELETE /api/tags?tag=`.
export function tagChangeRequest(change: TagChange): { method: "POST" | "DELETE"; path: string; body?: { from: string; to: string } } {
  if (change.to === null) return { method: "DELETE", path: `/api/tags?tag=${encodeURIComponent(change.from)}` };
  return { method: "POST", path: "/api/tags/rename", body: { from: change.from, to: change.to } };
}

/// One answer of the tag endpoints: at most 1000 links are changed per request, `more` says the
/// same request again goes on.
export interface TagRound {
  links: number;
  more: boolean;
  failed: { slug: string; code: string; message: string }[];
}

/// Rounds sent at most: 50 000 links, far more than an account holds, but never a loop without
/// end should the API keep saying `more` (links it cannot change stay tagged, and are listed
/// again by the next round).
export const TAG_ROUNDS_MAX = 50;

/// Sends `round` until the API says no `more` (or `max` rounds were sent): the links changed are
/// summed, each failed slug is listed once with its latest error; `more` is true when it stopped
/// at the bound.
export async function repeatWhileMore(round: () => Promise<TagRound>, max = TAG_ROUNDS_MAX): Promise<TagRound> {
  let links = 0;
  const failed = new Map<string, TagRound["failed"][number]>();
  for (let i = 0; i < max; i++) {
    const r = await round();
    links += r.links;
    for (const f of r.failed) failed.set(f.slug, f);
    if (!r.more) return { links, more: false, failed: [...failed.values()] };
  }
  return { links, more: true, failed: [...failed.values()] };
}

/// What a finished rename or delete says: the links changed, each failure with the API's message.
export function tagChangeSummary(change: TagChange, r: TagRound): { text: string; failed: { slug: string; error: string }[] } {
  const n = links(r.links);
  let text = change.to === null ? `Removed ${change.from} from ${n}.` : `Renamed ${change.from} to ${change.to} on ${n}.`;
  if (r.failed.length) text += ` ${r.failed.length} failed.`;
  if (r.more) text += " More links still carry it: do it again to go on.";
  return { text, failed: r.failed.map((f) => ({ slug: f.slug, error: `${f.message} (${f.code})` })) };
}

/// A rename's new name checked before anything is sent: normalised as the API would, and not
/// the tag's own name.
export function renameTarget(from: string, raw: string): { to: string } | { error: string } {
  const parsed = parseTag(raw);
  if ("error" in parsed) return parsed;
  if (parsed.tag === from) return { error: `The tag is called ${from} already.` };
  return { to: parsed.tag };
}
