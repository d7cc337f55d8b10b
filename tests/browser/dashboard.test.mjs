// The dashboard in a real browser: Debian's chromium driven by playwright-core against the real
// Worker under `wrangler dev`. Run by tests/dashboard.rs, which starts the server and passes
// EDGELINK_BASE and ADMIN_TOKEN. Each test makes its own users and random slugs; background work
// (the D1 index, the click roll-up, the import queue) is polled for to a deadline, never slept on.
// A screenshot of each main page goes to target/screenshots/.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const BASE = process.env.EDGELINK_BASE;
const ADMIN = process.env.ADMIN_TOKEN;
assert.ok(BASE && ADMIN, "EDGELINK_BASE and ADMIN_TOKEN are set by tests/dashboard.rs");
const DASH = `${BASE}/dashboard/`;
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const SHOTS = path.join(ROOT, "target", "screenshots");
const DEADLINE_MS = 45_000;
const CHROME_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36";

let browser;
// A second origin on another site (localhost, where the Worker is 127.0.0.1): the destination of
// short links, and the cross-site page that posts a form to the API.
let other;
let OTHER;
const cspViolations = [];

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  other = http.createServer((req, res) => {
    const u = new URL(req.url, "http://x");
    if (u.pathname === "/evil") {
      // text/plain sends `name=value`: the name ends inside the title, so the body is a valid
      // create ({…,"title":"=x"}). It is a "simple" request: no preflight, nothing but the
      // API's own checks (SameSite cookie, CSRF header) stops it.
      const body = JSON.stringify({ url: "https://evil.example/", slug: u.searchParams.get("slug"), title: "" });
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end(`<!doctype html><title>evil</title>
        <form method="post" action="${BASE}/api/links" enctype="text/plain">
          <input type="hidden" name='${body.slice(0, -2)}' value='x"}'>
          <button id="go">Win a prize</button>
        </form>`);
      return;
    }
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end(`<!doctype html><title>landed</title><h1 id="landed">${u.pathname}${u.search}</h1>`);
  });
  await new Promise((r) => other.listen(0, "127.0.0.1", r));
  OTHER = `http://localhost:${other.address().port}`;
});

after(async () => {
  await browser?.close();
  other?.close();
  assert.deepEqual(cspViolations, [], "no page broke its Content-Security-Policy");
});

const rand = (n = 8) => Math.random().toString(36).slice(2, 2 + n).padEnd(n, "x");

async function api(method, p, token, body) {
  const r = await fetch(`${BASE}${p}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

async function newUser(prefix = "dash") {
  const email = `${prefix}-${rand(10)}@example.test`;
  const r = await api("POST", "/api/admin/users", ADMIN, { email });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return { ...r.json, email };
}

async function poll(what, check, deadline = DEADLINE_MS) {
  const until = Date.now() + deadline;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) assert.fail(`${what}: not within ${deadline} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function newPage(opts = {}) {
  const context = await browser.newContext({ acceptDownloads: true, ...opts });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => cspViolations.push(`${page.url()}: page error ${e.message}`));
  return page;
}

async function signIn(page, key) {
  await page.goto(DASH);
  await page.getByLabel("API key or admin token").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: /^Sign out/ }).waitFor();
}

/// Waits for the page's notice `text`; fails at once with the page's error when one shows instead.
async function notice(page, text) {
  const ok = page.getByRole("status").filter({ hasText: text });
  const err = page.locator(".form-error");
  await ok.or(err).first().waitFor();
  if (!(await ok.count())) assert.fail(`waiting for "${text}", the page shows: ${await err.allInnerTexts()}`);
}

const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

const rowOf = (page, slug) => page.locator(`tr[data-slug="${slug}"]`);

/// The list's page is chosen by the D1 index, written just after a change's answer: search
/// again until `cond`.
async function refreshUntil(page, what, cond) {
  await poll(what, async () => {
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForLoadState("networkidle");
    return cond();
  });
}

test("the dashboard's pages carry a strict CSP, and / leads to the dashboard", async () => {
  const r = await fetch(`${BASE}/dashboard/`);
  assert.equal(r.status, 200);
  const csp = r.headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  const root = await fetch(`${BASE}/`, { redirect: "manual" });
  assert.equal(root.status, 302);
  assert.match(root.headers.get("location") ?? "", /\/dashboard\/$/);
});

test("a user signs in, creates, edits, tags, searches, pages, archives and deletes links", async () => {
  const user = await newUser();
  const page = await newPage();
  await signIn(page, user.api_key);
  // The key is not kept by the page: no web storage, and the session cookie is HttpOnly.
  const stored = await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]);
  assert.deepEqual(stored, [0, 0, ""]);

  // Create through the form.
  const token = rand(6);
  const slug = `d-${token}`;
  await page.getByRole("button", { name: "New link" }).click();
  await page.getByLabel("Destination URL").fill(`https://example.com/${token}`);
  await page.getByLabel("Slug (optional)").fill(slug);
  await page.getByLabel("Title", { exact: true }).fill(`Launch ${token}`);
  await page.getByLabel("Tags").fill("alpha, Beta");
  await page.getByLabel("Redirect type").selectOption("307");
  await page.getByLabel("Max clicks (optional)").fill("50");
  await shot(page, "link-new");
  await page.getByRole("button", { name: "Create link" }).click();
  await page.getByRole("heading", { level: 1, name: slug, exact: true }).waitFor();
  assert.match(await page.locator("dl.fields").innerText(), /alpha, beta[\s\S]*307[\s\S]*at most 50 clicks/);

  // The API's error lands next to the field it concerns.
  await page.goto(`${DASH}#/links/new`);
  await page.getByLabel("Destination URL").fill("https://example.com/again");
  await page.getByLabel("Slug (optional)").fill(slug);
  await page.getByRole("button", { name: "Create link" }).click();
  await assert.doesNotReject(page.locator("#f-slug-err").filter({ hasText: "slug_taken" }).waitFor());
  await page.getByLabel("Slug (optional)").fill("");
  await page.getByLabel("Destination URL").fill("ftp://example.com/file");
  await page.getByRole("button", { name: "Create link" }).click();
  await page.locator("#f-url-err").filter({ hasText: "invalid_url" }).waitFor();
  await shot(page, "link-new-errors");

  // Edit: title and tags.
  await page.goto(`${DASH}#/links/${slug}/edit`);
  await page.getByLabel("Title", { exact: true }).fill(`Edited ${token}`);
  await page.getByLabel("Tags").fill("alpha gamma");
  await shot(page, "link-edit");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { level: 1, name: slug, exact: true }).waitFor();
  await page.locator("dl.fields", { hasText: `Edited ${token}` }).waitFor();
  const got = await api("GET", `/api/links/${slug}`, user.api_key);
  assert.equal(got.json.title, `Edited ${token}`);
  assert.deepEqual(got.json.tags, ["alpha", "gamma"]);
  assert.equal(got.json.redirect_type, 307);

  // 24 more links through the API, tagged `page-<token>`, to search and page through.
  const bulk = Array.from({ length: 24 }, (_, i) => ({
    url: `https://example.com/${token}/${i}`,
    slug: `p-${token}-${String(i).padStart(2, "0")}`,
    tags: [`page-${token}`],
  }));
  const made = await api("POST", "/api/links/bulk", user.api_key, bulk);
  assert.ok(made.json.results.every((r) => r.status === 201), JSON.stringify(made.json));
  await poll("the index lists all 25 links", async () => {
    const l = await api("GET", "/api/links?limit=100", user.api_key);
    return l.json.links.length === 25;
  });

  await page.goto(`${DASH}#/links`);
  await page.getByRole("heading", { name: "Your links" }).waitFor();
  await page.getByText("25 links match").waitFor();
  assert.equal(await page.locator("tbody tr").count(), 20);
  await page.getByRole("button", { name: "Next page" }).click();
  await page.getByText("Page 2").waitFor();
  await poll("page 2 shows the last 5", async () => (await page.locator("tbody tr").count()) === 5);
  await page.getByRole("button", { name: "Previous page" }).click();
  await poll("page 1 again", async () => (await page.locator("tbody tr").count()) === 20);
  await shot(page, "links");

  // Tag filter, then search.
  await page.goto(`${DASH}#/links`);
  await page.getByLabel("Tag", { exact: true }).selectOption("gamma");
  await page.getByText("1 link match").waitFor();
  await rowOf(page, slug).waitFor();
  await page.getByLabel("Tag", { exact: true }).selectOption("");
  await page.getByRole("searchbox").fill(`${token}/1`);
  await page.getByRole("button", { name: "Search" }).click();
  // `<token>/1` is in the URLs of links 1 and 10–19.
  await page.getByText("11 links match").waitFor();
  await page.getByLabel("Sort by").selectOption("slug:desc");
  await poll("sorted by slug, descending", async () => (await page.locator("tbody tr").first().getAttribute("data-slug")) === `p-${token}-19`);

  // Archive: gone from the default list, shown by the archive filter; unarchive brings it back.
  await page.goto(`${DASH}#/links`);
  await page.getByRole("searchbox").fill(slug);
  await page.getByRole("button", { name: "Search" }).click();
  await rowOf(page, slug).getByRole("button", { name: "Archive" }).click();
  await notice(page, `Archived ${slug}.`);
  await refreshUntil(page, "the archived link leaves the list", async () => (await rowOf(page, slug).count()) === 0);
  await page.getByLabel("Archive", { exact: true }).selectOption("true");
  await refreshUntil(page, "the archive filter shows it", async () => (await rowOf(page, slug).count()) === 1);
  await rowOf(page, slug).getByRole("button", { name: "Unarchive" }).click();
  await notice(page, `Unarchived ${slug}.`);
  assert.equal((await api("GET", `/api/links/${slug}`, user.api_key)).json.archived, false);

  // Delete with its confirmation.
  await page.getByLabel("Archive", { exact: true }).selectOption("");
  await refreshUntil(page, "the unarchived link is back", async () => (await rowOf(page, slug).count()) === 1);
  await rowOf(page, slug).getByRole("button", { name: "Delete" }).click();
  await rowOf(page, slug).getByRole("button", { name: "Cancel" }).waitFor();
  await rowOf(page, slug).getByRole("button", { name: "Yes, delete" }).click();
  await notice(page, `Deleted ${slug}.`);
  assert.equal((await api("GET", `/api/links/${slug}`, user.api_key)).status, 404);
  await shot(page, "links-deleted-undo");
  // Undo brings it back as it was.
  await page.getByRole("status").getByRole("button", { name: "Undo" }).click();
  await notice(page, `Restored ${slug}.`);
  const back = await api("GET", `/api/links/${slug}`, user.api_key);
  assert.equal(back.status, 200);
  assert.deepEqual([back.json.title, back.json.tags], [`Edited ${token}`, ["alpha", "gamma"]]);
  await refreshUntil(page, "the restored link is listed", async () => (await rowOf(page, slug).count()) === 1);
  assert.equal(await page.getByRole("button", { name: "Undo" }).count(), 0, "no Undo once restored");
  await page.context().close();
});

