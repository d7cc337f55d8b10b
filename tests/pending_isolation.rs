//! Fault isolation in the cron: a pending marker whose repair can never succeed (a user whose D1
//! upsert violates `UNIQUE(email)`, because D1 already holds another user id with that address)
//! stops neither the other markers of the same run nor the sweep. It is retried with backoff,
//! parked after `RECONCILE_PENDING_MAX_ATTEMPTS`, listed with its error in the consistency
//! report, and brought back by `POST /api/admin/reconcile?retry_parked=1`; once its cause is
//! fixed, it is repaired and cleared.
//!
//! Its own binary: it starts the server with a short backoff and few attempts, and its
//! reconcile passes sweep the whole server.

mod common;

use std::time::Duration;

use common::{app_with_vars, now_ms, poll_until, random_alnum, rfc3339_ms, sql_str, TestApp};
use serde_json::{json, Value};

const MAX_ATTEMPTS: u64 = 3;
const BACKOFF_MS: u64 = 4000;
const DEADLINE: Duration = Duration::from_secs(90);

fn app() -> &'static TestApp {
    app_with_vars(&[
        ("RECONCILE_PENDING_MAX_ATTEMPTS", "3"),
        ("RECONCILE_PENDING_BACKOFF_MS", "4000"),
    ])
}

/// `POST /api/admin/reconcile?<query>` as the admin: its summary, asserting 200.
#[track_caller]
fn reconcile(query: &str) -> Value {
    let resp = app().request(
        "POST",
        &format!("/api/admin/reconcile?{query}"),
        Some(app().admin_token()),
        None,
    );
    resp.assert_status(200);
    resp.json()
}

/// A pass's summary must show a whole sweep, whatever its markers met.
#[track_caller]
fn assert_sweep_completed(summary: &Value) {
    assert_eq!(
        summary["sweep_complete"], true,
        "the sweep must run: {summary}"
    );
    assert!(
        summary["scanned"].as_u64() >= Some(1),
        "the sweep must scan KV: {summary}"
    );
}

/// The KV entries (`{"name","metadata"}`) under `prefix` that end with `tail`.
fn markers(prefix: &str, tail: &str) -> Vec<Value> {
    app()
        .kv_list(prefix)
        .into_iter()
        .filter(|k| k["name"].as_str().is_some_and(|n| n.ends_with(tail)))
        .collect()
}

/// The one pending marker ending with `tail`: `(due ms, attempts)`.
#[track_caller]
fn pending_one(tail: &str) -> (u64, u64) {
    let found = markers("sync:pending:", tail);
    assert_eq!(found.len(), 1, "one pending marker of {tail}: {found:?}");
    let name = found[0]["name"].as_str().unwrap_or_default();
    let due = name
        .trim_start_matches("sync:pending:")
        .split(':')
        .next()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("no due time in {name}"));
    (due, found[0]["metadata"]["attempts"].as_u64().unwrap_or(0))
}

