#!/usr/bin/env node
// What a worker's isolate does during the ~100 ms stalls that set p99.9 under load: the V8
// sampling profile (every 0.5 ms) of each KV-cached worker while oha loads it for 4 s, reduced to
// the runs of consecutive samples longer than 20 ms that are not JavaScript or wasm: "gc" (the
// garbage collector), "program" (the runtime's native code), "idle", and gaps between samples.
//   node bench/stall-profile.mjs        (BENCH_ANALYTICS=off as in the summaries; needs oha)
import { applyMigrations, seedLink, startRuntime } from "./lib/runtime.mjs";
import { haveOha, oha } from "./lib/load.mjs";
import { profileWorker } from "./lib/inspector.mjs";

if (!haveOha()) throw new Error("oha is not installed: `make bench` installs it");
const RUN_MS = 20;
const admin = `bench-${Math.random().toString(36).slice(2)}`;
const rt = await startRuntime({ adminToken: admin, inspector: true, only: ["jspeer-cached", "edgelink-cached"] });
try {
  await applyMigrations(rt.mf);
  await seedLink(rt, admin, { url: "https://example.com/landing", email: "stall@bench.example" });
  for (const name of ["jspeer-cached", "edgelink-cached", "jspeer-cached", "edgelink-cached"]) {
    const url = rt.url(name) + "/bench-hit";
    await oha(url, { seconds: 1 });
    let load;
    const prof = await profileWorker(rt.mf, name, async () => (load = await oha(url, { seconds: 4 })), { intervalUs: 500 });
    const fn = new Map(prof.nodes.map((n) => [n.id, n.callFrame.functionName]));
    const classOf = (id) => ({ "(garbage collector)": "gc", "(program)": "program", "(idle)": "idle" })[fn.get(id)] ?? "code";
    const runs = [];
    let t = prof.startTime, kind = null, since = t, gcSamples = 0;
    prof.samples.forEach((id, i) => {
      const dt = prof.timeDeltas[i];
      if (dt > RUN_MS * 1000) runs.push(`gap ${(dt / 1000).toFixed(0)}`);
      t += dt;
      const k = classOf(id);
      if (k === "gc") gcSamples++;
      if (k === kind) return;
      if (kind && kind !== "code" && t - since > RUN_MS * 1000) runs.push(`${kind} ${((t - since) / 1000).toFixed(0)}`);
      kind = k;
      since = t;
    });
    console.log(
      `${name}: ${load.rps.toFixed(0)} req/s, p99 ${load.p99.toFixed(2)} ms, p99.9 ${load.p999.toFixed(1)} ms, slowest ${load.max.toFixed(1)} ms; ` +
        `GC ~${(gcSamples * 0.5).toFixed(0)} ms in all; runs over ${RUN_MS} ms: ${runs.join(", ") || "none"}`,
    );
  }
} finally {
  await rt.dispose();
}