test("a short link opened in the browser lands on its destination, and the chart shows the clicks", async () => {
  const user = await newUser();
  const slug = `nav-${rand()}`;
  const dest = `${OTHER}/landing?from=edgelink`;
  assert.equal((await api("POST", "/api/links", user.api_key, { url: dest, slug })).status, 201);

  // Real navigations, with the browser's own headers (a browser user agent: not a bot).
  // The user agent is set because headless chromium names itself HeadlessChrome, which the
  // analytics rightly count as a bot.
  const visitor = await newPage({ userAgent: CHROME_UA });
  for (let i = 0; i < 3; i++) {
    const resp = await visitor.goto(`${BASE}/${slug}?n=${i}`);
    assert.equal(visitor.url(), `${dest}&n=${i}`);
    assert.equal(resp.status(), 200);
    assert.equal(await visitor.locator("#landed").innerText(), `/landing?from=edgelink&n=${i}`);
  }
  await visitor.context().close();

  const page = await newPage();
  await signIn(page, user.api_key);
  await page.goto(`${DASH}#/links/${slug}`);
  // The day series and the breakdowns are separate queries of the roll-up: wait for both.
  const browsers = page.locator('article.breakdown[data-group="browser"]');
  await poll("the chart and the browser breakdown count the 3 clicks", async () => {
    await page.reload();
    const fig = page.locator("figure.chart");
    await fig.waitFor();
    await page.waitForLoadState("networkidle");
    return (await fig.getAttribute("data-total")) === "3" && (await browsers.locator("tr", { hasText: "Chrome" }).count()) === 1;
  });
  await page.locator("figure.chart canvas").waitFor();
  const today = new Date().toISOString().slice(0, 10);
  await page.getByText("Clicks per day as a table").click();
  assert.equal(await page.locator(`tr[data-day="${today}"] td`).innerText(), "3");
  assert.match(await browsers.locator("tr", { hasText: "Chrome" }).innerText(), /Chrome\s+3/);
  await shot(page, "link-page");
  await page.context().close();
});

test("the form's more options make a password link with a device target, variants and a preview", async () => {
  const user = await newUser();
  const slug = `smart-${rand()}`;
  const password = `open sesame ${rand(4)}`;
  const page = await newPage();
  await signIn(page, user.api_key);
  await page.getByRole("button", { name: "New link" }).click();
  await page.getByLabel("Destination URL").fill(`${OTHER}/main`);
  await page.getByLabel("Slug (optional)").fill(slug);
  // Closed on a new link: a plain link's form stays short.
  assert.equal(await page.locator("details.more").getAttribute("open"), null);
  await page.getByText("More options").click();
  await page.getByLabel("Password (optional)").fill(password);
  await page.getByLabel("iOS URL").fill(`${OTHER}/ios`);
  await page.getByRole("button", { name: "Add a variant" }).click();
  // The new row's first field takes the focus (keyboard users land in it).
  await page.waitForFunction(() => document.activeElement?.id === "f-variant_url_0");
  await page.getByLabel("Variant 1 URL").fill(`${OTHER}/a`);
  await page.getByRole("button", { name: "Add a variant" }).click();
  await page.getByLabel("Variant 2 URL").fill(`${OTHER}/b`);
  await page.getByLabel("Variant 2 weight").fill("30");
  await page.getByLabel("Preview title").fill("Our launch");
  await page.getByLabel("Preview description").fill("Everything new this week");
  await page.getByLabel("Preview image URL").fill("https://example.com/card.png");
  await shot(page, "link-form-smart");
  await page.getByRole("button", { name: "Create link" }).click();
  await page.getByRole("heading", { level: 1, name: slug, exact: true }).waitFor();
  const details = await page.locator("dl.fields").innerText();
  assert.match(details, /Password\s+yes/);
  assert.match(details, /iOS: http:\/\/localhost:\d+\/ios/);
  assert.match(details, /\/a \(weight 50, 63 %\)[\s\S]*\/b \(weight 30, 38 %\)/);
  assert.match(details, /Title: Our launch/);

  // Stored as the form said (the password only as "has_password").
  const stored = (await api("GET", `/api/links/${slug}`, user.api_key)).json;
  assert.equal(stored.has_password, true);
  assert.equal(stored.password, undefined);
  assert.deepEqual(stored.targets, { ios: `${OTHER}/ios` });
  assert.deepEqual(stored.variants, [
    { url: `${OTHER}/a`, weight: 50 },
    { url: `${OTHER}/b`, weight: 30 },
  ]);
  assert.deepEqual(stored.preview, { title: "Our launch", description: "Everything new this week", image: "https://example.com/card.png" });

  // The list shows the link as its page does (lists read each link from KV), with what a
  // visitor meets noted beside its state.
  await page.goto(`${DASH}#/links`);
  await page.getByRole("searchbox").fill(slug);
  await refreshUntil(page, "the list shows the new link", async () => (await rowOf(page, slug).count()) === 1);
  const notes = await rowOf(page, slug).locator(".note").allInnerTexts();
  assert.deepEqual(notes, ["password", "device targets", "A/B 2", "preview"]);
  await shot(page, "links-notes");

  // A visitor (a desktop browser: no iOS target) gets the password form, then a variant.
  const variants = new Set([`${OTHER}/a`, `${OTHER}/b`]);
  const visitor = await newPage({ userAgent: CHROME_UA });
  await visitor.goto(`${BASE}/${slug}`);
  await visitor.getByRole("heading", { name: "Password required" }).waitFor();
  await visitor.getByLabel("Password").fill(password);
  await Promise.all([visitor.waitForURL((u) => u.origin === OTHER), visitor.getByRole("button", { name: "Continue" }).click()]);
  assert.ok(variants.has(visitor.url()), visitor.url());
  await visitor.locator("#landed").waitFor();

  // Edit: the options are shown open, with the password's state but never the password. A bad
  // weight is refused beside the variants and nothing is written.
  await page.goto(`${DASH}#/links/${slug}/edit`);
  await page.getByRole("heading", { name: `Edit ${slug}` }).waitFor();
  assert.equal(await page.locator("details.more").getAttribute("open"), "");
  await page.locator("#f-password-state").waitFor();
  assert.equal(await page.getByLabel("New password (optional)").inputValue(), "");
  assert.equal(await page.getByLabel("Variant 2 weight").inputValue(), "30");
  await page.getByLabel("Remove the password").check();
  await page.getByLabel("Variant 2 weight").fill("0");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator("#f-variants-err").filter({ hasText: "invalid_variants" }).waitFor();
  assert.equal(await page.locator("#f-variants").getAttribute("aria-invalid"), "true");
  await shot(page, "link-form-smart-error");
  assert.equal((await api("GET", `/api/links/${slug}`, user.api_key)).json.has_password, true);

  // Fixed, saved: the password is gone and the short link redirects at once, to a variant.
  await page.getByLabel("Variant 2 weight").fill("50");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { level: 1, name: slug, exact: true }).waitFor();
  // (innerText: the text a reader gets, dt and dd apart; hasText would match textContent.)
  await poll("the link page says it has no password", async () => /Password\s+no\b/.test(await page.locator("dl.fields").innerText()));
  const edited = (await api("GET", `/api/links/${slug}`, user.api_key)).json;
  assert.equal(edited.has_password, false);
  assert.equal(edited.variants[1].weight, 50);
  await visitor.goto(`${BASE}/${slug}`);
  assert.ok(variants.has(visitor.url()), visitor.url());
  await visitor.locator("#landed").waitFor();
  await visitor.context().close();
  await page.context().close();
});

