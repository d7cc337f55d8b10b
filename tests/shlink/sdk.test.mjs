// The Shlink-compatible API (/rest, docs/shlink.md) driven by Shlink's own JS SDK
// (@shlinkio/shlink-js-sdk, pinned in package.json) against the real Worker under
// `wrangler dev`, with both of the SDK's HTTP clients (fetch and node:http). Run by
// tests/shlink.rs, which starts the server and passes SHLINK_BASE and ADMIN_TOKEN; each test
// makes its own users (edgelink API keys) and random short codes. Background work (the D1
// index, the click queue) is polled for to a deadline, never slept on.

import assert from "node:assert/strict";
import { test } from "node:test";
import Bowser from "bowser";
import { ShlinkApiClient } from "@shlinkio/shlink-js-sdk";
import { FetchHttpClient } from "@shlinkio/shlink-js-sdk/fetch";
import { NodeHttpClient } from "@shlinkio/shlink-js-sdk/node";

const BASE = process.env.SHLINK_BASE;
const ADMIN = process.env.ADMIN_TOKEN;
assert.ok(BASE && ADMIN, "SHLINK_BASE and ADMIN_TOKEN are set by tests/shlink.rs");
const HOST = new URL(BASE).host;
const DEADLINE_MS = 40_000;

const CLIENTS = {
  fetch: () => new FetchHttpClient(),
  node: () => new NodeHttpClient(),
};
const sdk = (apiKey, client = "fetch") =>
  new ShlinkApiClient(CLIENTS[client](), { baseUrl: BASE, apiKey });

const rand = (n = 8) => Math.random().toString(36).slice(2, 2 + n).padEnd(n, "x");
const code = (prefix) => `${prefix}-${rand()}`;

async function newUser() {
  const r = await fetch(`${BASE}/api/admin/users`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ email: `shlink-${rand(12)}@example.test` }),
  });
  assert.equal(r.status, 201);
  return (await r.json()).api_key;
}

async function poll(what, check) {
  const until = Date.now() + DEADLINE_MS;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) assert.fail(`${what}: not within ${DEADLINE_MS} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const visit = (c, headers = {}) =>
  fetch(`${BASE}/${c}`, { redirect: "manual", headers }).then(async (r) => {
    await r.arrayBuffer();
    return r;
  });

async function assertRedirect(c, location) {
  await poll(`/${c} redirects to ${location}`, async () => {
    const r = await visit(c);
    return r.status === 302 && r.headers.get("location") === location;
  });
}

async function assertNoRedirect(c, status = 404) {
  await poll(`/${c} answers ${status}`, async () => (await visit(c)).status === status);
}

/** The problem the SDK throws for a call, checked for its type, status and extras. */
async function assertProblem(call, status, type, extras = {}) {
  const e = await call().then(
    (v) => assert.fail(`expected ${type}, got ${JSON.stringify(v)}`),
    (e) => e,
  );
  assert.equal(e.status, status, JSON.stringify(e));
  assert.equal(e.type, `https://shlink.io/api/error/${type}`, JSON.stringify(e));
  assert.ok(e.title && e.detail, JSON.stringify(e));
  for (const [k, v] of Object.entries(extras)) assert.deepEqual(e[k], v, JSON.stringify(e));
  return e;
}

const raw = (path, { method = "GET", key, body, headers = {} } = {}) =>
  fetch(`${BASE}${path}`, {
    method,
    headers: {
      ...(key === undefined ? {} : { "X-Api-Key": key }),
      ...(body ? { "Content-Type": "application/json" } : {}),
      ...headers,
    },
    body: body && JSON.stringify(body),
  });

test("health answers on both paths, with any key or none", async () => {
  for (const path of ["/rest/health", "/rest/v3/health"]) {
    for (const key of [undefined, "", "not-a-key"]) {
      const r = await raw(path, { key });
      assert.equal(r.status, 200);
      const body = await r.json();
      assert.equal(body.status, "pass");
      assert.equal(body.version, "3.3.0");
      assert.equal(r.headers.get("access-control-allow-origin"), "*");
    }
  }
  assert.equal((await sdk("whatever").health()).status, "pass");
});

