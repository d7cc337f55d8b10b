// Click recording's JS side (src/track.rs): one call writes the Analytics Engine data point and
// sends the roll-up's queue message, so a click crosses the wasm boundary once. Through
// workers-rs' builders the data point and the message took about 90 crossings (an array push or
// property set per field; BENCHMARKS.md). A missing binding records nothing there; a failure is
// logged, never thrown: a redirect never fails for analytics.

import { CLICKS, CLICK_QUEUE } from "./bindings.js";

export function record_click(env, ctx, slug, blobs, message) {
  const dataset = env[CLICKS];
  if (dataset) {
    try {
      dataset.writeDataPoint({ indexes: [slug], blobs: JSON.parse(blobs), doubles: [1] });
    } catch (e) {
      console.error(`analytics data point for ${slug}: ${e}`);
    }
  }
  const queue = env[CLICK_QUEUE];
  if (message !== undefined && queue) {
    ctx.waitUntil(
      queue.send(message, { contentType: "text" })
        .catch((e) => console.error(`click queue send for ${slug}: ${e}`)),
    );
  }
}
