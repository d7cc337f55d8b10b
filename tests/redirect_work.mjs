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
// Sink's stored form of the password "sink secret 7": sink-pwd:v1:{iterations}:{salt}:{hash}:{tail}
// (tests/password_links.rs derives the same one).
const SINK_PASSWORD_HASH = await sinkHash("sink secret 7", 10000);

async function sinkHash(password, iterations) {
  const b64 = (bytes) => Buffer.from(bytes).toString("base64url");
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await crypto.subtle.importKey(
    "raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256,
  );
  const tail = b64(new TextEncoder().encode(password.slice(-3)));
  return `sink-pwd:v1:${iterations}:${b64(salt)}:${b64(new Uint8Array(bits))}:${tail}`;
}

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

  // The smart options (issue 26), with 50 country targets: the most a link may carry.
  const countries = {};
  for (const c of "AT BE BG CH CY CZ DE DK EE ES FI FR GB GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK US CA MX BR AR CL CO PE JP KR CN IN AU NZ ZA EG NG KE".split(" ")) {
    countries[c] = `https://example.com/country/${c}`;
  }
  const smart = {
    targets: {
      ios: "https://example.com/ios", android: "https://example.com/android",
      desktop: "https://example.com/desktop", countries,
    },
    variants: [
      { url: "https://example.com/a", weight: 70 }, { url: "https://example.com/b", weight: 30 },
    ],
    preview: { title: "Work", description: "Counted", image: "https://example.com/i.png" },
  };
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
    targets: await link("w-targets", { targets: smart.targets }),
    variants: await link("w-variants", { variants: smart.variants }),
    preview: await link("w-preview", { preview: smart.preview }),
    "every smart option, limited": await link("w-smart-all", { ...smart, max_clicks: 1000 }),
    "password form": await link("w-password", { password: "open sesame 42" }),
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
  // Sink's hash of "sink secret 7" (PBKDF2-SHA256, 10,000 iterations), as Sink writes it.
  await sink("w-sink-password", { password: SINK_PASSWORD_HASH });
  await kv.put("link:w-garbage", "not a link {");
  const sinkCases = {
    "sink value (301)": "w-sink",
    "sink value forwarding the query (301)": "w-sink-query",
    "sink value expired": "w-sink-expired",
    "sink password form": "w-sink-password",
  };

  const out = [];
  const measure = async (name, method, path, init = {}) => {
    let status;
    const counts = await countCalls(C, async () => {
      const r = await fetch(C + path, { method, redirect: "manual", ...init });
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
  // A social crawler gets the preview page: still the one read.
  const crawler = { "User-Agent": "Twitterbot/1.0" };
  for (const method of ["GET", "HEAD"]) {
    await measure("preview to a crawler", method, "/w-preview", { headers: crawler });
    await measure("preview to a crawler", method, "/w-smart-all?utm_source=work", {
      headers: crawler,
    });
  }
  // The right password, by header and by the form: still one KV read (the hash is in the
  // value), plus the guess's count in the rate limiter.
  for (const method of ["GET", "HEAD"]) {
    await measure("password header", method, "/w-password", {
      headers: { "X-Link-Password": "open sesame 42" },
    });
  }
  await measure("password form post", "POST", "/w-password", {
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: "password=open+sesame+42",
  });
  await measure("sink password header", "GET", "/w-sink-password", {
    headers: { "X-Link-Password": "sink secret 7" },
  });
  await measure("unrecognised value", "GET", "/w-garbage");
  await measure("unknown slug", "GET", "/w-nothing-here");
  await measure("invalid slug", "GET", "/a");
  // A file of the assets folder: answered before the Worker, which is never invoked.
  await measure("static asset", "GET", "/api/openapi.json");
  console.log(JSON.stringify(out));
} finally {
  await rt.dispose();
}
