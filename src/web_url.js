// The runtime's own URL parser for src/web_url.rs: each answer is one string, one line per
// field (`WebUrl::from_fields`), so a parse crosses the wasm boundary once. Pure.

export function url_fields(s) {
  let u;
  try { u = new URL(s); } catch { return undefined; }
  const credentials = u.username || u.password ? "1" : "";
  return `${u.protocol.slice(0, -1)}\n${u.hostname}\n${credentials}\n${u.origin}\n${u.href}`;
}
export function url_query_param(s, name) {
  try { return new URL(s).searchParams.get(name) ?? undefined; } catch { return undefined; }
}
export function url_query_params(s, name) {
  try { return JSON.stringify(new URL(s).searchParams.getAll(name)); } catch { return undefined; }
}
