// The JS peer: the least a JavaScript shortener on Workers can do. One KV read of the value
// edgelink stores (`link:<slug>`, JSON) with the same edge-cache TTL, then 302 / 404 / 410 with
// the same headers and a small HTML page, as edgelink answers.
//
// With the click analytics bindings present (the default; BENCH_ANALYTICS=off leaves them out)
// it records each GET redirect as edgelink does, after the response: the same derived fields
// (user-agent classes, referrer host, a daily salted SHA-256 visitor id), one Analytics Engine
// data point and one message on the same queue (edgelink's consumer rolls both up alike).
const CACHE_CONTROL = "private, max-age=90";
const SLUG = /^[A-Za-z0-9_-]{3,64}$/;
const BOTS = /bot|crawl|spider|slurp|preview|monitor|headless|curl\/|wget\/|python-|okhttp|axios\//;

function page(status, title, text) {
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
      `<meta name="robots" content="noindex"></head><body><h1>${title}</h1><p>${text}</p></body></html>`,
    { status, headers: { "Content-Type": "text/html; charset=utf-8", "X-Robots-Tag": "noindex" } },
  );
}

function classify(ua) {
  const u = ua.toLowerCase();
  const bot = u === "" || BOTS.test(u);
  const device = bot ? "bot" : /ipad|tablet/.test(u) ? "tablet" : /mobi|iphone|android/.test(u) ? "mobile" : "desktop";
  const browser = bot ? "Bot" : u.includes("edg/") ? "Edge" : u.includes("firefox/") ? "Firefox" : u.includes("chrome/") ? "Chrome" : u.includes("safari/") ? "Safari" : "Other";
  const os = u.includes("windows") ? "Windows" : u.includes("android") ? "Android" : /iphone|ipad/.test(u) ? "iOS" : u.includes("mac os") ? "macOS" : u.includes("linux") ? "Linux" : "Other";
  return { bot, device, browser, os };
}

function referrerHost(referer) {
  if (!referer) return "";
  try {
    return new URL(referer).hostname.toLowerCase();
  } catch {
    return "";
  }
}

async function recordClick(request, env, slug, owner) {
  const h = request.headers;
  const ua = h.get("User-Agent") ?? "";
  const ip = h.get("CF-Connecting-IP") ?? "";
  const day = new Date().toISOString().slice(0, 10);
  let visitor = "";
  if (env.ANALYTICS_SALT && ip && h.get("DNT") !== "1" && h.get("Sec-GPC") !== "1") {
    const digest = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(`${ip}\0${ua}\0${env.ANALYTICS_SALT}\0${day}\0`),
    );
    visitor = [...new Uint8Array(digest, 0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  const { bot, device, browser, os } = classify(ua);
  const country = request.cf?.country ?? "";
  const referrer = referrerHost(h.get("Referer"));
  env.CLICKS.writeDataPoint({
    indexes: [slug],
    blobs: [country, referrer, device, browser, os, visitor, owner],
    doubles: [1],
  });
  const click = { slug, owner, day, country, referrer, device, browser, os, visitor, bot };
  await env.CLICK_QUEUE.send(JSON.stringify(click), { contentType: "text" });
}

export default {
  async fetch(request, env, ctx) {
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
    if (request.method === "GET" && env.CLICKS && env.CLICK_QUEUE) {
      ctx.waitUntil(recordClick(request, env, slug, link.owner).catch((e) => console.error(`click: ${e}`)));
    }
    return new Response(null, {
      status: 302,
      headers: { Location: link.url, "Cache-Control": CACHE_CONTROL, "X-Robots-Tag": "noindex" },
    });
  },
};
