// What a password link costs a redirect, measured on the compiled Worker (build/) in workerd
// through miniflare with local KV (tests/redirect_work.rs counts the calls; this times them):
// sequential requests, interleaved in rounds, median µs per request, for a plain link's 302, a
// password link's form (200, no guess), and the right password by header (302: one rate
// limiter call and one PBKDF2-SHA256 run of 100,000 iterations). BENCH_ANALYTICS=off by
// default here, so clicks are not part of the figures.
//
//   node bench/password.mjs            # BENCH_PASSWORD_ROUNDS (5) × BENCH_PASSWORD_N (200)
import { startRuntime, applyMigrations } from "./lib/runtime.mjs";

process.env.BENCH_ANALYTICS ??= "off";
const ADMIN = `pw-${Math.random().toString(36).slice(2)}`;
const rounds = Number(process.env.BENCH_PASSWORD_ROUNDS ?? 5);
const n = Number(process.env.BENCH_PASSWORD_N ?? 200);

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

const rt = await startRuntime({ adminToken: ADMIN, only: [] });
try {
  await applyMigrations(rt.mf);
  const E = rt.url("edgelink");
  const user = await api(E, "POST", "/api/admin/users", { token: ADMIN, body: { email: "pw@bench.test" } });
  const link = (slug, fields = {}) => api(E, "POST", "/api/links", {
    token: user.api_key, body: { url: `https://example.com/${slug}`, slug, ...fields },
  });
  await link("pw-plain");
  await link("pw-guarded", { password: "open sesame 42" });
  // Each case its own client address, and the header case's guesses spread over addresses so
  // the 10-a-minute guess limit never answers instead of the check.
  let client = 0;
  const cases = [
    ["plain link, 302", "/pw-plain", {}, 302, 1],
    ["password link, the form (200)", "/pw-guarded", {}, 200, 1],
    ["password link, right password by header (302)", "/pw-guarded", { "X-Link-Password": "open sesame 42" }, 302, 0.1],
  ];
  const times = Object.fromEntries(cases.map(([label]) => [label, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [label, path, headers, expect, share] of cases) {
      const count = Math.max(1, Math.round(n * share));
      const started = process.hrtime.bigint();
      for (let i = 0; i < count; i++) {
        const res = await fetch(E + path, {
          redirect: "manual",
          headers: { ...headers, "CF-Connecting-IP": `198.51.100.${(client++ % 250) + 1}` },
        });
        await res.arrayBuffer();
        if (res.status !== expect) throw new Error(`${label}: ${res.status}`);
      }
      times[label].push(Number(process.hrtime.bigint() - started) / 1000 / count);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`| request | µs per request (median of ${rounds} rounds) |`);
  console.log("|---|---|");
  for (const [label] of cases) console.log(`| ${label} | ${median(times[label]).toFixed(0)} |`);
} finally {
  await rt.dispose();
}
