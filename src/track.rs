//! The shell of click analytics: recording a click after a redirect is decided, and applying
//! the click queue to the D1 roll-up.
//!
//! A click is derived from the request in the fetch handler ([`crate::analytics::click_of`]:
//! classes, hashes and hosts only), written as one Analytics Engine data point (a synchronous,
//! fire-and-forget call) and sent as one small queue message inside `waitUntil`, so the
//! response never waits for either. The queue consumer ([`consume`]) applies batches of up to
//! 100 clicks to the roll-up exactly once.

use serde::Serialize;
use worker::wasm_bindgen::prelude::*;
use worker::{console_error, worker_sys, Env, MessageBatch, MessageExt};

use crate::analytics::Click;
use crate::platform::rollup;
use crate::random;

// `CLICKS` and `CLICK_QUEUE` are `platform::CLICKS_BINDING` and `CLICK_QUEUE_BINDING`. One JS
// call records a click: through workers-rs' builders the data point and the message took about
// 90 boundary crossings (an array push or property set per field; BENCHMARKS.md).
#[wasm_bindgen(inline_js = r#"
export function record_click(env, ctx, slug, blobs, message) {
  const dataset = env.CLICKS;
  if (dataset) {
    try {
      dataset.writeDataPoint({ indexes: [slug], blobs: JSON.parse(blobs), doubles: [1] });
    } catch (e) {
      console.error(`analytics data point for ${slug}: ${e}`);
    }
  }
  const queue = env.CLICK_QUEUE;
  if (message !== undefined && queue) {
    ctx.waitUntil(
      queue.send(message, { contentType: "text" })
        .catch((e) => console.error(`click queue send for ${slug}: ${e}`)),
    );
  }
}
"#)]
extern "C" {
    fn record_click(
        env: &Env,
        ctx: &worker_sys::Context,
        slug: &str,
        blobs: &str,
        message: Option<String>,
    );
}

/// Records a click: the Analytics Engine data point now (it does not block), the queue
/// message (when `rollup` is on) in `waitUntil`. A missing binding records nothing there;
/// failures are logged: a redirect never fails for analytics.
pub fn record(env: &Env, ctx: &worker_sys::Context, click: &Click, rollup: bool) {
    let Ok(blobs) = serde_json::to_string(&click.blobs()) else {
        return;
    };
    let message = rollup.then(|| serde_json::to_string(click).ok()).flatten();
    record_click(env, ctx, &click.slug, &blobs, message);
}

/// A consumer's report, logged as one JSON line.
#[derive(Debug, Default, Serialize)]
struct ConsumeSummary {
    event: &'static str,
    messages: usize,
    applied: usize,
    unreadable: usize,
    error: Option<String>,
}

/// Applies a batch of click messages to the roll-up, exactly once (see `store::rollup`).
/// Unreadable messages are acknowledged and dropped; on a D1 failure the whole batch is
/// retried (already counted ids are skipped then).
pub async fn consume(batch: MessageBatch<String>, env: &Env) {
    let mut summary = ConsumeSummary {
        event: "click_rollup",
        ..ConsumeSummary::default()
    };
    let messages = match batch.messages() {
        Ok(m) => m,
        Err(e) => {
            console_error!("click batch unreadable: {e}");
            batch.retry_all();
            return;
        }
    };
    summary.messages = messages.len();
    let clicks: Vec<(String, Click)> = messages
        .iter()
        .filter_map(|m| {
            let click = serde_json::from_str::<Click>(m.body()).ok();
            if click.is_none() {
                summary.unreadable += 1;
            }
            click.map(|c| (m.id(), c))
        })
        .collect();
    let result = match (rollup(env), random::token(16, &nanoid::alphabet::SAFE)) {
        (Ok(r), Ok(token)) => r.apply(&clicks, &token).await.map_err(|e| e.to_string()),
        (Err(e), _) => Err(e.to_string()),
        (_, Err(e)) => Err(e.to_string()),
    };
    match result {
        Ok(()) => {
            summary.applied = clicks.len();
            batch.ack_all();
            worker::console_log!("{}", serde_json::to_string(&summary).unwrap_or_default());
        }
        Err(e) => {
            summary.error = Some(e);
            console_error!("{}", serde_json::to_string(&summary).unwrap_or_default());
            batch.retry_all();
        }
    }
}
