// Bundle figures: sizes (raw, gzip -9), wasm sections, start-up time in V8, twiggy's view.
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { ROOT } from "./runtime.mjs";
import { installed, median } from "./load.mjs";

const execFileAsync = promisify(execFile);

// gzip -9 as the command-line tool computes it (Node's zlib at level 9 comes out about 2 % larger).
export const gzip9 = (buf) => {
  try {
    return execFileSync("gzip", ["-9", "-n", "-c"], { input: buf, maxBuffer: 1 << 30 }).length;
  } catch {
    return zlib.gzipSync(buf, { level: 9 }).length;
  }
};

// Sizes of each wasm section (custom sections by name), in bytes.
export function wasmSections(buf) {
  let p = 8;
  const out = {};
  const leb = () => {
    let r = 0;
    let s = 0;
    let x;
    do {
      x = buf[p++];
      r += (x & 0x7f) * 2 ** s;
      s += 7;
    } while (x & 0x80);
    return r;
  };
  const names = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "elem", "code", "data", "datacount", "tag"];
  names[13] = "tag";
  while (p < buf.length) {
    const id = buf[p++];
    const len = leb();
    const start = p;
    let name = names[id] ?? `section ${id}`;
    if (id === 0) {
      const nl = leb();
      name = `custom:${buf.subarray(p, p + nl).toString()}`;
    }
    out[name] = (out[name] ?? 0) + len;
    p = start + len;
  }
  return out;
}

// The wasm and JS of a build dir, in either of worker-build's layouts.
export function buildFiles(dir) {
  if (fs.existsSync(path.join(dir, "index_bg.wasm"))) {
    return { wasm: path.join(dir, "index_bg.wasm"), js: path.join(dir, "index.js") };
  }
  return { wasm: path.join(dir, "worker/index.wasm"), js: path.join(dir, "worker/shim.mjs") };
}

export function sizes(dir) {
  const files = buildFiles(dir);
  const wasm = fs.readFileSync(files.wasm);
  const js = fs.readFileSync(files.js);
  const sections = wasmSections(wasm);
  return {
    wasmRaw: wasm.length,
    wasmGzip: gzip9(wasm),
    jsRaw: js.length,
    jsGzip: gzip9(js),
    code: sections.code ?? 0,
    data: sections.data ?? 0,
    names: sections["custom:name"] ?? 0,
    sections,
  };
}

// Median compile and instantiate times over `samples` fresh Node processes.
export async function startup(wasmPath, node, { samples = 20, eager = false } = {}) {
  const compile = [];
  const instantiate = [];
  const args = [
    ...(eager ? ["--no-wasm-lazy-compilation"] : []),
    path.join(ROOT, "bench/instantiate.mjs"),
    wasmPath,
  ];
  for (let i = 0; i < samples; i++) {
    const { stdout } = await execFileAsync(node, args);
    const j = JSON.parse(stdout.trim().split("\n").pop());
    compile.push(j.compile_ms);
    instantiate.push(j.instantiate_ms);
  }
  return {
    compileMs: median(compile),
    instantiateMs: median(instantiate),
    totalMs: median(compile.map((c, i) => c + instantiate[i])),
    samples,
  };
}

export const haveTwiggy = () => installed("twiggy");

export function twiggyTop(wasmPath, n = 20) {
  const out = execFileSync("twiggy", ["top", "-n", "1000000", "--format", "json", wasmPath], {
    maxBuffer: 256 << 20,
  }).toString();
  const rows = JSON.parse(out);
  return { top: rows.slice(0, n), all: rows };
}

// Strips `[hash]` and generic arguments' noise from a path segment.
const clean = (s) => s.replace(/\[[0-9a-f]+\]/g, "").replace(/^[&*]+(mut |const )?/, "").trim();
const PRIMS = new Set(["str", "f32", "f64", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "bool", "char"]);

// The crate an item belongs to, by its (demangled) name; an approximation: monomorphised
// generic code is charged to the crate that defines the impl's type, or the trait's when the
// type is core's, std's or a primitive.
export function crateOf(name) {
  if (name.startsWith('"') && name.includes("names")) return "(names section)";
  if (name.startsWith("data segment")) return "(data segments: strings, tables)";
  if (name.startsWith("js_sys::futures::future_to_promise")) return "(async fns inlined into future_to_promise)";
  const m = name.match(/^<(.+?) as (.+?)>::/);
  if (m) {
    const ty = clean(m[1]).split("::")[0].split("<")[0];
    const tr = clean(m[2]).split("::")[0].split("<")[0];
    if (PRIMS.has(ty) || ["core", "alloc", "std"].includes(ty) || ty.startsWith("(") || ty.startsWith("[")) {
      return tr;
    }
    return ty;
  }
  const seg = clean(name.replace(/^</, "")).split("::");
  if (seg.length < 2) return "(unnamed: runtime, imports, exports, tables)";
  return seg[0].split("<")[0];
}

export function crateSizes(rows) {
  const by = new Map();
  for (const r of rows) by.set(crateOf(r.name), (by.get(crateOf(r.name)) ?? 0) + r.shallow_size);
  return [...by.entries()].sort((a, b) => b[1] - a[1]);
}
