// The Worker's entry module (wrangler.toml `main`): worker-build's output, `build/index.js`,
// with a plain object as the default export instead of its `WorkerEntrypoint` class.
//
// worker-build 0.8.7 exports a class behind a Proxy: the runtime constructs it for every request,
// and every method read returns a fresh Proxy around the handler (its panic-recovery shim).
// Measured with the KV cached in the isolate, that was 135 µs of workerd CPU per redirect against
// 112–117 µs with this module (BENCHMARKS.md, "What changed"); a plain object costs nothing. The handlers called here are the class's own (`fetch.call({env, ctx}, …)`:
// they read only `this.env` and `this.ctx`), so every request still enters the wasm through
// wasm-bindgen's glue, which rebuilds a trapped instance before the next call (workers-rs
// schedules that on abort).
//
// The one part of the shim this bypasses is its reset after a Rust panic (`criticalError`, set
// by workers-rs' panic hook), which happens when the class is constructed: so when that flag is
// up, one instance is constructed through the shim before the request, exactly as the runtime
// would have. Durable Object classes (`SlugClaim`) are exported as worker-build made them.
import Entrypoint from "../build/index.js";

export * from "../build/index.js";

const { fetch, queue, scheduled } = Entrypoint.prototype;
const initState = globalThis.__worker_init_state;

function recover(env, ctx) {
  if (initState?.criticalError) new Entrypoint(ctx, env);
}

export default {
  fetch(request, env, ctx) {
    recover(env, ctx);
    return fetch.call({ env, ctx }, request);
  },
  queue(batch, env, ctx) {
    recover(env, ctx);
    return queue.call({ env, ctx }, batch);
  },
  scheduled(event, env, ctx) {
    recover(env, ctx);
    return scheduled.call({ env, ctx }, event);
  },
};
