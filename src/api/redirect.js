// The redirect's JS side (src/api/redirect.rs, whose module doc says why it exists): the KV
// read and its `then`, the JSON types of a stored link (`link_shape`), and the responses. The
// options object of the KV read is made once per isolate, in JS, so a read passes no object
// across the boundary. `parsed` and `link_shape` are pure (tests/js/redirect.test.mjs).

import { LINKS } from "../bindings.js";

let readOptions;
// The stored value as the runtime's JSON.parse reads it; `undefined` when it is not JSON.
export function parsed(text) {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
export function read_then(env, keyBytes, cacheTtl, req, ctx, visit, decide) {
  readOptions ??= { type: "text", cacheTtl };
  const key = String.fromCharCode.apply(null, keyBytes);
  return env[LINKS].get(key, readOptions).then(
    (value) => {
      const link = parsed(value);
      return decide(link, link_shape(link), false, req, env, ctx, visit);
    },
    (e) => {
      console.error(`redirect ${key}: ${e}`);
      return decide(null, 0, true, req, env, ctx, visit);
    },
  );
}
// What a redirect reads of a stored link (`Link`'s JSON, src/link/record.rs), each field
// checked for its JSON type, with `Link`'s defaults for the fields older values lack: the bits
// of `Shape`, or 0 when the value is not a link. Handed to `decide` with the link: one call
// fewer.
export function link_shape(link) {
  if (link === null || typeof link !== "object") return 0;
  const {
    url, slug, owner, created_at, is_active, flag_reason = null, expires_at = null,
    redirect_type = 302, forward_query = true, max_clicks = null, valid_since = null,
  } = link;
  const text = (v) => typeof v === "string";
  const textOrNull = (v) => v === null || typeof v === "string";
  if (
    !text(url) || !text(slug) || !text(owner) || !text(created_at) ||
    typeof is_active !== "boolean" || typeof forward_query !== "boolean" ||
    !textOrNull(flag_reason) || !textOrNull(expires_at) || !textOrNull(valid_since) ||
    !Number.isInteger(redirect_type) || redirect_type < 0 || redirect_type > 0xffff ||
    (max_clicks !== null && typeof max_clicks !== "number")
  ) {
    return 0;
  }
  return 1 | (is_active ? 2 : 0) | (forward_query ? 4 : 0) | (flag_reason !== null ? 8 : 0) |
    (expires_at !== null ? 16 : 0) | (max_clicks !== null ? 32 : 0) | (valid_since !== null ? 64 : 0) |
    (redirect_type << 8);
}
// In the order of `StoredText`.
const TEXT_FIELDS = [
  "url", "slug", "owner", "created_at", "flag_reason", "expires_at", "valid_since",
];
export function link_text(link, field) {
  return link[TEXT_FIELDS[field]];
}
export function link_max_clicks(link) {
  return link.max_clicks;
}
export function link_redirect(status, link, cacheControl) {
  return redirect_response(status, link.url, cacheControl);
}
// One Headers per isolate for redirects and one for pages, which each Response copies: cheaper
// than a headers object that the runtime reads property by property.
let redirectHeaders, redirectCacheControl;
export function redirect_response(status, location, cacheControl) {
  redirectHeaders ??= new Headers({ "X-Robots-Tag": "noindex" });
  if (cacheControl !== redirectCacheControl) {
    redirectHeaders.set("Cache-Control", cacheControl);
    redirectCacheControl = cacheControl;
  }
  redirectHeaders.set("Location", location);
  return new Response(null, { status, headers: redirectHeaders });
}
let pageHeaders;
export function html_response(status, body) {
  pageHeaders ??= new Headers({
    "Content-Type": "text/html; charset=utf-8",
    "X-Robots-Tag": "noindex",
  });
  return new Response(body, { status, headers: pageHeaders });
}
export function request_facts(req) {
  const h = req.headers, cf = req.cf || {}, bm = cf.botManagement || {};
  return [
    h.get("User-Agent"), h.get("CF-Connecting-IP"), h.get("DNT"), h.get("Sec-GPC"),
    h.get("Referer"), cf.country, bm.verifiedBot ? "1" : "", bm.score,
  ].map((v) => (v == null ? "" : String(v))).join("\n");
}
