// Binding-call counter that runs INSIDE workerd (a module of the worker under test).
//
// `countingWorker(entry, opts)` wraps any worker default export — a module-worker object
// (`{ fetch }`) or a `WorkerEntrypoint` class such as the one worker-build emits — so that every
// method call the worker makes on one of its bindings (KV, D1, Durable Object namespaces and
// stubs, queues, Analytics Engine, service bindings…) is counted, including calls made later
// inside `ctx.waitUntil`. Nothing is inferred from reading code: the env object the worker sees
// is a set of Proxies over the real bindings.
//
// Control routes (answered by the wrapper, never passed to the worker):
//   POST /__count/reset  zero the counters (waits for pending waitUntil work first)
//   GET  /__count        {"requests":n,"calls":{"LINKS.get":n,"DB.prepare":n,"DB.stmt.first":n,…},
//                         "detail":[…first 50 calls with their first argument…]}
//                        after every waitUntil promise registered so far has settled.
// The Node side of this lives in ./count-client.mjs.
//
// Names: `<BINDING>.<method>`; objects returned synchronously by a binding method are wrapped
// too and named by kind: D1 statements `DB.stmt.<method>` (bind, first, all, run, raw), Durable
// Object ids and stubs `SLUG_CLAIMS.stub.fetch`, etc. Promises are not wrapped.
// Plain string vars and secrets pass through untouched and are not counted.

const RAW = Symbol("counting.raw");

export function createCounter() {
  return { requests: 0, calls: Object.create(null), detail: [], pending: 0 };
}

function record(counter, name, args) {
  counter.calls[name] = (counter.calls[name] ?? 0) + 1;
  if (counter.detail.length < 50) {
    const shown = args.slice(0, 2).map((a) => {
      if (typeof a === "string") return JSON.stringify(a).slice(0, 120);
      if (a !== null && typeof a === "object" && (a.constructor === Object || Array.isArray(a))) {
        try {
          return JSON.stringify(a).slice(0, 120);
        } catch {}
      }
      return typeof a;
    });
    counter.detail.push(`${name}(${shown.join(", ")})`);
  }
}

// The real object behind a counting proxy (so native methods never receive a Proxy).
export function unwrap(value) {
  if (value !== null && typeof value === "object" && value[RAW] !== undefined) return value[RAW];
  if (Array.isArray(value)) return value.map(unwrap);
  return value;
}

function childName(parentName, method, result) {
  const ctor = result?.constructor?.name ?? "";
  if (/Statement/i.test(ctor)) return `${parentName.split(".")[0]}.stmt`;
  if (/Stub|Object$/i.test(ctor) && method !== "idFromName") return `${parentName.split(".")[0]}.stub`;
  if (/Id$/i.test(ctor) || method.startsWith("idFrom") || method === "newUniqueId")
    return `${parentName.split(".")[0]}.id`;
  return `${parentName}.${method}()`;
}

function wrapObject(target, name, counter) {
  const methods = new Map();
  return new Proxy(target, {
    get(t, prop) {
      if (prop === RAW) return t;
      const value = Reflect.get(t, prop, t);
      if (typeof value !== "function" || typeof prop === "symbol" || prop === "constructor") {
        return value;
      }
      let wrapped = methods.get(prop);
      if (!wrapped) {
        wrapped = function (...args) {
          record(counter, `${name}.${prop}`, args);
          const result = Reflect.apply(value, t, args.map(unwrap));
          if (result !== null && typeof result === "object" && typeof result.then !== "function") {
            return wrapObject(result, childName(name, prop, result), counter);
          }
          return result;
        };
        methods.set(prop, wrapped);
      }
      return wrapped;
    },
  });
}

// The env a worker sees under counting: object-valued bindings are proxied, strings are not.
export function countingEnv(env, counter) {
  const out = {};
  for (const key of Object.keys(env)) {
    const b = env[key];
    out[key] = b !== null && typeof b === "object" ? wrapObject(b, key, counter) : b;
  }
  return out;
}

// ctx whose waitUntil promises are tracked, so counts include background work.
export function countingCtx(ctx, counter) {
  return new Proxy(ctx, {
    get(t, prop) {
      if (prop === "waitUntil") {
        return (p) => {
          // A plain number, not the promise: awaiting another request's promise is not allowed.
          counter.pending++;
          const done = () => {
            counter.pending--;
          };
          return t.waitUntil(Promise.resolve(p).then(done, (e) => (done(), Promise.reject(e))));
        };
      }
      const v = Reflect.get(t, prop, t);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}

// Waits (polling) until every waitUntil promise registered so far has settled; 30 s at most,
// the platform's own bound on waitUntil.
async function settle(counter) {
  const deadline = Date.now() + 30_000;
  while (counter.pending > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2));
  }
}

function isEntrypointClass(entry) {
  return typeof entry === "function" && typeof entry.prototype?.fetch === "function";
}

// Calls a worker's default export (module-worker object or WorkerEntrypoint class) with the
// env and ctx given, the way workerd itself would.
export function invokeWorker(entry, request, env, ctx) {
  if (isEntrypointClass(entry)) return new entry(ctx, env).fetch(request);
  return entry.fetch(request, env, ctx);
}

// Wrap a worker's default export. `opts.counter` may be shared between wrappers.
// Returns a module-worker object `{ fetch }` to use as the wrapping worker's default export.
export function countingWorker(entry, { counter = createCounter(), prefix = "/__count" } = {}) {
  return {
    async fetch(request, env, ctx) {
      const path = new URL(request.url).pathname;
      if (path === prefix) {
        await settle(counter);
        const body = { requests: counter.requests, calls: counter.calls, detail: counter.detail };
        return Response.json(body);
      }
      if (path === `${prefix}/reset`) {
        await settle(counter);
        counter.requests = 0;
        counter.calls = Object.create(null);
        counter.detail = [];
        return new Response(null, { status: 204 });
      }
      counter.requests++;
      return invokeWorker(entry, request, countingEnv(env, counter), countingCtx(ctx, counter));
    },
  };
}
