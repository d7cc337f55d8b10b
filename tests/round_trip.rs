//! The round trip of edgelink's own format: export a user's links from one deployment, import
//! the file into an empty second deployment, export again: the same file, byte for byte, apart
//! from the click totals (a fresh deployment has no clicks). Two real servers (`app()` and
//! `second_app()`), each with its own stores.

mod common;

use std::time::{Duration, Instant};

use common::{app, second_app, TestApp, User};
use serde_json::{json, Value};

const IMPORT_DEADLINE: Duration = Duration::from_secs(300);

fn export(app: &TestApp, user: &User, format: &str) -> String {
    let resp = app.get(
        &format!("/api/links/export?format={format}"),
        Some(&user.api_key),
    );
    resp.assert_status(200);
    resp.body
}

/// Uploads `file`, waits for the job to finish and returns it.
fn import(app: &TestApp, user: &User, file: &str) -> Value {
    let auth = format!("Bearer {}", user.api_key);
    let resp = app.request_with_headers(
        "POST",
        "/api/imports",
        &[("Authorization", &auth), ("Content-Type", "text/plain")],
        Some(file),
    );
    resp.assert_status(202);
    let id = resp.json()["id"].as_str().expect("job id").to_owned();
    let started = Instant::now();
    loop {
        let job = app.get(&format!("/api/imports/{id}"), Some(&user.api_key));
        job.assert_status(200);
        let job = job.json();
        if job["status"] == "done" {
            return job;
        }
        assert!(
            started.elapsed() < IMPORT_DEADLINE,
            "import {id} not done in {IMPORT_DEADLINE:?}: {job}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The export's click column emptied: what a fresh deployment cannot keep. CSV is read with a
/// real parser (fields after `clicks` hold JSON with commas) and written back as RFC 4180 with
/// CRLF, as the export writes it; NDJSON's key `clicks` is nulled.
fn without_clicks(file: &str, format: &str) -> String {
    if format == "csv" {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(file.as_bytes());
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let mut clicks = None;
        for record in reader.records() {
            let record = record.expect("a well-formed CSV record");
            let mut fields: Vec<String> = record.iter().map(str::to_owned).collect();
            match clicks {
                None => clicks = fields.iter().position(|f| f == "clicks"),
                Some(i) => fields[i].clear(),
            }
            writer.write_record(&fields).expect("CSV out");
        }
        return String::from_utf8(writer.into_inner().expect("CSV bytes")).expect("UTF-8");
    }
    file.split_inclusive('\n')
        .map(|line| {
            let mut v: Value = serde_json::from_str(line).expect("an NDJSON line");
            v["clicks"] = Value::Null;
            format!("{v}\n")
        })
        .collect()
}

/// Links with every field set one way or another (`valid_since` and the smart options too),
/// titles that need CSV quoting included.
const FORMULA_TITLE: &str = "=HYPERLINK(\"https://evil.example\",\"win\")";

fn seed(app: &TestApp, user: &User, prefix: &str) {
    let far = "2099-01-02T03:04:05.678Z";
    let bodies = [
        json!({"url": "https://example.com/a", "slug": format!("{prefix}-a")}),
        json!({"url": "https://example.com/b?x=1&y=2", "slug": format!("{prefix}-b"),
               "title": "Commas, \"quotes\" and ümlauts", "tags": ["Café", "go"]}),
        json!({"url": "https://example.org/c", "slug": format!("{prefix}-c"),
               "archived": true, "redirect_type": 301, "forward_query": false,
               "password": "round trip secret"}),
        json!({"url": "https://example.org/d", "slug": format!("{prefix}-d"),
               "state": "disabled", "max_clicks": 42, "expires_at": far,
               "valid_since": "2026-01-02T03:04:05.000Z",
               "tags": ["only"]}),
        json!({"url": "https://example.net/e", "title": "generated slug"}),
        json!({"url": "https://example.net/f", "slug": format!("{prefix}-f"),
               "targets": {"ios": "https://apps.apple.com/x",
                           "countries": {"DE": "https://example.de/", "FR": "https://example.fr/"}},
               "variants": [{"url": "https://example.net/f1", "weight": 60},
                            {"url": "https://example.net/f2", "weight": 40}],
               "preview": {"title": "Smart, \"quoted\"", "image": "https://example.net/f.png"}}),
        // Text a spreadsheet would run as a formula (the CSV keeps it as text, and reads it
        // back as written), and a title that starts with the quote that marks it.
        json!({"url": "https://example.net/g", "slug": format!("{prefix}-g"),
               "title": FORMULA_TITLE, "tags": ["-minus", "@at"]}),
        json!({"url": "https://example.net/h", "slug": format!("{prefix}-h"),
               "title": "'quoted already"}),
    ];
    for body in bodies {
        app.create_link_ok(user, &body);
    }
}

#[test]
fn an_export_imported_into_an_empty_deployment_exports_the_same_file_but_for_clicks() {
    let (one, two) = (app(), second_app());
    for format in ["csv", "ndjson"] {
        let owner = one.new_user();
        let prefix = format!("rt{}{format}", std::process::id());
        seed(one, &owner, &prefix);
        // A real click on the first deployment, so the files do differ in clicks.
        one.get(&format!("/{prefix}-a"), None).assert_status(302);

        let before = export(one, &owner, format);
        assert_eq!(
            before.lines().count(),
            8 + usize::from(format == "csv"),
            "{format}: {before}"
        );
        let mover = two.new_user();
        let job = import(two, &mover, &before);
        assert_eq!(job["created"], 8, "{format}: {job}");
        assert_eq!(job["failed"], 0, "{format}: {job}");
        let after = export(two, &mover, format);
        assert_eq!(
            without_clicks(&after, format),
            without_clicks(&before, format),
            "{format}: the round trip changed more than the click totals"
        );
        if format == "csv" {
            // No cell a user wrote starts as a formula does; each reads back as it was.
            assert!(before.contains("\"'=HYPERLINK(\"\""), "{before}");
            assert!(
                before.contains(",'-minus,@at,") || before.contains("\"'-minus,@at\""),
                "{before}"
            );
            assert!(before.contains(",''quoted already,"), "{before}");
        }
        for (slug, title) in [("g", FORMULA_TITLE), ("h", "'quoted already")] {
            let link = two.get(&format!("/api/links/{prefix}-{slug}"), Some(&mover.api_key));
            assert_eq!(link.json()["title"], title, "{format}");
        }
        // The password came along as its hash, and still opens the link.
        let guarded = format!("/{prefix}-c");
        two.get_no_redirect(&guarded).assert_status(200);
        let opened = two.request_with_headers(
            "GET",
            &guarded,
            &[("X-Link-Password", "round trip secret")],
            None,
        );
        opened.assert_status(301);
    }
}
