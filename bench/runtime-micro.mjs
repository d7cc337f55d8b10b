#!/usr/bin/env node
// Costs of single runtime operations a redirect is built from, inside workerd: each operation of
// bench/workers/micro.mjs in a loop of 20,000 calls, timed from Node per batch, 12 interleaved
// rounds (the first two dropped), medians. `noop` is the batch's own overhead per call: subtract
// it. Answers questions like "is the runtime's encodeInto cheaper than a copy loop in JS for a
// 330-byte value?" (BENCHMARKS.md says where the answer did not carry over to the redirect).
//   node bench/runtime-micro.mjs
import path from "node:path";
import { Miniflare } from "miniflare";

const OPS = ["noop", "respFlat", "respSliced", "respShared", "respArr", "respRedirect", "encodeInto", "jsLoop", "jsonParse", "fromCharCode", "decode14", "reqLine", "bytesSet", "urlFromBytes", "urlDecoded", "lineInto", "urlInto", "urlLoop"];
const N = 20000;
const ROUNDS = 12;

const here = path.dirname(new URL(import.meta.url).pathname);
const mf = new Miniflare({ modules: true, scriptPath: path.join(here, "workers/micro.mjs"), compatibilityDate: "2025-06-01" });
const url = (await mf.ready).href;
const runs = Object.fromEntries(OPS.map((op) => [op, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const op of OPS) {
    const t0 = process.hrtime.bigint();
    await (await mf.dispatchFetch(`${url}?v=${op}&n=${N}`)).text();
    runs[op].push(Number(process.hrtime.bigint() - t0) / 1000 / N);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const op of OPS) console.log(`${op.padEnd(14)} ${median(runs[op].slice(2)).toFixed(3)} µs`);
await mf.dispose();
