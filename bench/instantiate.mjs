// One sample of wasm start-up cost, in a fresh process (V8 caches compiled modules per process,
// so a second compile of the same bytes in one process would measure the cache):
//   compile: new WebAssembly.Module(bytes)  (synchronous, as workerd compiles a wasm module import)
//   instantiate: new WebAssembly.Instance(module, imports), as the wasm-bindgen glue does; every
//   import stubbed (functions are
//   no-ops, the exception tag is WebAssembly.JSTag, as the wasm-bindgen glue passes).
// Prints one JSON line {compile_ms, instantiate_ms}. Usage: node instantiate.mjs file.wasm
// (V8 compiles wasm functions lazily by default; --no-wasm-lazy-compilation compiles all of them
// up front with Liftoff, the upper bound of what a cold start can cost.)
import fs from "node:fs";

const bytes = fs.readFileSync(process.argv[2]);
const t0 = performance.now();
const module = new WebAssembly.Module(bytes);
const t1 = performance.now();
const imports = {};
for (const imp of WebAssembly.Module.imports(module)) {
  imports[imp.module] ??= {};
  imports[imp.module][imp.name] =
    imp.kind === "function"
      ? () => {}
      : imp.kind === "tag"
        ? WebAssembly.JSTag
        : imp.kind === "memory"
          ? new WebAssembly.Memory({ initial: 17 })
          : imp.kind === "table"
            ? new WebAssembly.Table({ initial: 0, element: "anyfunc" })
            : new WebAssembly.Global({ value: "i32", mutable: true }, 0);
}
new WebAssembly.Instance(module, imports);
const t2 = performance.now();
console.log(JSON.stringify({ compile_ms: t1 - t0, instantiate_ms: t2 - t1 }));
