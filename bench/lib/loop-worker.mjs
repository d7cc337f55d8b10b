// Runs INSIDE workerd: the in-isolate half of the handler loop (Node's half, and why, is in
// ./loop.mjs). `loopWorker(entry, wrapEnv)` wraps a worker's default export so that
// `GET /__loop?n=N&path=/slug` calls its `fetch` N times in a row, awaiting each response, with
// the env `wrapEnv` makes (KV cached in the isolate) and a `Request` made per call as the runtime
// would hand it one. It answers the last status.
export function loopWorker(entry, wrapEnv) {
  let env2;
  return {
    async fetch(req, env, ctx) {
      const url = new URL(req.url);
      if (url.pathname !== "/__loop") return new Response("loop worker: GET /__loop?n=&path=", { status: 404 });
      env2 ??= wrapEnv(env);
      const n = Number(url.searchParams.get("n") ?? 1000);
      const target = new URL(url.searchParams.get("path") ?? "/", "https://bench.example").href;
      let status = 0;
      for (let i = 0; i < n; i++) {
        const r = await entry.fetch(new Request(target), env2, ctx);
        status = r.status;
      }
      return new Response(String(status));
    },
  };
}

