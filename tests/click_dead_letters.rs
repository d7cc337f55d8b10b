//! Clicks the roll-up cannot take are not lost: with the roll-up table renamed away (a real D1
//! failure of every batch), the click queue retries each batch `max_retries` (10) times, then
//! moves it to the dead-letter queue, whose consumer (this Worker) keeps each click in KV. The
//! consistency report counts them; a replay while D1 still fails keeps them; once the table is
//! back, the admin's replay puts them in the link's stats, exactly once, and replaying again (or
//! a dead letter already applied, written back by hand) adds nothing.
//!
//! Locally, miniflare's queue broker (miniflare 4.20260426, `workers/queues/broker.worker.js`)
//! honours `max_retries` and `dead_letter_queue` from wrangler.toml: a retried message is queued
//! again at once (no `retry_delay`) and waits for the next batch (`max_batch_timeout`, 5 s), so
//! 11 attempts take about a minute, which is this test's main cost. It runs in its own binary:
//! the roll-up is down for every link while it runs.

mod common;

use std::time::Duration;

use common::{app, poll_until, User};
use serde_json::{json, Value};

/// 11 attempts a batch at the 5 s batch timeout, the dead-letter batch's own timeout, and a
/// margin for a slow machine.
const DEAD_LETTER_DEADLINE: Duration = Duration::from_secs(240);
const ROLLUP_DEADLINE: Duration = Duration::from_secs(60);
const DEAD_PREFIX: &str = "clicks:dead:";
const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                       Chrome/120.0 Safari/537.36";

fn visit(slug: &str, ip: &str) {
    app()
        .request_with_headers(
            "GET",
            &format!("/{slug}"),
            &[("User-Agent", BROWSER), ("CF-Connecting-IP", ip)],
            None,
        )
        .assert_status(302);
}

fn stats(user: &User, slug: &str) -> Value {
    let resp = app().get(&format!("/api/links/{slug}/stats"), Some(&user.api_key));
    resp.assert_status(200);
    resp.json()
}

fn dead_letters() -> u64 {
    app().consistency()["dead_letter_clicks"]
        .as_u64()
        .expect("dead_letter_clicks in the consistency report")
}

fn replay() -> (u16, Value) {
    let resp = app().post("/api/admin/clicks/replay", Some(app().admin_token()), "");
    (resp.status, resp.json())
}

#[test]
fn clicks_the_rollup_failed_are_kept_counted_and_replayed_once() {
    let user = app().new_user();
    let slug = app().new_link(&user);
    assert_eq!(dead_letters(), 0);

    // The roll-up fails for real: its table is gone.
    app().d1_write("ALTER TABLE clicks_daily RENAME TO clicks_daily_away");
    for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        visit(&slug, ip);
    }

    let kept = poll_until(DEAD_LETTER_DEADLINE, "3 dead-lettered clicks", || {
        Some(dead_letters()).filter(|n| *n == 3)
    });
    assert_eq!(kept, 3);
    let names = app().kv_list_names(DEAD_PREFIX);
    assert_eq!(names.len(), 3, "{names:?}");
    for name in &names {
        let body = app()
            .kv_get(name)
            .expect("a kept dead letter has its click");
        let click: Value = serde_json::from_str(&body).expect("the click's JSON");
        assert_eq!(click["slug"], json!(slug), "{body}");
    }

    // Replaying while D1 still fails keeps every dead letter.
    let (status, body) = replay();
    assert_eq!(status, 503, "{body}");
    assert_eq!(dead_letters(), 3);

    app().d1_write("ALTER TABLE clicks_daily_away RENAME TO clicks_daily");
    // Keep one dead letter as it was, to write it back after it has been applied.
    let again = (names[0].clone(), app().kv_get(&names[0]).expect("value"));

    let (status, body) = replay();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "replayed": 3, "unreadable": 0, "remaining": false })
    );
    let s = stats(&user, &slug);
    assert_eq!(
        (s["total"].clone(), s["unique_visitors"].clone()),
        (json!(3), json!(3)),
        "{s}"
    );
    assert_eq!(dead_letters(), 0);
    assert!(app().kv_list_names(DEAD_PREFIX).is_empty());

    // Idempotent by message id: nothing left replays nothing; an applied dead letter written
    // back is forgotten without being counted twice.
    let (status, body) = replay();
    assert_eq!(
        (status, body["replayed"].clone()),
        (200, json!(0)),
        "{body}"
    );
    app().kv_put(&again.0, &again.1);
    let (status, body) = replay();
    assert_eq!(
        (status, body["replayed"].clone()),
        (200, json!(1)),
        "{body}"
    );
    assert_eq!(stats(&user, &slug)["total"], json!(3));
    assert_eq!(dead_letters(), 0);

    // The queue takes clicks into the roll-up again.
    visit(&slug, "198.51.100.4");
    poll_until(ROLLUP_DEADLINE, "the next click rolled up", || {
        Some(()).filter(|_| stats(&user, &slug)["total"] == json!(4))
    });
}

#[test]
fn replay_is_for_the_admin_only() {
    let user = app().new_user();
    let resp = app().post("/api/admin/clicks/replay", Some(&user.api_key), "");
    resp.assert_error(403, "forbidden");
    app()
        .post("/api/admin/clicks/replay", None, "")
        .assert_error(401, "unauthorized");
    app()
        .get("/api/admin/clicks/replay", Some(app().admin_token()))
        .assert_error(405, "method_not_allowed");
}
