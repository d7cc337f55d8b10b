// The dashboard's pure decisions (dashboard/src/logic.ts, and the API client's error-to-field
// map), compiled by esbuild in memory as the build does and run in Node: what the create and
// edit forms send, the chart's series of days, an import's percent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { build } from "esbuild";

async function load(entry) {
  const out = await build({
    entryPoints: [new URL(`../../dashboard/src/${entry}`, import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
    logLevel: "silent",
  });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString("base64")}`);
}

const logic = await load("logic.ts");
const api = await load("api.ts");

const link = {
  slug: "launch",
  url: "https://example.com/",
  title: "Launch",
  tags: ["a", "b"],
  expires_at: "2030-01-02T03:04:05.678Z",
  redirect_type: 302,
  max_clicks: null,
  forward_query: true,
  state: "active",
  archived: false,
};

test("a create sends only the fields given, tags split on commas and spaces", () => {
  const body = logic.bodyOf({ ...logic.EMPTY, url: " https://example.com/x ", tags: "a, b  c,,", max_clicks: "5" }, null);
  assert.deepEqual(body, { url: "https://example.com/x", tags: ["a", "b", "c"], redirect_type: 302, max_clicks: 5, forward_query: true });
});

test("an edit sends only what changed; an untouched expiry keeps its seconds", () => {
  const was = logic.draftOf(link);
  assert.deepEqual(logic.bodyOf(was, was), {});
  assert.deepEqual(logic.bodyOf({ ...was, title: "", tags: "c" }, was), { title: null, tags: ["c"] });
  assert.deepEqual(logic.bodyOf({ ...was, archived: true, state: "disabled" }, was), { state: "disabled", archived: true });
  const cleared = logic.bodyOf({ ...was, expires_at: "" }, was);
  assert.deepEqual(cleared, { expires_at: null });
});

const smart = {
  ...link,
  valid_since: "2030-01-01T00:00:30.500Z",
  has_password: true,
  targets: { ios: "https://apps.apple.com/app/id1", countries: { DE: "https://example.de/" } },
  variants: [
    { url: "https://example.com/a", weight: 70 },
    { url: "https://example.com/b", weight: 30 },
  ],
  preview: { title: "Card" },
};

test("a create sends the smart options given, and leaves out the sections left empty", () => {
  const d = {
    ...logic.EMPTY,
    url: "https://example.com/",
    valid_since: "2030-01-01T00:00",
    password: " pass word ",
    ios: " https://apps.apple.com/app/id1 ",
    countries: [{ code: "de", url: "https://example.de/" }, { code: "", url: " " }],
    variants: [{ url: "https://example.com/a", weight: "70" }, { url: "https://example.com/b", weight: "30" }],
    preview_image: "https://example.com/card.png",
  };
  assert.deepEqual(logic.bodyOf(d, null), {
    url: "https://example.com/",
    tags: [],
    redirect_type: 302,
    forward_query: true,
    valid_since: new Date("2030-01-01T00:00").toISOString(),
    // The password as typed, spaces included; the API decides what a good one is.
    password: " pass word ",
    targets: { ios: "https://apps.apple.com/app/id1", countries: { de: "https://example.de/" } },
    variants: [{ url: "https://example.com/a", weight: 70 }, { url: "https://example.com/b", weight: 30 }],
    preview: { image: "https://example.com/card.png" },
  });
  const plain = logic.bodyOf({ ...logic.EMPTY, url: "https://example.com/", countries: [{ code: "", url: "" }], variants: [{ url: "", weight: "" }] }, null);
  assert.deepEqual(Object.keys(plain).sort(), ["forward_query", "redirect_type", "tags", "url"]);
});

test("a weight that is not a number is sent as null, for the API to refuse beside the variants", () => {
  const d = { ...logic.EMPTY, variants: [{ url: "https://example.com/a", weight: "x" }, { url: "https://example.com/b", weight: "" }] };
  assert.deepEqual(logic.variantsOf(d), [{ url: "https://example.com/a", weight: null }, { url: "https://example.com/b", weight: null }]);
});

test("an edit of a smart link sends only the options changed, and null for one cleared", () => {
  const was = logic.draftOf(smart);
  assert.equal(was.password, "", "the form never holds the stored password");
  assert.equal(was.has_password, true);
  assert.deepEqual(was.countries, [{ code: "DE", url: "https://example.de/" }]);
  assert.deepEqual(was.variants[0], { url: "https://example.com/a", weight: "70" });
  assert.ok(logic.usesMoreOptions(was));
  assert.ok(!logic.usesMoreOptions(logic.draftOf(link)));
  // Untouched: nothing, and the start keeps its seconds.
  assert.deepEqual(logic.bodyOf(was, was), {});
  // One country removed, the other targets kept: the whole targets object, as PATCH replaces it.
  assert.deepEqual(logic.bodyOf({ ...was, countries: [] }, was), { targets: { ios: "https://apps.apple.com/app/id1" } });
  // Every target cleared, the variants and the preview too: null removes each.
  assert.deepEqual(logic.bodyOf({ ...was, ios: "", countries: [], variants: [], preview_title: "" }, was), {
    targets: null,
    variants: null,
    preview: null,
  });
  assert.deepEqual(logic.bodyOf({ ...was, variants: [was.variants[0], { ...was.variants[1], weight: "0" }] }, was), {
    variants: [{ url: "https://example.com/a", weight: 70 }, { url: "https://example.com/b", weight: 0 }],
  });
  assert.deepEqual(logic.bodyOf({ ...was, valid_since: "" }, was), { valid_since: null });
});

test("an edit replaces the password when one is typed, removes it when asked, else leaves it", () => {
  const was = logic.draftOf(smart);
  assert.deepEqual(logic.bodyOf({ ...was, password: "new secret" }, was), { password: "new secret" });
  assert.deepEqual(logic.bodyOf({ ...was, remove_password: true }, was), { password: null });
  // Removing wins over a new one typed before the box was ticked (the field is then disabled).
  assert.deepEqual(logic.bodyOf({ ...was, password: "new secret", remove_password: true }, was), { password: null });
  const none = logic.draftOf(link);
  assert.deepEqual(logic.bodyOf({ ...none, remove_password: true }, none), {});
  assert.deepEqual(logic.bodyOf({ ...none, password: "first one" }, none), { password: "first one" });
});

test("the day series covers every day from `from` to `to`, zero where nothing was clicked", () => {
  const s = logic.daySeries("2026-02-27", "2026-03-02", [{ key: "2026-03-01", clicks: 4 }]);
  assert.deepEqual(s.days, ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]);
  assert.deepEqual(s.clicks, [0, 0, 4, 0]);
});

test("an import's percent is 100 only when done", () => {
  const job = { status: "running", total: 3, created: 2, skipped: 1, failed: 0 };
  assert.equal(logic.jobPercent(job), 99);
  assert.equal(logic.jobPercent({ ...job, status: "done" }), 100);
  assert.equal(logic.jobPercent({ ...job, total: 0, created: 0, skipped: 0 }), 0);
});

test("API errors land on the field they concern", () => {
  const err = (code) => new api.ApiError(400, code, "m");
  assert.equal(api.fieldOf(err("slug_taken")), "slug");
  assert.equal(api.fieldOf(err("blocked_destination")), "url");
  assert.equal(api.fieldOf(err("invalid_expiry")), "expires_at");
  assert.equal(api.fieldOf(err("internal")), undefined);
  assert.equal(api.fieldOf(err("invalid_password")), "password");
  assert.equal(api.fieldOf(err("invalid_variants")), "variants");
  assert.equal(api.fieldOf(err("invalid_targets")), "targets");
  assert.equal(api.fieldOf(err("invalid_preview")), "preview");
  // Finer fields where the message names the part at fault.
  const said = (code, message) => new api.ApiError(400, code, message);
  assert.equal(api.fieldOf(said("invalid_expiry", "valid_since must be an RFC 3339 timestamp")), "valid_since");
  assert.equal(api.fieldOf(said("invalid_expiry", "expires_at is in the past")), "expires_at");
  assert.equal(api.fieldOf(said("invalid_targets", "targets.ios: not a URL")), "ios");
  assert.equal(api.fieldOf(said("invalid_targets", "targets.countries: 'XX' is not a code")), "countries");
  assert.equal(api.fieldOf(said("invalid_preview", "preview.image must be an https URL")), "preview_image");
  assert.equal(api.fieldOf(said("invalid_variants", "variants[2].weight must be a whole number")), "variants");
  // A blocked destination: under the one destination the request carried, else the form's.
  const blocked = err("blocked_destination");
  assert.equal(api.fieldOf(blocked, { url: "https://x.example/" }), "url");
  assert.equal(api.fieldOf(blocked, { variants: [] }), "variants");
  assert.equal(api.fieldOf(blocked, { url: "https://x.example/", targets: { ios: "https://y.example/" } }), undefined);
  assert.equal(api.qs({ q: "a b", tag: ["x", "y"], cursor: null, state: "" }), "?q=a+b&tag=x&tag=y");
});

// The link list's bulk actions.
const row = (slug, more = {}) => ({ slug, archived: false, tags: [], version: 7, ...more });

test("tags for Add tag are split as the form splits them, checked and lower-cased as the API stores them", () => {
  assert.deepEqual(logic.parseTags(" News, café  NEWS "), { tags: ["news", "café"] });
  assert.deepEqual(logic.splitTags("a, b  c,,"), ["a", "b", "c"]);
  assert.match(logic.parseTags(" , ").error, /Type a tag/);
  assert.match(logic.parseTags("x".repeat(33)).error, /at most 32 characters/);
  assert.deepEqual(logic.parseTags("x".repeat(32)), { tags: ["x".repeat(32)] });
  assert.match(logic.parseTags("a\u0007b").error, /control characters/);
  assert.match(logic.parseTags(Array.from({ length: 11 }, (_, i) => `t${i}`).join(" ")).error, /At most 10/);
});

test("a bulk action sends one request per link that needs it and skips the others", () => {
  const links = [row("a"), row("b", { archived: true })];
  assert.deepEqual(logic.bulkSteps("archive", links), [
    { kind: "send", slug: "a", method: "PATCH", body: { archived: true } },
    { kind: "skip", slug: "b", reason: "already archived" },
  ]);
  assert.deepEqual(logic.bulkSteps("unarchive", links), [
    { kind: "skip", slug: "a", reason: "not archived" },
    { kind: "send", slug: "b", method: "PATCH", body: { archived: false } },
  ]);
  assert.deepEqual(logic.bulkSteps("delete", links), [
    { kind: "send", slug: "a", method: "DELETE" },
    { kind: "send", slug: "b", method: "DELETE" },
  ]);
});

test("Add tag keeps each link's other tags (PATCH replaces them) and names the version it read", () => {
  const links = [row("a", { tags: ["x", "news"], version: 12 }), row("b", { tags: ["x"] }), row("c", { tags: undefined })];
  assert.deepEqual(logic.bulkSteps("tag", links, ["news", "y"]), [
    { kind: "send", slug: "a", method: "PATCH", body: { tags: ["x", "news", "y"] }, ifMatch: '"12"' },
    { kind: "send", slug: "b", method: "PATCH", body: { tags: ["x", "news", "y"] }, ifMatch: '"7"' },
    { kind: "send", slug: "c", method: "PATCH", body: { tags: ["news", "y"] }, ifMatch: '"7"' },
  ]);
  assert.deepEqual(logic.tagStep(row("d", { tags: ["news"] }), ["news"]), { kind: "skip", slug: "d", reason: "already tagged" });
});

test("the summary counts what was done of how many, and lists each failure with the API's message", () => {
  const all = logic.bulkSummary("archive", [{ slug: "a", status: "done" }, { slug: "b", status: "done" }]);
  assert.deepEqual(all, { text: "Archived 2 links.", failed: [], skipped: [] });
  assert.equal(logic.bulkSummary("delete", [{ slug: "a", status: "done" }]).text, "Deleted 1 link.");
  const mixed = logic.bulkSummary("tag", [
    { slug: "a", status: "done" },
    { slug: "b", status: "failed", error: "not found (not_found)" },
    { slug: "c", status: "skipped", reason: "already tagged" },
  ], ["news"]);
  assert.equal(mixed.text, "Tagged 1 of 3 links with news. 1 skipped (already tagged). 1 failed.");
  assert.deepEqual(mixed.failed, [{ slug: "b", error: "not found (not_found)" }]);
  assert.deepEqual(mixed.skipped, [{ slug: "c", reason: "already tagged" }]);
  assert.equal(logic.progressText(3, 12), "3 of 12");
});

test("the pool runs every item, never more than its limit at once, and keeps the items' order", async () => {
  let running = 0;
  let most = 0;
  const seen = [];
  const items = Array.from({ length: 11 }, (_, i) => i);
  const results = await logic.runPool(
    items,
    4,
    async (i) => {
      running++;
      most = Math.max(most, running);
      // Later items finish first, so the order of results is not the order of finishing.
      await new Promise((r) => setTimeout(r, (11 - i) * 2));
      running--;
      return i * 10;
    },
    (done) => seen.push(done),
  );
  assert.deepEqual(results, items.map((i) => i * 10));
  assert.equal(most, 4);
  assert.deepEqual(seen, items.map((i) => i + 1));
  assert.deepEqual(await logic.runPool([], 4, async () => 1), []);
});

test("the selection keeps only the rows shown; select all toggles the page", () => {
  const sel = new Set(["a", "b", "gone"]);
  assert.deepEqual([...logic.keepShown(sel, ["a", "b", "c"])], ["a", "b"]);
  assert.equal(logic.pageSelection(sel, ["a", "b", "c"]), "some");
  assert.equal(logic.pageSelection(sel, ["a", "b"]), "all");
  assert.equal(logic.pageSelection(sel, ["c"]), "none");
  assert.deepEqual([...logic.toggledPage(new Set(["a"]), ["a", "b"])].sort(), ["a", "b"]);
  assert.deepEqual([...logic.toggledPage(new Set(["a", "b", "x"]), ["a", "b"])], ["x"]);
});

test("the list notes what a visitor meets beyond a plain redirect, and nothing for a plain link", () => {
  const now = new Date("2026-12-07T12:00:00Z");
  assert.deepEqual(logic.linkNotes(link, now), []);
  const smart = {
    ...link,
    valid_since: "2026-12-08T00:00:00.000Z",
    has_password: true,
    max_clicks: 100,
    targets: { ios: "https://example.com/ios", countries: { DE: "https://example.de/" } },
    variants: [
      { url: "https://example.com/a", weight: 1 },
      { url: "https://example.com/b", weight: 1 },
    ],
    preview: { title: "Card" },
  };
  assert.deepEqual(logic.linkNotes(smart, now), ["scheduled", "password", "max 100 clicks", "device targets", "country targets", "A/B 2", "preview"]);
  // A start already passed is no longer news; an empty country map is no target.
  assert.deepEqual(logic.linkNotes({ ...link, valid_since: "2026-12-01T00:00:00.000Z", targets: { countries: {} } }, now), []);
});

test("a period comes from the hash query: presets relative to today, custom dates as written, the default 30 days", () => {
  const today = "2026-03-01";
  const q = (s) => logic.periodOf(new URLSearchParams(s), today);
  assert.deepEqual(q(""), { preset: "30d", from: "2026-01-31", to: today, bots: false });
  assert.deepEqual(q("period=7d&bots=1"), { preset: "7d", from: "2026-02-23", to: today, bots: true });
  assert.equal(q("period=90d").from, "2025-12-02");
  assert.deepEqual(q("period=12m"), { preset: "12m", from: "2025-03-02", to: today, bots: false });
  assert.equal(q("period=nonsense").preset, "30d");
  assert.deepEqual(q("from=2025-01-01&to=2025-01-31"), { preset: "custom", from: "2025-01-01", to: "2025-01-31", bots: false });
  assert.deepEqual(q("from=2025-13-01"), { preset: "custom", from: "2025-13-01", to: "", bots: false });
  // …and goes back into it: the default leaves the URL plain.
  for (const s of ["", "?period=7d&bots=1", "?period=12m", "?from=2025-01-01&to=2025-01-31", "?from=2025-01-01&to=2025-01-31&bots=1"]) {
    assert.equal(logic.periodQuery(q(s.slice(1))), s);
  }
  assert.equal(logic.periodQuery(logic.presetPeriod("30d", today, true)), "?bots=1");
});

test("a custom period's error goes beside the date the API names, else beside the pair; empty dates are caught first", () => {
  const p = { from: "2025-13-01", to: "2025-01-31" };
  assert.equal(logic.periodErrorField("'2025-13-01' is not a date like 2026-11-25", p), "from");
  assert.equal(logic.periodErrorField("'2025-01-31x' is not a date like 2026-11-25", { from: "2025-01-01", to: "2025-01-31x" }), "to");
  assert.equal(logic.periodErrorField("from must not be after to", p), "period");
  assert.equal(logic.periodErrorField("a range spans at most 366 days", p), "period");
  assert.deepEqual(logic.customPeriodError({ from: "", to: "2025-01-01" }).field, "from");
  assert.deepEqual(logic.customPeriodError({ from: "2025-01-01", to: "" }).field, "to");
  assert.equal(logic.customPeriodError({ from: "2025-01-01", to: "2025-01-02" }), null);
});

test("the Variants breakdown labels each variant, counts the unclicked as 0 and the ungrouped as other", () => {
  const variants = [
    { url: "https://a.example", weight: 70 },
    { url: "https://b.example", weight: 30 },
  ];
  assert.deepEqual(logic.variantRows(variants, { total: 10, groups: [{ key: "2", clicks: 3 }, { key: "1", clicks: 6 }] }), [
    { key: "1", label: "1 · https://a.example (weight 70)", clicks: 6, share: 60 },
    { key: "2", label: "2 · https://b.example (weight 30)", clicks: 3, share: 30 },
    { key: "other", label: "before variants / other", clicks: 1, share: 10 },
  ]);
  // No clicks: every variant at 0, no division by zero; a place the link no longer has is kept.
  assert.deepEqual(
    logic.variantRows(variants, { total: 0, groups: [] }).map((r) => [r.key, r.clicks, r.share]),
    [["1", 0, 0], ["2", 0, 0], ["other", 0, 0]],
  );
  const gone = logic.variantRows(variants, { total: 4, groups: [{ key: "3", clicks: 4 }] });
  assert.deepEqual(gone.map((r) => [r.label, r.clicks, r.share]), [
    ["1 · https://a.example (weight 70)", 0, 0],
    ["2 · https://b.example (weight 30)", 0, 0],
    ["3 · (no longer a variant)", 4, 100],
    ["before variants / other", 0, 0],
  ]);
});

test("a tag is normalised by the API's rules before anything is sent", () => {
  assert.deepEqual(logic.parseTag("  Café "), { tag: "café" });
  assert.deepEqual(logic.parseTag("ÄÖÜ"), { tag: "äöü" });
  assert.deepEqual(logic.parseTag("é".repeat(32)), { tag: "é".repeat(32) });
  assert.deepEqual(logic.parseTag(`\u3000${"x".repeat(32)}\u00a0`), { tag: "x".repeat(32) });
  for (const bad of ["", "   ", "a b", "a,b", "a\tb", "a\u0000b", "a\u00a0b", "x\u007f", "é".repeat(33)]) {
    assert.ok("error" in logic.parseTag(bad), JSON.stringify(bad));
  }
  // Lower-casing may lengthen a tag: the bound holds for what is stored.
  assert.ok("error" in logic.parseTag("İ".repeat(32)));
  assert.deepEqual(logic.renameTarget("old", " NEW "), { to: "new" });
  assert.ok("error" in logic.renameTarget("old", "OLD"));
  assert.ok("error" in logic.renameTarget("old", "two words"));
});

test("a rename is one POST of both names; a delete one DELETE naming the tag", () => {
  assert.deepEqual(logic.tagChangeRequest({ from: "q3", to: "autumn" }), {
    method: "POST",
    path: "/api/tags/rename",
    body: { from: "q3", to: "autumn" },
  });
  assert.deepEqual(logic.tagChangeRequest({ from: "été&co", to: null }), { method: "DELETE", path: "/api/tags?tag=%C3%A9t%C3%A9%26co" });
});

test("a tag change is sent again while the API says more, and never more than the bound", async () => {
  const answers = [
    { links: 1000, more: true, failed: [{ slug: "x", code: "unavailable", message: "try later" }] },
    { links: 1000, more: true, failed: [] },
    { links: 3, more: false, failed: [{ slug: "x", code: "not_found", message: "gone" }, { slug: "y", code: "conflict", message: "busy" }] },
  ];
  let sent = 0;
  const r = await logic.repeatWhileMore(async () => answers[sent++]);
  assert.equal(sent, 3);
  assert.equal(r.links, 2003);
  assert.equal(r.more, false);
  // A slug that failed twice is listed once, with its latest error.
  assert.deepEqual(r.failed, [
    { slug: "x", code: "not_found", message: "gone" },
    { slug: "y", code: "conflict", message: "busy" },
  ]);
  let rounds = 0;
  const endless = await logic.repeatWhileMore(async () => (rounds++, { links: 1000, more: true, failed: [] }), 5);
  assert.equal(rounds, 5);
  assert.deepEqual(endless, { links: 5000, more: true, failed: [] });
  assert.equal(logic.TAG_ROUNDS_MAX, 50);
  // A refusal stops the rounds and reaches the page.
  await assert.rejects(logic.repeatWhileMore(async () => Promise.reject(new Error("400"))), /400/);
});

test("a rename's or delete's summary says on how many links, and each failure with the API's message", () => {
  const ok = (links) => ({ links, more: false, failed: [] });
  assert.deepEqual(logic.tagChangeSummary({ from: "a", to: "b" }, ok(3)), { text: "Renamed a to b on 3 links.", failed: [] });
  assert.equal(logic.tagChangeSummary({ from: "a", to: null }, ok(1)).text, "Removed a from 1 link.");
  assert.equal(logic.tagChangeSummary({ from: "a", to: null }, ok(0)).text, "Removed a from 0 links.");
  const s = logic.tagChangeSummary({ from: "a", to: null }, { links: 2, more: true, failed: [{ slug: "y", code: "not_found", message: "no link y" }] });
  assert.equal(s.text, "Removed a from 2 links. 1 failed. More links still carry it: do it again to go on.");
  assert.deepEqual(s.failed, [{ slug: "y", error: "no link y (not_found)" }]);
});
