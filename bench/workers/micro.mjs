// The operations bench/runtime-micro.mjs times inside workerd: GET /?v=<name>&n=<count> runs one
// of them n times and answers a checksum. Values are shaped like edgelink's stored link.
const value = JSON.stringify({slug:"bench-hit",url:"https://example.com/landing/spring-sale?utm_source=edgelink",title:null,owner:"u_abcdefghijklmnop",is_active:true,flag_reason:null,created_at:"2026-12-03T15:00:00.000Z",updated_at:"2026-12-03T15:00:00.000Z",version:1764774000000,expires_at:null,archived:false,redirect_type:"temporary",forward_query:true,max_clicks:null});
const flatUrl = JSON.parse(value).url;
const a = value.indexOf("https"), b = a + flatUrl.length;
const enc = new TextEncoder();
const mem = new Uint8Array(65536);
const cc = "private, max-age=90";
const variants = {
  noop: () => 0,
  respFlat: () => new Response(null, { status: 302, headers: { Location: flatUrl, "Cache-Control": cc, "X-Robots-Tag": "noindex" } }).status,
  respSliced: () => new Response(null, { status: 302, headers: { Location: value.slice(a, b), "Cache-Control": cc, "X-Robots-Tag": "noindex" } }).status,
  // One Headers per isolate, copied by each Response (what edgelink does since 2026-12-03 evening).
  respShared: () => { shared.set("Location", flatUrl); return new Response(null, { status: 302, headers: shared }).status; },
  respArr: () => new Response(null, { status: 302, headers: [["Location", flatUrl], ["Cache-Control", cc], ["X-Robots-Tag", "noindex"]] }).status,
  respRedirect: () => Response.redirect(flatUrl, 302).status,
  encodeInto: () => enc.encodeInto(value, mem).written,
  jsLoop: () => { const n = value.length; let u = 0; for (; u < n; u++) { const c = value.charCodeAt(u); if (c > 127) break; mem[u] = c; } return u; },
  jsonParse: () => JSON.parse(value).url.length,
  fromCharCode: () => String.fromCharCode.apply(null, mem.subarray(0, 14)).length,
  decode14: () => dec.decode(mem.subarray(0, 14)).length,
  reqLine: () => `${req.method} ${req.url}`.length,
  // The value as bytes (a KV read of type "arrayBuffer"): copied into wasm memory, and its URL
  // made a string again for `Location`.
  bytesSet: () => { mem.set(new Uint8Array(bytes)); return bytes.byteLength; },
  urlFromBytes: () => String.fromCharCode.apply(null, new Uint8Array(bytes, a, b - a)).length,
  // The request line into wasm memory: as one template string, or the URL alone.
  lineInto: () => enc.encodeInto(`${req.method} ${req.url}`, mem).written,
  urlInto: () => enc.encodeInto(req.url, mem).written + req.method.length,
  urlLoop: () => { const s = req.url, n = s.length; let u = 0; for (; u < n; u++) { const c = s.charCodeAt(u); if (c > 127) break; mem[u] = c; } return u + req.method.length; },
  urlDecoded: () => dec.decode(new Uint8Array(bytes, a, b - a)).length,
};
const bytes = enc.encode(value).buffer;
const dec = new TextDecoder();
const shared = new Headers({ "Cache-Control": cc, "X-Robots-Tag": "noindex" });
const req = new Request("https://bench.example/bench-hit");
export default {
  async fetch(r) {
    const u = new URL(r.url);
    const f = variants[u.searchParams.get("v")];
    const n = Number(u.searchParams.get("n"));
    let x = 0;
    for (let i = 0; i < n; i++) x += f();
    return new Response(String(x));
  },
};