test("a link's QR code downloads as SVG and PNG", async () => {
  const user = await newUser();
  const slug = `qr-${rand()}`;
  assert.equal((await api("POST", "/api/links", user.api_key, { url: "https://example.com/qr", slug })).status, 201);
  const page = await newPage();
  await signIn(page, user.api_key);
  await page.goto(`${DASH}#/links/${slug}`);
  await poll("the QR image loads", async () =>
    page.locator(".qr img").evaluate((img) => img.complete && img.naturalWidth > 0),
  );
  for (const [name, check] of [
    ["Download SVG", (b) => /<svg[\s>]/.test(b.toString("utf8"))],
    ["Download PNG", (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))],
  ]) {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name }).click()]);
    const file = await download.path();
    assert.ok(check(fs.readFileSync(file)), `${name}: ${download.suggestedFilename()}`);
  }
  await page.context().close();
});

test("an import's progress reaches 100 % and an export downloads", async () => {
  const user = await newUser();
  const token = rand(6);
  const rows = Array.from({ length: 30 }, (_, i) => `https://example.com/imp/${i},imp-${token}-${i},Imported ${i},imported`);
  const csv = ["url,slug,title,tags", ...rows].join("\n");
  const page = await newPage();
  await signIn(page, user.api_key);
  await page.getByRole("link", { name: "Import/export" }).click();
  await page.getByLabel(/^File/).setInputFiles({ name: "links.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "Import" }).click();
  await page.locator("progress#import-progress").waitFor();
  await page.locator('section.job[data-status="done"]').waitFor({ timeout: DEADLINE_MS });
  assert.equal(await page.locator("section.job .pct").innerText(), "100 %");
  assert.equal(await page.locator("progress#import-progress").getAttribute("value"), "100");
  assert.match(await page.locator("section.job").innerText(), /30 rows: 30 created/);
  await shot(page, "import-export");

  await poll("the index has the imported links", async () => {
    const l = await api("GET", "/api/links?limit=100", user.api_key);
    return l.json.links.length === 30;
  });
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download export" }).click()]);
  assert.match(download.suggestedFilename(), /^edgelink-links-.*\.csv$/);
  const text = fs.readFileSync(await download.path(), "utf8");
  for (let i = 0; i < 30; i++) assert.ok(text.includes(`imp-${token}-${i},`), `row ${i} in the export`);
  await page.context().close();
});

test("Copy puts the short link on the clipboard: on a new link's page, in the list, and a new key", async () => {
  const user = await newUser("copy");
  const page = await newPage({ permissions: ["clipboard-read", "clipboard-write"] });
  await signIn(page, user.api_key);
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
  const copied = (scope) => scope.getByRole("status").filter({ hasText: "Copied" }).waitFor();

  // Right after creating a link, its page offers the short link to copy.
  const slug = `c-${rand()}`;
  await page.getByRole("button", { name: "New link" }).click();
  await page.getByLabel("Destination URL").fill("https://example.com/copied");
  await page.getByLabel("Slug (optional)").fill(slug);
  await page.getByRole("button", { name: "Create link" }).click();
  await page.getByRole("heading", { level: 1, name: slug, exact: true }).waitFor();
  const created = page.locator(".notice.created");
  await created.getByRole("button", { name: "Copy the new short link" }).click();
  await copied(created);
  await shot(page, "link-created");
  assert.equal(await clipboard(), `${BASE}/${slug}`);
  assert.equal(await created.getByRole("link").getAttribute("href"), `${BASE}/${slug}`);
  await page.evaluate(() => navigator.clipboard.writeText(""));
  await page.locator("dl.fields").getByRole("button", { name: "Copy the short link" }).click();
  await copied(page.locator("dl.fields"));
  assert.equal(await clipboard(), `${BASE}/${slug}`);

  // In the list, each row's Copy, reached and pressed with the keyboard.
  await page.goto(`${DASH}#/links`);
  await refreshUntil(page, "the new link is listed", async () => (await rowOf(page, slug).count()) === 1);
  await page.evaluate(() => navigator.clipboard.writeText(""));
  await rowOf(page, slug).getByRole("button", { name: `Copy the short link ${slug}` }).focus();
  await page.keyboard.press("Enter");
  await copied(rowOf(page, slug));
  assert.equal(await clipboard(), `${BASE}/${slug}`);

  // A new API key, shown once, copied as it is shown.
  await page.getByRole("link", { name: "Keys" }).click();
  await page.getByLabel("New key's name").fill("copied");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.locator("code.secret").innerText()).trim();
  await page.getByRole("button", { name: "Copy the new key" }).click();
  await copied(page.locator(".notice"));
  assert.equal(await clipboard(), key);
  assert.equal((await api("GET", "/api/links", key)).status, 200);
  await page.context().close();
});

test("without a clipboard, or refused it, Copy says so and offers the short link selected to copy by hand", async () => {
  const user = await newUser("nocopy");
  const slug = `n-${rand()}`;
  assert.equal((await api("POST", "/api/links", user.api_key, { url: "https://example.com/n", slug })).status, 201);
  const page = await newPage();
  // As on a page served over plain http from another host than localhost: no navigator.clipboard.
  await page.addInitScript(() => Object.defineProperty(navigator, "clipboard", { value: undefined }));
  await signIn(page, user.api_key);
  await page.goto(`${DASH}#/links/${slug}`);
  await page.getByRole("button", { name: "Copy the short link" }).click();
  await page.getByRole("status").filter({ hasText: "cannot use the clipboard" }).waitFor();
  const field = page.getByLabel("the short link, to copy");
  assert.equal(await field.inputValue(), `${BASE}/${slug}`);
  const [focused, selected] = await page.evaluate(() => [
    document.activeElement?.className,
    document.activeElement.selectionEnd - document.activeElement.selectionStart,
  ]);
  assert.equal(focused, "copy-by-hand");
  assert.equal(selected, `${BASE}/${slug}`.length);
  await page.context().close();

  // A clipboard that refuses (the permission denied): said as such, the same field offered.
  const refused = await newPage();
  await refused.addInitScript(() => {
    navigator.clipboard.writeText = () => Promise.reject(new DOMException("Write permission denied.", "NotAllowedError"));
  });
  await signIn(refused, user.api_key);
  await refused.goto(`${DASH}#/links/${slug}`);
  await refused.getByRole("button", { name: "Copy the short link" }).click();
  await refused.getByRole("status").filter({ hasText: "The browser refused to copy" }).waitFor();
  assert.equal(await refused.getByLabel("the short link, to copy").inputValue(), `${BASE}/${slug}`);
  await refused.context().close();
});

test("several links are tagged, archived, unarchived and deleted at once; a failed one is named and the rest done", async () => {
  const user = await newUser("bulk");
  const token = rand(6);
  const slugs = Array.from({ length: 5 }, (_, i) => `b-${token}-${i}`);
  const made = await api("POST", "/api/links/bulk", user.api_key, slugs.map((slug) => ({ url: `https://example.com/${slug}`, slug, tags: ["first"] })));
  assert.ok(made.json.results.every((r) => r.status === 201), JSON.stringify(made.json));
  await poll("the index lists the 5 links", async () => (await api("GET", "/api/links", user.api_key)).json.links.length === 5);
  const tagsOf = async (slug) => (await api("GET", `/api/links/${slug}`, user.api_key)).json.tags;

  const page = await newPage();
  await signIn(page, user.api_key);
  await page.getByText("5 links match").waitFor();
  const bar = page.getByRole("region", { name: "Actions on the selected links" });
  const selectAll = page.getByLabel("Select all on this page");

  // Three selected, one of them with the keyboard (Space on its box).
  await page.getByLabel(`Select ${slugs[0]}`).check();
  await page.getByLabel(`Select ${slugs[1]}`).check();
  await page.getByLabel(`Select ${slugs[2]}`).focus();
  await page.keyboard.press("Space");
  await bar.getByText("3 links selected").waitFor();
  assert.equal(await selectAll.evaluate((el) => el.indeterminate), true);
  await shot(page, "links-bulk");

  // Add tag: each link keeps its other tags (PATCH replaces them); a bad tag is refused here.
  await bar.getByLabel("Tag to add").fill("x".repeat(33));
  await bar.getByRole("button", { name: "Add tag" }).click();
  await bar.locator("#f-bulk-tag-err").filter({ hasText: "at most 32 characters" }).waitFor();
  // One link gets a tag elsewhere after the page read it: its listed version is then stale, the
  // PATCH made from it is refused (412), and the link is read again rather than overwritten.
  assert.equal((await api("PATCH", `/api/links/${slugs[0]}`, user.api_key, { tags: ["first", "elsewhere"] })).status, 200);
  await bar.getByLabel("Tag to add").fill("Second");
  await bar.getByRole("button", { name: "Add tag" }).click();
  await notice(page, "Tagged 3 links with second.");
  assert.deepEqual(await tagsOf(slugs[0]), ["first", "elsewhere", "second"]);
  for (const s of slugs.slice(1, 3)) assert.deepEqual(await tagsOf(s), ["first", "second"]);
  assert.deepEqual(await tagsOf(slugs[3]), ["first"]);

  // Archive: the three leave the default list, and the selection with them.
  await bar.getByRole("button", { name: "Archive selected", exact: true }).click();
  await notice(page, "Archived 3 links.");
  for (const s of slugs.slice(0, 3)) assert.equal((await api("GET", `/api/links/${s}`, user.api_key)).json.archived, true);
  await refreshUntil(page, "the archived links leave the list", async () => (await page.locator("tbody tr").count()) === 2);
  assert.equal(await bar.count(), 0, "the selection went with the rows");

  // Under "Archived": all three, selected at once; one is deleted elsewhere before Unarchive.
  await page.getByLabel("Archive", { exact: true }).selectOption("true");
  await refreshUntil(page, "the archive filter shows the three", async () => (await page.locator("tbody tr").count()) === 3);
  await selectAll.check();
  await bar.getByText("3 links selected").waitFor();
  assert.equal((await api("DELETE", `/api/links/${slugs[1]}`, user.api_key)).status, 204);
  await bar.getByRole("button", { name: "Unarchive selected" }).click();
  await notice(page, "Unarchived 2 of 3 links. 1 failed.");
  const failure = page.locator(".bulk-failures li");
  assert.equal(await failure.count(), 1);
  assert.equal(await failure.getAttribute("data-slug"), slugs[1]);
  assert.match(await failure.innerText(), /not found \(not_found\)/);
  for (const s of [slugs[0], slugs[2]]) assert.equal((await api("GET", `/api/links/${s}`, user.api_key)).json.archived, false);

  // Delete, confirmed with the number, by keyboard alone: Enter on "Delete selected", then on
  // the question's focused "Yes".
  await page.getByLabel("Archive", { exact: true }).selectOption("");
  await refreshUntil(page, "the four links are listed", async () => (await page.locator("tbody tr").count()) === 4);
  await selectAll.check();
  await bar.getByText("4 links selected").waitFor();
  await bar.getByRole("button", { name: "Delete selected" }).focus();
  await page.keyboard.press("Enter");
  await bar.getByRole("group", { name: "Delete 4 links?" }).waitFor();
  // The focus moves to "Yes" once the question has rendered.
  await poll("Yes has the focus", async () => (await page.evaluate(() => document.activeElement?.textContent)) === "Yes, delete selected", 5_000);
  await page.keyboard.press("Enter");
  await notice(page, "Deleted 4 links.");
  for (const s of slugs) assert.equal((await api("GET", `/api/links/${s}`, user.api_key)).status, 404);
  await refreshUntil(page, "the list is empty", async () => (await page.locator("tbody tr").count()) === 0);
  await page.context().close();
});

test("the admin archives and deletes links of several owners at once", async () => {
  const [a, b] = [await newUser("bulka"), await newUser("bulkb")];
  const token = rand(6);
  const links = [
    [a, `ba-${token}-1`],
    [b, `ba-${token}-2`],
  ];
  for (const [u, slug] of links) assert.equal((await api("POST", "/api/links", u.api_key, { url: "https://example.com/adm", slug })).status, 201);
  const page = await newPage();
  await signIn(page, ADMIN);
  await page.goto(`${DASH}#/admin/links`);
  await page.getByRole("searchbox").fill(`ba-${token}`);
  await refreshUntil(page, "both owners' links are listed", async () => (await page.locator("tbody tr").count()) === 2);
  const bar = page.getByRole("region", { name: "Actions on the selected links" });
  await page.getByLabel("Select all on this page").check();
  assert.equal(await bar.getByRole("button", { name: "Add tag" }).count(), 0, "tags are the owners' business");
  await bar.getByRole("button", { name: "Archive selected", exact: true }).click();
  await notice(page, "Archived 2 links.");
  for (const [u, slug] of links) assert.equal((await api("GET", `/api/links/${slug}`, u.api_key)).json.archived, true);
  await bar.getByRole("button", { name: "Delete selected" }).click();
  await bar.getByRole("button", { name: "Yes, delete selected" }).click();
  await notice(page, "Deleted 2 links.");
  for (const [u, slug] of links) assert.equal((await api("GET", `/api/links/${slug}`, u.api_key)).status, 404);
  await page.context().close();
});

test("another user's links never appear", async () => {
  const a = await newUser("owner");
  const b = await newUser("other");
  const token = rand(8);
  const slug = `mine-${token}`;
  assert.equal((await api("POST", "/api/links", a.api_key, { url: `https://example.com/${token}`, slug, tags: [`t${token}`] })).status, 201);
  await poll("A's link is indexed", async () => (await api("GET", `/api/links?q=${token}`, a.api_key)).json.links.length === 1);

  const page = await newPage();
  await signIn(page, b.api_key);
  await page.getByText("0 links match").waitFor();
  await page.getByRole("searchbox").fill(token);
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByText("No links match.").waitFor();
  assert.equal(await page.locator("tbody tr").count(), 0);
  const tags = await page.getByLabel("Tag", { exact: true }).locator("option").allInnerTexts();
  assert.ok(!tags.includes(`t${token}`), tags.join(","));
  await page.goto(`${DASH}#/links/${slug}`);
  await page.getByRole("alert").filter({ hasText: "not_found" }).first().waitFor();
  assert.equal(await page.locator("dl.fields").count(), 0);
  assert.ok(!(await page.content()).includes(`https://example.com/${token}`));
  await page.context().close();
});

test("the admin manages users, flags links, edits the blocklist and runs a reconcile pass", async () => {
  const owner = await newUser("flagged");
  const slug = `adm-${rand()}`;
  assert.equal((await api("POST", "/api/links", owner.api_key, { url: "https://example.com/adm", slug })).status, 201);
  const page = await newPage();
  await signIn(page, ADMIN);
  await page.getByRole("button", { name: "Sign out (admin)" }).waitFor();

  // Users: create (the key shown once), promote, disable.
  await page.getByRole("link", { name: "Users" }).click();
  const email = `made-${rand(10)}@example.test`;
  await page.getByLabel("New user's e-mail").fill(email);
  await page.getByRole("button", { name: "Create user" }).click();
  const key = (await page.locator("code.secret").innerText()).trim();
  assert.match(key, /^el_[A-Za-z0-9]{32}$/);
  await page.getByLabel("New user's e-mail").fill(email);
  await page.getByRole("button", { name: "Create user" }).click();
  await page.locator("#f-email-err").filter({ hasText: "email_taken" }).waitFor();
  const row = page.locator(`tr[data-user="${email}"]`);
  await poll("the new user is listed", async () => {
    if ((await row.count()) === 1) return true;
    await page.reload();
    return false;
  });
  await row.getByRole("button", { name: "Promote" }).click();
  await row.getByRole("cell", { name: "admin", exact: true }).waitFor();

  // Their keys: a replacement issued (shown once, to hand over), the first one revoked.
  await row.getByRole("link", { name: `Keys of ${email}` }).click();
  await page.getByRole("heading", { name: `API keys of ${email}` }).waitFor();
  const first = page.locator("tbody tr", { hasText: "default" });
  await first.waitFor();
  await page.getByLabel("New key's name").fill("replacement");
  await page.getByRole("button", { name: "Create key" }).click();
  const replacement = (await page.locator("code.secret").innerText()).trim();
  assert.match(replacement, /^el_[A-Za-z0-9]{32}$/);
  await page.locator("tbody tr", { hasText: "replacement" }).waitFor();
  assert.equal((await api("GET", "/api/links", replacement)).status, 200);
  await shot(page, "admin-user-keys");
  await first.getByRole("button", { name: "Revoke" }).click();
  await first.getByRole("button", { name: "Yes, revoke" }).click();
  await poll("the revoked key leaves the list", async () => (await first.count()) === 0);
  assert.equal((await api("GET", "/api/links", key)).status, 401);
  await page.getByRole("link", { name: "Back to the users" }).click();

  await row.getByRole("button", { name: "Disable" }).click();
  await row.getByRole("button", { name: "Yes, disable" }).click();
  await row.getByRole("cell", { name: "disabled", exact: true }).waitFor();
  assert.equal((await api("GET", "/api/links", replacement)).status, 401);
  await shot(page, "admin-users");

  // All links, with owners: flag, then unflag.
  await page.getByRole("link", { name: "All links" }).click();
  await page.getByRole("searchbox").fill(slug);
  await refreshUntil(page, "the owner's link is listed", async () => (await rowOf(page, slug).count()) === 1);
  assert.match(await rowOf(page, slug).innerText(), new RegExp(owner.email.replace(/[.]/g, "\\.")));
  await rowOf(page, slug).getByLabel(`Reason to flag ${slug}`).selectOption("phishing");
  await rowOf(page, slug).getByRole("button", { name: "Flag" }).click();
  await notice(page, `Flagged ${slug}.`);
  assert.equal((await fetch(`${BASE}/${slug}`, { redirect: "manual" })).status, 410);
  await shot(page, "admin-links");
  await rowOf(page, slug).getByRole("button", { name: /^Unflag/ }).click();
  await notice(page, `Unflagged ${slug}.`);
  assert.equal((await fetch(`${BASE}/${slug}`, { redirect: "manual" })).status, 302);

  // Blocklist: a bad host is refused at its field; a good one is added and removed.
  await page.getByRole("link", { name: "Blocklist" }).click();
  const host = `${rand()}.blocked.example`;
  await page.getByLabel("Host to block").fill("not a host");
  await page.getByRole("button", { name: "Block" }).click();
  await page.locator("#f-host-err").filter({ hasText: "invalid_host" }).waitFor();
  await page.getByLabel("Host to block").fill(host);
  await page.getByRole("button", { name: "Block" }).click();
  await page.locator("ul.hosts li", { hasText: host }).waitFor();
  assert.equal((await api("POST", "/api/links", owner.api_key, { url: `https://${host}/x` })).json.error.code, "blocked_destination");
  await shot(page, "admin-blocklist");
  await page.locator("ul.hosts li", { hasText: host }).getByRole("button", { name: "Unblock" }).click();
  await page.locator("ul.hosts li", { hasText: host }).getByRole("button", { name: "Yes, unblock" }).click();
  await poll("the host leaves the list", async () => (await page.locator("ul.hosts li", { hasText: host }).count()) === 0);

  // Consistency: the report, and a reconcile pass on demand.
  await page.getByRole("link", { name: "Consistency" }).click();
  await page.getByRole("heading", { name: "Report" }).waitFor();
  await page.getByRole("button", { name: "Run a reconcile pass" }).click();
  await page.getByRole("heading", { name: "The pass's summary" }).waitFor({ timeout: DEADLINE_MS });
  await shot(page, "admin-consistency");
  await page.context().close();
});

test("signing out ends the session on the server", async () => {
  const user = await newUser();
  const page = await newPage();
  await signIn(page, user.api_key);
  const cookies = await page.context().cookies(BASE);
  assert.equal(cookies.length, 1, JSON.stringify(cookies));
  const [c] = cookies;
  assert.ok(c.httpOnly && c.sameSite === "Strict", JSON.stringify(c));
  const withCookie = () => fetch(`${BASE}/api/session`, { headers: { Cookie: `${c.name}=${c.value}` } });
  assert.equal((await withCookie()).status, 200);
  await page.getByRole("button", { name: /^Sign out/ }).click();
  await page.getByLabel("API key or admin token").waitFor();
  // The old cookie is dead on the server, not merely dropped by the browser.
  assert.equal((await withCookie()).status, 401);
  await page.reload();
  await page.getByLabel("API key or admin token").waitFor();
  await shot(page, "sign-in");
  await page.context().close();
});

test("a cross-site form post with the session cookie is refused", async () => {
  const user = await newUser();
  const page = await newPage();
  await signIn(page, user.api_key);
  const slug = `csrf-${rand()}`;
  await page.goto(`${OTHER}/evil?slug=${slug}`);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${BASE}/api/links` && r.request().method() === "POST"),
    page.click("#go"),
  ]);
  assert.ok([401, 403].includes(resp.status()), `cross-site POST answered ${resp.status()}`);
  assert.equal((await api("GET", `/api/links/${slug}`, user.api_key)).status, 404);
  assert.equal((await api("GET", `/api/links/${slug}`, ADMIN)).status, 404);
  // Even with the cookie attached (a browser that ignores SameSite), no CSRF header means 403.
  const [c] = await page.context().cookies(BASE);
  const forged = await fetch(`${BASE}/api/links`, {
    method: "POST",
    headers: { Cookie: `${c.name}=${c.value}`, "Content-Type": "text/plain", Origin: OTHER },
    body: JSON.stringify({ url: "https://evil.example/", slug }),
  });
  assert.equal(forged.status, 403);
  assert.equal((await forged.json()).error.code, "csrf_required");
  assert.equal((await api("GET", `/api/links/${slug}`, user.api_key)).status, 404);
  // The same browser, same-site, still works: the refusal was the cross-site request's.
  await page.goto(`${DASH}#/links`);
  await page.getByRole("heading", { name: "Your links" }).waitFor();
  await page.context().close();
});

test("it works at 360 px, with the keyboard alone, and in dark mode", async () => {
  const user = await newUser();
  await api("POST", "/api/links", user.api_key, { url: "https://example.com/a-rather-long-destination/path?with=query&and=more", slug: `m-${rand()}`, tags: ["mobile"] });
  const page = await newPage({ viewport: { width: 360, height: 740 }, colorScheme: "dark", isMobile: true, hasTouch: true });
  // Keyboard only: the key field has the focus after one Tab... or is reached by Tab.
  await page.goto(DASH);
  await page.getByLabel("API key or admin token").waitFor();
  for (let i = 0; i < 5 && !(await page.evaluate(() => document.activeElement?.id === "f-key")); i++) await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "f-key");
  await page.keyboard.type(user.api_key);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Your links" }).waitFor();
  // Tab to "New link" and open it with Enter.
  let found = false;
  for (let i = 0; i < 40 && !found; i++) {
    await page.keyboard.press("Tab");
    found = await page.evaluate(() => document.activeElement?.textContent?.trim() === "New link");
  }
  assert.ok(found, "New link is reachable with Tab");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "New link" }).waitFor();
  await page.keyboard.press("Tab");
  // Nothing sticks out sideways at 360 px, the link form's "More options" with rows included.
  const fits = async (what) => {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${what} is ${overflow}px wider than the screen`);
  };
  for (const h of ["#/links", "#/links/new", "#/import"]) {
    await page.goto(`${DASH}${h}`);
    await page.locator("main h1").waitFor();
    await fits(h);
  }
  await page.goto(`${DASH}#/links/new`);
  await page.getByText("More options").click();
  await page.getByRole("button", { name: "Add a country" }).click();
  await page.getByRole("button", { name: "Add a variant" }).click();
  await page.getByLabel("Country 1 code").waitFor();
  await fits("the link form's More options");
  await shot(page, "link-form-smart-360");
  // Dark mode: the page's background is dark.
  const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const [r, g, b] = bg.match(/\d+/g).map(Number);
  assert.ok(r + g + b < 200, `background ${bg} is not dark`);
  await page.goto(`${DASH}#/links`);
  await page.locator("tbody tr").first().waitFor();
  await shot(page, "links-360-dark");
  // The cards keep "select all on this page" (in words) and the bulk actions fit.
  await page.getByText("Select all on this page").waitFor({ state: "visible" });
  await page.getByLabel("Select all on this page").check();
  await page.getByRole("region", { name: "Actions on the selected links" }).getByText("1 link selected").waitFor();
  await fits("the list with its bulk actions");
  await shot(page, "links-bulk-360-dark");
  await page.context().close();
});

