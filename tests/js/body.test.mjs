// src/api/body.js, the API's body reader, on Node's own Request and streams (the Workers
// runtime has the same WHATWG ones): the whole body within the limit, `null` past it, and a
// sender that keeps going or stalls past the limit is cut off rather than waited for.
import assert from "node:assert/strict";
import { test } from "node:test";

import { read_body_within } from "../../src/api/body.js";

const enc = new TextEncoder();

/// A POST whose body is `chunks`, one per pull; after them the stream ends, or never does
/// (`stall`). `state` counts pulls and records a cancel.
function streamed(chunks, { stall = false } = {}) {
  const state = { pulls: 0, cancelled: false };
  const body = new ReadableStream({
    pull(controller) {
      state.pulls += 1;
      if (state.pulls <= chunks.length) controller.enqueue(chunks[state.pulls - 1]);
      else if (stall) return new Promise(() => {});
      else controller.close();
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { request: new Request("http://edgelink.test/api/links", { method: "POST", body, duplex: "half" }), state };
}

test("no body reads as empty; a body within or at the limit reads whole", async () => {
  assert.deepEqual(await read_body_within(new Request("http://edgelink.test/", { method: "POST" }), 8), new Uint8Array(0));
  const whole = await read_body_within(new Request("http://edgelink.test/", { method: "POST", body: "hello" }), 8);
  assert.equal(new TextDecoder().decode(whole), "hello");
  const { request } = streamed([enc.encode("abcd"), enc.encode("efgh")]);
  assert.equal(new TextDecoder().decode(await read_body_within(request, 8)), "abcdefgh");
});

test("a body past the limit is null, whatever its chunks", async () => {
  const { request, state } = streamed([enc.encode("abcd"), enc.encode("efgh"), enc.encode("i")]);
  assert.equal(await read_body_within(request, 8), null);
  // What came after the crossing chunk was drained, not kept: the stream was read to its end.
  assert.equal(state.pulls, 4);
});

test("a sender that stalls past the limit is cut off, and its stream cancelled", async () => {
  const { request, state } = streamed([new Uint8Array(16)], { stall: true });
  assert.equal(await read_body_within(request, 8), null);
  assert.equal(state.cancelled, true);
});

test("a sender that keeps sending past the drain's bound is cancelled", async () => {
  const chunk = new Uint8Array(1024 * 1024);
  const { request, state } = streamed(Array.from({ length: 12 }, () => chunk));
  assert.equal(await read_body_within(request, 8), null);
  assert.equal(state.cancelled, true);
  assert.ok(state.pulls < 12, `read ${state.pulls} chunks of 1 MiB past an 8 MiB drain bound`);
});
