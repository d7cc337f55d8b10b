//! The shell of click analytics: recording a click after a redirect is decided, and applying
//! the click queue to the D1 roll-up.
//!
//! A click is derived from the request in the fetch handler ([`crate::analytics::click_of`]:
//! classes, hashes and hosts only), written as one Analytics Engine data point (a synchronous,
//! fire-and-forget call) and sent as one small queue message inside `waitUntil`, so the
//! response never waits for either. The queue consumer ([`consume`]) applies batches of up to
//! 100 clicks to the roll-up exactly once.
//!
//! Visitor salt: `ANALYTICS_SALT` when set; otherwise the UTC day's own salt
//! ([`crate::day_salt`]), kept in this isolate once known ([`with_salt`]). A click made while
//! the isolate does not hold today's salt is recorded by [`record_after_day_salt`] inside
//! `waitUntil`, after the response: one KV read of the day's salt (`analytics:salt:<day>`)
//! and, only when KV has none yet (the day's first clicks, or within KV's propagation delay),
//! one request to the day's Durable Object. So a redirect never waits for the salt, and an
//! isolate pays one KV read per UTC day (one per click that arrives before that read returns).
//!
//! Dead letters: a batch the roll-up fails `max_retries` times goes to the click queue's
//! dead-letter queue ([`DEAD_LETTER_QUEUE`]), which this same consumer reads: each click is kept
//! in KV (`clicks:dead:<message id>`), not D1, because a failing D1 is what sends clicks
//! there. The consistency report counts them; [`replay_dead_clicks`] (the admin's
//! `POST /api/admin/clicks/replay`) applies them to the roll-up, idempotently by message id,
//! and forgets each once the roll-up has it.

use std::cell::RefCell;

use serde::Serialize;
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::future_to_promise;
use worker::{console_error, worker_sys, Env, MessageBatch, MessageExt};

use crate::analytics::{choose_salt, click_of, day_of, Click, DaySalt, RequestFacts, SaltChoice};
use crate::app::{self, App};
use crate::random;
use crate::store::day_salt;
use crate::store::kv::{DeadClick, Kv};
use crate::store::StoreError;
use crate::time::Timestamp;

/// The click queue's dead-letter queue: wrangler.toml's `dead_letter_queue` of the click
/// queue's consumer, and a queue this Worker consumes too.
pub const DEAD_LETTER_QUEUE: &str = "edgelink-clicks-dlq";
/// Dead-lettered clicks one replay call applies: one KV list page, five bulk reads, five
/// roll-up batches and a delete each stay well inside 1000 KV operations an invocation.
pub const REPLAY_MAX: u64 = 500;
/// Clicks per roll-up batch on replay, as the queue delivers them.
const REPLAY_BATCH: usize = 100;

// The JS side, in track.js; `CLICKS` and `CLICK_QUEUE` there are `app::CLICKS_BINDING` and
// `app::CLICK_QUEUE_BINDING` (src/bindings.js).
#[wasm_bindgen(module = "/src/track.js")]
extern "C" {
    fn record_click(
        env: &Env,
        ctx: &worker_sys::Context,
        slug: &str,
        blobs: &str,
        message: Option<String>,
    );
}

