// Runs INSIDE workerd: the in-isolate half of the handler loop (Node's half, and why, is in
// ./loop.mjs). `loopWorker(entry, wrapEnv)` wraps a worker's default export so that
// `GET /__loop?n=N&path=/slug` calls its `fetch` N times in a row, awaiting each response, with
// the env `wrapEnv` makes (KV cached in the isolate) and a `Request` made per call as the runtime
// would hand it one. It answers the last status. With `&cold=1`, a read of the real local KV
// comes before each call (see below).
export function loopWorker(entry, wrapEnv) {
  let env2;
  return {
    async fetch(req, env, ctx) {
      const url = new URL(req.url);
      if (url.pathname !== "/__loop") return new Response("loop worker: GET /__loop?n=&path=", { status: 404 });
      env2 ??= wrapEnv(env);
      const n = Number(url.searchParams.get("n") ?? 1000);
      const target = new URL(url.searchParams.get("path") ?? "/", "https://bench.example").href;
      const cold = url.searchParams.get("cold") === "1";
      let status = 0;
      for (let i = 0; i < n; i++) {
        // Cold: the local KV simulator (another isolate, SQLite) runs before every call, as
        // other Workers run between two requests of one isolate on the edge. Its read goes to
        // the real binding (`env`, not the cached one) and its cost is the same for everyone.
        if (cold) await env.LINKS.get("bench-cold-hop", { type: "text" });
        const r = await entry.fetch(new Request(target), env2, ctx);
        status = r.status;
      }
      return new Response(String(status));
    },
  };
}

