// Node side: one workerd process, driven through miniflare's JS API (no wrangler, no dev proxy,
// no per-request logging), holding every contender as its own worker with its own direct socket
// (`unsafeDirectSockets`: the socket goes straight to the worker, skipping miniflare's entry
// worker). All workers share one KV namespace, one D1 database and edgelink's Durable Object
// namespace, so what edgelink writes through its API the JS peer reads.
import fs from "node:fs";
import path from "node:path";
import { Miniflare, Log, LogLevel } from "miniflare";
import { BOUNDARY_MAIN, patchGlue } from "./boundary.mjs";

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

// [vars] of wrangler.toml (string values only, which is all edgelink has).
export function wranglerVars(root = ROOT) {
  const toml = fs.readFileSync(path.join(root, "wrangler.toml"), "utf8");
  const vars = {};
  let inVars = false;
  for (const line of toml.split("\n")) {
    const t = line.trim();
    if (t.startsWith("[")) inVars = t === "[vars]";
    else if (inVars) {
      const m = t.match(/^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"]*)"/);
      if (m) vars[m[1]] = m[2];
    }
  }
  return vars;
}

export function compatibilityDate(root = ROOT) {
  const toml = fs.readFileSync(path.join(root, "wrangler.toml"), "utf8");
  return toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1];
}

// The Worker's entry module (src/entry.mjs, wrangler.toml's `main`) for a build directory. It
// imports "../build/index.js"; here it stands beside the build's own index.js and imports that,
// so any build directory is measured the way `wrangler deploy` would ship it.
export function entryModule(buildDir) {
  const source = fs.readFileSync(path.join(ROOT, "src/entry.mjs"), "utf8");
  const contents = source.replaceAll('"../build/index.js"', '"./index.js"');
  if (contents === source) throw new Error("src/entry.mjs no longer imports ../build/index.js");
  return { type: "ESModule", path: path.join(buildDir, "entry.mjs"), contents };
}

// A worker whose main module is generated source; `imports` are the files it may import.
function shim(name, source, files) {
  return {
    main: { type: "ESModule", path: path.join(ROOT, "bench/.gen", `${name}.mjs`), contents: source },
    files,
  };
}

/**
 * Starts workerd with the contenders. `buildDir` holds edgelink's index.js + index_bg.wasm.
 * Returns { mf, url(name), names, workerdPid(), dispose() }.
 */
