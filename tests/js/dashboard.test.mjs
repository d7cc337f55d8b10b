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
  assert.equal(api.qs({ q: "a b", tag: ["x", "y"], cursor: null, state: "" }), "?q=a+b&tag=x&tag=y");
});
