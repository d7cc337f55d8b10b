#!/usr/bin/env node
// `make bench-experiment PATCH=bench/experiments/sync-redirect.patch [FLAGS=--no-panic-recovery]`:
// measures a change to src/ before it is made. Copies the committed tree (git HEAD) to
// target/bench/exp/<patch name>/, applies the patch there, builds it with worker-build (own
// cargo target dir; extra worker-build flags from FLAGS), then runs bench/profiles.mjs with the
// current build/ and the experiment interleaved (sizes, start-up, boundary calls, redirect speed).
// The work tree's src/ and build/ are not touched.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./lib/runtime.mjs";

const patch = process.env.PATCH ? path.resolve(ROOT, process.env.PATCH) : null;
const flags = (process.env.FLAGS ?? "").split(" ").filter(Boolean);
const name = (patch ? path.basename(patch, ".patch") : "head") + flags.map((f) => f.replace(/^-+/, "-")).join("");
const dir = path.join(ROOT, "target/bench/exp", name);
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: "inherit", ...opts });

fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });
const tar = execFileSync("git", ["archive", "HEAD"], { cwd: ROOT, maxBuffer: 1 << 30 });
execFileSync("tar", ["-x", "-C", dir], { input: tar });
// A repository of its own, so that `git apply` patches this copy (never the work tree around it).
sh("git", ["init", "-q"], { cwd: dir });
if (patch) sh("git", ["apply", patch], { cwd: dir });
sh("worker-build", ["--release", ...flags, "--out-dir", "build"], {
  cwd: dir,
  env: { ...process.env, CARGO_TARGET_DIR: path.join(ROOT, "target/bench/exp", `cargo-target-${name}`) },
});
sh(process.execPath, [path.join(ROOT, "bench/profiles.mjs")], {
  env: { ...process.env, BENCH_BUILDS: `shipped=build,${name}=${path.relative(ROOT, path.join(dir, "build"))}` },
});
