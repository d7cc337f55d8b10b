// Bulk seeding inside workerd, for the list benchmark: writes `n` copies of a link that edgelink
// itself created (its KV value, KV metadata and D1 row, read back as templates, so the stored
// form is always the one edgelink writes), varying slug, url, timestamps and version.
//   POST /seed {"template":{"value":{…},"metadata":{…},"row":{…}},"n":10000,"prefix":"l-","baseMs":…}
// Slugs are prefix + 6 digits; link i is created at baseMs + i (so i = n-1 is the newest).
const iso = (ms) => new Date(ms).toISOString();

export default {
  async fetch(request, env) {
    const { template, n, prefix, baseMs } = await request.json();
    const slug = (i) => `${prefix}${String(i).padStart(6, "0")}`;
    const stamp = (obj, i) => {
      const o = structuredClone(obj);
      for (const k of ["created_at", "updated_at"]) if (k in o) o[k] = iso(baseMs + i);
      if ("version" in o) o.version = baseMs + i;
      if ("slug" in o) o.slug = slug(i);
      if ("url" in o) o.url = `https://example.com/list/${i}`;
      return o;
    };
    // KV: value + metadata, 50 puts in flight.
    let next = 0;
    const put = async () => {
      while (next < n) {
        const i = next++;
        await env.LINKS.put(`link:${slug(i)}`, JSON.stringify(stamp(template.value, i)), {
          metadata: stamp(template.metadata, i),
        });
      }
    };
    await Promise.all(Array.from({ length: 50 }, put));
    // D1: multi-row inserts within D1's 100 bound parameters, 50 statements a batch.
    const cols = Object.keys(template.row);
    const per = Math.max(1, Math.floor(100 / cols.length));
    const stmts = [];
    for (let i = 0; i < n; i += per) {
      const rows = [];
      for (let j = i; j < Math.min(n, i + per); j++) rows.push(stamp(template.row, j));
      const sql = `INSERT INTO links (${cols.join(", ")}) VALUES ${rows.map(() => `(${cols.map(() => "?").join(", ")})`).join(", ")}`;
      stmts.push(env.DB.prepare(sql).bind(...rows.flatMap((r) => cols.map((c) => r[c]))));
    }
    for (let i = 0; i < stmts.length; i += 50) await env.DB.batch(stmts.slice(i, i + 50));
    return Response.json({ kv: n, d1: n });
  },
};