test("the API page renders /api/openapi.json", async () => {
  const page = await newPage();
  await page.goto(`${DASH}openapi`);
  await page.locator(".swagger-ui .info .title").waitFor({ timeout: DEADLINE_MS });
  await page.locator(".opblock-summary-path", { hasText: "/api/links" }).first().waitFor();
  await shot(page, "openapi");
  await page.context().close();
});

/// Real redirects of `slug`, each by another desktop browser (a person to the analytics; a
/// visitor keeps its variant for the day, picked by IP and user agent), until each of `urls` has
/// been reached and at least `min` were made; how many landed on each.
async function clickUntilEach(slug, urls, min) {
  const landed = Object.fromEntries(urls.map((u) => [u, 0]));
  for (let i = 0; i < 60 && (i < min || Object.values(landed).some((n) => n === 0)); i++) {
    const ua = CHROME_UA.replace("148.0.0.0", `148.0.${i}.0`);
    const r = await fetch(`${BASE}/${slug}`, { redirect: "manual", headers: { "User-Agent": ua } });
    assert.equal(r.status, 302);
    const to = r.headers.get("location");
    assert.ok(to in landed, to);
    landed[to]++;
  }
  assert.ok(Object.values(landed).every((n) => n > 0), JSON.stringify(landed));
  return landed;
}

