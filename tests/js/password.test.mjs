// src/api/password.js in Node's WebCrypto (the same API the Workers runtime has), and the
// redirect's check of a guess (`password_check`, src/api/redirect.js) with a counting limiter.
import assert from "node:assert/strict";
import { pbkdf2Sync } from "node:crypto";
import { test } from "node:test";

import { hash_password, parse_hash, verify_password } from "../../src/api/password.js";
import { password_check } from "../../src/api/redirect.js";

test("a hash is PBKDF2-SHA256 at 100,000 iterations with a fresh salt, and verifies", async () => {
  const a = await hash_password("correct horse 1");
  const b = await hash_password("correct horse 1");
  assert.notEqual(a, b);
  assert.match(a, /^pbkdf2-sha256:100000:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$/);
  const { salt, hash } = parse_hash(a);
  // Node's own PBKDF2 agrees with the runtime's WebCrypto.
  assert.deepEqual(Buffer.from(hash), pbkdf2Sync("correct horse 1", salt, 100000, 32, "sha256"));
  assert.equal(await verify_password("correct horse 1", a), true);
  assert.equal(await verify_password("correct horse 2", a), false);
  assert.equal(await verify_password("", a), false);
});

test("malformed stored values never verify", async () => {
  for (const bad of [null, "", "plain", "pbkdf2-sha256:0:c2FsdA:AAAA", "pbkdf2-sha256:200000:c2FsdA:" + "A".repeat(43)]) {
    assert.equal(parse_hash(bad), null, String(bad));
    assert.equal(await verify_password("plain", bad), false);
  }
});

test("password_check: no guess, right, wrong, and over the limit whatever the guess", async () => {
  const link = { slug: "abc", password_hash: await hash_password("open sesame") };
  let counted = 0;
  const env = { PASSWORD_LIMITER: { limit: async ({ key }) => ({ success: ++counted <= 2 && key === "1.2.3.4 abc" }) } };
  const get = (password) => new Request("https://e.test/abc", {
    headers: { "CF-Connecting-IP": "1.2.3.4", ...(password ? { "X-Link-Password": password } : {}) },
  });
  const post = (body) => new Request("https://e.test/abc", {
    method: "POST", body, headers: { "CF-Connecting-IP": "1.2.3.4", "Content-Type": "application/x-www-form-urlencoded" },
  });
  assert.equal(await password_check(get(null), env, link, false), 0);
  assert.equal(await password_check(post("x=1"), env, link, true), 0);
  assert.equal(counted, 0, "no guess, nothing counted");
  assert.equal(await password_check(post("password=open+sesame"), env, link, true), 1);
  assert.equal(await password_check(get("nope"), env, link, false), 2);
  assert.equal(await password_check(get("open sesame"), env, link, false), 3);
  assert.equal(await password_check(post("password=" + "x".repeat(5000)), env, link, true), 3);
  // Without the binding, nothing is limited.
  assert.equal(await password_check(get("open sesame"), {}, link, false), 1);
});
