// Runs INSIDE workerd. A read-through, in-isolate cache in front of a KV namespace: the first
// `get` of a key goes to the real binding, later ones are answered from memory. Swapped in for
// `LINKS` it takes the local KV simulator (a Durable Object and a SQLite/blob store in the same
// workerd process) out of the redirect path, which is what a hot key served from the edge cache
// (`cacheTtl`) looks like in production. Every other method goes to the real binding.
export function cachedKv(kv) {
  const cache = new Map();
  const bytes = new Map();
  const bytesOf = (key, text) => {
    if (!bytes.has(key)) bytes.set(key, new TextEncoder().encode(text).buffer);
    return bytes.get(key);
  };
  const read = async (key) => {
    if (!cache.has(key)) cache.set(key, await kv.get(key, { type: "text" }));
    return cache.get(key);
  };
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "get") {
        return async (key, options) => {
          const type = typeof options === "string" ? options : (options?.type ?? "text");
          const text = await read(key);
          if (text === null || type === "text") return text;
          if (type === "json") return JSON.parse(text);
          // A fresh buffer per read, as a real read gives; encoded once per key.
          if (type === "arrayBuffer") return bytesOf(key, text).slice(0);
          throw new Error(`cachedKv: type ${type} not supported`);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
