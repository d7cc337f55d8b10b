//! The Shlink-compatible API end to end: `tests/shlink/sdk.test.mjs` drives every `/rest`
//! route through Shlink's own JS SDK (both HTTP clients) against this binary's `wrangler dev`;
//! this file starts the server, runs the script and fails with its output. The visits
//! retention (`VISITS_RETENTION_DAYS`) is checked here, on the local D1 directly.

mod common;

use std::path::Path;
use std::process::Command;

use common::app;

#[test]
fn the_shlink_js_sdk_works_against_edgelink() {
    let app = app();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("node")
        .args([
            "--test",
            "--test-concurrency=1",
            "tests/shlink/sdk.test.mjs",
        ])
        .env("SHLINK_BASE", &app.base_url)
        .env("ADMIN_TOKEN", app.admin_token())
        .current_dir(root)
        .output()
        .expect("node runs (make test installs the npm packages)");
    assert!(
        out.status.success(),
        "tests/shlink/sdk.test.mjs failed:\n{}\n{}\n--- wrangler log tail ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        app.log_tail(40)
    );
    // Every test in the script ran (none skipped or filtered out).
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("# fail 0")
            && stdout.contains("# skipped 0")
            && stdout.contains("# pass 14"),
        "{stdout}"
    );
}

#[test]
fn the_nightly_run_prunes_visits_past_retention_and_keeps_the_rest() {
    let app = app();
    let slug = format!("prune-{}", std::process::id());
    app.d1_write(&format!(
        "INSERT INTO visits (id, slug, at, country, referrer, device, browser, os, bot) VALUES \
         ('old-{slug}', '{slug}', '2000-01-01T00:00:00.000Z', '', '', 'desktop', 'Chrome', 'Windows', 0), \
         ('new-{slug}', '{slug}', '2999-01-01T00:00:00.000Z', '', '', 'desktop', 'Chrome', 'Windows', 0)"
    ));
    app.run_cron("0 3 * * *");
    let left = app.d1_query(&format!("SELECT id FROM visits WHERE slug = '{slug}'"));
    let ids: Vec<&str> = left.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, vec![format!("new-{slug}").as_str()]);
}

/// Shlink's ISO-8601 forms besides RFC 3339 (an offset without a colon, no offset, a date
/// alone) are read by `src/shlink/iso8601.rs`, not chrono; the SDK script sends RFC 3339 only,
/// so this is where the built Worker is seen reading the others.
#[test]
fn shlinks_other_iso_8601_forms_are_read_by_the_worker() {
    let app = app();
    let user = app.new_user();
    let create = |slug: &str, since: &str, until: &str| {
        let body = serde_json::json!({
            "longUrl": "https://example.com/iso",
            "customSlug": slug,
            "validSince": since,
            "validUntil": until,
        });
        app.request_with_headers(
            "POST",
            "/rest/v3/short-urls",
            &[
                ("X-Api-Key", user.api_key.as_str()),
                ("Content-Type", "application/json"),
            ],
            Some(&body.to_string()),
        )
    };
    let link = |slug: &str| {
        let resp = app.get(&format!("/api/links/{slug}"), Some(&user.api_key));
        resp.assert_status(200);
        resp.json()
    };
    let a = common::random_slug();
    create(&a, "2020-01-02", "2099-12-31T23:30:00.5+0100").assert_status(200);
    let l = link(&a);
    assert_eq!(l["valid_since"], "2020-01-02T00:00:00.000Z", "{l}");
    assert_eq!(l["expires_at"], "2099-12-31T22:30:00.500Z", "{l}");

    let b = common::random_slug();
    create(&b, " 2020-01-02T03:04:05", "2099-12-31T23:30:00").assert_status(200);
    let l = link(&b);
    assert_eq!(l["valid_since"], "2020-01-02T03:04:05.000Z", "{l}");
    assert_eq!(l["expires_at"], "2099-12-31T23:30:00.000Z", "{l}");

    // Not a date: Shlink's invalid-data, naming the field, and nothing made.
    let c = common::random_slug();
    let resp = create(&c, "2020-01-02", "2099-13-01");
    resp.assert_status(400);
    let p = resp.json();
    assert_eq!(
        p["invalidElements"],
        serde_json::json!(["validUntil"]),
        "{p}"
    );
    app.get(&format!("/api/links/{c}"), Some(&user.api_key))
        .assert_status(404);
}
