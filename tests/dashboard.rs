//! The dashboard end to end in a real browser: `tests/browser/*.test.mjs` drive Debian's chromium
//! through playwright-core against this binary's `wrangler dev` (the Worker and its static
//! assets); this file starts the server, runs the scripts and fails with their output.
//! Screenshots of the main pages are left in `target/screenshots/`.

mod common;

use std::path::Path;
use std::process::Command;

use common::app;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_dashboard_works_in_chromium() {
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "/usr/bin/chromium is missing: `make chromium` (make test installs it)"
    );
    let app = app();
    let scripts: Vec<String> = std::fs::read_dir(root().join("tests/browser"))
        .expect("tests/browser exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert!(!scripts.is_empty(), "no tests/browser/*.test.mjs");
    // The browser's requests count as in flight, so the harness's nudger keeps wrangler's dev
    // proxy from parking one of them (tests/common, PROXY_NUDGE_EVERY).
    let out = app.nudged(|| {
        Command::new("node")
            .args(["--test", "--test-concurrency=1"])
            .args(&scripts)
            .env("EDGELINK_BASE", &app.base_url)
            .env("ADMIN_TOKEN", app.admin_token())
            .current_dir(root())
            .output()
            .expect("node runs (make test installs the npm packages)")
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tests/browser failed:\n{stdout}\n{}\n--- wrangler log tail ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        app.log_tail(40)
    );
    // Every test in the scripts ran (none skipped or filtered out).
    assert!(
        stdout.contains("# fail 0")
            && stdout.contains("# skipped 0")
            && stdout.contains("# todo 0"),
        "{stdout}"
    );
}

/// The list page's first load (the JS and CSS index.html pulls in, gzipped) stays within the
/// issue's budget of 100 KB; `make bench` prints the figure.
#[test]
fn the_list_pages_first_load_is_within_budget() {
    let out = Command::new("node")
        .args(["bench/dashboard.mjs", "--check"])
        .current_dir(root())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
