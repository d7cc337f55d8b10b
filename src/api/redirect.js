// The redirect's JS side (src/api/redirect.rs, whose module doc says why it exists): the KV
// read and its `then`, the JSON types of a stored link (`link_shape`), and the responses. The
// options object of the KV read is made once per isolate, in JS, so a read passes no object
// across the boundary. `parsed`, `link_shape`, `sink_view` and `link_options` are pure
// (tests/js/redirect.test.mjs).

import { LINKS, PASSWORD_LIMITER } from "../bindings.js";
import { over_limit } from "../ratelimit.js";
import { verify_password } from "./password.js";

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
      const shape = link_shape(link);
      if (shape !== 0) return decide(link, shape, false, req, env, ctx, visit);
      // Not edgelink's: a Sink link (a namespace adopted in place) redirects as one of ours.
      const sink = sink_view(link, key);
      return decide(sink, link_shape(sink), false, req, env, ctx, visit);
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
    targets = null, variants = null, preview = null,
    password_hash = null,
  } = link;
  const text = (v) => typeof v === "string";
  const textOrNull = (v) => v === null || typeof v === "string";
  const objectOrNull = (v) => v === null || (typeof v === "object" && !Array.isArray(v));
  if (
    !text(url) || !text(slug) || !text(owner) || !text(created_at) ||
    typeof is_active !== "boolean" || typeof forward_query !== "boolean" ||
    !textOrNull(flag_reason) || !textOrNull(expires_at) || !textOrNull(valid_since) ||
    !textOrNull(password_hash) ||
    !Number.isInteger(redirect_type) || redirect_type < 0 || redirect_type > 0xffff ||
    (max_clicks !== null && typeof max_clicks !== "number") ||
    !objectOrNull(targets) || !(variants === null || Array.isArray(variants)) ||
    !objectOrNull(preview)
  ) {
    return 0;
  }
  // Bit 24, above the redirect type's 16 bits: the link has smart options (`link_options`).
  const smart = targets !== null || variants !== null || preview !== null;
  return 1 | (is_active ? 2 : 0) | (forward_query ? 4 : 0) | (flag_reason !== null ? 8 : 0) |
    (expires_at !== null ? 16 : 0) | (max_clicks !== null ? 32 : 0) | (valid_since !== null ? 64 : 0) |
    (password_hash !== null ? 128 : 0) | (redirect_type << 8) | (smart ? 1 << 24 : 0);
}
// The smart options of a link whose shape has them, as `StoredOptions` reads them
// (src/link/destination.rs): one JSON string, one boundary crossing. Of the country targets
// only the visitor's `country` goes across (an own property only: a country code is never
// `__proto__`), so a link with 50 of them costs what one with one does. Their values' types
// are checked by the Rust parse.
export function link_options(link, country) {
  const { targets = null, variants = null, preview = null } = link;
  let t;
  if (targets !== null) {
    const c = targets.countries;
    t = {
      ios: targets.ios, android: targets.android, desktop: targets.desktop,
      country: c !== null && typeof c === "object" && Object.hasOwn(c, country) ? c[country] : undefined,
    };
  }
  return JSON.stringify({ targets: t, variants: variants ?? undefined, preview: preview ?? undefined });
}
// Keys only edgelink's link has (Sink writes camelCase): a value with one is edgelink's, however
// damaged, and never read as Sink's. As `EDGELINK_KEYS` in src/exchange/sink.rs.
const EDGELINK_KEYS = ["owner", "created_at", "updated_at", "version", "is_active"];
// The last second edgelink writes (9999-12-31T23:59:59Z), as `SECONDS_MAX` in
// src/exchange/sink.rs: a later Sink expiration is no expiry.
const SINK_SECONDS_MAX = 253402300799;
// A Sink link (ccbikai/Sink, under its `link:<slug>` key) as the edgelink link it becomes when
// the reconciler adopts it (`SinkLink::to_link`, src/exchange/sink.rs), with the fields a
// redirect reads; `null` when the value is not one, or its `url` is nothing edgelink redirects
// to. Sink's defaults: 301, the visitor's query dropped unless `redirectWithQuery`; Sink's
// password hash (`sink-pwd:v1:…`) makes a password link, in edgelink's form as
// `PasswordHash::parse` (src/link/password.rs) keeps it, and any other password (plain text,
// from Sink's versions before hashing) stops the link; `expiration` is in Unix seconds; its
// device redirects (`apple`, `google`) are device targets and its social card a preview. No
// owner yet (its clicks carry none) and no click limit. Only reached for values that are not
// edgelink's.
export function sink_view(link, key) {
  if (link === null || typeof link !== "object" || Array.isArray(link)) return null;
  if (typeof link.url !== "string" || EDGELINK_KEYS.some((k) => k in link)) return null;
  const url = sink_url(link.url);
  if (url === null) return null;
  const secs = sink_seconds(link.expiration);
  const { password } = link;
  const protected_ = typeof password === "string" && password.trim() !== "";
  const password_hash = protected_ ? sink_password_hash(password.trim()) : null;
  return {
    url, slug: key.slice(5), owner: "", created_at: "",
    is_active: !protected_ || password_hash !== null,
    flag_reason: null,
    expires_at: secs === null ? null : new Date(secs * 1000).toISOString(),
    redirect_type: 301, forward_query: link.redirectWithQuery === true, max_clicks: null,
    targets: sink_targets(link), preview: sink_preview(link),
    password_hash,
  };
}
// A URL as `TargetUrl::parse` (src/link/url.rs) takes one: at most 2048 bytes, absolute http(s)
// with a host and no credentials; its `href`, or `null`.
function sink_url(raw) {
  if (typeof raw !== "string" || new TextEncoder().encode(raw).length > 2048) return null;
  let url;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "" ||
    url.username !== "" || url.password !== "") {
    return null;
  }
  return url.href;
}
// Sink's `apple` and `google` as device targets, as `SinkLink::targets`.
function sink_targets(link) {
  const ios = sink_url(link.apple), android = sink_url(link.google);
  if (ios === null && android === null) return null;
  const targets = {};
  if (ios !== null) targets.ios = ios;
  if (android !== null) targets.android = android;
  return targets;
}
// Sink's social card as a preview when it says more than the title, as `SinkLink::preview`.
function sink_preview(link) {
  const description = cleaned_text(link.description, 500);
  let image = sink_url(link.image);
  if (image !== null && !image.startsWith("https://")) image = null;
  if (description === null && image === null) return null;
  const preview = {};
  const title = cleaned_text(link.title, 200);
  if (title !== null) preview.title = title;
  if (description !== null) preview.description = description;
  if (image !== null) preview.image = image;
  return preview;
}
// As `cleaned` in src/exchange/sink.rs: trimmed, control characters made spaces, at most `max`
// characters (code points, as Rust counts them), trimmed again; `null` when nothing is left.
function cleaned_text(raw, max) {
  if (typeof raw !== "string") return null;
  const chars = Array.from(raw.trim(), (c) => (/\p{Cc}/u.test(c) ? " " : c));
  const text = chars.slice(0, max).join("").trimEnd();
  return text === "" ? null : text;
}
// Sink's `sink-pwd:v1:{iterations}:{salt}:{hash}:{tail}` as edgelink's
// `pbkdf2-sha256:{iterations}:{salt}:{hash}` (the same PBKDF2-SHA256; the tail, the password's
// last characters, is dropped); `null` when it is not that form. As `PasswordHash::parse`.
const SINK_HASH = /^sink-pwd:v1:([1-9][0-9]{0,5}):([A-Za-z0-9_-]{11,86}):([A-Za-z0-9_-]{43}):[A-Za-z0-9_-]+$/;
export function sink_password_hash(password) {
  const m = SINK_HASH.exec(password);
  if (m === null || Number(m[1]) > 100000) return null;
  return `pbkdf2-sha256:${m[1]}:${m[2]}:${m[3]}`;
}
// Unix seconds as `seconds` in src/exchange/sink.rs reads them: a whole non-negative number (a
// fraction cut) or a string of digits, up to SINK_SECONDS_MAX; anything else is none.
function sink_seconds(v) {
  let n = null;
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) n = Math.floor(v);
  else if (typeof v === "string" && /^\s*\d+\s*$/.test(v)) n = Number(v);
  return n !== null && n <= SINK_SECONDS_MAX ? n : null;
}
// In the order of `StoredText`.
const TEXT_FIELDS = [
  "url", "slug", "owner", "created_at", "flag_reason", "expires_at", "valid_since",
];
// The biggest form body a password guess is read from: a 256-character password, encoded.
const MAX_FORM_BYTES = 4096;
// What a visitor's request to a password link says, after at most one guess is checked: 0 no
// guess (the form), 1 the right password, 2 a wrong one, 3 over the guess limit (whatever the
// guess: the limit would mean nothing if the right one still got through). The guess is the
// form's `password` field (POST) or the `X-Link-Password` header (GET, HEAD). Every guess
// counts against the client's and link's limit before it is checked, right ones too: the
// binding cannot be read without counting, and counting first also spares the CPU of a
// PBKDF2 run to a locked-out client.
export async function password_check(req, env, link, isPost) {
  const guess = isPost ? await posted_password(req) : req.headers.get("X-Link-Password");
  if (guess === null || guess === "") return 0;
  const client = req.headers.get("CF-Connecting-IP") ?? "";
  if (await over_limit(env, PASSWORD_LIMITER, `${client} ${link.slug}`)) return 3;
  return (await verify_password(guess, link.password_hash)) ? 1 : 2;
}
// A form body too big to hold a password: a guess, and a wrong one (`verify_password` takes
// only strings).
const OVERSIZED = {};
// The `password` field of an urlencoded form body (`null` when it has none).
async function posted_password(req) {
  const declared = Number(req.headers.get("Content-Length") ?? "0");
  if (!(declared <= MAX_FORM_BYTES)) return OVERSIZED;
  const text = await req.text();
  if (text.length > MAX_FORM_BYTES) return OVERSIZED;
  return new URLSearchParams(text).get("password");
}
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
// Pages hold no script or style and may not be framed; images are a social preview's own (https
// only). The password form posts to this origin, but browsers apply form-action to the redirect
// that follows too (Chromium does), and the right password's 303 goes to the link's destination,
// any http(s) origin: with `'self'` alone the visitor who gave the right password was stopped.
const PAGE_CSP =
  "default-src 'none'; img-src https:; form-action 'self' http: https:; base-uri 'none'; frame-ancestors 'none'";
// Per kind of page (`PageKind` in src/api/redirect/pages.rs): 0 the ordinary pages; 1 the
// password form, never stored by any cache (it answers per visitor); 2 the form over the guess
// limit, with when to try again (the limit's windows are one minute long).
let pageHeaders;
export function html_response(status, body, kind) {
  if (pageHeaders === undefined) {
    const page = {
      "Content-Type": "text/html; charset=utf-8",
      "X-Robots-Tag": "noindex",
      "Content-Security-Policy": PAGE_CSP,
    };
    const form = { ...page, "Cache-Control": "no-store" };
    pageHeaders = [new Headers(page), new Headers(form), new Headers({ ...form, "Retry-After": "60" })];
  }
  return new Response(body, { status, headers: pageHeaders[kind] });
}
export function request_facts(req) {
  const h = req.headers, cf = req.cf || {}, bm = cf.botManagement || {};
  return [
    h.get("User-Agent"), h.get("CF-Connecting-IP"), h.get("DNT"), h.get("Sec-GPC"),
    h.get("Referer"), cf.country, bm.verifiedBot ? "1" : "", bm.score,
  ].map((v) => (v == null ? "" : String(v))).join("\n");
}
