// What a link's page and the Overview share to show clicks over a period: the period control
// (presets, custom dates, include bots, kept in the hash query), the clicks-by-day chart (uPlot,
// loaded on first use so the list page never pays for it) and the breakdowns. The two pages
// differ only in which stats endpoint answers (a link's, or the account's) and the page's hash.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get, messageOf, qs } from "../api";
import { type Errors, Field, Group, LoadError, Select, useLoad } from "../ui";
import { customPeriodError, daySeries, type Period, periodErrorField, periodOf, periodQuery, type Preset, presetPeriod, PRESETS, utcDay } from "../logic";

/// The stats APIs' answer (a link's carries its `slug` too).
export interface Stats {
  from: string;
  to: string;
  total: number;
  /// `null`: clicks counted, none with a visitor id (unknown, not zero).
  unique_visitors: number | null;
  groups: { key: string; clicks: number }[];
}

/// The stats APIs' query for `p` and `group`.
export function statsQuery(p: Period, group: string): string {
  return qs({ from: p.from, to: p.to, group, include_bots: p.bots ? "true" : undefined });
}

/// What identifies a period's answers (the loads' dependency).
export const periodKey = (p: Period) => `${p.from}/${p.to}/${p.bots}`;

export const BREAKDOWNS: [string, string][] = [
  ["country", "Country"],
  ["referrer", "Referrer"],
  ["device", "Device"],
  ["browser", "Browser"],
  ["os", "OS"],
];

/// The period of a page at `hash` (e.g. `#/overview`), read from its hash query. A change goes
/// into the URL without a hashchange: the page stays (and so does the focus, on the control just
/// used); a reload or the URL shared shows the same period.
export function usePeriod(hash: string, params: URLSearchParams): [Period, (p: Period) => void] {
  const [period, setPeriod] = useState<Period>(() => periodOf(params, utcDay(new Date())));
  const change = (p: Period) => {
    setPeriod(p);
    history.replaceState(history.state, "", `${hash}${periodQuery(p)}`);
  };
  return [period, change];
}

export function ClicksChart({ stats }: { stats: Stats }) {
  const box = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState("");
  const { days, clicks } = daySeries(stats.from, stats.to, stats.groups);
  useEffect(() => {
    let cleanup: (() => void) | undefined;
    let live = true;
    import("../chart").then(
      (m) => {
        if (!live || !box.current) return;
        cleanup = m.drawClicks(box.current, days, clicks);
        // Which period the canvas shows: the browser tests wait for a redraw by it.
        box.current.dataset.drawn = `${stats.from}/${stats.to}`;
      },
      (e) => setFailed(String(e)),
    );
    return () => {
      live = false;
      cleanup?.();
    };
  }, [stats]);
  return (
    <figure class="chart" data-total={stats.total} data-from={stats.from} data-to={stats.to}>
      <figcaption>
        {stats.total} click{stats.total === 1 ? "" : "s"} ({stats.unique_visitors ?? "unknown"} unique visitors) from {stats.from} to{" "}
        {stats.to}, by UTC day
      </figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={`Clicks per day: ${stats.total} in total`} />
      {failed && <p class="form-error">{failed}</p>}
      <details>
        <summary>Clicks per day as a table</summary>
        <table class="days">
          <tbody>
            {days.map((d, i) =>
              clicks[i] ? (
                <tr key={d} data-day={d}>
                  <th scope="row">{d}</th>
                  <td class="num">{clicks[i]}</td>
                </tr>
              ) : null,
            )}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

/// One breakdown of the period's clicks, its ten largest groups; `path` is the stats endpoint
/// with its query.
export function Breakdown({ path, group, label }: { path: string; group: string; label: string }) {
  const s = useLoad(() => get<Stats>(path), [path]);
  const max = Math.max(1, ...(s.data?.groups ?? []).map((g) => g.clicks));
  return (
    <article class="breakdown" data-group={group}>
      <h3>{label}</h3>
      <LoadError error={s.error} />
      {s.data && s.data.groups.length === 0 && <p class="muted">No clicks in this period.</p>}
      <table>
        <tbody>
          {s.data?.groups.slice(0, 10).map((g) => (
            <tr key={g.key}>
              <th scope="row">{g.key || "(none)"}</th>
              <td class="bar">
                <meter min={0} max={max} value={g.clicks} aria-label={`${g.key}: ${g.clicks}`} />
              </td>
              <td class="num">{g.clicks}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}

const PERIOD_OPTIONS: [string, string][] = [...PRESETS.map(([p, , label]): [string, string] => [p, label]), ["custom", "Custom dates"]];

/// The period the stats cover: a preset applies at once; custom dates when "Show" is pressed,
/// after the API has accepted them (its refusal goes beside the date at fault, nothing changes).
/// `loadError`: the shown period's own refusal (a hand-edited or old URL), put there too.
export function PeriodForm({
  period,
  onChange,
  check,
  loadError,
}: {
  period: Period;
  onChange: (p: Period) => void;
  check: (p: Period) => Promise<void>;
  loadError: unknown;
}) {
  const [preset, setPreset] = useState<Preset | "custom">(period.preset);
  const [from, setFrom] = useState(period.from);
  const [to, setTo] = useState(period.to);
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const shown: Errors =
    Object.keys(errors).length || !(loadError instanceof ApiError && period.preset === "custom")
      ? errors
      : { [periodErrorField(loadError.message, period)]: messageOf(loadError) };
  const today = () => utcDay(new Date());
  const choose = (v: string) => {
    setErrors({});
    setPreset(v as Preset | "custom");
    if (v !== "custom") return onChange(presetPeriod(v as Preset, today(), period.bots));
    // Custom dates start from the period shown.
    setFrom(period.from);
    setTo(period.to);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const wanted: Period = { preset: "custom", from, to, bots: period.bots };
    const bad = customPeriodError(wanted);
    if (bad) {
      setErrors({ [bad.field]: bad.error });
      return;
    }
    setBusy(true);
    try {
      await check(wanted);
      setErrors({});
      onChange(wanted);
    } catch (err) {
      setErrors({ [err instanceof ApiError && err.status === 400 ? periodErrorField(err.message, wanted) : "period"]: messageOf(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="period" onSubmit={submit} aria-label="Period of the stats">
      <Select label="Period" name="preset" value={preset} onChange={choose} options={PERIOD_OPTIONS} />
      {preset === "custom" && (
        <Group legend="Custom dates (UTC, both included)" name="period" errors={shown}>
          <div class="dates">
            <Field type="date" label="From" name="from" value={from} onInput={setFrom} errors={shown} />
            <Field type="date" label="To" name="to" value={to} onInput={setTo} errors={shown} />
            <button type="submit" aria-busy={busy ? "true" : undefined} disabled={busy}>
              Show
            </button>
          </div>
        </Group>
      )}
      <label class="bots">
        <input type="checkbox" role="switch" checked={period.bots} onChange={(e) => onChange({ ...period, bots: (e.target as HTMLInputElement).checked })} />
        Include bots
      </label>
    </form>
  );
}