// bindings.js (the binding names the JS glue reads) is imported by track.js and redirect.js,
// not by Rust; wasm-bindgen copies only the modules Rust names, so it is named here. Never read.
#[wasm_bindgen(module = "/src/bindings.js")]
extern "C" {
    #[allow(dead_code)]
    #[wasm_bindgen(thread_local_v2, js_name = LINKS)]
    static LINKS_BINDING_JS: JsValue;
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

thread_local! {
    /// Today's own salt, once this isolate knows it (unused while `ANALYTICS_SALT` is set).
    static KEPT_SALT: RefCell<Option<DaySalt>> = const { RefCell::new(None) };
}

/// Calls `f` with the salt a click made at `at` uses, if it is known here without any I/O: the
/// configured one, or today's kept one ([`SaltChoice::FetchDaySalt`] otherwise).
pub fn with_salt<T>(configured: Option<&str>, at: Timestamp, f: impl FnOnce(SaltChoice) -> T) -> T {
    if let Some(secret) = configured.filter(|s| !s.is_empty()) {
        return f(SaltChoice::Use(secret));
    }
    let today = day_of(at);
    KEPT_SALT.with(|kept| f(choose_salt(None, kept.borrow().as_ref(), &today)))
}

/// Today's own salt: KV's copy, else the day's Durable Object (which makes it on first use);
/// kept in this isolate for the rest of the day.
async fn fetch_day_salt(env: &Env, day: &str) -> Result<String, StoreError> {
    let salt = match app::kv(env)?.day_salt(day).await? {
        Some(salt) if !salt.is_empty() => salt,
        _ => day_salt::ask(&app::day_salts(env)?, day).await?,
    };
    KEPT_SALT.with(|kept| {
        *kept.borrow_mut() = Some(DaySalt {
            day: day.to_owned(),
            salt: salt.clone(),
        });
    });
    Ok(salt)
}

/// A redirect's click whose visitor salt is still to be read: the request's packed
/// [`RequestFacts`] and what the redirect knew.
pub struct Pending {
    pub facts: String,
    pub slug: String,
    pub owner: String,
    /// The A/B variant the visit went to (`1`–`5`), or empty.
    pub variant: &'static str,
    pub at: Timestamp,
}

/// Records a click once today's salt is known, all inside `waitUntil` (the response does not
/// wait). If the salt cannot be had, the click is still recorded, without a visitor id (and
/// logged).
pub fn record_after_day_salt(env: &Env, ctx: &worker_sys::Context, pending: Pending, rollup: bool) {
    // `Context` is a JS object without `Clone` in workers-rs: a second handle to it.
    let inner_ctx: worker_sys::Context = JsValue::from(ctx).unchecked_into();
    let env = env.clone();
    let work = future_to_promise(async move {
        let Pending {
            facts,
            slug,
            owner,
            variant,
            at,
        } = pending;
        let day = day_of(at);
        let salt = match fetch_day_salt(&env, &day).await {
            Ok(salt) => Some(salt),
            Err(e) => {
                console_error!("visitor salt of {day}: {e}; click of {slug} without visitor id");
                None
            }
        };
        let mut click = click_of(
            &RequestFacts::parse(&facts),
            &slug,
            &owner,
            salt.as_deref(),
            at,
        );
        click.variant = variant.to_owned();
        record(&env, &inner_ctx, &click, rollup);
        Ok(JsValue::UNDEFINED)
    });
    if let Err(e) = ctx.wait_until(&work) {
        console_error!("click of a redirect not recorded: {e:?}");
    }
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
pub async fn consume(batch: MessageBatch<String>, app: &App) {
    if batch.queue() == DEAD_LETTER_QUEUE {
        return keep_dead_letters(batch, &app.kv).await;
    }
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
    let result = match random::token(16, &nanoid::alphabet::SAFE) {
        Ok(token) => app
            .rollup
            .apply(&clicks, &token)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
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

/// Keeps each dead-lettered click in KV. A click whose write fails is retried by the dead-letter
/// queue (its own `max_retries`); the others are acknowledged.
async fn keep_dead_letters(batch: MessageBatch<String>, kv: &Kv) {
    let mut summary = ConsumeSummary {
        event: "click_dead_letters",
        ..ConsumeSummary::default()
    };
    let messages = match batch.messages() {
        Ok(m) => m,
        Err(e) => {
            console_error!("dead-letter batch unreadable: {e}");
            batch.retry_all();
            return;
        }
    };
    summary.messages = messages.len();
    for m in &messages {
        let dead = DeadClick {
            id: m.id(),
            body: m.body().clone(),
        };
        match kv.keep_dead_click(&dead).await {
            Ok(()) => {
                summary.applied += 1;
                m.ack();
            }
            Err(e) => {
                summary.error = Some(e.to_string());
                m.retry();
            }
        }
    }
    // A dead letter is an alert: each is logged as an error, with its id.
    console_error!("{}", serde_json::to_string(&summary).unwrap_or_default());
}

/// What one replay did.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReplaySummary {
    /// Clicks now in the roll-up (and forgotten as dead letters).
    pub replayed: usize,
    /// Kept values that are not a click (forgotten, and logged with their id).
    pub unreadable: usize,
    /// More dead letters wait than this call took.
    pub remaining: bool,
}

/// The dead letters that are clicks, with their ids, and the ids of those that are not.
pub fn readable_dead_clicks(dead: Vec<DeadClick>) -> (Vec<(String, Click)>, Vec<String>) {
    let mut clicks = Vec::new();
    let mut unreadable = Vec::new();
    for d in dead {
        match serde_json::from_str::<Click>(&d.body) {
            Ok(c) => clicks.push((d.id, c)),
            Err(_) => unreadable.push(d.id),
        }
    }
    (clicks, unreadable)
}

/// Applies up to [`REPLAY_MAX`] dead-lettered clicks to the roll-up, a queue batch's worth at a
/// time, exactly as the queue consumer does (so a click already counted is not counted again),
/// and forgets each batch once the roll-up has it. A roll-up failure stops the replay with the
/// rest kept.
pub async fn replay_dead_clicks(app: &App) -> Result<ReplaySummary, StoreError> {
    let (kv, rollup) = (&app.kv, &app.rollup);
    let (dead, remaining) = kv.dead_clicks(REPLAY_MAX).await?;
    let (clicks, unreadable) = readable_dead_clicks(dead);
    let mut summary = ReplaySummary {
        remaining,
        ..ReplaySummary::default()
    };
    for id in &unreadable {
        console_error!("dead-lettered click {id} is not a click; dropped");
        kv.forget_dead_click(id).await?;
        summary.unreadable += 1;
    }
    for batch in clicks.chunks(REPLAY_BATCH) {
        let token = random::token(16, &nanoid::alphabet::SAFE)
            .map_err(|e| StoreError::Index(e.to_string()))?;
        rollup.apply(batch, &token).await?;
        for (id, _) in batch {
            kv.forget_dead_click(id).await?;
        }
        summary.replayed += batch.len();
    }
    worker::console_log!(
        "{}",
        serde_json::json!({ "event": "click_replay", "replayed": summary.replayed,
            "unreadable": summary.unreadable, "remaining": summary.remaining })
    );
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bindings track.js and redirect.js read are named in src/bindings.js (checked against
    /// wrangler.toml by tests/js/bindings.test.mjs) and, for the Rust side, in `app`: these must
    /// be the very names wrangler.toml binds.
    #[test]
    fn the_rust_binding_names_are_bound_in_wrangler_toml() {
        let toml = include_str!("../wrangler.toml");
        for name in [
            crate::app::LINKS_BINDING,
            crate::app::CLICKS_BINDING,
            crate::app::CLICK_QUEUE_BINDING,
        ] {
            assert!(
                toml.lines()
                    .any(|l| l.trim() == format!("binding = \"{name}\"")),
                "{name} is not bound in wrangler.toml"
            );
        }
    }

    #[test]
    fn dead_letters_that_are_clicks_keep_their_ids_and_the_rest_are_named() {
        let click = Click {
            slug: "abc".into(),
            owner: "u".into(),
            day: "2026-12-07".into(),
            country: "DE".into(),
            referrer: "".into(),
            device: "mobile".into(),
            browser: "Safari".into(),
            os: "iOS".into(),
            visitor: "".into(),
            bot: false,
            at: None,
            variant: String::new(),
        };
        let dead = vec![
            DeadClick {
                id: "m1".into(),
                body: serde_json::to_string(&click).unwrap(),
            },
            DeadClick {
                id: "m2".into(),
                body: "not json".into(),
            },
        ];
        let (clicks, unreadable) = readable_dead_clicks(dead);
        assert_eq!(clicks, vec![("m1".to_owned(), click)]);
        assert_eq!(unreadable, vec!["m2".to_owned()]);
    }
}
