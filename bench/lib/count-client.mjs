// Node side of the binding-call counter (./counting.mjs runs inside workerd).
//
//   const counts = await countCalls(url, async () => { await fetch(url + "/slug"); });
//   // → { requests: 1, calls: { "LINKS.get": 1 }, detail: ['LINKS.get("link:slug", {…})'] }
//
// `url` is the base URL of a worker whose default export is `countingWorker(…)` (runtime.mjs
// starts `edgelink-counted` and `jspeer-counted` that way). Counts include the work the requests
// left in `ctx.waitUntil`: the count is read only after all of it has settled.

export async function resetCounts(url) {
  const r = await fetch(`${url}/__count/reset`, { method: "POST" });
  if (r.status !== 204) throw new Error(`count reset: ${r.status} ${await r.text()}`);
}

export async function readCounts(url) {
  const r = await fetch(`${url}/__count`);
  if (!r.ok) throw new Error(`count read: ${r.status}`);
  return r.json();
}

export async function countCalls(url, fn) {
  await resetCounts(url);
  await fn();
  return readCounts(url);
}

// Calls per request for `n` identical requests made one after another; every count is divided
// by the number of requests the worker saw. Returns { requests, perRequest: {name: calls}, detail }.
export async function callsPerRequest(url, path, { n = 10, init = {}, expectStatus } = {}) {
  const counts = await countCalls(url, async () => {
    for (let i = 0; i < n; i++) {
      const r = await fetch(url + path, { redirect: "manual", ...init });
      await r.arrayBuffer();
      if (expectStatus !== undefined && r.status !== expectStatus) {
        throw new Error(`${path}: expected ${expectStatus}, got ${r.status}`);
      }
    }
  });
  const perRequest = {};
  for (const [k, v] of Object.entries(counts.calls)) perRequest[k] = v / counts.requests;
  return { requests: counts.requests, perRequest, detail: counts.detail };
}

// Groups per-request calls into the columns the benchmark reports:
//   kvReads (get, getWithMetadata, list), kvWrites (put, delete), d1 (every DB.* call, and of
//   those d1Queries: statement executions first/all/run/raw, batch, exec), durableObject (every
//   call on a Durable Object namespace, id or stub), other (any other binding).
export function summarize(perRequest, { kv = ["LINKS"], d1 = ["DB"], durableObjects = ["SLUG_CLAIMS"] } = {}) {
  const sum = { kvReads: 0, kvWrites: 0, d1: 0, d1Queries: 0, durableObject: 0, other: 0 };
  for (const [name, v] of Object.entries(perRequest)) {
    const [binding, ...rest] = name.split(".");
    const method = rest[rest.length - 1];
    if (kv.includes(binding)) {
      if (["get", "getWithMetadata", "list"].includes(method)) sum.kvReads += v;
      else sum.kvWrites += v;
    } else if (d1.includes(binding)) {
      sum.d1 += v;
      if (["first", "all", "run", "raw", "batch", "exec"].includes(method)) sum.d1Queries += v;
    } else if (durableObjects.includes(binding)) sum.durableObject += v;
    else sum.other += v;
  }
  return sum;
}
