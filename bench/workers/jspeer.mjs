// The JS peer: the least a JavaScript shortener on Workers can do. One KV read of the value
// edgelink stores (`link:<slug>`, JSON) with the same edge-cache TTL, then 302 / 404 / 410 with
// the same headers and a small HTML page, as edgelink answers.
const CACHE_CONTROL = "private, max-age=90";
const SLUG = /^[A-Za-z0-9_-]{3,64}$/;

function page(status, title, text) {
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
      `<meta name="robots" content="noindex"></head><body><h1>${title}</h1><p>${text}</p></body></html>`,
    { status, headers: { "Content-Type": "text/html; charset=utf-8" } },
  );
}

export default {
  async fetch(request, env) {
    const url = request.url;
    const start = url.indexOf("/", url.indexOf("//") + 2) + 1;
    let end = url.indexOf("?", start);
    if (end < 0) end = url.length;
    const slug = url.slice(start, end);
    if (!SLUG.test(slug)) return page(404, "Link not found", "There is no link here.");
    const link = await env.LINKS.get("link:" + slug, { type: "json", cacheTtl: 60 });
    if (link === null) return page(404, "Link not found", "There is no link here. Check the address.");
    if (!link.is_active) {
      return page(410, "Link unavailable", "This link is unavailable.");
    }
    return new Response(null, {
      status: 302,
      headers: { Location: link.url, "Cache-Control": CACHE_CONTROL },
    });
  },
};
