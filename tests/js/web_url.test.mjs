// The URL parser's JS side (src/web_url.js): the line-per-field answer `WebUrl::from_fields`
// reads, from the runtime's `URL` (Node's is the same WHATWG parser).
import assert from "node:assert/strict";
import { test } from "node:test";

import { url_fields, url_query_param } from "../../src/web_url.js";

test("a URL's fields come one a line, href last", () => {
  assert.equal(
    url_fields("HTTPS://user@Example.COM:8443/a b?q=1"),
    "https\nexample.com\n1\nhttps://example.com:8443\nhttps://user@example.com:8443/a%20b?q=1",
  );
  assert.equal(url_fields("https://bücher.de/").split("\n")[1], "xn--bcher-kva.de");
  assert.equal(url_fields("not a url"), undefined);
});

test("a query parameter is decoded, or undefined", () => {
  assert.equal(url_query_param("https://sho.rt/?cursor=a%20b", "cursor"), "a b");
  assert.equal(url_query_param("https://sho.rt/", "cursor"), undefined);
  assert.equal(url_query_param("nope", "cursor"), undefined);
});
