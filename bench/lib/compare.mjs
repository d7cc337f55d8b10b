// Interleaved comparison: contenders measured in turn (A B C, B C A, C A B, …), medians.
import { cpuMicros } from "./runtime.mjs";
import { haveOha, median, oha, wrk } from "./load.mjs";

// One wrk run against a worker of `rt`, with workerd's CPU time per request (from /proc); with
// `latency`, then one oha run of the same length for the latency of each request as measured
// (wrk's percentiles are corrected for coordinated omission: see `oha` in ./load.mjs).
export async function measure(rt, name, urlPath, { seconds, connections, lua = "", scratch, latency = false }) {
  const pid = rt.workerdPid();
  const c0 = pid ? cpuMicros(pid) : NaN;
  const t0 = performance.now();
  const r = await wrk(rt.url(name) + urlPath, { seconds, connections, lua, scratch });
  const wall = (performance.now() - t0) / 1000;
  const cpu = pid ? cpuMicros(pid) - c0 : NaN;
  const measured = latency && haveOha() ? await oha(rt.url(name) + urlPath, { seconds, connections }) : null;
  return { ...r, cpuPerReqUs: cpu / r.requests, workerdCpuPct: (cpu / 1e6 / wall) * 100, measured };
}

// p50 / p99: wrk's (corrected); measuredP50 / P99 / P999: oha's, as measured (NaN without it).
export function summarizeRuns(rs, expect) {
  const m = (key) => median(rs.map((r) => r.measured?.[key] ?? NaN));
  return {
    rps: median(rs.map((r) => r.rps)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    measuredP50: m("p50"),
    measuredP99: m("p99"),
    measuredP999: m("p999"),
    cpuUs: median(rs.map((r) => r.cpuPerReqUs)),
    workerdCpuPct: median(rs.map((r) => r.workerdCpuPct)),
    requests: rs.reduce((n, r) => n + r.requests, 0),
    unexpected: rs.reduce((n, r) => n + unexpected(r, expect) + (r.measured ? unexpected(r.measured, expect) : 0), 0),
    rounds: rs.map((r) => ({
      rps: r.rps,
      p50: r.p50,
      p99: r.p99,
      cpuUs: r.cpuPerReqUs,
      measuredP50: r.measured?.p50 ?? NaN,
      measuredP99: r.measured?.p99 ?? NaN,
      measuredP999: r.measured?.p999 ?? NaN,
    })),
  };
}

const unexpected = (r, expect) => r.errors + (r.requests - (r.statuses[String(expect)] ?? 0));

/**
 * Checks each contender answers `expect`, warms each up for 1 s, then runs `rounds` rounds in
 * which every contender gets `seconds` of load (twice with `latency`: wrk, then oha), the order
 * rotated each round.
 */
export async function interleaved(rt, urlPath, contenders, expect, { rounds, seconds, connections, scratch, latency = false, label = urlPath }) {
  for (const c of contenders) {
    const r = await fetch(rt.url(c) + urlPath, { redirect: "manual" });
    await r.arrayBuffer();
    if (r.status !== expect) throw new Error(`${c} ${urlPath}: expected ${expect}, got ${r.status}`);
    await measure(rt, c, urlPath, { seconds: 1, connections, scratch });
  }
  const runs = Object.fromEntries(contenders.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
    for (const c of order) runs[c].push(await measure(rt, c, urlPath, { seconds, connections, scratch, latency }));
    process.stderr.write(`  ${label}: round ${round + 1}/${rounds} done\n`);
  }
  return Object.fromEntries(contenders.map((c) => [c, summarizeRuns(runs[c], expect)]));
}

// The per-round ratios a/b of `key` (each round's contenders ran back to back, so a drift of the
// machine's speed hits both sides of a ratio alike).
export function pairedRatios(summary, a, b, key = "rps") {
  const ra = summary[a]?.rounds;
  const rb = summary[b]?.rounds;
  if (!ra || !rb) return [];
  return ra.map((r, i) => r[key] / rb[i][key]);
}

// Median over rounds of the per-round ratio a/b (paired within a round: robust to drift).
export function pairedRatio(summary, a, b, key = "rps") {
  return median(pairedRatios(summary, a, b, key));
}

/**
 * A 95 % interval for the median of `xs` (per-round ratios) by the percentile bootstrap: the
 * rounds resampled with replacement 2,000 times. Seeded, so the same rounds always print the
 * same interval. With few rounds it is wide, and it should be: a target is called met only when
 * the whole interval clears it (`verdict`).
 */
export function medianInterval(xs, resamples = 2000) {
  const v = xs.filter(Number.isFinite);
  if (v.length < 3) return [NaN, NaN];
  let state = 0x2545f491;
  const rand = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const medians = [];
  for (let k = 0; k < resamples; k++) medians.push(median(Array.from(v, () => v[Math.floor(rand() * v.length)])));
  medians.sort((x, y) => x - y);
  return [medians[Math.floor(0.025 * resamples)], medians[Math.ceil(0.975 * resamples) - 1]];
}

/**
 * The median of `xs` with its interval, for the tables: `1.02× (0.96–1.04)` for ratios, or
 * `+8.2 µs (5.4 to 10.0)` for differences (`unit` " µs", signed, one decimal).
 */
export function withInterval(xs, unit = "×") {
  const [lo, hi] = medianInterval(xs);
  const diff = unit !== "×";
  const f = (x) => (Number.isFinite(x) ? (diff ? `${x > 0 ? "+" : ""}${x.toFixed(1)}` : x.toFixed(2)) : "–");
  const range = Number.isFinite(lo) ? (diff ? ` (${f(lo)} to ${f(hi)})` : ` (${f(lo)}–${f(hi)})`) : "";
  return `${f(median(xs))}${unit}${range}`;
}

/**
 * A ratio's interval against a target: "met" when all of it is on the good side, "missed" when
 * all of it is on the bad side, "within noise" when the target lies inside it (this run cannot
 * tell). `atLeast` for "≥ target" (throughput), otherwise "≤ target" (latency).
 */
export function verdict([lo, hi], target, atLeast) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return "–";
  const good = atLeast ? lo >= target : hi <= target;
  const bad = atLeast ? hi < target : lo > target;
  return good ? "met" : bad ? "missed" : "within noise";
}