export async function startRuntime({
  buildDir = path.join(ROOT, "build"),
  adminToken,
  location = "https://example.com/",
  persistDir,
  extraVars = {},
  only,
  extraBuilds = {},
  inspector = false,
  // Workers served behind wrangler.toml's [assets] (the `assets/` folder, miniflare's asset
  // router in front), as deployed: a request a file answers never reaches the worker.
  withAssets = [],
} = {}) {
  const date = compatibilityDate();
  // Click analytics as shipped: an Analytics Engine dataset and the click queue (consumed by the
  // edgelink worker into the roll-up). BENCH_ANALYTICS=off leaves both bindings out, so the
  // redirect records nothing (the Worker skips a missing binding).
  const analytics = process.env.BENCH_ANALYTICS !== "off";
  const vars = {
    ...wranglerVars(),
    ...(analytics ? { ANALYTICS_SALT: "bench-salt" } : {}),
    ...extraVars,
    ADMIN_TOKEN: adminToken,
  };
  const rel = (p) => path.relative(path.join(ROOT, "bench/.gen"), p);
  const edgelinkFiles = [
    entryModule(buildDir),
    { type: "ESModule", path: path.join(buildDir, "index.js") },
    { type: "CompiledWasm", path: path.join(buildDir, "index_bg.wasm") },
  ];
  const lib = (f) => ({ type: "ESModule", path: path.join(ROOT, "bench/lib", f) });
  const jspeerFile = { type: "ESModule", path: path.join(ROOT, "bench/workers/jspeer.mjs") };
  const common = {
    compatibilityDate: date,
    kvNamespaces: { LINKS: "edgelink-links-bench" },
    d1Databases: { DB: "edgelink-db-bench" },
    // As wrangler.toml's [[ratelimits]].
    ratelimits: {
      API_LIMITER: { simple: { limit: 600, period: 60 } },
      PASSWORD_LIMITER: { simple: { limit: 10, period: 60 } },
    },
    ...(analytics
      ? {
          analyticsEngineDatasets: { CLICKS: { dataset: "edgelink_clicks" } },
          queueProducers: { CLICK_QUEUE: { queueName: "edgelink-clicks" } },
        }
      : {}),
  };
  const claims = {
    SLUG_CLAIMS: { className: "SlugClaim", scriptName: "edgelink" },
    EMAIL_CLAIMS: { className: "EmailClaim", scriptName: "edgelink" },
    DAY_SALTS: { className: "DaySalt", scriptName: "edgelink" },
  };
  const wrappers = {
    cached: (target) =>
      `import entry from ${JSON.stringify(target)};\n` +
      `import { cachedKv } from "../lib/memkv.mjs";\n` +
      `import { invokeWorker } from "../lib/counting.mjs";\n` +
      `let env2;\n` +
      `export default { fetch(req, env, ctx) {\n` +
      `  env2 ??= { ...env, LINKS: cachedKv(env.LINKS) };\n` +
      `  return invokeWorker(entry, req, env2, ctx);\n} };\n`,
    loop: (target) =>
      `import entry from ${JSON.stringify(target)};\n` +
      `import { cachedKv } from "../lib/memkv.mjs";\n` +
      `import { loopWorker } from "../lib/loop-worker.mjs";\n` +
      `export default loopWorker(entry, (env) => {\n` +
      // No click bindings in the loop: it measures the redirect itself, and the local queue's
      // broker cannot take thousands of messages a second (click recording is in the wrk runs).
      `  const e = { ...env, LINKS: cachedKv(env.LINKS) };\n` +
      `  delete e.CLICKS;\n  delete e.CLICK_QUEUE;\n  return e;\n});\n`,
    counted: (target) =>
      `import entry from ${JSON.stringify(target)};\n` +
      `import { countingWorker } from "../lib/counting.mjs";\n` +
      `export default countingWorker(entry);\n`,
  };
  // The modules the wrappers above import.
  const wrapperLibs = [lib("memkv.mjs"), lib("counting.mjs"), lib("loop-worker.mjs")];
  const edgelinkTarget = rel(path.join(buildDir, "entry.mjs"));
  const jspeerTarget = rel(jspeerFile.path);
  const derived = [];
  for (const [kind, make] of Object.entries(wrappers)) {
    derived.push({
      name: `edgelink-${kind}`,
      ...shim(`edgelink-${kind}`, make(edgelinkTarget), [...edgelinkFiles, ...wrapperLibs]),
      durableObjects: claims,
    });
    derived.push({
      name: `jspeer-${kind}`,
      ...shim(`jspeer-${kind}`, make(jspeerTarget), [jspeerFile, ...wrapperLibs]),
    });
  }
  // Other builds of edgelink (profile variants): `<name>` on the real KV, `<name>-cached` on the
  // in-isolate cache. Their SLUG_CLAIMS is the main worker's namespace.
  for (const [name, dir] of Object.entries(extraBuilds)) {
    // worker-build's default layout (index.js + index_bg.wasm), or the one of
    // `--no-panic-recovery` (worker/shim.mjs + worker/index.wasm).
    const legacy = !fs.existsSync(path.join(dir, "index_bg.wasm")) && fs.existsSync(path.join(dir, "worker/shim.mjs"));
    // BENCH_CLASS_EXPORT=name,…: these builds run with worker-build's own default export (the
    // Proxy'd WorkerEntrypoint class of index.js) instead of src/entry.mjs, for a before/after.
    const classExport = (process.env.BENCH_CLASS_EXPORT ?? "")
      .split(",")
      .some((n) => n && (name === n || name === `v-${n}`)); // bench/profiles.mjs names builds v-<name>
    const files = legacy || classExport
      ? [
          { type: "ESModule", path: path.join(dir, legacy ? "worker/shim.mjs" : "index.js") },
          { type: "CompiledWasm", path: path.join(dir, legacy ? "worker/index.wasm" : "index_bg.wasm") },
        ]
      : [
          entryModule(dir),
          { type: "ESModule", path: path.join(dir, "index.js") },
          { type: "CompiledWasm", path: path.join(dir, "index_bg.wasm") },
        ];
    const glueFile = legacy || classExport ? files[0] : files[1];
    const wasmFile = files[files.length - 1];
    derived.push({ name, main: { ...files[0] }, files: files.slice(1), durableObjects: claims });
    for (const kind of ["cached", "loop"]) {
      derived.push({
        name: `${name}-${kind}`,
        ...shim(`${name}-${kind}`, wrappers[kind](rel(files[0].path)), [...files, ...wrapperLibs]),
        durableObjects: claims,
      });
    }
    let patched = null;
    try {
      patched = patchGlue(glueFile.path);
    } catch {} // a glue of another shape: no boundary counter for this build
    if (patched) {
      const glue = path.join(path.dirname(glueFile.path), "index.boundary.js");
      derived.push({
        name: `${name}-boundary`,
        ...shim(`${name}-boundary`, BOUNDARY_MAIN(rel(glue)), [
          { type: "ESModule", path: glue, contents: patched },
          wasmFile,
          lib("counting.mjs"),
        ]),
        durableObjects: claims,
      });
    }
  }
  // edgelink with its wasm↔JS boundary calls counted (./boundary.mjs).
  {
    const glue = path.join(buildDir, "index.boundary.js");
    derived.push({
      name: "edgelink-boundary",
      ...shim("edgelink-boundary", BOUNDARY_MAIN(rel(glue)), [
        { type: "ESModule", path: glue, contents: patchGlue(path.join(buildDir, "index.js")) },
        edgelinkFiles[2],
        lib("counting.mjs"),
      ]),
      durableObjects: claims,
    });
  }
  // The ceiling in the handler loop (./loop-worker.mjs): the floor of a 302 without HTTP.
  derived.push({
    name: "ceiling-loop",
    ...shim("ceiling-loop", wrappers.loop(rel(path.join(ROOT, "bench/workers/ceiling.mjs"))), [
      { type: "ESModule", path: path.join(ROOT, "bench/workers/ceiling.mjs") },
      lib("memkv.mjs"),
      lib("loop-worker.mjs"),
    ]),
  });
  const keep = new Set(["edgelink", "seeder", ...Object.keys(extraBuilds).flatMap((n) => [n, `${n}-cached`, `${n}-loop`, `${n}-boundary`])]);
  const workers = [
    {
      name: "edgelink",
      modulesRoot: ROOT,
      modules: edgelinkFiles.map((f) => ({ ...f })),
      durableObjects: { SLUG_CLAIMS: "SlugClaim", EMAIL_CLAIMS: "EmailClaim", DAY_SALTS: "DaySalt" },
      ...(analytics
        ? { queueConsumers: { "edgelink-clicks": { maxBatchSize: 100, maxBatchTimeout: 5 } } }
        : {}),
    },
    {
      name: "ceiling",
      modulesRoot: ROOT,
      modules: [{ type: "ESModule", path: path.join(ROOT, "bench/workers/ceiling.mjs") }],
    },
    {
      name: "ceiling-async",
      modulesRoot: ROOT,
      modules: [
        { type: "ESModule", path: path.join(ROOT, "bench/workers/ceiling-async.mjs") },
        { type: "ESModule", path: path.join(ROOT, "bench/workers/ceiling.mjs") },
      ],
    },
    { name: "jspeer", modulesRoot: ROOT, modules: [jspeerFile] },
    {
      name: "seeder",
      modulesRoot: ROOT,
      modules: [{ type: "ESModule", path: path.join(ROOT, "bench/workers/seeder.mjs") }],
    },
    ...derived.map((d) => ({
      name: d.name,
      modulesRoot: ROOT,
      modules: [d.main, ...d.files],
      durableObjects: d.durableObjects,
    })),
  ]
    .filter((w) => keep.has(w.name) || !only || only.includes(w.name))
    .map((w) => ({
      ...common,
      ...w,
      ...(withAssets.includes(w.name)
        ? {
            assets: {
              directory: path.join(ROOT, "assets"),
              binding: "ASSETS",
              routerConfig: { has_user_worker: true },
            },
          }
        : {}),
      bindings: w.name.startsWith("ceiling") ? { LOCATION: location } : vars,
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    }));
  const persist = persistDir
    ? {
        kvPersist: path.join(persistDir, "kv"),
        d1Persist: path.join(persistDir, "d1"),
        durableObjectsPersist: path.join(persistDir, "do"),
      }
    : {};
  const mf = new Miniflare({
    workers,
    ...persist,
    host: "127.0.0.1",
    port: 0,
    logRequests: false,
    ...(inspector ? { inspectorPort: 0 } : {}),
    cf: false,
    log: new Log(LogLevel.WARN),
  });
  await mf.ready;
  const urls = {};
  for (const w of workers) urls[w.name] = await mf.unsafeGetDirectURL(w.name);
  return {
    mf,
    names: workers.map((w) => w.name),
    url: (name) => {
      if (!urls[name]) throw new Error(`no worker ${name}`);
      return urls[name].href.replace(/\/$/, "");
    },
    workerdPid: () => findWorkerd(process.pid),
    dispose: () => mf.dispose(),
  };
}

