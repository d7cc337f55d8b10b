// The OpenAPI document (assets/api/openapi.json) against the OpenAPI 3.1 schema and its own
// references, by a standard validator. That it describes exactly the Worker's routes is
// src/openapi.rs's test (`cargo test --lib`).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { validate, compileErrors } from "@readme/openapi-parser";

const doc = JSON.parse(readFileSync(new URL("../../assets/api/openapi.json", import.meta.url), "utf8"));

test("the document is valid OpenAPI 3.1", async () => {
  const result = await validate(structuredClone(doc));
  assert.equal(result.valid, true, result.valid ? "" : compileErrors(result));
  assert.equal(doc.openapi, "3.1.0");
});

test("sessions and bearer tokens are both declared, and the CSRF header", () => {
  const schemes = doc.components.securitySchemes;
  assert.deepEqual(schemes.bearerAuth, { ...schemes.bearerAuth, type: "http", scheme: "bearer" });
  assert.equal(schemes.sessionCookie.in, "cookie");
  assert.equal(schemes.sessionCookie.name, "edgelink_session");
  const patch = doc.paths["/api/links/{slug}"].patch;
  assert.ok(patch.parameters.some((p) => p.$ref === "#/components/parameters/Csrf"));
  assert.ok(doc.paths["/api/links/{slug}/qr"].get.responses["304"]);
});