for (const client of Object.keys(CLIENTS)) {
  test(`CRUD with the ${client} client, and the redirect after each step`, async () => {
    const api = sdk(await newUser(), client);
    const c = code("crud");
    const created = await api.createShortUrl({
      longUrl: `https://example.com/${c}`,
      customSlug: c,
      title: "First title",
      tags: ["Docs", "web"],
      validUntil: "2099-01-01T00:00:00+02:00",
      maxVisits: 100,
      forwardQuery: false,
    });
    assert.equal(created.shortCode, c);
    assert.equal(created.shortUrl, `${BASE}/${c}`);
    assert.equal(created.longUrl, `https://example.com/${c}`);
    assert.equal(created.title, "First title");
    assert.deepEqual(created.tags, ["docs", "web"]);
    assert.deepEqual(created.meta, {
      validSince: null,
      validUntil: "2098-12-31T22:00:00.000Z",
      maxVisits: 100,
    });
    assert.deepEqual(created.visitsSummary, { total: 0, nonBots: 0, bots: 0 });
    // The SDK drops false values from a create body: Shlink's default (true) applies.
    assert.equal(created.forwardQuery, true);
    assert.equal(created.domain, null);
    assert.equal(created.crawlable, false);
    assert.equal(created.hasRedirectRules, false);
    assert.ok(!Number.isNaN(Date.parse(created.dateCreated)));
    await assertRedirect(c, `https://example.com/${c}`);

    assert.deepEqual(await api.getShortUrl({ shortCode: c }), created);

    const edited = await api.updateShortUrl(
      { shortCode: c },
      { longUrl: `https://example.org/${c}`, title: null, maxVisits: null, tags: ["other"], forwardQuery: false },
    );
    assert.equal(edited.forwardQuery, false);
    const noQuery = await poll("the visitor's query is no longer forwarded", async () => {
      const r = await fetch(`${BASE}/${c}?utm=x`, { redirect: "manual" });
      return r.headers.get("location") === `https://example.org/${c}` && r;
    });
    assert.equal(noQuery.status, 302);
    assert.equal(edited.longUrl, `https://example.org/${c}`);
    assert.equal(edited.title, null);
    assert.equal(edited.meta.maxVisits, null);
    assert.deepEqual(edited.tags, ["other"]);
    assert.equal(edited.meta.validUntil, created.meta.validUntil, "absent fields stay");
    await assertRedirect(c, `https://example.org/${c}`);

    await api.deleteShortUrl({ shortCode: c });
    await assertProblem(() => api.getShortUrl({ shortCode: c }), 404, "short-url-not-found", {
      shortCode: c,
    });
    await assertNoRedirect(c);

    const generated = await api.createShortUrl({ longUrl: "https://example.com/generated" });
    assert.match(generated.shortCode, /^[A-Za-z0-9]{4,}$/);
    await assertRedirect(generated.shortCode, "https://example.com/generated");
  });
}

test("create answers 200; findIfExists returns the caller's link and writes nothing", async () => {
  const key = await newUser();
  const api = sdk(key);
  const longUrl = `https://example.com/find/${rand()}`;
  const r = await raw("/rest/v3/short-urls", { method: "POST", key, body: { longUrl, tags: ["a"] } });
  assert.equal(r.status, 200);
  const first = await r.json();
  const again = await api.createShortUrl({ longUrl, findIfExists: true });
  assert.equal(again.shortCode, first.shortCode);
  const sameTags = await api.createShortUrl({ longUrl, tags: ["a"], findIfExists: true });
  assert.equal(sameTags.shortCode, first.shortCode);
  const otherTags = await api.createShortUrl({ longUrl, tags: ["b"], findIfExists: true });
  assert.notEqual(otherTags.shortCode, first.shortCode);
  // Another user's identical link is not theirs to find.
  const other = await sdk(await newUser()).createShortUrl({ longUrl, findIfExists: true });
  assert.notEqual(other.shortCode, first.shortCode);
  const list = await poll("both links indexed", async () => {
    const l = await api.listShortUrls({ searchTerm: longUrl.split("/").pop() });
    return l.pagination.totalItems === 2 && l;
  });
  assert.deepEqual(list.data.map((s) => s.shortCode).sort(), [first.shortCode, otherTags.shortCode].sort());
});

