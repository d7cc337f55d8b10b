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
            && stdout.contains("# pass 13"),
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
