//! Link lifecycle (issue 6) under non-default vars: `DEFAULT_TTL_SECONDS=3`,
//! `EXPIRED_GRACE_DAYS=0`, `HISTORY=off`, `HISTORY_RETENTION_DAYS=1`. Its own binary: it needs
//! its own server vars.
//!
//! - A key that KV expired away (grace 0, so KV's 60 s minimum applies) makes the reconciler
//!   delete its D1 row and count it under `expired`, never as an orphan.
//! - The default TTL applies when a create names no expiry; `expires_at: null` opts out, an
//!   explicit `ttl` wins, and an update never applies the default.
//! - `HISTORY=off` writes no `link_history` rows and the endpoint answers an empty 200.
//! - The nightly cron prunes history rows older than the retention and keeps fresh ones.

mod common;

use std::thread;
use std::time::Duration;

use common::{
    app_with_vars, assert_link_unavailable, expires_ms, now_ms, poll_for, poll_until, random_slug,
    rfc3339_ms, slug_of, sql_str, TestApp, BACKGROUND_DEADLINE,
};
use serde_json::{json, Value};

const NIGHTLY: &str = "0 3 * * *";
/// KV's minimum expiration: at least this many seconds ahead.
const KV_MIN_TTL_SECS: u64 = 60;
/// How far past KV's minimum the Worker may aim (a safety margin for clock differences).
const KV_MIN_MARGIN_SECS: u64 = 6;

fn app() -> &'static TestApp {
    app_with_vars(&[
        ("DEFAULT_TTL_SECONDS", "3"),
        ("EXPIRED_GRACE_DAYS", "0"),
        ("HISTORY", "off"),
        ("HISTORY_RETENTION_DAYS", "1"),
    ])
}

/// The KV `expiration` of `link:<slug>` (`None`: no expiration); panics when not listed.
#[track_caller]
fn kv_expiration(slug: &str) -> Option<u64> {
    app()
        .kv_expiration(&format!("link:{slug}"))
        .unwrap_or_else(|| panic!("link:{slug} is not listed in KV"))
}

fn d1_link_version(slug: &str) -> Option<u64> {
    app()
        .d1_query(&format!(
            "SELECT version FROM links WHERE slug = {}",
            sql_str(slug)
        ))
        .first()
        .and_then(|r| r["version"].as_u64())
}

fn history_rows_in_d1(slug: &str) -> Vec<Value> {
    app().d1_query(&format!(
        "SELECT slug, version, op, at FROM link_history WHERE slug = {} ORDER BY version",
        sql_str(slug)
    ))
}