test("validSince: not found before it, redirecting after it or once cleared", async () => {
  const api = sdk(await newUser());
  const c = code("since");
  const s = await api.createShortUrl({
    longUrl: `https://example.com/${c}`,
    customSlug: c,
    validSince: "2999-01-01T00:00:00+00:00",
  });
  assert.equal(s.meta.validSince, "2999-01-01T00:00:00.000Z");
  await assertNoRedirect(c, 404);
  await api.updateShortUrl({ shortCode: c }, { validSince: null });
  await assertRedirect(c, `https://example.com/${c}`);
  await api.updateShortUrl({ shortCode: c }, { validSince: "2000-01-01T00:00:00Z" });
  await assertRedirect(c, `https://example.com/${c}`);
  // The same field on edgelink's own API.
  const key = await newUser();
  const e = code("since-api");
  const r = await fetch(`${BASE}/api/links`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ url: `https://example.com/${e}`, slug: e, valid_since: "2999-01-01T00:00:00.000Z" }),
  });
  assert.equal(r.status, 201);
  assert.equal((await r.json()).valid_since, "2999-01-01T00:00:00.000Z");
  await assertNoRedirect(e, 404);
});

test("paging: default 10, -1 and over 100 mean 100, past the last page is empty", async () => {
  const key = await newUser();
  const api = sdk(key);
  const tag = `p${rand(6)}`;
  for (let i = 0; i < 12; i++) {
    await api.createShortUrl({ longUrl: `https://example.com/page/${i}`, tags: [tag] });
  }
  await poll("12 links indexed", async () => (await api.listShortUrls()).pagination.totalItems === 12);
  const first = await api.listShortUrls();
  assert.deepEqual(first.pagination, {
    currentPage: 1, pagesCount: 2, itemsPerPage: 10, itemsInCurrentPage: 10, totalItems: 12,
  });
  const seen = [];
  for (const page of [1, 2, 3]) {
    const p = await api.listShortUrls({ page, itemsPerPage: 5 });
    assert.equal(p.pagination.itemsInCurrentPage, [5, 5, 2][page - 1]);
    assert.equal(p.pagination.pagesCount, 3);
    seen.push(...p.data.map((s) => s.shortCode));
  }
  assert.equal(new Set(seen).size, 12, "pages neither repeat nor skip");
  const past = await api.listShortUrls({ page: 4, itemsPerPage: 5 });
  assert.deepEqual(past.data, []);
  assert.equal(past.pagination.itemsInCurrentPage, 0);
  for (const itemsPerPage of [-1, 500]) {
    const all = await api.listShortUrls({ itemsPerPage });
    assert.equal(all.pagination.itemsPerPage, 100);
    assert.equal(all.data.length, 12);
  }
  // Newest first by default.
  const dates = first.data.map((s) => s.dateCreated);
  assert.deepEqual([...dates].sort().reverse(), dates);
});

test("searchTerm (any case, in longUrl, shortCode, title, tags) and tags[] with tagsMode", async () => {
  const api = sdk(await newUser());
  const mark = rand(6);
  const a = await api.createShortUrl({ longUrl: `https://example.com/Alpha-${mark}`, title: "Quarterly Report", tags: ["red", "blue"] });
  const b = await api.createShortUrl({ longUrl: "https://example.com/b", customSlug: `code-${mark}`, tags: ["red"] });
  const c = await api.createShortUrl({ longUrl: "https://example.com/c", tags: [`t${mark}`] });
  await poll("3 links indexed", async () => (await api.listShortUrls()).pagination.totalItems === 3);
  const codes = async (params) => (await api.listShortUrls(params)).data.map((s) => s.shortCode).sort();
  assert.deepEqual(await codes({ searchTerm: `alpha-${mark.toUpperCase()}` }), [a.shortCode]);
  assert.deepEqual(await codes({ searchTerm: `CODE-${mark}` }), [b.shortCode]);
  assert.deepEqual(await codes({ searchTerm: "quarterly rep" }), [a.shortCode]);
  assert.deepEqual(await codes({ searchTerm: `T${mark}` }), [c.shortCode]);
  assert.deepEqual(await codes({ tags: ["red"] }), [a.shortCode, b.shortCode].sort());
  assert.deepEqual(await codes({ tags: ["red", "blue"], tagsMode: "any" }), [a.shortCode, b.shortCode].sort());
  assert.deepEqual(await codes({ tags: ["red", "blue"], tagsMode: "all" }), [a.shortCode]);
  assert.deepEqual(await codes({ tags: ["RED"], searchTerm: "quarterly" }), [a.shortCode]);
  assert.deepEqual(await api.listTags(), { data: ["blue", "red", `t${mark}`].sort() });
});

