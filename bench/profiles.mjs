#!/usr/bin/env node
// `make bench-profiles`: bundle size, start-up and redirect speed of release-build variants
// ([profile.release] opt-level, wasm-opt level, names section kept or not), so that size is never
// bought with speed blindly. Variants are built under target/bench/profiles/ (build/ is not
// touched); the first run builds each cargo variant once (a few minutes each on 2 cores).
//
// Environment: BENCH_VARIANTS="o3+O (shipped),oz+Oz" (default: all of lib/variants.mjs),
// BENCH_ROUNDS (5), BENCH_SECONDS (3), BENCH_CONNS (16); the handler loop: BENCH_LOOP_ROUNDS (30),
// BENCH_LOOP_N (1000), BENCH_COLD_ROUNDS (100), BENCH_COLD_N (300), BENCH_LOOP_ONLY=1 (skip the
// wrk runs).
// BENCH_BUILDS="new=build,old=/tmp/old/build" compares existing build directories instead (no
// variant is built): the before/after of a change to the redirect path. Make the old build from a
// `git worktree` of the older commit: `worker-build --release --out-dir /tmp/old/build` there, with
// WASM_BINDGEN_BIN, WASM_OPT_BIN and ESBUILD_BIN set as the Makefile sets them.
import fs from "node:fs";
import path from "node:path";
import { applyMigrations, ROOT, seedLink, startRuntime } from "./lib/runtime.mjs";
import { ensureWrk } from "./lib/load.mjs";
import { interleaved, pairedRatio, withInterval } from "./lib/compare.mjs";
import { buildFiles, sizes, startup } from "./lib/bundle.mjs";
import { ensureNode24 } from "./lib/node24.mjs";
import { buildVariant, VARIANTS } from "./lib/variants.mjs";
import { boundaryPerRequest } from "./lib/boundary.mjs";
import { handlerLoop, loopExtra, loopRatio } from "./lib/loop.mjs";

const env = process.env;
const cfg = {
  rounds: Number(env.BENCH_ROUNDS ?? 5),
  seconds: Number(env.BENCH_SECONDS ?? 3),
  connections: Number(env.BENCH_CONNS ?? 16),
  scratch: path.join(ROOT, "target/bench"),
};
// The handler loop (bench/lib/loop.mjs): BENCH_LOOP_ROUNDS batches of BENCH_LOOP_N calls each.
const loopCfg = {
  rounds: Number(env.BENCH_LOOP_ROUNDS ?? 30),
  n: Number(env.BENCH_LOOP_N ?? 1000),
};
// The cold loop (a local KV read before each call): BENCH_COLD_ROUNDS batches of BENCH_COLD_N.
const coldCfg = {
  rounds: Number(env.BENCH_COLD_ROUNDS ?? 100),
  n: Number(env.BENCH_COLD_N ?? 300),
  cold: true,
};
const given = env.BENCH_BUILDS
  ? Object.fromEntries(env.BENCH_BUILDS.split(",").map((kv) => [kv.split("=")[0], path.resolve(ROOT, kv.split("=")[1])]))
  : null;
const names = given ? Object.keys(given) : env.BENCH_VARIANTS ? env.BENCH_VARIANTS.split(",") : Object.keys(VARIANTS);
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const md = [];
const say = (s = "") => {
  console.log(s);
  md.push(s);
};

