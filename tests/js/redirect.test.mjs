// The redirect's JS side (src/api/redirect.js, src/api/redirect/request_line.js), run as the
// Worker runs it: the real module, no copy. `node --test`, from `make test`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { link_options, link_shape, parsed, read_then, sink_view } from "../../src/api/redirect.js";
import { ascii_into, request_line_into } from "../../src/api/redirect/request_line.js";

// `Shape`'s bits (src/api/redirect.rs).
const LINK = 1, ACTIVE = 2, FORWARD_QUERY = 4, FLAG_REASON = 8, EXPIRES_AT = 16, MAX_CLICKS = 32;
const SMART = 1 << 24;

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

test("a link with targets, variants or a preview is smart, and their JSON types are checked", () => {
  const plain = LINK | ACTIVE | FORWARD_QUERY | (302 << 8);
  const targets = { ios: "https://i.example/", countries: { DE: "https://de.example/" } };
  const variants = [{ url: "https://a.example/", weight: 1 }, { url: "https://b.example/", weight: 2 }];
  const preview = { title: "T" };
  for (const smart of [{ targets }, { variants }, { preview }, { targets, variants, preview }]) {
    assert.equal(shapeOf({ ...stored, ...smart }), plain | SMART, JSON.stringify(smart));
  }
  assert.equal(shapeOf({ ...stored, targets: null, variants: null, preview: null }), plain);
  assert.equal(shapeOf({ ...stored, redirect_type: 0xffff, preview }) >>> 8 & 0xffff, 0xffff);
  for (const bad of [
    { targets: "https://x/" }, { targets: [] }, { variants: {} }, { variants: "a" },
    { preview: "T" }, { preview: [] },
  ]) {
    assert.equal(shapeOf({ ...stored, ...bad }), 0, JSON.stringify(bad));
  }
});

