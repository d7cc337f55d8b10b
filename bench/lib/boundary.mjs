// Counts the calls that cross the wasm↔JS boundary in edgelink's release build, per request:
// imports (wasm calling the wasm-bindgen glue: string copies, KV get, Headers.set, new Response,
// queueMicrotask, …) and exports (JS calling into wasm: fetch, malloc, closure invocations, …).
// Deterministic, unlike timings, so it shows what a change to the redirect path saves.
//
// It works on a patched copy of the generated glue (build/index.js), made in memory: the import
// object handed to `new WebAssembly.Instance` and the instance's exports are wrapped in counting
// functions. build/ itself is not modified.
import fs from "node:fs";

const PRELUDE = `
globalThis.__boundary ??= { requests: 0, imports: Object.create(null), exports: Object.create(null), src: Object.create(null) };
globalThis.__countImports = (imports) => {
  for (const mod of Object.keys(imports)) {
    // A plain copy: an inline_js snippet may arrive as a module namespace, whose bindings
    // are read-only getters.
    const o = { ...imports[mod] };
    imports[mod] = o;
    for (const k of Object.keys(o)) {
      const f = o[k];
      if (typeof f !== "function") continue;
      globalThis.__boundary.src[k] = String(f).replace(/\\s+/g, " ").slice(0, 160);
      o[k] = function (...a) {
        const c = globalThis.__boundary.imports;
        c[k] = (c[k] ?? 0) + 1;
        return f.apply(this, a);
      };
    }
  }
  return imports;
};
globalThis.__countExports = (exports) => {
  const out = {};
  for (const k of Object.keys(exports)) {
    const f = exports[k];
    out[k] = typeof f !== "function" ? f : function (...a) {
      const c = globalThis.__boundary.exports;
      c[k] = (c[k] ?? 0) + 1;
      return f.apply(this, a);
    };
  }
  return out;
};
`;

// The glue's source with the counting wrappers in. Throws if the glue's shape is not recognised.
export function patchGlue(indexJsPath) {
  const src = fs.readFileSync(indexJsPath, "utf8");
  let n = 0;
  let out = src.replace(/new WebAssembly\.Instance\(([\w$]+),([\w$]+)\(\)\)/g, (_, m, f) => {
    n++;
    return `new WebAssembly.Instance(${m},globalThis.__countImports(${f}()))`;
  });
  out = out.replace(/([\w$]+)=([\w$]+)\.exports([,;])/g, (all, a, b, end) =>
    n++ >= 0 ? `${a}=globalThis.__countExports(${b}.exports)${end}` : all,
  );
  if (n < 2) throw new Error("boundary: the glue's instantiation was not found");
  // After the imports (ES module imports are hoisted anyway, but keep them first for clarity).
  const lastImport = out.lastIndexOf('from"./index_bg.wasm";');
  const at = lastImport >= 0 ? lastImport + 'from"./index_bg.wasm";'.length : 0;
  return out.slice(0, at) + PRELUDE + out.slice(at);
}

// Main module of the counting worker: control routes + the patched glue's default export.
export const BOUNDARY_MAIN = (gluePath) => `
import entry from ${JSON.stringify(gluePath)};
import { invokeWorker } from "../lib/counting.mjs";
export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    const b = globalThis.__boundary;
    if (path === "/__boundary") return Response.json(b);
    if (path === "/__boundary/reset") {
      b.requests = 0;
      b.imports = Object.create(null);
      b.exports = Object.create(null);
      return new Response(null, { status: 204 });
    }
    b.requests++;
    return invokeWorker(entry, request, env, ctx);
  },
};
`;

// Node side: boundary calls per request for `n` requests to `path`.
export async function boundaryPerRequest(url, path, { n = 20, init = {} } = {}) {
  await fetch(`${url}/__boundary/reset`);
  for (let i = 0; i < n; i++) await (await fetch(url + path, { redirect: "manual", ...init })).arrayBuffer();
  const b = await (await fetch(`${url}/__boundary`)).json();
  const per = (o) =>
    Object.entries(o)
      .map(([k, v]) => ({ name: k, perRequest: v / b.requests, src: b.src[k] }))
      .sort((x, y) => y.perRequest - x.perRequest);
  const imports = per(b.imports);
  const exports = per(b.exports);
  const sum = (xs) => xs.reduce((s, x) => s + x.perRequest, 0);
  return { requests: b.requests, imports, exports, importCalls: sum(imports), exportCalls: sum(exports) };
}
