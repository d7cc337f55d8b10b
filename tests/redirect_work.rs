//! What one redirect costs, counted in the runtime: exactly one KV read and no D1 call for every
//! redirect option and link state (`valid_since` ahead and passed included; targets with 50
//! countries, variants and a preview, and a social crawler's preview page), GET and HEAD, with
//! and without a visitor query, and for the values of an adopted Sink namespace not yet converted
//! (and one that is no link at all), and for password links (the form; the right password by
//! header and by form POST; a Sink hash's). The only
//! other calls allowed are a limited link's one Durable Object request, a password guess's
//! count in the rate limiter, and a GET (or password POST) redirect's click (one Analytics Engine data point, one queue message, both after the response).
//!
//! `tests/redirect_work.mjs` runs the compiled Worker (build/) in workerd through miniflare's
//! API with real local bindings, behind the static assets as deployed (a file they serve never
//! invokes the Worker), each wrapped so that its calls are counted
//! (`bench/lib/counting.mjs`, the benchmark harness's counter), and prints what it saw.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn counted_redirects() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("node")
        .arg("tests/redirect_work.mjs")
        .current_dir(root)
        .output()
        .expect("node runs (make test installs the npm packages it needs)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tests/redirect_work.mjs failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    let Value::Array(rows) = serde_json::from_str(last).expect("one JSON array on the last line")
    else {
        panic!("not an array: {last}");
    };
    rows
}

fn status_of(case: &str) -> u16 {
    match case {
        "found (302)"
        | "query not forwarded"
        | "expires later"
        | "archived"
        | "valid since"
        | "with max_clicks"
        | "targets"
        | "variants"
        | "preview"
        | "every smart option, limited" => 302,
        "preview to a crawler" => 200,
        "moved permanently (301)"
        | "sink value (301)"
        | "sink value forwarding the query (301)" => 301,
        "temporary (307)" => 307,
        "permanent (308)" => 308,
        "disabled" | "flagged" | "expired" | "sink value expired" => 410,
        "password form" | "sink password form" => 200,
        "password header" => 302,
        "sink password header" => 301,
        "password form post" => 303,
        "unknown slug" | "invalid slug" | "unrecognised value" | "not valid yet" => 404,
        "static asset" => 200,
        other => panic!("unexpected case {other}"),
    }
}

/// The link of the crawler's cases that has `max_clicks` too.
fn path_is_limited(path: &str) -> bool {
    path.starts_with("/w-smart-all")
}

fn expected_calls(case: &str, method: &str, path: &str, status: u16) -> BTreeMap<String, u64> {
    let mut calls = BTreeMap::new();
    if case == "invalid slug" || case == "static asset" {
        return calls; // refused before any read
    }
    calls.insert("LINKS.get".to_owned(), 1);
    if case.contains("password") && status != 200 {
        // The guess counted against the client's and link's limit.
        calls.insert("PASSWORD_LIMITER.limit".to_owned(), 1);
    }
    if case == "with max_clicks"
        || case == "every smart option, limited"
        || (case == "preview to a crawler" && path_is_limited(path))
    {
        for call in [
            "SLUG_CLAIMS.idFromName",
            "SLUG_CLAIMS.get",
            "SLUG_CLAIMS.stub.fetch",
        ] {
            calls.insert(call.to_owned(), 1);
        }
    }
    // A crawler's preview page is a visit too (counted as a bot's).
    if (method == "GET" || method == "POST")
        && ((300..400).contains(&status) || case == "preview to a crawler")
    {
        calls.insert("CLICKS.writeDataPoint".to_owned(), 1);
        calls.insert("CLICK_QUEUE.send".to_owned(), 1);
    }
    calls
}

#[test]
fn every_redirect_makes_one_kv_read_and_no_d1_call() {
    let rows = counted_redirects();
    assert_eq!(
        rows.len(),
        // Links and Sink values (the smart options' four and the password's two among them),
        // each by GET and HEAD with and without a query; three that are none; a crawler's
        // preview four times; the right password by header (GET, HEAD; and a Sink hash's) and
        // by form; one static asset.
        (11 + 4 + 3 + 2 + 2) * 4 + 3 + 4 + 3 + 1 + 1,
        "every case measured: {rows:?}"
    );
    for row in &rows {
        let case = row["case"].as_str().expect("case");
        let method = row["method"].as_str().expect("method");
        let status = status_of(case);
        assert_eq!(row["status"], status, "{row}");
        let invocations = if case == "static asset" { 0 } else { 1 };
        assert_eq!(row["requests"], invocations, "{row}");
        let calls: BTreeMap<String, u64> =
            serde_json::from_value(row["calls"].clone()).expect("calls");
        assert_eq!(
            calls,
            expected_calls(
                case,
                method,
                row["path"].as_str().unwrap_or_default(),
                status
            ),
            "{method} {}: binding calls",
            row["path"]
        );
        assert!(
            !calls.keys().any(|c| c.starts_with("DB.")),
            "a redirect touched D1: {row}"
        );
    }
}
