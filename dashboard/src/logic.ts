// The dashboard's pure decisions, apart from the pages so they are unit-tested in Node
// (tests/js/dashboard.test.mjs): what a form sends, the chart's day series, an import's percent.
import type { Link } from "./api";

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
};

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
  };
}

/// The request body: on create every field given, on edit only what changed from `was`.
export function bodyOf(d: Draft, was: Draft | null): Record<string, unknown> {
  const full: Record<string, unknown> = {
    url: d.url.trim(),
    title: d.title.trim() === "" ? null : d.title.trim(),
    tags: d.tags.split(/[\s,]+/).filter(Boolean),
    expires_at: d.expires_at === "" ? null : new Date(d.expires_at).toISOString(),
    redirect_type: Number(d.redirect_type),
    max_clicks: d.max_clicks.trim() === "" ? null : Number(d.max_clicks),
    forward_query: d.forward_query,
  };
  if (!was) {
    if (d.slug.trim()) full.slug = d.slug.trim();
    if (full.title === null) delete full.title;
    if (full.expires_at === null) delete full.expires_at;
    if (full.max_clicks === null) delete full.max_clicks;
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
  // The stored expiry has seconds the input drops: keep it unless the user changed the field.
  if (d.expires_at === was.expires_at) delete out.expires_at;
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