test("every orderBy, both ways, ties by shortCode; visits counted with bots apart", async () => {
  const key = await newUser();
  const api = sdk(key);
  const m = rand(5);
  // Short codes, titles and URLs in different orders; visits: z 3 (one a bot), y 1, x 0.
  const specs = [
    { customSlug: `x-${m}`, title: "beta", longUrl: "https://example.com/3" },
    { customSlug: `y-${m}`, title: "gamma", longUrl: "https://example.com/1" },
    { customSlug: `z-${m}`, title: "alpha", longUrl: "https://example.com/2" },
  ];
  for (const s of specs) await api.createShortUrl(s);
  for (const [c, n, bots] of [[`z-${m}`, 2, 1], [`y-${m}`, 1, 0]]) {
    for (let i = 0; i < n; i++) assert.equal((await visit(c, { "User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120" })).status, 302);
    for (let i = 0; i < bots; i++) assert.equal((await visit(c, { "User-Agent": "curl/8.0" })).status, 302);
  }
  await poll("visits rolled up and indexed", async () => {
    const z = await api.getShortUrl({ shortCode: `z-${m}` });
    const l = await api.listShortUrls({ orderBy: { field: "visits", dir: "DESC" } });
    return z.visitsSummary.total === 3 && l.data[0]?.visitsSummary.total === 3 && l.data.length === 3;
  });
  const z = await api.getShortUrl({ shortCode: `z-${m}` });
  assert.deepEqual(z.visitsSummary, { total: 3, nonBots: 2, bots: 1 });
  const order = async (field, dir) =>
    (await api.listShortUrls({ orderBy: { field, dir } })).data.map((s) => s.shortCode[0]).join("");
  const expected = {
    dateCreated: "xyz",
    shortCode: "xyz",
    longUrl: "yzx",
    title: "zxy",
    visits: "xyz",
    nonBotVisits: "xyz",
  };
  for (const [field, asc] of Object.entries(expected)) {
    assert.equal(await order(field, "ASC"), asc, `${field}-ASC`);
    const desc = field === "visits" || field === "nonBotVisits" ? "zyx" : [...asc].reverse().join("");
    assert.equal(await order(field, "DESC"), desc, `${field}-DESC`);
  }
  // Ties fall to the short code, ascending, whatever the direction.
  const tied = await api.listShortUrls({ orderBy: { field: "visits", dir: "DESC" }, itemsPerPage: 1, page: 3 });
  assert.equal(tied.data[0].shortCode, `x-${m}`);
  assert.equal(await order(undefined, undefined), "zyx", "default dateCreated-DESC");
  // Counts over the caller's links and tags.
  assert.deepEqual((await api.getVisitsOverview()).nonOrphanVisits, { total: 4, nonBots: 3, bots: 1 });
  assert.deepEqual((await api.getVisitsOverview()).orphanVisits, { total: 0, nonBots: 0, bots: 0 });
});

