//! Unique visitors with no `ANALYTICS_SALT` configured: the Worker makes the UTC day's salt
//! itself (in the day's `DaySalt` Durable Object, copied to KV `analytics:salt:<day>` with an
//! expiration two days after the day's midnight), so visitors are counted out of the box; and
//! where no click carries a visitor id, `unique_visitors` is `null`, never 0.
//!
//! Its own binary: the server runs with `ANALYTICS_SALT` set to empty, which is no salt
//! (`tests/analytics.rs` covers a configured salt).

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{app_with_vars, utc_date, TestApp, User};
use serde_json::{json, Value};

const ROLLUP_DEADLINE: Duration = Duration::from_secs(90);
const BROWSER: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 \
                       (KHTML, like Gecko) Version/17.0 Safari/605.1.15";

fn app() -> &'static TestApp {
    app_with_vars(&[("ANALYTICS_SALT", "")])
}

fn visit(slug: &str, ip: &str, extra: &[(&str, &str)]) {
    let mut headers = vec![("User-Agent", BROWSER), ("CF-Connecting-IP", ip)];
    headers.extend_from_slice(extra);
    app()
        .request_with_headers("GET", &format!("/{slug}"), &headers, None)
        .assert_status(302);
}

/// The link's stats once the roll-up holds `total` clicks.
fn stats_with_total(user: &User, slug: &str, total: u64) -> Value {
    common::poll_until(
        ROLLUP_DEADLINE,
        &format!("{total} clicks of {slug}"),
        || {
            let resp = app().get(&format!("/api/links/{slug}/stats"), Some(&user.api_key));
            resp.assert_status(200);
            Some(resp.json()).filter(|s| s["total"] == json!(total))
        },
    )
}

#[test]
fn without_a_salt_two_ips_are_two_unique_visitors() {
    let user = app().new_user();
    let slug = app().new_link(&user);
    visit(&slug, "203.0.113.10", &[]);
    visit(&slug, "203.0.113.20", &[]);
    visit(&slug, "203.0.113.10", &[]);

    let s = stats_with_total(&user, &slug, 3);
    assert_eq!(s["unique_visitors"], json!(2), "{s}");

    // The day's salt the Worker made: in KV under today's date, gone two days after its
    // midnight (KV's expiration), and in no API answer.
    let today = utc_date(0);
    let key = format!("analytics:salt:{today}");
    let salt = app().kv_get(&key).expect("the day's salt is kept in KV");
    assert!(salt.len() >= 32, "a long random salt: {}", salt.len());
    let midnight = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        / 86_400
        * 86_400;
    assert_eq!(
        app().kv_expiration(&key),
        Some(Some(midnight + 2 * 86_400)),
        "the salt expires two days after its day began"
    );
    assert!(!s.to_string().contains(&salt));
}

#[test]
fn visitors_of_one_day_share_one_salt_across_links() {
    // The same person on two links is one visitor id on both: the salt is the day's, not a
    // link's or a request's.
    let user = app().new_user();
    let (a, b) = (app().new_link(&user), app().new_link(&user));
    visit(&a, "203.0.113.30", &[]);
    visit(&b, "203.0.113.30", &[]);
    stats_with_total(&user, &a, 1);
    stats_with_total(&user, &b, 1);
    let ids = app().d1_query(&format!(
        "SELECT DISTINCT visitor FROM click_visitors WHERE slug IN ('{a}', '{b}')"
    ));
    assert_eq!(ids.len(), 1, "{ids:?}");
}

#[test]
fn unique_visitors_are_null_when_no_click_carries_a_visitor_id() {
    let user = app().new_user();
    let slug = app().new_link(&user);
    visit(&slug, "203.0.113.40", &[("DNT", "1")]);
    visit(&slug, "203.0.113.41", &[("Sec-GPC", "1")]);
    let s = stats_with_total(&user, &slug, 2);
    assert_eq!(s["unique_visitors"], Value::Null, "unknown, not 0: {s}");

    // No clicks at all: nobody came, which is known.
    let quiet = app().new_link(&user);
    let resp = app().get(&format!("/api/links/{quiet}/stats"), Some(&user.api_key));
    resp.assert_status(200);
    assert_eq!(resp.json()["unique_visitors"], json!(0));
}
