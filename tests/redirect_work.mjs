// Counts the binding calls of redirects, for tests/redirect_work.rs (which runs this script and
// asserts on what it prints). The compiled Worker (build/) runs in workerd through miniflare's
// API with local KV, D1, Durable Objects, the click queue and an Analytics Engine dataset; its
// env is wrapped by bench/lib/counting.mjs, so every call it makes on a binding is counted by
// the runtime, including calls left in waitUntil. Nothing here is a stand-in: the calls reach
// the real local bindings.
//
// Prints one JSON array: [{ "case", "method", "path", "status", "requests", "calls": {name: n} }].
import { startRuntime, applyMigrations } from "../bench/lib/runtime.mjs";
import { countCalls } from "../bench/lib/count-client.mjs";

const ADMIN = `work-${Math.random().toString(36).slice(2)}`;

async function api(base, method, path, { token, body } = {}) {
  const r = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

// The counted worker runs behind the static assets, as wrangler.toml deploys it.
const rt = await startRuntime({
  adminToken: ADMIN,
  only: ["edgelink-counted"],
  withAssets: ["edgelink-counted"],
});
try {
  await applyMigrations(rt.mf);
  const E = rt.url("edgelink");
  const C = rt.url("edgelink-counted");
  const user = await api(E, "POST", "/api/admin/users", {
    token: ADMIN,
    body: { email: "work@redirect.test" },
  });
  const link = (slug, fields = {}) =>
    api(E, "POST", "/api/links", {
      token: user.api_key,
      body: { url: `https://example.com/${slug}?from=work`, slug, ...fields },
    });

  // One link per redirect option and state.
  const links = {
    "found (302)": await link("w-found"),
    "moved permanently (301)": await link("w-301", { redirect_type: 301 }),
    "temporary (307)": await link("w-307", { redirect_type: 307 }),
    "permanent (308)": await link("w-308", { redirect_type: 308 }),
    "query not forwarded": await link("w-noquery", { forward_query: false }),
    "expires later": await link("w-later", { ttl: 3600 }),
    archived: await link("w-archived", { archived: true }),
    disabled: await link("w-disabled", { state: "disabled" }),
    flagged: await link("w-flagged"),
    "with max_clicks": await link("w-limited", { max_clicks: 1000 }),
    expired: await link("w-expired", { ttl: 1 }),
    "not valid yet": await link("w-notyet", { valid_since: "2999-01-01T00:00:00.000Z" }),
    "valid since": await link("w-since", { valid_since: "2000-01-01T00:00:00.000Z" }),
  };
  await api(E, "POST", "/api/admin/links/w-flagged/flag", { token: ADMIN, body: { reason: "spam" } });
  // The expired link: wait (to a deadline) until its expiry has passed.
  const deadline = Date.now() + 10_000;
  while ((await fetch(`${E}/w-expired`, { method: "HEAD", redirect: "manual" })).status !== 410) {
    if (Date.now() > deadline) throw new Error("w-expired did not expire");
    await new Promise((r) => setTimeout(r, 100));
  }

  // Values of an adopted Sink namespace not yet converted (src/exchange/sink.rs), and one that
  // is no link at all: the redirect tells them apart within its one KV read.
  const kv = await rt.mf.getKVNamespace("LINKS", "edgelink");
  const sink = (slug, fields = {}) => kv.put(`link:${slug}`, JSON.stringify({
    id: "k3x9vd2mpa", url: `https://example.com/${slug}?from=sink`, slug,
    createdAt: 1700000000, updatedAt: 1700000000, ...fields,
  }));
  await sink("w-sink");
  await sink("w-sink-query", { redirectWithQuery: true, tags: ["a"] });
  await sink("w-sink-expired", { expiration: Math.floor(Date.now() / 1000) - 60 });
  await kv.put("link:w-garbage", "not a link {");
  const sinkCases = {
    "sink value (301)": "w-sink",
    "sink value forwarding the query (301)": "w-sink-query",
    "sink value expired": "w-sink-expired",
  };

  const out = [];
  const measure = async (name, method, path) => {
    let status;
    const counts = await countCalls(C, async () => {
      const r = await fetch(C + path, { method, redirect: "manual" });
      await r.arrayBuffer();
      status = r.status;
    });
    out.push({ case: name, method, path, status, requests: counts.requests, calls: counts.calls });
  };
  for (const [name, l] of Object.entries(links)) {
    for (const method of ["GET", "HEAD"]) {
      await measure(name, method, `/${l.slug}`);
      await measure(name, method, `/${l.slug}?utm_source=work&x=1`);
    }
  }
  for (const [name, slug] of Object.entries(sinkCases)) {
    for (const method of ["GET", "HEAD"]) {
      await measure(name, method, `/${slug}`);
      await measure(name, method, `/${slug}?utm_source=work&x=1`);
    }
  }
  await measure("unrecognised value", "GET", "/w-garbage");
  await measure("unknown slug", "GET", "/w-nothing-here");
  await measure("invalid slug", "GET", "/a");
  // A file of the assets folder: answered before the Worker, which is never invoked.
  await measure("static asset", "GET", "/api/openapi.json");
  console.log(JSON.stringify(out));
} finally {
  await rt.dispose();
}
