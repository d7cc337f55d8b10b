// The request line's JS side (src/api/redirect/request_line.rs): the method and URL copied into
// the per-isolate buffer in one call. Pure but for the buffer it is handed.

// A URL from the runtime is ASCII (WHATWG serialises it so): a loop copies it for less than
// `encodeInto` costs a string made by joining method and URL.
export function ascii_into(text, buf, at) {
  const end = at + text.length;
  if (end > buf.length) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) return -1;
    buf[at + i] = c;
  }
  return end;
}
export function request_line_into(req, buf) {
  const at = ascii_into(req.method, buf, 0);
  if (at < 0 || at >= buf.length) return -1;
  buf[at] = 32;
  return ascii_into(req.url, buf, at + 1);
}
