//! The API's rate limit against the real Worker and the local rate limiting binding
//! (wrangler.toml's `API_LIMITER`: 600 requests a minute per API key or admin token): the 601st
//! request of a key within a minute is 429 with `Retry-After` and the JSON error body, the
//! Shlink API (`/rest`) included, while another key goes on unaffected. The password guesses'
//! limit is tests/password_links.rs's.
//!
//! The binding counts in wall-clock minutes, so each test first waits (at most once, under
//! 40 s) until the current minute has room for its requests.

mod common;

use std::time::{Duration, Instant};

use common::{app_with_vars, early_in_a_rate_window, random_slug, Resp, TestApp};

const LIMIT: usize = 600;

/// The Worker with the API limit as shipped (tests/common turns it off for the other suites).
fn app() -> &'static TestApp {
    app_with_vars(&[("API_RATE_LIMIT", "600")])
}

/// A key of the right shape that no user holds: counted (before its lookup) like any other.
fn unknown_key() -> String {
    let mut random = String::new();
    while random.len() < 32 {
        random.push_str(&random_slug()[1..]);
    }
    format!("el_{}", &random[..32])
}

/// Sends `send` until the first 429 (or `LIMIT + 1` requests); how many went before it, and it.
fn until_limited(send: impl Fn() -> Resp) -> (usize, Resp) {
    for before in 0..=LIMIT {
        let resp = send();
        if resp.status == 429 {
            return (before, resp);
        }
    }
    panic!("no 429 after {} requests", LIMIT + 1);
}

#[test]
fn the_601st_api_request_of_a_key_within_a_minute_is_429_with_retry_after() {
    let key = unknown_key();
    let user = app().new_user();
    early_in_a_rate_window(45);
    let started = Instant::now();
    let (before, limited) = until_limited(|| app().get("/api/links?limit=1", Some(&key)));
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "the requests took longer than the window had left"
    );
    assert_eq!(before, LIMIT, "{limited:?}");
    limited.assert_error(429, "rate_limited");
    assert_eq!(limited.header("retry-after"), Some("60"));
    assert!(limited.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("600"));
    // Another key is counted apart.
    app()
        .get("/api/links?limit=1", Some(&user.api_key))
        .assert_status(200);
}

#[test]
fn the_shlink_api_counts_against_the_same_limit() {
    let key = unknown_key();
    early_in_a_rate_window(45);
    let (before, limited) = until_limited(|| {
        app().request_with_headers("GET", "/rest/v3/short-urls", &[("X-Api-Key", &key)], None)
    });
    assert_eq!(before, LIMIT, "{limited:?}");
    limited.assert_status(429);
    assert_eq!(limited.header("retry-after"), Some("60"));
    assert!(limited.body.contains("rate-limited"), "{}", limited.body);
}