test("link_options hands over only the visitor's country's target", () => {
  const link = {
    ...stored,
    targets: { ios: "https://i.example/", countries: { DE: "https://de.example/", FR: "https://fr.example/" } },
    variants: [{ url: "https://a.example/", weight: 1 }, { url: "https://b.example/", weight: 2 }],
    preview: { title: "T" },
  };
  assert.deepEqual(JSON.parse(link_options(link, "DE")), {
    targets: { ios: "https://i.example/", country: "https://de.example/" },
    variants: link.variants,
    preview: { title: "T" },
  });
  assert.deepEqual(JSON.parse(link_options(link, "US")).targets, { ios: "https://i.example/" });
  // Inherited names are no country of the link's.
  for (const odd of ["", "__proto__", "constructor", "toString"]) {
    assert.equal(JSON.parse(link_options(link, odd)).targets.country, undefined, odd);
  }
  assert.deepEqual(JSON.parse(link_options({ ...stored, preview: { title: "T" } }, "DE")), {
    preview: { title: "T" },
  });
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

// Sink's values (ccbikai/Sink: `link:<slug>` → camelCase JSON, times in Unix seconds), as 0.2
// and 0.3 write them.
const sink02 = {
  id: "k3x9vd2mpa", url: "https://example.com/a?b=1", slug: "abc", comment: "note",
  createdAt: 1700000000, updatedAt: 1700000500, title: "Hello",
};
const sinkView = (value, key = "link:abc") => sink_view(parsed(JSON.stringify(value)), key);

test("a Sink link reads as the 301 it was, without the visitor's query, never expiring", () => {
  const view = sinkView(sink02);
  assert.equal(view.url, "https://example.com/a?b=1");
  assert.equal(view.slug, "abc");
  assert.equal(link_shape(view), LINK | ACTIVE | (301 << 8));
  // Only through the Sink view: the raw value is no edgelink link.
  assert.equal(shapeOf(sink02), 0);
  // The slug is the key's, whatever the value says.
  assert.equal(sinkView({ ...sink02, slug: "other" }, "link:mine").slug, "mine");
  assert.equal(sinkView({ url: "https://example.com/" }).slug, "abc");
});

test("a Sink link's expiration, query forwarding and password are honoured", () => {
  const v = sinkView({ ...sink02, expiration: 1900000000, redirectWithQuery: true });
  assert.equal(v.expires_at, "2030-03-17T17:46:40.000Z");
  assert.equal(link_shape(v), LINK | ACTIVE | FORWARD_QUERY | EXPIRES_AT | (301 << 8));
  assert.equal(sinkView({ ...sink02, expiration: "1900000000" }).expires_at, v.expires_at);
  // What `seconds` in src/exchange/sink.rs reads as none is none here too.
  for (const none of [-5, "soon", null, true, 253402300800, 1e300]) {
    assert.equal(sinkView({ ...sink02, expiration: none }).expires_at, null, String(none));
  }
  assert.equal(sinkView({ ...sink02, expiration: 253402300799 }).expires_at,
    "9999-12-31T23:59:59.000Z");
  assert.equal(link_shape(sinkView({ ...sink02, redirectWithQuery: "yes" })) & FORWARD_QUERY, 0);
  // A plain-text password (Sink before hashing) cannot be checked: stopped, no flag.
  assert.equal(link_shape(sinkView({ ...sink02, password: "hunter2" })), LINK | (301 << 8));
  // Sink's hash makes a password link, with the hash in edgelink's form and no tail.
  const hash = "sink-pwd:v1:10000:ZWRnZWxpbmstZTJlLXNhbHQ:EvVDOFsN8OsgppUx4hk3C0-1Y5Q5zpt0_bqKuQTP1hE:dCA3";
  const guarded = sinkView({ ...sink02, password: hash });
  assert.equal(link_shape(guarded), LINK | ACTIVE | 128 | (301 << 8));
  assert.equal(
    guarded.password_hash,
    "pbkdf2-sha256:10000:ZWRnZWxpbmstZTJlLXNhbHQ:EvVDOFsN8OsgppUx4hk3C0-1Y5Q5zpt0_bqKuQTP1hE",
  );
  assert.equal(link_shape(sinkView({ ...sink02, password: hash.replace(":10000:", ":100001:") })),
    LINK | (301 << 8));
  assert.equal(link_shape(sinkView({ ...sink02, password: " " })) & ACTIVE, ACTIVE);
});

test("a Sink link's device redirects and social card read as targets and a preview", () => {
  const app = sinkView({
    ...sink02, description: " Get\u0007it ", image: "https://example.com/card.png",
    apple: "https://apps.apple.com/app/id1", google: "javascript:alert(1)",
  });
  // As `SinkLink::targets` / `preview` (src/exchange/sink.rs): a bad URL dropped, not the link.
  assert.deepEqual(app.targets, { ios: "https://apps.apple.com/app/id1" });
  assert.deepEqual(app.preview, {
    title: "Hello", description: "Get it", image: "https://example.com/card.png",
  });
  assert.equal(link_shape(app), LINK | ACTIVE | (301 << 8) | (1 << 24));
  assert.deepEqual(JSON.parse(link_options(app, "DE")).targets, { ios: "https://apps.apple.com/app/id1" });
  // A title alone, an http image, blank or non-string fields: no card, no targets.
  const plain = sinkView({ ...sink02, image: "http://example.com/i.png", description: "  ", apple: 5 });
  assert.equal(plain.targets, null);
  assert.equal(plain.preview, null);
  assert.equal(link_shape(plain), LINK | ACTIVE | (301 << 8));
  // Cut by code points, as Rust counts characters.
  const long = "\u{1F600}".repeat(600);
  assert.equal(Array.from(sinkView({ ...sink02, description: long }).preview.description).length, 500);
  // A URL past 2048 bytes is none, for `url` as for the targets.
  const huge = `https://example.com/${"a".repeat(2040)}`;
  assert.equal(sinkView({ ...sink02, url: huge }), null);
  assert.equal(sinkView({ ...sink02, google: huge }).targets, null);
});

test("values that are neither edgelink's nor a Sink link edgelink can follow are none", () => {
  for (const notSink of [
    "null", "[]", '"https://example.com/"', "{}", "7", '{"url":5}',
    '{"url":"javascript:alert(1)"}', '{"url":"ftp://example.com/"}', '{"url":"not a url"}',
    '{"url":"https://user:pw@example.com/"}',
    // A damaged edgelink value is edgelink's: never read as Sink's.
    '{"url":"https://example.com/","owner":5}', '{"url":"https://example.com/","version":1}',
  ]) {
    assert.equal(sink_view(parsed(notSink), "link:abc"), null, notSink);
  }
  assert.equal(sink_view(parsed("not json"), "link:abc"), null);
  assert.equal(link_shape(null), 0);
});

test("read_then decides a Sink value through its view, and edgelink's as before", async () => {
  const env = (value) => ({ LINKS: { get: () => Promise.resolve(value) } });
  const req = {}, ctx = {};
  const sinkEnv = env(JSON.stringify(sink02));
  const args = await read_then(sinkEnv, Buffer.from("link:abc"), 60, req, ctx, 1, (...a) => a);
  assert.deepEqual(args, [sinkView(sink02), LINK | ACTIVE | (301 << 8), false, req, sinkEnv, ctx, 1]);
  const junk = env("garbage");
  const none = await read_then(junk, Buffer.from("link:abc"), 60, req, ctx, 1, (...a) => a);
  assert.deepEqual(none, [null, 0, false, req, junk, ctx, 1]);
  const missing = env(null);
  const gone = await read_then(missing, Buffer.from("link:abc"), 60, req, ctx, 1, (...a) => a);
  assert.deepEqual(gone, [null, 0, false, req, missing, ctx, 1]);
});