test("single visits of real redirects: referer, location, bots, userAgent read by bowser", async () => {
  const api = sdk(await newUser(), "node");
  const c = code("visits");
  await api.createShortUrl({ longUrl: `https://example.com/${c}`, customSlug: c, tags: ["seen"] });
  const visitors = [
    { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", browser: "Chrome", os: "Windows", referer: "https://news.example/a?b=c" },
    { ua: "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", browser: "Firefox", os: "Linux" },
    { ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", browser: "Safari", os: "iOS" },
    { ua: "curl/8.4.0", bot: true },
  ];
  for (const v of visitors) {
    const headers = { "User-Agent": v.ua, "MF-CF-Blob": JSON.stringify({ country: "DE" }) };
    if (v.referer) headers.Referer = v.referer;
    assert.equal((await visit(c, headers)).status, 302);
  }
  const all = await poll("4 visits recorded", async () => {
    const r = await api.getShortUrlVisits({ shortCode: c });
    return r.pagination.totalItems === 4 && r;
  });
  assert.equal(all.pagination.itemsPerPage, 5000);
  const dates = all.data.map((v) => v.date);
  assert.deepEqual([...dates].sort().reverse(), dates, "newest first");
  const people = all.data.filter((v) => !v.potentialBot);
  assert.equal(people.length, 3);
  for (const v of visitors.filter((v) => !v.bot)) {
    const match = people.filter((p) => {
      const parsed = Bowser.parse(p.userAgent);
      return parsed.browser.name === v.browser && parsed.os.name === v.os;
    });
    assert.equal(match.length, 1, `${v.browser} on ${v.os} in ${JSON.stringify(people)}`);
  }
  assert.deepEqual(all.data.map((v) => v.referer).filter(Boolean), ["https://news.example"]);
  for (const v of all.data) {
    // wrangler dev builds request.cf from MF-CF-Blob: the country is recorded and shown.
    assert.equal(v.visitLocation?.countryCode, "DE", JSON.stringify(v));
    assert.ok(Date.parse(v.date) > Date.now() - 600_000);
  }
  const noBots = await api.getShortUrlVisits({ shortCode: c }, { excludeBots: true });
  assert.equal(noBots.pagination.totalItems, 3);
  assert.ok(noBots.data.every((v) => !v.potentialBot));
  const paged = await api.getShortUrlVisits({ shortCode: c }, { itemsPerPage: 3, page: 2 });
  assert.deepEqual(
    [paged.pagination.pagesCount, paged.data.length, paged.data[0].date],
    [2, 1, all.data[3].date],
  );
  const future = await api.getShortUrlVisits({ shortCode: c }, { startDate: "2999-01-01T00:00:00+01:00" });
  assert.equal(future.pagination.totalItems, 0);
  const past = await api.getShortUrlVisits({ shortCode: c }, { endDate: "2000-01-01" });
  assert.equal(past.pagination.totalItems, 0);
  const stats = await api.tagsStats();
  assert.deepEqual(stats.data, [
    { tag: "seen", shortUrlsCount: 1, visitsSummary: { total: 4, nonBots: 3, bots: 1 }, visitsCount: 4 },
  ]);
});

test("errors: each type, status and extras; nothing written", async () => {
  const key = await newUser();
  const api = sdk(key);
  await assertProblem(() => sdk("").listShortUrls(), 401, "missing-authentication");
  const none = await raw("/rest/v3/short-urls");
  assert.equal(none.status, 401);
  assert.equal(none.headers.get("content-type"), "application/problem+json");
  assert.equal(none.headers.get("access-control-allow-origin"), "*");
  await assertProblem(() => sdk("el_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").listShortUrls(), 401, "invalid-api-key");
  await assertProblem(() => sdk("nonsense").listShortUrls(), 401, "invalid-api-key");

  const taken = code("taken");
  await api.createShortUrl({ longUrl: "https://example.com/t", customSlug: taken });
  await assertProblem(
    () => sdk(key, "node").createShortUrl({ longUrl: "https://example.com/other", customSlug: taken }),
    400, "non-unique-slug", { customSlug: taken },
  );
  await assertRedirect(taken, "https://example.com/t");

  const invalid = async (body, elements) => {
    const slug = code("bad");
    await assertProblem(() => api.createShortUrl({ customSlug: slug, ...body }), 400, "invalid-data", {
      invalidElements: elements,
    });
    if (!elements.includes("customSlug")) await assertNoRedirect(slug);
  };
  await invalid({ longUrl: "javascript:alert(1)" }, ["longUrl"]);
  await invalid({ longUrl: `https://${HOST}/loop` }, ["longUrl"]);
  await invalid({ longUrl: "https://example.com", customSlug: "api" }, ["customSlug"]);
  await invalid({ longUrl: "https://example.com", customSlug: "has space" }, ["customSlug"]);
  await invalid({ longUrl: "https://example.com", validUntil: "2001-01-01T00:00:00Z" }, ["validUntil"]);
  await invalid({ longUrl: "https://example.com", validSince: "someday" }, ["validSince"]);
  await invalid({ longUrl: "https://example.com", maxVisits: -3 }, ["maxVisits"]);
  await invalid({ longUrl: "https://example.com", tags: ["has space"] }, ["tags"]);
  await invalid({ longUrl: "https://example.com", shortCodeLength: 9 }, ["shortCodeLength"]);
  await invalid({ longUrl: "ftp://x", maxVisits: 1.5, tags: [""] }, ["longUrl", "tags", "maxVisits"]);
  const zero = await raw("/rest/v3/short-urls", { method: "POST", key, body: { longUrl: "https://example.com", maxVisits: 0 } });
  assert.deepEqual([zero.status, (await zero.json()).invalidElements], [400, ["maxVisits"]]);

  await assertProblem(() => api.listShortUrls({ orderBy: { field: "size", dir: "ASC" } }), 400, "invalid-data", {
    invalidElements: ["orderBy"],
  });
  for (const [params, names] of [
    [{ startDate: "2024-01-01T00:00:00+00:00" }, ["startDate"]],
    [{ endDate: "2024-01-01T00:00:00+00:00" }, ["endDate"]],
    [{ excludeTags: ["a"] }, ["excludeTags"]],
    [{ excludeMaxVisitsReached: true, excludePastValidUntil: true }, ["excludeMaxVisitsReached", "excludePastValidUntil"]],
    [{ apiKeyName: "k" }, ["apiKeyName"]],
    [{ domain: HOST }, ["domain"]],
  ]) {
    await assertProblem(() => api.listShortUrls(params), 400, "invalid-data", { invalidElements: names });
  }
  await assertProblem(() => api.getShortUrl({ shortCode: "no-such-code" }), 404, "short-url-not-found", {
    shortCode: "no-such-code",
  });
  const before = await api.getShortUrl({ shortCode: taken });
  await assertProblem(() => api.updateShortUrl({ shortCode: taken }, { longUrl: null }), 400, "invalid-data", {
    invalidElements: ["longUrl"],
  });
  await assertProblem(
    () => api.updateShortUrl({ shortCode: taken }, { title: "new", validUntil: "2001-01-01T00:00:00Z" }),
    400, "invalid-data", { invalidElements: ["validUntil"] },
  );
  assert.deepEqual(await api.getShortUrl({ shortCode: taken }), before, "a refused edit changes nothing");
  await assertProblem(() => api.editTag({ oldName: "no-such-tag", newName: "b" }), 404, "tag-not-found", {
    tag: "no-such-tag",
  });
  await assertProblem(() => api.mercureInfo(), 501, "mercure-not-configured");
  await assertProblem(() => api.getOrphanVisits(), 404, "not-found");
  await assertProblem(() => api.getShortUrlRedirectRules({ shortCode: taken }), 404, "not-found");
  const v2 = await raw("/rest/v2/short-urls", { key });
  assert.equal(v2.status, 404);
  assert.equal((await v2.json()).type, "https://shlink.io/api/error/not-found");
});

test("tags are renamed (404 unknown, 409 taken) and deleted on the caller's short URLs only", async () => {
  const api = sdk(await newUser());
  const other = sdk(await newUser(), "node");
  const [from, to, gone, taken] = [`from${rand(6)}`, `to${rand(6)}`, `gone${rand(6)}`, `taken${rand(6)}`];
  const a = await api.createShortUrl({ longUrl: "https://example.com/ta", tags: [from, "keep"] });
  const b = await api.createShortUrl({ longUrl: "https://example.com/tb", tags: [gone, from] });
  await api.createShortUrl({ longUrl: "https://example.com/td", tags: [taken] });
  const theirs = await other.createShortUrl({ longUrl: "https://example.com/tc", tags: [from, gone] });
  const tagsOf = async (client, c) => (await client.getShortUrl({ shortCode: c.shortCode })).tags;
  const listed = async (client) => (await client.listTags()).data;
  // The tags are found through the index, written in the background after each create.
  await poll("the tags indexed", async () => {
    const l = await listed(api);
    return [from, gone, taken].every((t) => l.includes(t));
  });

  await assertProblem(() => api.editTag({ oldName: from, newName: taken }), 409, "tag-conflict", {
    oldName: from,
    newName: taken,
  });
  assert.deepEqual(await tagsOf(api, a), [from, "keep"], "a refused rename changes nothing");
  await assertProblem(() => api.editTag({ oldName: from, newName: "has space" }), 400, "invalid-data", {
    invalidElements: ["newName"],
  });

  await api.editTag({ oldName: from.toUpperCase(), newName: to });
  // KV holds the truth at once; the other user's link keeps its tag.
  assert.deepEqual(await tagsOf(api, a), [to, "keep"]);
  assert.deepEqual(await tagsOf(api, b), [gone, to]);
  assert.deepEqual(await tagsOf(other, theirs), [from, gone]);
  await poll("the index follows the rename", async () => {
    const l = await listed(api);
    return l.includes(to) && !l.includes(from);
  });
  assert.ok((await listed(other)).includes(from));

  await api.deleteTags([gone, "never-used"]);
  assert.deepEqual(await tagsOf(api, b), [to], "the other tags stay");
  assert.deepEqual(await tagsOf(other, theirs), [from, gone]);
  await poll("the index follows the delete", async () => !(await listed(api)).includes(gone));
});

test("two keys see only their own links; the admin token sees every link", async () => {
  const a = sdk(await newUser());
  const b = sdk(await newUser(), "node");
  const mine = code("mine");
  await a.createShortUrl({ longUrl: "https://example.com/mine", customSlug: mine, tags: [`own${rand(4)}`] });
  const notFound = { shortCode: mine };
  await assertProblem(() => b.getShortUrl({ shortCode: mine }), 404, "short-url-not-found", notFound);
  await assertProblem(() => b.updateShortUrl({ shortCode: mine }, { title: "x" }), 404, "short-url-not-found", notFound);
  await assertProblem(() => b.deleteShortUrl({ shortCode: mine }), 404, "short-url-not-found", notFound);
  await assertProblem(() => b.getShortUrlVisits({ shortCode: mine }), 404, "short-url-not-found", notFound);
  await assertRedirect(mine, "https://example.com/mine");
  await poll("a's link indexed", async () => (await a.listShortUrls()).pagination.totalItems === 1);
  assert.equal((await b.listShortUrls()).pagination.totalItems, 0);
  assert.deepEqual(await b.listTags(), { data: [] });
  const admin = sdk(ADMIN);
  assert.equal((await admin.getShortUrl({ shortCode: mine })).shortCode, mine);
  const found = await admin.listShortUrls({ searchTerm: mine });
  assert.deepEqual(found.data.map((s) => s.shortCode), [mine]);
});

test("CORS: preflight without a key, and the header on answers and errors", async () => {
  const pre = await fetch(`${BASE}/rest/v3/short-urls`, {
    method: "OPTIONS",
    headers: { Origin: "https://app.shlink.io", "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "x-api-key, content-type" },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-origin"), "*");
  const headers = pre.headers.get("access-control-allow-headers").toLowerCase();
  assert.ok(headers.includes("x-api-key") && headers.includes("content-type"), headers);
  const methods = pre.headers.get("access-control-allow-methods");
  for (const m of ["GET", "POST", "PUT", "PATCH", "DELETE"]) assert.ok(methods.includes(m), methods);
  const key = await newUser();
  for (const r of [await raw("/rest/v3/tags", { key }), await raw("/rest/v3/nope", { key }), await raw("/rest/v3/tags")]) {
    assert.equal(r.headers.get("access-control-allow-origin"), "*", r.url);
  }
});

test("the web client's start: domains and mercure-info; shorten for extensions", async () => {
  const key = await newUser();
  const api = sdk(key);
  assert.deepEqual(await api.listDomains(), {
    data: [{ domain: HOST, isDefault: true, redirects: { baseUrlRedirect: null, regular404Redirect: null, invalidShortUrlRedirect: null } }],
    defaultRedirects: { baseUrlRedirect: null, regular404Redirect: null, invalidShortUrlRedirect: null },
  });
  const long = `https://example.com/shorten/${rand()}`;
  const txt = await fetch(`${BASE}/rest/v3/short-urls/shorten?apiKey=${key}&longUrl=${encodeURIComponent(long)}&format=txt`);
  assert.equal(txt.status, 200);
  assert.match(txt.headers.get("content-type"), /^text\/plain/);
  const shortUrl = await txt.text();
  assert.ok(shortUrl.startsWith(`${BASE}/`), shortUrl);
  await assertRedirect(shortUrl.slice(BASE.length + 1), long);
  const asJson = await (await fetch(`${BASE}/rest/v3/short-urls/shorten?apiKey=${key}&longUrl=${encodeURIComponent(long)}`)).json();
  assert.equal(asJson.longUrl, long);
  const noKey = await fetch(`${BASE}/rest/v3/short-urls/shorten?longUrl=${encodeURIComponent(long)}`);
  assert.equal((await noKey.json()).type, "https://shlink.io/api/error/missing-authentication");
});