/// Named to sort first: libtest starts tests in name order, and this one waits about a minute
/// for KV to expire the key, so it should overlap the others.
#[test]
fn a_kv_expired_key_is_reconciled_as_expired_not_as_orphan() {
    let user = app().new_user();
    let slug = random_slug();
    let before = now_ms();
    let link = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/kv-expiry", "slug": slug, "ttl": 2 }),
    );
    let after = now_ms();
    let expires = expires_ms(&link);
    assert!(
        expires + 1000 >= before + 2000 && expires <= after + 3000,
        "ttl 2: {link}"
    );

    // Grace 0: expires_at is under a minute ahead, so KV gets its minimum, now + 60 s.
    let expiration = kv_expiration(&slug).expect("a link with expires_at has a KV expiration");
    assert!(
        expiration + 1 >= before / 1000 + KV_MIN_TTL_SECS
            && expiration <= after.div_ceil(1000) + KV_MIN_TTL_SECS + KV_MIN_MARGIN_SECS,
        "KV expiration {expiration} should be KV's minimum, now + 60 s ({}..{}, a few seconds \
         of margin allowed)",
        before / 1000 + KV_MIN_TTL_SECS,
        after.div_ceil(1000) + KV_MIN_TTL_SECS
    );

    // Indexed in D1 with its expiry.
    poll_until(BACKGROUND_DEADLINE, "the D1 row with expires_at", || {
        let rows = app().d1_query(&format!(
            "SELECT expires_at, version FROM links WHERE slug = {}",
            sql_str(&slug)
        ));
        (rows.first()
            == Some(&json!({ "expires_at": link["expires_at"], "version": link["version"] })))
        .then_some(())
    });
    // Expired (410) long before KV drops it.
    let resp = poll_until(Duration::from_secs(15), "410 after expiry", || {
        let resp = app().get_no_redirect(&format!("/{slug}"));
        (resp.status == 410).then_some(resp)
    });
    assert_link_unavailable(&resp, "expired");

    // Let the wall clock reach the KV expiration, then wait for KV to drop the key.
    let wake = expiration * 1000;
    let now = now_ms();
    if wake > now {
        thread::sleep(Duration::from_millis(wake - now));
    }
    poll_until(
        Duration::from_secs(60),
        "KV to expire the key (expiration + 60 s at most)",
        || {
            app()
                .kv_get(&format!("link:{slug}"))
                .is_none()
                .then_some(())
        },
    );
    app()
        .get_no_redirect(&format!("/{slug}"))
        .assert_status(404);
    app()
        .get(&format!("/api/links/{slug}"), Some(&user.api_key))
        .assert_error(404, "not_found");
    assert!(
        d1_link_version(&slug).is_some(),
        "the D1 row is still there before the reconcile"
    );

    // The reconciler deletes the row and counts it as expired.
    let mut runs: Vec<Value> = Vec::new();
    let gone = poll_for(Duration::from_secs(60), || {
        let run = app().admin_reconcile();
        runs.push(run);
        let done = d1_link_version(&slug).is_none();
        if !done {
            thread::sleep(Duration::from_millis(500));
        }
        done.then_some(())
    });
    assert!(
        gone.is_some(),
        "reconcile should delete the D1 row of the expired {slug}; runs: {runs:#?}"
    );
    let expired: u64 = runs
        .iter()
        .map(|r| {
            r["expired"]
                .as_u64()
                .unwrap_or_else(|| panic!("`expired` is not a count in {r}"))
        })
        .sum();
    assert!(expired >= 1, "`expired` should count {slug}: {runs:#?}");
    for run in &runs {
        assert_eq!(run["errors"], json!([]), "{run}");
        assert!(
            !run["samples"]["orphans"]
                .as_array()
                .expect("samples.orphans")
                .contains(&json!(slug)),
            "{slug} is reported as an orphan: {run}"
        );
        assert_eq!(
            run["orphans"],
            json!(0),
            "an expired key is not orphan drift (nothing else here leaves orphans): {run}"
        );
    }
    let last = runs.last().expect("a run");
    assert!(
        last["expired"].as_u64() >= Some(1),
        "the deleting run counts it: {last}"
    );
}

#[test]
fn default_ttl_applies_when_no_expiry_is_given() {
    let user = app().new_user();
    let before = now_ms();
    let defaulted = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/default-ttl", "slug": random_slug() }),
    );
    let after = now_ms();
    let expires = expires_ms(&defaulted);
    assert!(
        expires + 1000 >= before + 3000 && expires <= after + 3000 + 1000,
        "DEFAULT_TTL_SECONDS=3: expires_at should be about now + 3 s ({before}..{after}): {defaulted}"
    );
    // Grace 0: KV's 60 s minimum.
    let expiration = kv_expiration(&slug_of(&defaulted)).expect("KV expiration");
    assert!(
        expiration + 1 >= before / 1000 + KV_MIN_TTL_SECS
            && expiration <= after.div_ceil(1000) + KV_MIN_TTL_SECS + KV_MIN_MARGIN_SECS,
        "KV expiration {expiration}: KV's minimum, now + 60 s (a few seconds of margin allowed)"
    );

    // Opting out.
    let forever = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/forever", "slug": random_slug(), "expires_at": null }),
    );
    assert_eq!(forever["expires_at"], Value::Null, "{forever}");
    assert_eq!(kv_expiration(&slug_of(&forever)), None);

    // An explicit ttl or expires_at wins over the default.
    let t0 = now_ms();
    let explicit = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/ttl", "slug": random_slug(), "ttl": 600 }),
    );
    let e = expires_ms(&explicit);
    assert!(
        e + 1000 >= t0 + 600_000 && e <= now_ms() + 601_000,
        "{explicit}"
    );
    let at = rfc3339_ms(now_ms() + 86_400_000);
    let explicit_at = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/at", "slug": random_slug(), "expires_at": at }),
    );
    assert_eq!(explicit_at["expires_at"], json!(at));

    // An update without expiry fields never applies the default.
    let resp = app().patch(
        &format!("/api/links/{}", slug_of(&forever)),
        Some(&user.api_key),
        r#"{"title":"still forever"}"#,
    );
    resp.assert_status(200);
    assert_eq!(resp.json()["expires_at"], Value::Null, "{}", resp.body);
    assert_eq!(kv_expiration(&slug_of(&forever)), None);

    // The defaulted link expires; the opted-out one keeps redirecting.
    let resp = poll_until(
        Duration::from_secs(15),
        "the defaulted link to expire",
        || {
            let resp = app().get_no_redirect(&format!("/{}", slug_of(&defaulted)));
            (resp.status == 410).then_some(resp)
        },
    );
    assert_link_unavailable(&resp, "expired");
    let resp = app().get_no_redirect(&format!("/{}", slug_of(&forever)));
    resp.assert_status(302);
    assert_eq!(resp.location(), Some("https://example.com/forever"));
}