#[test]
fn a_failing_marker_is_retried_then_parked_while_the_rest_and_the_sweep_go_on() {
    // Arrange: user A, in KV and D1, holds the address.
    let a = app().new_user();
    poll_until(common::BACKGROUND_DEADLINE, "user A's D1 row", || {
        let rows = app().d1_query(&format!(
            "SELECT id FROM users WHERE id = {}",
            sql_str(&a.id)
        ));
        (!rows.is_empty()).then_some(())
    });
    // User B has the same address in KV (as a race of two creates once could leave it), and a
    // pending marker: its D1 upsert violates UNIQUE(email) on every try.
    let b = format!("u_{}", random_alnum(12));
    let b_user = json!({
        "id": b,
        "email": a.email,
        "role": "user",
        "created_at": rfc3339_ms(now_ms()),
        "disabled": false,
        "version": now_ms(),
    });
    app().kv_put(&format!("user:{b}"), &b_user.to_string());
    let b_tail = format!(":user:{b}");
    app().kv_put(&format!("sync:pending:{:013}{b_tail}", now_ms()), "");
    // A healthy marker in the same run: a link whose D1 row went missing.
    let link = app().create_link_ok(&a, &json!({ "url": "https://example.com/isolated" }));
    let slug = common::slug_of(&link);
    let version = common::version_of(&link);
    let d1_link = || {
        app().d1_query(&format!(
            "SELECT version FROM links WHERE slug = {}",
            sql_str(&slug)
        ))
    };
    poll_until(common::BACKGROUND_DEADLINE, "the link's D1 row", || {
        (!d1_link().is_empty()).then_some(())
    });
    app().d1_write(&format!(
        "DELETE FROM links WHERE slug = {}",
        sql_str(&slug)
    ));
    let link_marker = format!("sync:pending:{:013}:link:{slug}:{version}", now_ms());
    app().kv_put(&link_marker, "");

    // Act 1: one pass meets both markers.
    let started = now_ms();
    let first = reconcile("");

    // The healthy marker was repaired and cleared, the failing one kept for a later try with
    // its error, and the sweep ran to its end all the same.
    assert_sweep_completed(&first);
    assert!(first["pending_repaired"].as_u64() >= Some(1), "{first}");
    assert!(first["pending_failed"].as_u64() >= Some(1), "{first}");
    assert_eq!(
        app().kv_get(&link_marker),
        None,
        "the link's marker is cleared"
    );
    assert_eq!(d1_link(), vec![json!({ "version": version })]);
    let (due, attempts) = pending_one(&b_tail);
    assert_eq!(attempts, 1);
    assert!(
        due >= started + BACKOFF_MS,
        "backoff: due {due}, pass at {started}"
    );
    let error = markers("sync:pending:", &b_tail)[0]["metadata"]["error"].clone();
    assert!(
        error.as_str().is_some_and(|e| e.contains("UNIQUE")),
        "the marker keeps its error: {error}"
    );

    // Act 2: a pass before the backoff ends leaves it alone.
    let before = now_ms();
    let waiting = reconcile("");
    if now_ms() < due && before < due {
        assert_eq!(pending_one(&b_tail).1, 1, "tried before its backoff ended");
        assert!(waiting["pending_waiting"].as_u64() >= Some(1), "{waiting}");
    }
    assert_sweep_completed(&waiting);

    // Act 3: passes after each backoff, until it is parked.
    poll_until(DEADLINE, "the failing marker to be parked", || {
        if !markers("sync:parked:", &b_tail).is_empty() {
            return Some(());
        }
        let (due, _) = pending_one(&b_tail);
        if now_ms() >= due {
            assert_sweep_completed(&reconcile(""));
        }
        None
    });
    assert!(markers("sync:pending:", &b_tail).is_empty());
    let parked = markers("sync:parked:", &b_tail);
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert_eq!(parked[0]["metadata"]["attempts"], MAX_ATTEMPTS);

    // The report lists it with its error.
    let report = app().consistency();
    assert!(report["parked_count"].as_u64() >= Some(1), "{report}");
    let shown = report["parked_markers"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|m| m["target"] == format!("user:{b}"))
                .cloned()
        })
        .unwrap_or_else(|| panic!("parked marker of {b} not in the report: {report}"));
    assert_eq!(shown["attempts"], MAX_ATTEMPTS);
    assert!(
        shown["error"]
            .as_str()
            .is_some_and(|e| e.contains("UNIQUE")),
        "{shown}"
    );
    assert!(
        shown["parked_at"]
            .as_str()
            .is_some_and(common::is_rfc3339_ms_utc),
        "{shown}"
    );

    // A parked marker is not retried by ordinary passes.
    assert_sweep_completed(&reconcile(""));
    assert_eq!(markers("sync:parked:", &b_tail).len(), 1);

    // Act 4: retry_parked brings it back with its attempts reset (the cause is still there, so
    // this pass's try fails again, as the first).
    let retried = reconcile("retry_parked=1");
    assert!(retried["parked_retried"].as_u64() >= Some(1), "{retried}");
    assert_sweep_completed(&retried);
    assert!(markers("sync:parked:", &b_tail).is_empty());
    assert_eq!(pending_one(&b_tail).1, 1, "attempts start over");

    // Act 5: fix the cause (A's row leaves the address) and let the next due pass repair it.
    app().d1_write(&format!(
        "UPDATE users SET email = 'moved-' || email WHERE id = {}",
        sql_str(&a.id)
    ));
    poll_until(DEADLINE, "the marker to be repaired and cleared", || {
        let left = markers("sync:pending:", &b_tail);
        if left.is_empty() && markers("sync:parked:", &b_tail).is_empty() {
            return Some(());
        }
        if now_ms() >= pending_one(&b_tail).0 {
            assert_sweep_completed(&reconcile(""));
        }
        None
    });
    let rows = app().d1_query(&format!(
        "SELECT id, email FROM users WHERE email = {}",
        sql_str(&a.email)
    ));
    assert_eq!(rows, vec![json!({ "id": b, "email": a.email })]);
}

#[test]
fn retry_parked_takes_only_a_flag() {
    let resp = app().request(
        "POST",
        "/api/admin/reconcile?retry_parked=yes",
        Some(app().admin_token()),
        None,
    );
    resp.assert_error(400, "invalid_query");
}