async function main() {
  ensureWrk();
  const dirs = {};
  for (const n of names) dirs[n] = given ? given[n] : buildVariant(n);
  const node = ensureNode24();
  say(`# edgelink build variants — ${new Date().toISOString()}`);
  say();
  if (given) {
    for (const n of names) say(`- ${n}: ${path.relative(ROOT, given[n])}`);
  } else {
    say("cargo variants override [profile.release] through CARGO_PROFILE_RELEASE_OPT_LEVEL (everything else as in Cargo.toml);");
    say("wasm-opt runs with worker-build 0.8.7's feature flags; `-names` = without `--debuginfo` (no names section).");
  }
  say();
  say("| variant | wasm raw | gzip -9 | code | data | names | compile+instantiate (Node 24, lazy, median of 10) |");
  say("|---|---|---|---|---|---|---|");
  const size = {};
  for (const n of names) {
    const s = sizes(dirs[n]);
    size[n] = s;
    const st = node ? await startup(buildFiles(dirs[n]).wasm, node, { samples: 10 }) : null;
    say(`| ${n} | ${f0(s.wasmRaw)} | ${f0(s.wasmGzip)} | ${f0(s.code)} | ${f0(s.data)} | ${f0(s.names)} | ${st ? f2(st.totalMs) + " ms" : "–"} |`);
  }
  say();

  const key = (n) => "v-" + n.replace(/[^A-Za-z0-9]+/g, "-").replace(/-+$/, "").toLowerCase();
  const extraBuilds = Object.fromEntries(names.map((n) => [key(n), dirs[n]]));
  const admin = `bench-${Math.random().toString(36).slice(2)}`;
  const rt = await startRuntime({ adminToken: admin, only: ["jspeer", "jspeer-cached", "jspeer-loop"], extraBuilds });
  try {
    await applyMigrations(rt.mf);
    await seedLink(rt, admin);
    say("wasm↔JS boundary calls per request (counted in the glue):");
    say();
    say("| variant | hit: wasm→JS | hit: JS→wasm | miss: wasm→JS | miss: JS→wasm |");
    say("|---|---|---|---|---|");
    for (const n of names) {
      if (!rt.names.includes(key(n) + "-boundary")) {
        say(`| ${n} | (glue not recognised) | | | |`);
        continue;
      }
      const b = rt.url(key(n) + "-boundary");
      const h = await boundaryPerRequest(b, "/bench-hit");
      const m = await boundaryPerRequest(b, "/bench-miss");
      say(`| ${n} | ${f2(h.importCalls)} | ${f2(h.exportCalls)} | ${f2(m.importCalls)} | ${f2(m.exportCalls)} |`);
    }
    say();
    for (const [what, urlPath, expect] of [
      ["hit", "/bench-hit", 302],
      ["miss", "/bench-miss", 404],
    ]) {
      const contenders = ["jspeer-loop", ...names.map((n) => key(n) + "-loop")];
      const s = await handlerLoop(rt, contenders, urlPath, expect, loopCfg);
      say(`## Redirect ${what}, handler loop (${loopCfg.rounds} interleaved batches × ${loopCfg.n} calls in the isolate, KV cached; bench/lib/loop.mjs)`);
      say();
      say("| variant | µs per call | throughput vs JS peer |");
      say("|---|---|---|");
      for (const cname of contenders) {
        const n = cname === "jspeer-loop" ? "JS peer" : names.find((x) => key(x) + "-loop" === cname);
        say(`| ${n} | ${f2(s[cname].usPerCall)} | ${f2(loopRatio(s, cname, "jspeer-loop"))}× |`);
      }
      say();
    }
    for (const [what, urlPath, expect] of [
      ["hit", "/bench-hit", 302],
      ["miss", "/bench-miss", 404],
    ]) {
      const contenders = ["jspeer-loop", ...names.map((n) => key(n) + "-loop")];
      const s = await handlerLoop(rt, contenders, urlPath, expect, coldCfg);
      say(`## Redirect ${what}, cold handler loop (a local KV read before each call; ${coldCfg.rounds} interleaved batches × ${coldCfg.n} calls)`);
      say();
      say("| variant | µs per call (with the KV read) | extra µs per call over the JS peer (95 % interval) |");
      say("|---|---|---|");
      for (const cname of contenders) {
        const n = cname === "jspeer-loop" ? "JS peer" : names.find((x) => key(x) + "-loop" === cname);
        const extra = loopExtra(s, cname, "jspeer-loop");
        say(`| ${n} | ${f2(s[cname].usPerCall)} | ${withInterval(extra, " µs")} |`);
      }
      say();
    }
    if (env.BENCH_LOOP_ONLY === "1") return;
    for (const [label, suffix, peer] of [
      ["KV cached in the isolate (the worker's own cost)", "-cached", "jspeer-cached"],
      ["local KV simulator", "", "jspeer"],
    ]) {
      const contenders = [peer, ...names.map((n) => key(n) + suffix)];
      const s = await interleaved(rt, "/bench-hit", contenders, 302, { ...cfg, label });
      say(`## Redirect hit, ${label} (${cfg.rounds} interleaved rounds × ${cfg.seconds} s, wrk -t1 -c${cfg.connections})`);
      say();
      say("| variant | req/s | p50 ms | p99 ms (wrk, corrected) | workerd CPU µs/req | req/s vs JS peer | p99 vs JS peer | CPU/req vs JS peer |");
      say("|---|---|---|---|---|---|---|---|");
      for (const cname of contenders) {
        const v = s[cname];
        const n = cname === peer ? "JS peer" : names.find((x) => key(x) + suffix === cname);
        say(`| ${n} | ${f0(v.rps)} | ${f2(v.p50)} | ${f2(v.p99)} | ${f0(v.cpuUs)} | ${f2(pairedRatio(s, cname, peer))}× | ${f2(pairedRatio(s, cname, peer, "p99"))}× | ${f2(pairedRatio(s, cname, peer, "cpuUs"))}× |` + (v.unexpected ? ` ⚠ ${v.unexpected} unexpected` : ""));
      }
      say();
    }
  } finally {
    await rt.dispose();
  }
  fs.writeFileSync(path.join(ROOT, "target/bench/profiles.md"), md.join("\n") + "\n");
  console.log("(written: target/bench/profiles.md)");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