#[test]
fn history_off_writes_no_rows() {
    let user = app().new_user();
    let slug = random_slug();
    app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/no-history", "slug": slug, "expires_at": null }),
    );
    let resp = app().patch(
        &format!("/api/links/{slug}"),
        Some(&user.api_key),
        r#"{"title":"changed"}"#,
    );
    resp.assert_status(200);
    let version = resp.json()["version"].as_u64().expect("version");

    // Once the index row (written in the same batch) has landed, there is no history row.
    poll_until(BACKGROUND_DEADLINE, "the updated D1 row", || {
        (d1_link_version(&slug) == Some(version)).then_some(())
    });
    assert_eq!(history_rows_in_d1(&slug), Vec::<Value>::new());

    let resp = app().history(&user.api_key, &slug, "");
    resp.assert_status(200);
    assert_eq!(
        resp.json(),
        json!({ "history": [], "next_cursor": null }),
        "HISTORY=off: an empty history"
    );
    let other = app().new_user();
    app()
        .history(&other.api_key, &slug, "")
        .assert_error(404, "not_found");

    app()
        .delete(&format!("/api/links/{slug}"), Some(&user.api_key))
        .assert_status(204);
    poll_until(BACKGROUND_DEADLINE, "the D1 row deleted", || {
        d1_link_version(&slug).is_none().then_some(())
    });
    assert_eq!(history_rows_in_d1(&slug), Vec::<Value>::new());
}

#[test]
fn nightly_cron_prunes_history_older_than_the_retention() {
    let (old_only, mixed) = (random_slug(), random_slug());
    let now = now_ms();
    let three_days_ago = rfc3339_ms(now - 3 * 86_400_000);
    let fresh_at = rfc3339_ms(now);
    let row = |slug: &str, version: u64, op: &str, at: &str| {
        let link = json!({
            "slug": slug, "url": "https://example.com/old", "title": null, "owner": "u_retention",
            "is_active": true, "flag_reason": null, "created_at": at, "updated_at": at,
            "version": version, "expires_at": null, "archived": false, "redirect_type": 302,
            "forward_query": true,
        });
        format!(
            "({}, {version}, {}, 'u_retention', 'u_retention', {}, {})",
            sql_str(slug),
            sql_str(op),
            sql_str(at),
            sql_str(&link.to_string())
        )
    };
    app().d1_write(&format!(
        "INSERT INTO link_history (slug, version, op, actor, owner, at, link) VALUES {}, {}, {}, {}",
        row(&old_only, 1, "create", &three_days_ago),
        row(&old_only, 2, "delete", &three_days_ago),
        row(&mixed, 1, "create", &three_days_ago),
        row(&mixed, 2, "update", &fresh_at),
    ));
    assert_eq!(history_rows_in_d1(&old_only).len(), 2);
    assert_eq!(history_rows_in_d1(&mixed).len(), 2);

    app().run_cron(NIGHTLY);
    let mut last = (Vec::new(), Vec::new());
    let pruned = poll_for(BACKGROUND_DEADLINE, || {
        last = (history_rows_in_d1(&old_only), history_rows_in_d1(&mixed));
        (last.0.is_empty() && last.1.len() == 1).then_some(())
    });
    assert!(
        pruned.is_some(),
        "the nightly cron should prune the 3-day-old rows (retention 1 day) and keep the fresh \
         one; left: {last:?}"
    );
    assert_eq!(
        last.1[0]["version"],
        json!(2),
        "the fresh row stays: {:?}",
        last.1
    );
    assert_eq!(last.1[0]["at"], json!(fresh_at));

    // The nightly run's summary line reports what it pruned.
    let logged = poll_for(Duration::from_secs(10), || {
        let log = std::fs::read_to_string(app().log_path()).expect("wrangler log");
        log.lines()
            .filter_map(|line| {
                let start = line.find(r#"{"event":"reconcile""#)?;
                let end = line.rfind('}')?;
                serde_json::from_str::<Value>(line.get(start..=end)?).ok()
            })
            .find(|v| v["trigger"] == json!("nightly") && v["history_pruned"].as_u64() >= Some(3))
    });
    assert!(
        logged.is_some(),
        "a nightly reconcile summary line should report \"history_pruned\" >= 3; log tail:\n{}",
        app().log_tail(30)
    );
}