/// Redirects of `slug` as a desktop browser's request, `n` times (the top links count people).
async function clickTimes(slug, n, ua = CHROME_UA) {
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${BASE}/${slug}`, { redirect: "manual", headers: { "User-Agent": ua } });
    assert.equal(r.status, 302, slug);
  }
}

test("a link's history restores an earlier version; a deleted link comes back by its page, Undo, or Recently deleted", async () => {
  const user = await newUser();
  const slug = `hist-${rand()}`;
  const one = `${OTHER}/one`;
  const created = await api("POST", "/api/links", user.api_key, { url: one, slug, title: "One", tags: ["first"] });
  assert.equal(created.status, 201);
  const v1 = created.json.version;
  const edited = await api("PATCH", `/api/links/${slug}`, user.api_key, { url: `${OTHER}/two`, title: "Two", tags: ["second"] });
  assert.equal(edited.status, 200);
  const historyHas = async (version) => {
    const r = await api("GET", `/api/links/${slug}/history`, user.api_key);
    return r.json?.history?.some((h) => h.version === version);
  };
  await poll("both versions in the history", async () => (await historyHas(v1)) && historyHas(edited.json.version));

  const page = await newPage();
  await signIn(page, user.api_key);
  await page.goto(`${DASH}#/links/${slug}`);
  await page.getByRole("heading", { level: 1, name: slug, exact: true }).waitFor();
  const row = (v) => page.locator(`table.history tr[data-version="${v}"]`);
  // The newest version is the link as it stands: nothing to restore there.
  await row(edited.json.version).getByText("current").waitFor();
  await row(v1).getByRole("button", { name: /^Restore the version of/ }).click();
  await page.getByRole("group", { name: new RegExp(`^Make ${slug} as it was on`) }).waitFor();
  await shot(page, "link-history-restore");
  await page.getByRole("button", { name: "Yes, restore" }).click();
  await notice(page, `Restored: ${slug} is as it was on`);
  await page.locator("dl.fields", { hasText: "One" }).waitFor();
  assert.match(await page.locator("dl.fields").innerText(), new RegExp(`${one}[\\s\\S]*One[\\s\\S]*first`));
  const now = await api("GET", `/api/links/${slug}`, user.api_key);
  assert.deepEqual([now.json.url, now.json.title, now.json.tags], [one, "One", ["first"]]);
  assert.ok(now.json.version > edited.json.version);

  // Deleted: its page says so and offers the versions; one brings the link back.
  assert.equal((await api("DELETE", `/api/links/${slug}`, user.api_key)).status, 204);
  await page.reload();
  await page.getByText("This link was deleted.").waitFor();
  assert.equal(await page.locator(".form-error").count(), 0, "no error for a link that has a history");
  await row(v1).getByRole("button", { name: /^Restore the version of/ }).click();
  await page.getByRole("group", { name: new RegExp(`^Bring ${slug} back as it was on`) }).waitFor();
  await page.getByRole("button", { name: "Yes, restore" }).click();
  await notice(page, `Restored: ${slug} is as it was on`);
  await page.locator("dl.fields", { hasText: "One" }).waitFor();
  const back = await fetch(`${BASE}/${slug}`, { redirect: "manual" });
  assert.equal(back.status, 302);
  assert.equal(back.headers.get("location"), one);

  // Deleted from its page: the list it returns to says so, with an Undo.
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("button", { name: "Yes, delete" }).click();
  await page.getByRole("heading", { level: 1, name: "Your links" }).waitFor();
  await notice(page, `Deleted ${slug}.`);
  assert.equal((await api("GET", `/api/links/${slug}`, user.api_key)).status, 404);
  await page.getByRole("status").getByRole("button", { name: "Undo" }).click();
  await notice(page, `Restored ${slug}.`);
  const undone = await api("GET", `/api/links/${slug}`, user.api_key);
  assert.deepEqual([undone.status, undone.json.url, undone.json.title], [200, one, "One"]);

  // Recently deleted: the list's button leads there; Restore brings the link back.
  assert.equal((await api("DELETE", `/api/links/${slug}`, user.api_key)).status, 204);
  await page.getByRole("button", { name: "Recently deleted" }).click();
  await page.getByRole("heading", { level: 1, name: "Recently deleted" }).waitFor();
  const gone = page.locator(`table.deleted tr[data-slug="${slug}"]`);
  await poll("the delete is listed", async () => {
    await page.reload();
    await page.waitForLoadState("networkidle");
    return (await gone.count()) === 1;
  });
  assert.match(await gone.innerText(), new RegExp(`${slug}[\\s\\S]*${one}[\\s\\S]*One`));
  await shot(page, "deleted-links");
  await gone.getByRole("button", { name: `Restore ${slug}` }).click();
  await gone.getByRole("button", { name: "Yes, restore" }).click();
  await notice(page, `Restored ${slug}.`);
  await page.getByRole("status").getByRole("link", { name: slug }).waitFor();
  assert.equal(await gone.count(), 0, "a restored link leaves the list");
  assert.equal((await api("GET", `/api/links/${slug}`, user.api_key)).status, 200);
  await page.context().close();
});

