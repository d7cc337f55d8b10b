// Reading a request body within a limit, for `body_bytes_within` (src/api/mod.rs).
//
// The body is read by the runtime's own stream reader, chunk by chunk, and nothing past the limit
// is kept. On the chunk that crosses it, the rest is read and thrown away before the answer, for
// at most `DRAIN_MS` and `DRAIN_BYTES`, then the stream is cancelled: in the local runtime an
// answer given while the body is still coming stalled the next requests for tens of seconds
// (whether the stream was cancelled, released, or drained in `waitUntil`), and a sender
// cannot hold the answer back longer than the drain's bounds. One call answers the whole body,
// or `null` when it is over the limit. Tested in Node (tests/js/body.test.mjs).

const DRAIN_MS = 1000;
const DRAIN_BYTES = 8 * 1024 * 1024;

async function drain(reader) {
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ done: true, late: true }), DRAIN_MS);
  });
  let drained = 0;
  try {
    for (;;) {
      const r = await Promise.race([reader.read(), late]);
      if (r.late || (!r.done && (drained += r.value.byteLength) > DRAIN_BYTES)) {
        await reader.cancel().catch(() => {});
        return;
      }
      if (r.done) return;
    }
  } catch (e) {
    // A broken body is as refused as a long one.
  } finally {
    clearTimeout(timer);
  }
}

export async function read_body_within(request, limit) {
  const body = request.body;
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await drain(reader);
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}
