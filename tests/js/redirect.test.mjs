// The redirect's JS side (src/api/redirect.js, src/api/redirect/request_line.js), run as the
// Worker runs it: the real module, no copy. `node --test`, from `make test`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { link_shape, parsed, read_then } from "../../src/api/redirect.js";
import { ascii_into, request_line_into } from "../../src/api/redirect/request_line.js";

// `Shape`'s bits (src/api/redirect.rs).
const LINK = 1, ACTIVE = 2, FORWARD_QUERY = 4, FLAG_REASON = 8, EXPIRES_AT = 16, MAX_CLICKS = 32;

// A link as `Link` serialises it into KV (src/link/record.rs).
const stored = {
  slug: "abc", url: "https://example.com/a", title: null, owner: "admin", is_active: true,
  flag_reason: null, created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z", version: 1, expires_at: null, archived: false,
  redirect_type: 302, forward_query: true, max_clicks: null,
};
const shapeOf = (link) => link_shape(parsed(JSON.stringify(link)));

test("a stored link's shape carries its flags and redirect type", () => {
  assert.equal(shapeOf(stored), LINK | ACTIVE | FORWARD_QUERY | (302 << 8));
  const all = {
    ...stored, is_active: false, flag_reason: "spam", expires_at: "2027-01-01T00:00:00.000Z",
    redirect_type: 308, forward_query: false, max_clicks: 5,
  };
  assert.equal(shapeOf(all), LINK | FLAG_REASON | EXPIRES_AT | MAX_CLICKS | (308 << 8));
  assert.equal(shapeOf({ ...stored, redirect_type: 0xffff }) >>> 8, 0xffff);
});

test("values written before the lifecycle fields read with Link's defaults", () => {
  const old = {
    slug: "abc", url: "https://example.com/a", title: null, owner: "admin", is_active: true,
    flag_reason: null, created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z", version: 1,
  };
  assert.equal(shapeOf(old), LINK | ACTIVE | FORWARD_QUERY | (302 << 8));
});

test("a field of the wrong JSON type, or a missing required one, is no link", () => {
  const cases = [
    ["redirect_type", 302.5], ["redirect_type", null], ["redirect_type", "302"],
    ["redirect_type", -1], ["redirect_type", 0x10000], ["max_clicks", "5"],
    ["expires_at", 1700000000000], ["is_active", "yes"], ["is_active", null],
    ["forward_query", null], ["url", null], ["owner", 7], ["flag_reason", false],
  ];
  for (const [field, value] of cases) {
    assert.equal(shapeOf({ ...stored, [field]: value }), 0, `${field}: ${JSON.stringify(value)}`);
  }
  for (const required of ["url", "slug", "owner", "created_at", "is_active"]) {
    const { [required]: _, ...without } = stored;
    assert.equal(shapeOf(without), 0, `without ${required}`);
  }
  for (const notALink of ["null", "[]", '"link"', "{}", "7"]) {
    assert.equal(link_shape(parsed(notALink)), 0, notALink);
  }
  // Numbers `Link` could not have written are still numbers: decide refuses their values.
  assert.notEqual(shapeOf({ ...stored, max_clicks: -1 }) & MAX_CLICKS, 0);
  assert.notEqual(shapeOf({ ...stored, max_clicks: 1.5 }) & MAX_CLICKS, 0);
});

test("parsed tells no value from a value that is not JSON", () => {
  assert.equal(parsed(null), null);
  assert.equal(parsed("not json"), undefined);
  assert.equal(link_shape(parsed("not json")), 0);
  assert.deepEqual(parsed('{"a":1}'), { a: 1 });
});

test("the request line is the method, a space and the URL, in ASCII", () => {
  const buf = new Uint8Array(64);
  const req = { method: "GET", url: "https://sho.rt/abc?x=1" };
  const n = request_line_into(req, buf);
  assert.equal(Buffer.from(buf.subarray(0, n)).toString("latin1"), "GET https://sho.rt/abc?x=1");
  // Too long for the buffer, or not ASCII: -1, and the caller copies the slow way.
  assert.equal(request_line_into(req, new Uint8Array(10)), -1);
  assert.equal(request_line_into({ method: "GET", url: "https://sho.rt/ä" }, buf), -1);
  assert.equal(request_line_into({ method: "GET", url: "x" }, new Uint8Array(3)), -1);
});

test("ascii_into copies at an offset and refuses what does not fit", () => {
  const buf = new Uint8Array(5);
  assert.equal(ascii_into("ab", buf, 1), 3);
  assert.deepEqual([...buf], [0, 97, 98, 0, 0]);
  assert.equal(ascii_into("abcde", buf, 1), -1);
  assert.equal(ascii_into("é", buf, 0), -1);
  assert.equal(ascii_into("", buf, 5), 5);
});

// The trip a redirect's `Visit` bits (and the read's outcome) make through the JS side: the KV
// read's `then` hands `decide` the parsed link, its shape and the visit exactly as given.
test("read_then hands decide the parsed link, its shape and the visit bits unchanged", async () => {
  const reads = [];
  const env = {
    LINKS: {
      get(key, options) {
        reads.push([key, options]);
        return Promise.resolve(JSON.stringify(stored));
      },
    },
  };
  const req = {}, ctx = {};
  for (const visit of [0, 1, 2, 3]) {
    const args = await read_then(env, Buffer.from("link:abc"), 60, req, ctx, visit,
      (...a) => a);
    assert.deepEqual(args, [stored, shapeOf(stored), false, req, env, ctx, visit]);
  }
  assert.deepEqual(reads[0], ["link:abc", { type: "text", cacheTtl: 60 }]);
  assert.equal(reads.length, 4);
  // A failed read: no link, shape 0, failed, and the visit still as given.
  const failing = { LINKS: { get: () => Promise.reject(new Error("kv down")) } };
  const err = console.error;
  console.error = () => {};
  try {
    const args = await read_then(failing, Buffer.from("link:abc"), 60, req, ctx, 3, (...a) => a);
    assert.deepEqual(args, [null, 0, true, req, failing, ctx, 3]);
  } finally {
    console.error = err;
  }
});
