#!/usr/bin/env node
// Where a redirect's own time goes, without HTTP: the V8 sampling profiler on the handler loop
// (bench/lib/loop.mjs) of a build and of the JS peer, KV cached in the isolate; then whether the
// isolate's heap grows per call (its size after each of 5 more batches).
//   node bench/loop-profile.mjs [build dir, default build/] [path, default /bench-hit]
// A build with its names section (e.g. CARGO_PROFILE_RELEASE_STRIP=debuginfo worker-build
// --release --out-dir …) shows Rust function names. Writes target/bench/loop-*.cpuprofile.
import fs from "node:fs";
import path from "node:path";
import { applyMigrations, ROOT, seedLink, startRuntime } from "./lib/runtime.mjs";
import { inspectWorker, profileWorker, selfTimes } from "./lib/inspector.mjs";

const build = path.resolve(ROOT, process.argv[2] ?? "build");
const urlPath = process.argv[3] ?? "/bench-hit";
const N = Number(process.env.BENCH_LOOP_N ?? 20000);
const admin = `bench-${Math.random().toString(36).slice(2)}`;
const rt = await startRuntime({ adminToken: admin, inspector: true, only: ["jspeer-loop"], extraBuilds: { x: build } });
try {
  await applyMigrations(rt.mf);
  await seedLink(rt, admin);
  for (const name of ["x-loop", "jspeer-loop"]) {
    const loop = (n) => fetch(`${rt.url(name)}/__loop?n=${n}&path=${encodeURIComponent(urlPath)}`).then((r) => r.text());
    await loop(N);
    const prof = await profileWorker(rt.mf, name, () => loop(N));
    fs.writeFileSync(path.join(ROOT, `target/bench/loop-${name}.cpuprofile`), JSON.stringify(prof));
    const rows = selfTimes(prof).filter((r) => r.name !== "(idle)");
    const perCall = (rows) => ((rows.reduce((t, r) => t + r.selfMs, 0) * 1000) / N).toFixed(2);
    console.log(`\n${name}: ${perCall(rows)} µs per call (profiled)`);
    // Per kind, and serde's share of the wasm (its named functions; what is inlined into
    // edgelink's own functions counts as theirs): what compares between builds.
    const kinds = [...new Set(rows.map((r) => r.kind))];
    const serde = rows.filter((r) => r.kind === "wasm" && r.name.includes("serde"));
    console.log(
      kinds.map((k) => `${k} ${perCall(rows.filter((r) => r.kind === k))}`).join(", ") +
        (serde.length ? `; of the wasm, serde ${perCall(serde)}` : "") + " µs per call",
    );
    for (const r of rows.slice(0, Number(process.env.TOP ?? 30))) {
      console.log(`${((r.selfMs * 1000) / N).toFixed(3).padStart(7)} µs  ${r.kind.padEnd(7)} ${r.name}`);
    }
    // Read after a full GC: workerd's inspector runs HeapProfiler.collectGarbage but never
    // answers it, so the read waits 2 s for it instead of a reply. (The first such request of a
    // session does not collect, hence one before the batches.)
    const session = await inspectWorker(rt.mf, name);
    try {
      await session.send("HeapProfiler.collectGarbage", {}, 2000);
      const used = [];
      for (let k = 0; k < 5; k++) {
        await loop(N);
        await session.send("HeapProfiler.collectGarbage", {}, 2000);
        used.push((await session.send("Runtime.getHeapUsage")).usedSize);
      }
      const perCall = ((used.at(-1) - used[0]) / (4 * N)).toFixed(3);
      console.log(`heap after each of 5 batches: ${used.map((b) => b.toLocaleString("en-US")).join(", ")} B (${perCall} B a call from the first to the last)`);
    } finally {
      session.close();
    }
  }
} finally {
  await rt.dispose();
}