test("a link's page shows the A/B variants' clicks over a period kept in the URL; an empty period shows 0", async () => {
  const user = await newUser();
  const slug = `ab-${rand()}`;
  const [a, b] = [`${OTHER}/a`, `${OTHER}/b`];
  const variants = [
    { url: a, weight: 50 },
    { url: b, weight: 50 },
  ];
  assert.equal((await api("POST", "/api/links", user.api_key, { url: `${OTHER}/main`, slug, variants })).status, 201);
  const landed = await clickUntilEach(slug, [a, b], 8);
  const total = landed[a] + landed[b];

  const page = await newPage();
  await signIn(page, user.api_key);
  await page.goto(`${DASH}#/links/${slug}`);
  const box = page.locator('article.breakdown[data-group="variant"]');
  const cell = (key, what) => box.locator(`tr[data-variant="${key}"] td.${what}`);
  await poll("the Variants breakdown counts each variant's clicks", async () => {
    await page.reload();
    await page.waitForLoadState("networkidle");
    return (
      (await cell("1", "clicks").innerText()) === String(landed[a]) &&
      (await cell("2", "clicks").innerText()) === String(landed[b]) &&
      (await page.locator("figure.chart").getAttribute("data-total")) === String(total)
    );
  });
  // Each row names its variant's URL and weight, with its share of the period's clicks.
  assert.equal(await box.locator('tr[data-variant="1"] th').innerText(), `1 · ${a} (weight 50)`);
  assert.equal(await box.locator('tr[data-variant="2"] th').innerText(), `2 · ${b} (weight 50)`);
  assert.equal(await cell("1", "share").innerText(), `${Math.round((landed[a] * 100) / total)} %`);
  assert.equal(await cell("other", "clicks").innerText(), "0");
  await page.locator("figure.chart canvas").waitFor();
  await shot(page, "link-variants");

  // A custom period without clicks: 0 everywhere, the chart redrawn for it, the URL keeps it.
  await page.getByLabel("Period", { exact: true }).selectOption("custom");
  await page.getByLabel("From", { exact: true }).fill("2025-01-01");
  await page.getByLabel("To", { exact: true }).fill("2025-01-31");
  await page.getByRole("button", { name: "Show" }).click();
  const chart = page.locator("figure.chart");
  await page.locator('.chart-box[data-drawn="2025-01-01/2025-01-31"]').waitFor();
  assert.equal(await chart.getAttribute("data-total"), "0");
  await poll("the breakdowns follow the period", async () => (await cell("1", "clicks").innerText()) === "0" && (await cell("2", "clicks").innerText()) === "0");
  assert.match(page.url(), /#\/links\/[^?]+\?from=2025-01-01&to=2025-01-31$/);
  // It survives a reload (and would a shared URL).
  await page.reload();
  await page.locator('.chart-box[data-drawn="2025-01-01/2025-01-31"]').waitFor();
  assert.equal(await page.getByLabel("Period", { exact: true }).inputValue(), "custom");
  assert.equal(await page.getByLabel("From", { exact: true }).inputValue(), "2025-01-01");

  // Dates the API refuses: its message beside the dates, and nothing changes.
  await page.getByLabel("From", { exact: true }).fill("2025-03-01");
  await page.getByRole("button", { name: "Show" }).click();
  await page.locator("#f-period-err").filter({ hasText: "from must not be after to" }).waitFor();
  assert.match(page.url(), /from=2025-01-01&to=2025-01-31$/);
  assert.equal(await chart.getAttribute("data-from"), "2025-01-01");

  // A preset: relative to today, in the URL as such; bots counted when asked.
  await page.getByLabel("Period", { exact: true }).selectOption("7d");
  const today = new Date().toISOString().slice(0, 10);
  const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
  await page.locator(`.chart-box[data-drawn="${weekAgo}/${today}"]`).waitFor();
  assert.equal(await chart.getAttribute("data-total"), String(total));
  assert.match(page.url(), /\?period=7d$/);
  await page.getByLabel("Include bots").check();
  await poll("the URL keeps the bots", async () => page.url().endsWith("?period=7d&bots=1"));
  await page.reload();
  await page.locator(`.chart-box[data-drawn="${weekAgo}/${today}"]`).waitFor();
  assert.equal(await page.getByLabel("Include bots").isChecked(), true);
  await page.context().close();
});

test("the Tags page renames a tag on every link of the user's (archived too) by one request, merges onto another, deletes one", async () => {
  const user = await newUser();
  const stranger = await newUser();
  const t = rand(5);
  const [l1, l2, l3, l4] = [1, 2, 3, 4].map((i) => `tg${i}-${t}`);
  const theirs = `tg0-${t}`;
  const make = async (key, slug, tags, archived = false) =>
    assert.equal((await api("POST", "/api/links", key, { url: `https://example.com/${slug}`, slug, tags, archived })).status, 201);
  await make(user.api_key, l1, ["old", "keep", "extra"]);
  await make(user.api_key, l2, ["old"]);
  await make(user.api_key, l3, ["old"], true);
  await make(user.api_key, l4, ["other"]);
  // Another user's link with the same tags: theirs, never touched.
  await make(stranger.api_key, theirs, ["old", "keep"]);
  const tagsOf = async (slug, key = user.api_key) => (await api("GET", `/api/links/${slug}`, key)).json.tags ?? [];

  const page = await newPage();
  // What the page sends: one request per change to the tag endpoints, no single-link PATCH.
  const sent = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith("/api/") && r.method() !== "GET") sent.push(`${r.method()} ${u.pathname}${u.search}`);
  });
  await signIn(page, user.api_key);
  await page.getByRole("link", { name: "Tags", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Tags" }).waitFor();
  const row = (tag) => page.locator(`table.tags tr[data-tag="${tag}"]`);
  /// The tags are counted by the D1 index, just behind the writes: reload until `cond`.
  const reloadUntil = (what, cond) =>
    poll(what, async () => {
      await page.reload();
      await page.getByRole("heading", { level: 1, name: "Your tags" }).waitFor();
      await page.waitForLoadState("networkidle");
      return cond();
    });
  const links = async (tag) => ((await row(tag).count()) ? await row(tag).locator("td.links").innerText() : "none");
  await reloadUntil("the Tags page counts old on 3 links", async () => (await links("old")) === "3" && (await links("other")) === "1");
  sent.length = 0;

  // A bad new name: said beside the field, nothing sent.
  await page.getByRole("button", { name: "Rename other" }).click();
  await page.getByLabel("New name for other").fill("two words");
  await page.getByRole("button", { name: "Rename", exact: true }).click();
  await page.locator("#f-rename-err").filter({ hasText: "white space" }).waitFor();
  assert.equal(await page.getByLabel("New name for other").getAttribute("aria-invalid"), "true");
  assert.deepEqual(sent, []);

  // A name the API refuses goes beside the field too, as the API words it. The page never sends
  // a tag onto itself, so the request is made so on its way: the answer is the Worker's own.
  await page.route("**/api/tags/rename", (route) => route.continue({ postData: JSON.stringify({ from: "other", to: "other" }) }));
  await page.getByLabel("New name for other").fill("another");
  await page.getByRole("button", { name: "Rename", exact: true }).click();
  const refused = page.locator("#f-rename-err").filter({ hasText: "(invalid_tags)" });
  await refused.waitFor();
  await page.unroute("**/api/tags/rename");
  assert.equal(await page.getByLabel("New name for other").getAttribute("aria-invalid"), "true");
  assert.deepEqual(await tagsOf(l4), ["other"]);
  await page.getByRole("button", { name: "Cancel" }).click();
  sent.length = 0;

  // Renamed to a new tag (typed as the API would not store it): all three links, the archived one
  // too, carry it in the old one's place, by one request; the other user's link keeps its own.
  await page.getByRole("button", { name: "Rename old" }).click();
  await page.getByLabel("New name for old").fill("  Fresh ");
  await page.getByRole("button", { name: "Rename", exact: true }).click();
  await notice(page, "Renamed old to fresh on 3 links.");
  await shot(page, "tags");
  assert.deepEqual(sent, ["POST /api/tags/rename"]);
  assert.deepEqual(await tagsOf(l1), ["fresh", "keep", "extra"]);
  assert.deepEqual(await tagsOf(l2), ["fresh"]);
  assert.deepEqual(await tagsOf(l3), ["fresh"]);
  assert.deepEqual(await tagsOf(theirs, stranger.api_key), ["old", "keep"]);
  await reloadUntil("old is gone and fresh counts 3", async () => (await links("old")) === "none" && (await links("fresh")) === "3");

  // Renamed onto an existing tag: merged, never twice on the link that had both.
  await page.getByRole("button", { name: "Rename fresh" }).click();
  await page.getByLabel("New name for fresh").fill("keep");
  await page.getByRole("button", { name: "Rename", exact: true }).click();
  await notice(page, "Renamed fresh to keep on 3 links.");
  assert.deepEqual(await tagsOf(l1), ["keep", "extra"]);
  assert.deepEqual(await tagsOf(l2), ["keep"]);
  assert.deepEqual(await tagsOf(l3), ["keep"]);
  await reloadUntil("fresh is gone and keep counts 3", async () => (await links("fresh")) === "none" && (await links("keep")) === "3");

  // Deleted: asked first, naming how many links; gone from each, their other tags kept.
  sent.length = 0;
  await page.getByRole("button", { name: "Delete keep" }).click();
  await page.getByRole("group", { name: "Remove keep from 3 links?" }).waitFor();
  await page.getByRole("button", { name: "Yes, delete" }).click();
  await notice(page, "Removed keep from 3 links.");
  assert.deepEqual(sent, ["DELETE /api/tags?tag=keep"]);
  assert.deepEqual(await tagsOf(l1), ["extra"]);
  assert.deepEqual(await tagsOf(l2), []);
  assert.deepEqual(await tagsOf(l3), []);
  assert.deepEqual(await tagsOf(l4), ["other"]);
  assert.deepEqual(await tagsOf(theirs, stranger.api_key), ["old", "keep"]);
  await reloadUntil("keep is gone", async () => (await links("keep")) === "none" && (await links("extra")) === "1");

  // A tag leads to the list filtered by it.
  await row("other").getByRole("link", { name: "other" }).click();
  await page.getByRole("heading", { name: "Your links" }).waitFor();
  assert.equal(await page.getByLabel("Tag", { exact: true }).inputValue(), "other");
  await rowOf(page, l4).waitFor();
  assert.equal(await page.locator("table.links tbody tr").count(), 1);
  await page.context().close();
});

