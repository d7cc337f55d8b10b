// Release-build variants for the bundle study (`make bench-profiles`), built into scratch
// directories under target/bench/profiles/ so that build/ and the shipped profile stay as they are.
//
// A variant = a cargo [profile.release] override (through CARGO_PROFILE_RELEASE_* variables)
// + wasm-opt arguments. Each cargo variant is built once with `worker-build --release --no-opt`;
// wasm-opt then runs on a copy with each argument set, with the feature flags worker-build 0.8.7
// passes (and its `--debuginfo`, which keeps the names section, unless the variant drops it).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./runtime.mjs";

// What worker-build 0.8.7 appends to every wasm-opt run (src/build/mod.rs, step_run_wasm_opt).
export const WORKER_BUILD_WASM_OPT_FEATURES = [
  "mutable-globals",
  "sign-ext",
  "nontrapping-float-to-int",
  "bulk-memory",
  "multivalue",
  "reference-types",
  "exception-handling",
].map((f) => `--enable-${f}`);

// Overrides of Cargo.toml's [profile.release], all of them explicit so that a variant means the
// same whatever Cargo.toml ships. STRIP "debuginfo" is cargo's default for a release without
// debug info, and keeps the names section (what edgelink shipped before opt-level "z").
export const CARGO_VARIANTS = {
  o3: { OPT_LEVEL: "3", STRIP: "debuginfo" },
  os: { OPT_LEVEL: "s", STRIP: "debuginfo" },
  oz: { OPT_LEVEL: "z", STRIP: "debuginfo" },
  // strip = "symbols": no names section in rustc's output, so none survives worker-build's
  // `wasm-opt --debuginfo` (what [profile.release] alone can do about the 114 KB of names).
  "oz-strip": { OPT_LEVEL: "z", STRIP: "symbols" },
};

// name → [cargo variant, wasm-opt args (null = no wasm-opt), keep names section]
export const VARIANTS = {
  "o3+O (before)": ["o3", ["-O"], true],
  "o3+O -names": ["o3", ["-O"], false],
  "o3+O3": ["o3", ["-O3"], true],
  "o3+Oz": ["o3", ["-Oz"], true],
  "os+Os": ["os", ["-Os"], true],
  "oz+Oz": ["oz", ["-Oz"], true],
  "oz+Oz -names": ["oz", ["-Oz"], false],
  "os+Os -names": ["os", ["-Os"], false],
  "oz strip+Oz": ["oz-strip", ["-Oz"], true],
  "oz strip+O (shipped)": ["oz-strip", ["-O"], true],
  // The shipped code with its names: what twiggy reads (`make bench`).
  "oz+O (named)": ["oz", ["-O"], true],
};

// worker-build downloads wasm-bindgen, wasm-opt and esbuild from GitHub unless told where they
// are (no GitHub here): the Makefile exports these; a bench run without make gets the same.
const TOOL_BINS = {
  WASM_BINDGEN_BIN: path.join(os.homedir(), ".cargo/bin/wasm-bindgen"),
  WASM_OPT_BIN: path.join(ROOT, "node_modules/.bin/wasm-opt"),
  ESBUILD_BIN: path.join(ROOT, "node_modules/.bin/esbuild"),
};

const sh = (cmd, args, env = {}) =>
  execFileSync(cmd, args, {
    cwd: ROOT,
    env: { ...TOOL_BINS, ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });

export function profilesDir() {
  return path.join(ROOT, "target/bench/profiles");
}

// Builds (or reuses) the un-optimised worker-build output of a cargo variant.
export function buildCargoVariant(name, { log = console.log } = {}) {
  const out = path.join(profilesDir(), `cargo-${name}`);
  const stamp = path.join(out, ".stamp");
  const inputs = ["Cargo.toml", "Cargo.lock", ...listRs(path.join(ROOT, "src"))];
  const newest = Math.max(...inputs.map((f) => fs.statSync(path.join(ROOT, f)).mtimeMs));
  if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= newest) return out;
  // One target dir per variant: cargo does not re-copy a fresh artifact to target/…/release/,
  // so a shared dir could hand worker-build the wasm of the variant built last.
  const env = { CARGO_TARGET_DIR: path.join(profilesDir(), `cargo-target-${name}`) };
  for (const [k, v] of Object.entries(CARGO_VARIANTS[name])) env[`CARGO_PROFILE_RELEASE_${k}`] = v;
  log(`building cargo variant ${name} (${JSON.stringify(CARGO_VARIANTS[name])}) → ${out}`);
  sh("worker-build", ["--release", "--no-opt", "--out-dir", path.relative(ROOT, out)], env);
  fs.writeFileSync(stamp, "");
  return out;
}

function listRs(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listRs(p));
    else if (e.name.endsWith(".rs")) out.push(path.relative(ROOT, p));
  }
  return out;
}

// A complete build dir (index.js + index_bg.wasm) for one variant.
export function buildVariant(name, { log = console.log } = {}) {
  const [cargo, optArgs, keepNames] = VARIANTS[name];
  const src = buildCargoVariant(cargo, { log });
  const out = path.join(profilesDir(), "v-" + name.replace(/[^A-Za-z0-9]+/g, "_"));
  const stamp = path.join(out, ".stamp");
  if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= fs.statSync(path.join(src, ".stamp")).mtimeMs) {
    return out;
  }
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  fs.copyFileSync(path.join(src, "index.js"), path.join(out, "index.js"));
  const wasm = path.join(out, "index_bg.wasm");
  if (optArgs) {
    log(`wasm-opt ${optArgs.join(" ")}${keepNames ? " --debuginfo" : ""} → ${name}`);
    sh(path.join(ROOT, "node_modules/.bin/wasm-opt"), [
      path.join(src, "index_bg.wasm"),
      "-o",
      wasm,
      ...optArgs,
      ...WORKER_BUILD_WASM_OPT_FEATURES,
      ...(keepNames ? ["--debuginfo"] : []),
    ]);
  } else {
    fs.copyFileSync(path.join(src, "index_bg.wasm"), wasm);
  }
  fs.writeFileSync(stamp, "");
  return out;
}
