// One worker's isolate through workerd's V8 inspector (miniflare's `inspectorPort`).
// `profileWorker(mf, name, during)` starts the V8 sampling profiler in that worker's isolate,
// awaits `during()` (e.g. a wrk run), stops, and returns the .cpuprofile object;
// `inspectWorker(mf, name)` is the session underneath, for other inspector methods.
import WebSocket from "ws";

// A session with one worker's isolate: `send(method, params, wait)` resolves with the result (a
// method the inspector never answers resolves with `{ timeout: method }` after `wait`, by default
// `timeoutMs`).
export async function inspectWorker(mf, workerName, { timeoutMs = 60_000 } = {}) {
  const base = (await mf.getInspectorURL()).href.replace(/^ws/, "http").replace(/\/$/, "");
  const targets = await (await fetch(`${base}/json`)).json();
  const target = targets.find((t) => t.id === `core:user:${workerName}`);
  if (!target) throw new Error(`no inspector target for ${workerName}: ${targets.map((t) => t.id)}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((ok, fail) => {
    ws.once("open", ok);
    ws.once("error", fail);
  });
  let id = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const m = JSON.parse(data.toString());
    if (m.id && pending.has(m.id)) {
      const { ok, fail } = pending.get(m.id);
      pending.delete(m.id);
      m.error ? fail(new Error(JSON.stringify(m.error))) : ok(m.result);
    }
  });
  const send = (method, params = {}, wait = timeoutMs) =>
    new Promise((ok, fail) => {
      const i = ++id;
      const timer = setTimeout(() => {
        pending.delete(i);
        ok({ timeout: method });
      }, wait);
      const done = (f) => (x) => {
        clearTimeout(timer);
        f(x);
      };
      pending.set(i, { ok: done(ok), fail: done(fail) });
      ws.send(JSON.stringify({ id: i, method, params }));
    });
  return { send, close: () => ws.close() };
}

export async function profileWorker(mf, workerName, during, { intervalUs = 100 } = {}) {
  const { send, close } = await inspectWorker(mf, workerName, { timeoutMs: 600_000 });
  try {
    await send("Profiler.enable");
    await send("Profiler.setSamplingInterval", { interval: intervalUs });
    await send("Profiler.start");
    await during();
    const { profile } = await send("Profiler.stop");
    return profile;
  } finally {
    close();
  }
}

// Self time per function, heaviest first: [{ name, kind, selfMs, pct }].
// kind: "wasm" (a function of the module, named by its names section), "js" (worker JS: the
// wasm-bindgen glue, a JS worker), "runtime" (native, GC, idle, program).
export function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  const dt = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const d = profile.timeDeltas[i + 1] ?? 0;
    dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + d);
  }
  let total = 0;
  for (const [nodeId, us] of dt) {
    const n = byId.get(nodeId);
    const cf = n.callFrame;
    const kind = cf.url.startsWith("wasm://") ? "wasm" : cf.url ? "js" : "runtime";
    const name = `${cf.functionName || "(anonymous)"}${kind === "js" ? ` ${cf.url.split("/").pop()}:${cf.lineNumber + 1}:${cf.columnNumber + 1}` : ""}`;
    const key = `${kind}\t${name}`;
    counts.set(key, (counts.get(key) ?? 0) + us);
    total += us;
  }
  return [...counts.entries()]
    .map(([k, us]) => {
      const [kind, name] = k.split("\t");
      return { name, kind, selfMs: us / 1000, pct: (100 * us) / total };
    })
    .sort((a, b) => b.selfMs - a.selfMs);
}

// Self time summed by kind (and idle separately): { wasm, js, runtime, idle, gc, total } in ms.
export function byKind(rows) {
  const out = { wasm: 0, js: 0, runtime: 0, idle: 0, gc: 0, total: 0 };
  for (const r of rows) {
    out.total += r.selfMs;
    if (r.name === "(idle)") out.idle += r.selfMs;
    else if (r.name === "(garbage collector)") out.gc += r.selfMs;
    else out[r.kind] += r.selfMs;
  }
  return out;
}