test("the Overview counts the user's real clicks (totals, chart, breakdowns, top links most clicked first) over a period kept in the URL", async () => {
  const user = await newUser();
  const stranger = await newUser();
  const t = rand(5);
  const [few, many, theirs] = [`ov2-${t}`, `ov3-${t}`, `ov9-${t}`];
  for (const [key, slug] of [
    [user.api_key, few],
    [user.api_key, many],
    [stranger.api_key, theirs],
  ]) {
    assert.equal((await api("POST", "/api/links", key, { url: `https://example.com/${slug}`, slug })).status, 201);
  }
  await clickTimes(few, 2);
  await clickTimes(many, 3);
  // A bot's clicks: counted only with Include bots, and then they put `few` first.
  await clickTimes(few, 4, "curl/8.4.0");
  // Another user's clicks: never in this user's figures.
  await clickTimes(theirs, 4);

  const page = await newPage();
  await signIn(page, user.api_key);
  // Not the landing page: the links are; the Overview is in the nav.
  await page.getByRole("heading", { level: 1, name: "Your links" }).waitFor();
  await page.getByRole("link", { name: "Overview", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Overview", exact: true }).getAttribute("aria-current"), "page");
  const chart = page.locator("figure.chart");
  const top = page.locator("table.top tbody tr");
  const breakdown = (g) => page.locator(`article.breakdown[data-group="${g}"]`);
  const counts = async (g) => (await breakdown(g).locator("td.num").allInnerTexts()).map(Number);
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  // The day series, the breakdowns and the top are separate queries of the roll-up: wait for all
  // (the bots' clicks too, though they do not count here yet).
  await poll("the bots' clicks are rolled up", async () => {
    const r = await api("GET", "/api/stats?include_bots=true", user.api_key);
    return r.json?.total === 9;
  });
  await poll("the Overview counts the 5 clicks everywhere", async () => {
    await page.reload();
    await chart.waitFor();
    await page.waitForLoadState("networkidle");
    return (
      (await chart.getAttribute("data-total")) === "5" &&
      (await breakdown("browser").locator("tr", { hasText: "Chrome" }).count()) === 1 &&
      sum(await counts("country")) === 5 &&
      (await top.count()) === 2
    );
  });
  assert.equal(await page.locator("dd.total-clicks").innerText(), "5");
  // The same visitor on two links on one day is one visitor-day.
  assert.equal(await page.locator("dd.total-visitors").innerText(), "1");
  assert.match(await breakdown("browser").locator("tr", { hasText: "Chrome" }).innerText(), /Chrome\s+5/);
  assert.equal(await breakdown("variant").count(), 0);
  await page.locator("figure.chart canvas").waitFor();
  const today = new Date().toISOString().slice(0, 10);
  await page.getByText("Clicks per day as a table").click();
  assert.equal(await page.locator(`tr[data-day="${today}"] td`).innerText(), "5");
  // Most clicked first; the other user's link is not there.
  assert.deepEqual(await top.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-slug"))), [many, few]);
  assert.deepEqual(await top.locator("td.num").allInnerTexts(), ["3", "2"]);
  assert.equal(await top.first().locator("td.url").innerText(), `https://example.com/${many}`);
  await shot(page, "overview");

  // A period without clicks: 0 everywhere, the top links follow it, and it survives a reload.
  await page.getByLabel("Period", { exact: true }).selectOption("custom");
  await page.getByLabel("From", { exact: true }).fill("2025-01-01");
  await page.getByLabel("To", { exact: true }).fill("2025-01-31");
  await page.getByRole("button", { name: "Show" }).click();
  await page.locator('.chart-box[data-drawn="2025-01-01/2025-01-31"]').waitFor();
  assert.equal(await chart.getAttribute("data-total"), "0");
  assert.equal(await page.locator("dd.total-clicks").innerText(), "0");
  await page.locator(".top-links").getByText("No clicks in this period.").waitFor();
  assert.match(page.url(), /#\/overview\?from=2025-01-01&to=2025-01-31$/);
  await page.reload();
  await page.locator('.chart-box[data-drawn="2025-01-01/2025-01-31"]').waitFor();
  assert.equal(await page.getByLabel("Period", { exact: true }).inputValue(), "custom");
  assert.equal(await page.getByLabel("To", { exact: true }).inputValue(), "2025-01-31");

  // A preset, with bots: in the URL, kept over a reload, the clicks back.
  await page.getByLabel("Period", { exact: true }).selectOption("7d");
  const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
  await page.locator(`.chart-box[data-drawn="${weekAgo}/${today}"]`).waitFor();
  await page.getByLabel("Include bots").check();
  await poll("the URL keeps the preset and the bots", async () => page.url().endsWith("#/overview?period=7d&bots=1"));
  await page.reload();
  await page.locator(`.chart-box[data-drawn="${weekAgo}/${today}"]`).waitFor();
  assert.equal(await page.getByLabel("Include bots").isChecked(), true);
  assert.equal(await chart.getAttribute("data-total"), "9");
  // The top links count the bots too, as the totals do: `few` leads now.
  await page.locator(".top-links").getByText("Clicks, bots included,").waitFor();
  await poll("the top links count the bots", async () => (await top.first().getAttribute("data-slug")) === few);
  assert.deepEqual(await top.locator("td.num").allInnerTexts(), ["6", "3"]);
  // The slug opens the link's page.
  await top.first().getByRole("link", { name: few }).click();
  await page.getByRole("heading", { level: 1, name: few }).waitFor();
  await page.context().close();

  // At 360 px in dark mode, by keyboard: nothing wider than the screen.
  const phone = await newPage({ viewport: { width: 360, height: 740 }, colorScheme: "dark", isMobile: true, hasTouch: true });
  await signIn(phone, user.api_key);
  await phone.goto(`${DASH}#/overview`);
  await phone.locator('.chart-box[data-drawn]').waitFor();
  await phone.locator("table.top tbody tr").nth(1).waitFor();
  await phone.waitForLoadState("networkidle");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the Overview is ${overflow}px wider than the screen`);
  await phone.getByLabel("Period", { exact: true }).focus();
  await phone.keyboard.press("Tab");
  assert.equal(await phone.evaluate(() => document.activeElement?.getAttribute("role")), "switch");
  await phone.keyboard.press("Space");
  await poll("the switch works by keyboard", async () => phone.url().endsWith("?bots=1"));
  await shot(phone, "overview-360-dark");
  await phone.context().close();

  // The admin has the page too, for the links made with the admin token, and says so.
  const admin = await newPage();
  await signIn(admin, ADMIN);
  await admin.getByRole("link", { name: "Overview", exact: true }).click();
  await admin.getByText("The clicks of the links made with the admin token").waitFor();
  await admin.locator("figure.chart").waitFor();
  assert.equal(await admin.locator(".form-error").count(), 0);
  await admin.context().close();
});
