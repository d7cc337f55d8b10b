// The binding names the JS glue reads (src/bindings.js) against what wrangler.toml declares: a
// renamed binding fails here, not on the first redirect after a deploy.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as bindings from "../../src/bindings.js";

// The names wrangler.toml binds: `binding = "…"` (KV, D1, Analytics Engine, queue producers)
// and `name = "…"` of `[[durable_objects.bindings]]` and `[[ratelimits]]`.
function declared() {
  const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
  const names = new Set();
  let section = "";
  for (const line of toml.split("\n")) {
    const header = line.match(/^\s*\[\[?([^\]]+)\]\]?/);
    if (header) section = header[1].trim();
    const binding = line.match(/^\s*binding\s*=\s*"([^"]+)"/);
    if (binding) names.add(binding[1]);
    const name = line.match(/^\s*name\s*=\s*"([^"]+)"/);
    if (name && (section === "durable_objects.bindings" || section === "ratelimits")) {
      names.add(name[1]);
    }
  }
  return names;
}

test("every binding the JS glue reads is declared in wrangler.toml, by the same name", () => {
  const names = declared();
  assert.ok(names.has("DB") && names.has("SLUG_CLAIMS"), "the parser reads wrangler.toml");
  const used = Object.entries(bindings);
  assert.ok(used.length >= 3);
  for (const [constant, name] of used) {
    assert.equal(constant, name, "a constant is named as its binding");
    assert.ok(names.has(name), `${name} is not bound in wrangler.toml`);
  }
});

test("API_RATE_LIMIT says the API_LIMITER binding's limit (src/ratelimit.rs)", () => {
  const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
  const binding = toml.match(
    /\[\[ratelimits\]\]\s*\nname = "API_LIMITER"\s*\nnamespace_id = "\d+"\s*\nsimple = \{ limit = (\d+), period = 60 \}/,
  );
  assert.ok(binding, "the API_LIMITER binding with a 60 s period");
  const variable = toml.match(/^API_RATE_LIMIT = "(\d+)"$/m);
  assert.ok(variable, "the API_RATE_LIMIT var");
  assert.equal(variable[1], binding[1]);
});