// The workerd process miniflare started (a descendant of this Node process).
export function findWorkerd(ancestor) {
  const children = new Map();
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push({ pid: Number(pid), comm });
    } catch {}
  }
  const queue = [ancestor];
  while (queue.length) {
    const p = queue.shift();
    for (const c of children.get(p) ?? []) {
      if (c.comm === "workerd") return c.pid;
      queue.push(c.pid);
    }
  }
  return null;
}

// CPU time (user + system) of a process, in microseconds.
export function cpuMicros(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(f[11]) + Number(f[12]);
  return (ticks * 1e6) / 100; // CLK_TCK is 100 on Linux
}

// Applies migrations/*.sql to the shared D1 database, in order.
export async function applyMigrations(mf, root = ROOT) {
  const db = await mf.getD1Database("DB", "edgelink");
  const dir = path.join(root, "migrations");
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    // Comments dropped (none of edgelink's migrations has "--" inside a string literal).
    const sql = fs.readFileSync(path.join(dir, file), "utf8").replace(/--[^\n]*/g, "");
    const stmts = sql
      .split(/;\s*(?:\n|$)/)
      .map((s) => s.trim())
      .filter(Boolean);
    await db.batch(stmts.map((s) => db.prepare(s)));
  }
}

// The link the profiling scripts redirect to: a user made with the admin token, and one link of
// theirs at `/<slug>` (through edgelink's own API, so KV and D1 hold what production would).
export async function seedLink(rt, adminToken, { slug = "bench-hit", url = "https://example.com/landing/spring-sale?utm_source=edgelink", email = "p@bench.example" } = {}) {
  const E = rt.url("edgelink");
  const auth = (t) => ({ Authorization: `Bearer ${t}` });
  const u = await fetch(E + "/api/admin/users", { method: "POST", headers: auth(adminToken), body: JSON.stringify({ email }) });
  if (u.status !== 201) throw new Error(`create user: ${u.status}`);
  const user = await u.json();
  const c = await fetch(E + "/api/links", { method: "POST", headers: auth(user.api_key), body: JSON.stringify({ url, slug }) });
  if (c.status !== 201) throw new Error(`create link: ${c.status}`);
  return user;
}
