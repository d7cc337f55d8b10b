// The handler loop: a worker's own cost per request, measured inside one workerd isolate with
// no HTTP in the way, for differences too small for wrk on a noisy machine (a few per cent).
//
// `loopWorker` (./loop-worker.mjs, inside workerd) calls a worker's `fetch` N times in a row
// with KV cached in the isolate (./memkv.mjs). Inside workerd the clock stands still while code runs (a
// Spectre mitigation), so the Node side (`handlerLoop`) times each batch from outside, and
// alternates the contenders batch by batch: with batches of ~50 ms, a drift of the machine's
// speed hits every contender alike, and the per-round ratio cancels it.
//
// What it leaves out is the same for every contender: accepting the connection, parsing the
// request, serialising the response. What it keeps: the handler, the KV binding's JS (cached),
// `Response` construction, the promise machinery and the GC.
//
// Hot and cold. Back to back, a handler runs with its code and data in the CPU's caches, which
// is not how it runs on the edge, where other Workers run between two requests of one isolate.
// `cold: true` puts a read of the real local KV before every call (the simulator's isolate and
// SQLite run, and evict the worker's code from the caches) and reports each worker's extra time
// per call over the JS peer's, `loopExtra`: the hop itself (~200 µs) is the same for all.
import { median } from "./load.mjs";

/**
 * Node side: `rounds` rounds; in each, every contender (a `-loop` worker of `rt`) runs one batch
 * of `n` calls, the order rotated each round. Returns per contender the median µs per call and
 * the rounds, for `loopRatio`.
 */
export async function handlerLoop(rt, contenders, urlPath, expect, { rounds = 30, n = 1000, cold = false } = {}) {
  const batch = async (c, k) => {
    const t0 = process.hrtime.bigint();
    const r = await fetch(`${rt.url(c)}/__loop?n=${k}&path=${encodeURIComponent(urlPath)}${cold ? "&cold=1" : ""}`);
    const status = Number(await r.text());
    const us = Number(process.hrtime.bigint() - t0) / 1000 / k;
    if (status !== expect) throw new Error(`${c} ${urlPath}: expected ${expect}, got ${status}`);
    return us;
  };
  for (const c of contenders) await batch(c, n); // warm-up: JIT tiers, the cache filled
  const runs = Object.fromEntries(contenders.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(i + round) % contenders.length];
      runs[c].push(await batch(c, n));
    }
  }
  return Object.fromEntries(contenders.map((c) => [c, { usPerCall: median(runs[c]), rounds: runs[c] }]));
}

// The per-round ratios b/a of µs per call: how many of a's calls fit in the time of b's, i.e.
// a's throughput relative to b's (> 1: a is faster). `loopRatio` is their median.
export function loopRatios(summary, a, b) {
  const ra = summary[a].rounds;
  const rb = summary[b].rounds;
  return ra.map((t, i) => rb[i] / t);
}

export function loopRatio(summary, a, b) {
  return median(loopRatios(summary, a, b));
}

// The per-round differences a − b of µs per call: what a costs beyond b on each call.
export function loopExtra(summary, a, b) {
  const ra = summary[a].rounds;
  const rb = summary[b].rounds;
  return ra.map((t, i) => t - rb[i]);
}
