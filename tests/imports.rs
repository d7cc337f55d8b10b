//! Import jobs (issue 25) end to end against the real Worker and its real `IMPORT_QUEUE`
//! (consumed by the same `wrangler dev`): each format from a fixture file
//! (tests/fixtures/imports/, `{p}` replaced by a random prefix so every run has its own slugs),
//! format detection, duplicates within a file (the last row wins), conflicts in all three modes
//! against the importer's own link and another user's, a dry run, the report CSV, an admin
//! import for a named owner, 10,000 rows through the queue with progress visible midway, and
//! the refusals (413 past 50 MB, 400 on garbage, nothing stored).

mod common;

use std::time::Duration;

use common::{app, poll_until, random_alnum, sql_str, Resp, User, BACKGROUND_DEADLINE};
use serde_json::{json, Value};

/// How long a small import may take through the queue (it can wait behind the 10,000-row
/// import's chunks: the local queue runs one consumer at a time).
const IMPORT_DEADLINE: Duration = Duration::from_secs(900);
/// How long 10,000 rows may take through the queue (local runtime, 2 cores shared).
const BIG_IMPORT_DEADLINE: Duration = Duration::from_secs(900);

fn prefix() -> String {
    random_alnum(8).to_lowercase()
}

fn fixture(name: &str, p: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/imports/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .replace("{p}", p)
}

fn upload(token: &str, query: &str, body: &str) -> Resp {
    let auth = format!("Bearer {token}");
    app().request_with_headers(
        "POST",
        &format!("/api/imports{query}"),
        &[("Authorization", &auth), ("Content-Type", "text/plain")],
        Some(body),
    )
}

/// Uploads and answers the job id, asserting 202 `queued` (or `done` for an empty file).
#[track_caller]
fn start(token: &str, query: &str, body: &str) -> (String, Value) {
    let resp = upload(token, query, body);
    resp.assert_status(202);
    let v = resp.json();
    let id = v["id"].as_str().expect("id").to_owned();
    assert!(
        v["status"] == "queued" || v["status"] == "done",
        "status: {v}"
    );
    (id, v)
}

fn job(token: &str, id: &str) -> Resp {
    app().get(&format!("/api/imports/{id}"), Some(token))
}

/// How often a job is polled: its reads share local D1 with the consumer's batched writes, and
/// polling at `poll_until`'s 100 ms from several tests at once slowed the local runtime until
/// it stalled.
const JOB_POLL_EVERY: Duration = Duration::from_millis(750);

/// `poll_until` at [`JOB_POLL_EVERY`].
#[track_caller]
fn poll_job<T>(deadline: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let started = std::time::Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            started.elapsed() < deadline,
            "timed out after {deadline:?} waiting for: {what}"
        );
        std::thread::sleep(JOB_POLL_EVERY);
    }
}

#[track_caller]
fn wait_done(token: &str, id: &str, deadline: Duration) -> Value {
    poll_job(deadline, &format!("import {id} done"), || {
        let resp = job(token, id);
        resp.assert_status(200);
        let v = resp.json();
        (v["status"] == "done").then_some(v)
    })
}

#[track_caller]
fn import(token: &str, query: &str, body: &str) -> (String, Value) {
    let (id, _) = start(token, query, body);
    let done = wait_done(token, &id, IMPORT_DEADLINE);
    (id, done)
}

/// The report's rows (header checked), as string records.
#[track_caller]
fn report(token: &str, id: &str) -> Vec<Vec<String>> {
    let resp = app().get(&format!("/api/imports/{id}/report"), Some(token));
    resp.assert_status(200);
    assert_eq!(resp.content_type(), Some("text/csv; charset=utf-8"));
    let mut r = csv::Reader::from_reader(resp.body.as_bytes());
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, ["line", "slug", "outcome", "code", "message"]);
    r.records()
        .map(|rec| rec.expect("record").iter().map(str::to_owned).collect())
        .collect()
}

/// The report row of `line`.
#[track_caller]
fn report_line(rows: &[Vec<String>], line: u64) -> Vec<String> {
    rows.iter()
        .find(|r| r[0] == line.to_string())
        .unwrap_or_else(|| panic!("no report row for line {line} in {rows:?}"))
        .clone()
}

fn counts(v: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    (n("total"), n("created"), n("skipped"), n("failed"))
}

#[track_caller]
fn link(user: &User, slug: &str) -> Value {
    let resp = app().get(&format!("/api/links/{slug}"), Some(&user.api_key));
    resp.assert_status(200);
    resp.json()
}

fn link_status(user: &User, slug: &str) -> u16 {
    app()
        .get(&format!("/api/links/{slug}"), Some(&user.api_key))
        .status
}

fn tags(link: &Value) -> Vec<&str> {
    link["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t.as_str().expect("tag"))
        .collect()
}

#[test]
fn shlink_export_is_detected_and_imported_with_tags_duplicates_and_a_refused_row() {
    let app = app();
    let user = app.new_user();
    let p = prefix();
    let (id, done) = import(&user.api_key, "", &fixture("shlink.csv", &p));
    assert_eq!(done["format"], "shlink", "{done}");
    assert_eq!(counts(&done), (5, 3, 1, 1), "{done}");
    assert_eq!(done["owner"], user.id.as_str());
    // The later row for `-one` won; tags split on `|`, lower-cased.
    let one = link(&user, &format!("{p}-one"));
    assert_eq!(one["url"], "https://example.com/shlink/one-again");
    assert_eq!(one["title"], "First, again");
    assert_eq!(tags(&one), ["news"]);
    assert_eq!(link(&user, &format!("{p}-two"))["title"], Value::Null);
    assert_eq!(link_status(&user, &format!("{p}-bad")), 404);
    // The row without a short code got a generated slug.
    let listed = app.list_all_slugs(&user.api_key);
    assert_eq!(listed.len(), 3, "{listed:?}");
    let rows = report(&user.api_key, &id);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let superseded = report_line(&rows, 2);
    assert_eq!(superseded[1], format!("{p}-one"));
    assert_eq!(superseded[2], "superseded");
    let refused = report_line(&rows, 4);
    assert_eq!(
        (refused[2].as_str(), refused[3].as_str()),
        ("refused", "invalid_url")
    );
}

#[test]
fn generic_csv_maps_yourls_and_rebrandly_headers() {
    let app = app();
    let user = app.new_user();
    let p = prefix();
    let (id, done) = import(&user.api_key, "", &fixture("yourls.csv", &p));
    assert_eq!(done["format"], "csv");
    assert_eq!(counts(&done), (4, 2, 1, 1), "{done}");
    let y1 = link(&user, &format!("{p}-y1"));
    assert_eq!(y1["url"], "https://example.com/yourls/1b");
    assert_eq!(y1["title"], "YOURLS one again");
    assert_eq!(
        link(&user, &format!("{p}-y2"))["url"],
        "https://example.com/yourls/2"
    );
    let rows = report(&user.api_key, &id);
    assert_eq!(report_line(&rows, 2)[2], "superseded");
    assert_eq!(report_line(&rows, 5)[3], "invalid_url");

    let (_, done) = import(&user.api_key, "?format=csv", &fixture("rebrandly.csv", &p));
    assert_eq!(counts(&done), (2, 2, 0, 0), "{done}");
    let r1 = link(&user, &format!("{p}-r1"));
    assert_eq!(r1["url"], "https://example.com/rebrandly/1");
    assert_eq!(tags(&r1), ["promo", "spring"]);
}

#[test]
fn sink_export_keeps_dates_and_expiry_and_refuses_expired_and_broken_links() {
    let app = app();
    let user = app.new_user();
    let p = prefix();
    let (id, done) = import(&user.api_key, "", &fixture("sink.json", &p));
    assert_eq!(done["format"], "sink");
    assert_eq!(counts(&done), (5, 2, 1, 2), "{done}");
    let gh = link(&user, &format!("{p}-gh"));
    assert_eq!(gh["url"], "https://github.com/ccbikai/Sink/releases");
    assert_eq!(gh["title"], "Sink releases");
    assert_eq!(gh["created_at"], "2023-11-14T22:13:20.000Z");
    assert_eq!(gh["updated_at"], "2023-11-14T22:16:40.000Z");
    let exp = link(&user, &format!("{p}-exp"));
    assert_eq!(exp["expires_at"], "2100-01-01T00:00:00.000Z");
    // Sink's device redirects and social card: targets and a preview; a title alone is none.
    assert_eq!(
        exp["targets"],
        json!({"ios": "https://apps.apple.com/app/id1",
               "android": "https://play.google.com/store/apps/details?id=x"})
    );
    assert_eq!(
        exp["preview"],
        json!({"image": "https://example.com/card.png"})
    );
    assert_eq!(
        (&gh["targets"], &gh["preview"]),
        (&Value::Null, &Value::Null)
    );
    let rows = report(&user.api_key, &id);
    assert_eq!(report_line(&rows, 1)[2], "superseded");
    assert_eq!(report_line(&rows, 4)[3], "invalid_expiry");
    assert_eq!(report_line(&rows, 5)[2], "refused");
    assert_eq!(link_status(&user, &format!("{p}-old")), 404);
}

#[test]
fn edgelink_csv_and_ndjson_keep_every_field_and_the_dates() {
    let app = app();
    let user = app.new_user();
    let p = prefix();
    let (id, done) = import(&user.api_key, "", &fixture("edgelink.csv", &p));
    assert_eq!(done["format"], "edgelink-csv");
    assert_eq!(counts(&done), (4, 3, 0, 1), "{done}");
    let e1 = link(&user, &format!("{p}-e1"));
    assert_eq!(e1["title"], "Edge, one");
    assert_eq!(tags(&e1), ["alpha", "beta"]);
    assert_eq!(e1["created_at"], "2025-03-01T10:00:00.000Z");
    assert_eq!(e1["updated_at"], "2025-03-02T11:00:00.000Z");
    assert_eq!(e1["valid_since"], "2025-03-01T12:00:00.000Z");
    assert_eq!(e1["state"], "active");
    let e2 = link(&user, &format!("{p}-e2"));
    assert_eq!(
        (&e2["state"], &e2["archived"], &e2["redirect_type"]),
        (&json!("disabled"), &json!(true), &json!(301))
    );
    assert_eq!(
        (&e2["forward_query"], &e2["max_clicks"]),
        (&json!(false), &json!(5))
    );
    assert_eq!(e2["expires_at"], "2099-01-01T00:00:00.000Z");
    // A user cannot flag: a flagged row comes in disabled.
    let e3 = link(&user, &format!("{p}-e3"));
    assert_eq!(e3["state"], "disabled");
    assert_eq!(e3["redirect_type"], 308);
    let rows = report(&user.api_key, &id);
    assert_eq!(report_line(&rows, 5)[3], "invalid_redirect_type");

    let (id, done) = import(&user.api_key, "", &fixture("edgelink.ndjson", &p));
    assert_eq!(done["format"], "edgelink-ndjson");
    assert_eq!(counts(&done), (4, 2, 1, 1), "{done}");
    let n1 = link(&user, &format!("{p}-n1"));
    assert_eq!(n1["url"], "https://example.com/ndjson/1b");
    assert_eq!(tags(&n1), ["x", "y"]);
    assert_eq!(n1["updated_at"], "2025-06-05T08:00:00.000Z");
    let n2 = link(&user, &format!("{p}-n2"));
    assert_eq!(
        (&n2["archived"], &n2["max_clicks"]),
        (&json!(true), &json!(10))
    );
    let rows = report(&user.api_key, &id);
    assert_eq!(report_line(&rows, 1)[2], "superseded");
    assert_eq!(report_line(&rows, 4)[2], "refused");
}

/// A user with one link of their own (`<p>-own`), another user with `<p>-theirs`, and a file
/// that names both and a free slug.
struct Conflict {
    me: User,
    other: User,
    p: String,
    file: String,
}

fn conflict() -> Conflict {
    let app = app();
    let (me, other) = (app.new_user(), app.new_user());
    let p = prefix();
    app.create_link_ok(
        &me,
        &json!({"url": "https://example.com/mine", "slug": format!("{p}-own")}),
    );
    app.create_link_ok(
        &other,
        &json!({"url": "https://example.com/theirs", "slug": format!("{p}-theirs")}),
    );
    let file = format!(
        "url,slug,title\nhttps://example.com/new-own,{p}-own,New own\nhttps://example.com/new-theirs,{p}-theirs,New theirs\nhttps://example.com/free,{p}-free,Free\n"
    );
    Conflict { me, other, p, file }
}

#[test]
fn conflict_skip_leaves_every_existing_link_alone() {
    let c = conflict();
    let (id, done) = import(&c.me.api_key, "?on_conflict=skip", &c.file);
    assert_eq!(done["on_conflict"], "skip");
    assert_eq!(counts(&done), (3, 1, 2, 0), "{done}");
    assert_eq!(
        link(&c.me, &format!("{}-own", c.p))["url"],
        "https://example.com/mine"
    );
    assert_eq!(
        link(&c.other, &format!("{}-theirs", c.p))["url"],
        "https://example.com/theirs"
    );
    assert_eq!(
        link(&c.me, &format!("{}-free", c.p))["url"],
        "https://example.com/free"
    );
    let rows = report(&c.me.api_key, &id);
    assert_eq!(rows.len(), 2, "{rows:?}");
    for line in [2, 3] {
        let r = report_line(&rows, line);
        assert_eq!((r[2].as_str(), r[3].as_str()), ("skipped", "slug_taken"));
    }
}

#[test]
fn conflict_overwrite_replaces_only_the_importers_own_link() {
    let c = conflict();
    let (id, done) = import(&c.me.api_key, "?on_conflict=overwrite", &c.file);
    assert_eq!(counts(&done), (3, 2, 0, 1), "{done}");
    assert_eq!(done["overwritten"], 1);
    let own = link(&c.me, &format!("{}-own", c.p));
    assert_eq!(
        (&own["url"], &own["title"]),
        (&json!("https://example.com/new-own"), &json!("New own"))
    );
    // Another user's link is never touched, and the row says so.
    let theirs = link(&c.other, &format!("{}-theirs", c.p));
    assert_eq!(theirs["url"], "https://example.com/theirs");
    assert_eq!(theirs["owner"], c.other.id.as_str());
    let rows = report(&c.me.api_key, &id);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = report_line(&rows, 3);
    assert_eq!((r[2].as_str(), r[3].as_str()), ("refused", "slug_taken"));
}

#[test]
fn conflict_rename_creates_conflicting_rows_under_fresh_slugs_and_reports_them() {
    let c = conflict();
    let (id, done) = import(&c.me.api_key, "?on_conflict=rename", &c.file);
    assert_eq!(counts(&done), (3, 3, 0, 0), "{done}");
    assert_eq!(done["renamed"], 2);
    assert_eq!(
        link(&c.me, &format!("{}-own", c.p))["url"],
        "https://example.com/mine"
    );
    assert_eq!(
        link(&c.other, &format!("{}-theirs", c.p))["url"],
        "https://example.com/theirs"
    );
    let rows = report(&c.me.api_key, &id);
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (line, url) in [
        (2, "https://example.com/new-own"),
        (3, "https://example.com/new-theirs"),
    ] {
        let r = report_line(&rows, line);
        assert_eq!((r[2].as_str(), r[3].as_str()), ("renamed", "slug_taken"));
        let fresh = r[4]
            .split("created as '")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("no new slug in {r:?}"));
        let renamed = link(&c.me, fresh);
        assert_eq!(renamed["url"], url);
        assert_eq!(renamed["owner"], c.me.id.as_str());
    }
}

#[test]
fn a_dry_run_validates_every_row_and_writes_no_link() {
    let c = conflict();
    let file = format!("{}not-a-url,{}-broken,\n", c.file, c.p);
    let (id, done) = import(&c.me.api_key, "?on_conflict=overwrite&dry_run=1", &file);
    assert_eq!(done["dry_run"], true);
    assert_eq!(counts(&done), (4, 2, 0, 2), "{done}");
    assert_eq!(
        link(&c.me, &format!("{}-own", c.p))["url"],
        "https://example.com/mine"
    );
    assert_eq!(link_status(&c.me, &format!("{}-free", c.p)), 404);
    assert_eq!(
        app().list_all_slugs(&c.me.api_key),
        [format!("{}-own", c.p)]
    );
    let rows = report(&c.me.api_key, &id);
    assert_eq!(report_line(&rows, 3)[3], "slug_taken");
    assert_eq!(report_line(&rows, 5)[3], "invalid_url");
}

#[test]
fn a_blocked_destination_is_refused_row_by_row() {
    let app = app();
    let user = app.new_user();
    let host = format!("{}.blocked-import.test", prefix());
    app.post(
        "/api/admin/blocklist",
        Some(app.admin_token()),
        &json!({ "host": host }).to_string(),
    )
    .assert_status(201);
    let p = prefix();
    let file = format!("url,slug\nhttps://www.{host}/x,{p}-blk\nhttps://example.com/ok,{p}-ok\n");
    let (id, done) = import(&user.api_key, "", &file);
    assert_eq!(counts(&done), (2, 1, 0, 1), "{done}");
    assert_eq!(
        report_line(&report(&user.api_key, &id), 2)[3],
        "blocked_destination"
    );
    assert_eq!(link_status(&user, &format!("{p}-blk")), 404);
}

#[test]
fn the_admin_imports_for_an_owner_named_by_id_or_email() {
    let app = app();
    let owner = app.new_user();
    let admin = app.admin_token();
    let p = prefix();
    let file = format!("url,slug\nhttps://example.com/a,{p}-a1\n");
    let (id, done) = import(admin, &format!("?owner={}", owner.id), &file);
    assert_eq!(done["owner"], owner.id.as_str());
    assert_eq!(link(&owner, &format!("{p}-a1"))["owner"], owner.id.as_str());
    // The owner sees the job; another user does not.
    job(&owner.api_key, &id).assert_status(200);
    job(&app.new_user().api_key, &id).assert_error(404, "not_found");

    let file = format!("url,slug\nhttps://example.com/b,{p}-b1\n");
    let email = common::url_encode(&owner.email);
    let (_, done) = import(admin, &format!("?owner={email}"), &file);
    assert_eq!(done["owner"], owner.id.as_str());
    assert_eq!(link(&owner, &format!("{p}-b1"))["owner"], owner.id.as_str());

    // An admin import of edgelink's format keeps a flag; a user's does not (see above).
    let (_, done) = import(
        admin,
        &format!("?owner={}", owner.id),
        &fixture("edgelink.csv", &p),
    );
    assert_eq!(done["created"], 3, "{done}");
    assert_eq!(link(&owner, &format!("{p}-e3"))["state"], "flagged");

    upload(admin, "?owner=u_nobody", &file).assert_error(400, "invalid_query");
    upload(&owner.api_key, &format!("?owner={}", owner.id), &file).assert_error(403, "forbidden");
}

#[test]
fn garbage_and_unknown_formats_are_400_and_store_nothing() {
    let app = app();
    let user = app.new_user();
    let jobs = || {
        app.d1_query(&format!(
            "SELECT COUNT(*) AS n FROM imports WHERE owner_id = {}",
            sql_str(&user.id)
        ))[0]["n"]
            .as_u64()
            .expect("count")
    };
    let key = &user.api_key;
    upload(key, "", "\u{1}\u{2}\u{3} not a file at all").assert_error(400, "invalid_import");
    upload(key, "", "name,age\nbob,3\n").assert_error(400, "invalid_import");
    upload(key, "", "{\"links\": 5}").assert_error(400, "invalid_import");
    upload(key, "?format=sink", "url,slug\nhttps://e.com,abc\n")
        .assert_error(400, "invalid_import");
    upload(key, "?format=shlink", "url,slug\nhttps://e.com,abc\n")
        .assert_error(400, "invalid_import");
    upload(key, "?format=xml", "url\nhttps://e.com\n").assert_error(400, "invalid_query");
    upload(key, "?on_conflict=merge", "url\nhttps://e.com\n").assert_error(400, "invalid_query");
    upload(key, "?dry_run=yes", "url\nhttps://e.com\n").assert_error(400, "invalid_query");
    assert_eq!(jobs(), 0);
    assert!(app.list_all_slugs(key).is_empty());
    // Without credentials nothing is read at all.
    app.request_with_headers("POST", "/api/imports", &[], Some("url\nhttps://e.com\n"))
        .assert_error(401, "unauthorized");
    job(key, "imp_doesnotexist").assert_error(404, "not_found");
    job(key, "bad%20id").assert_error(404, "not_found");
}

/// The import's limit (`exchange::import::MAX_FILE_BYTES`).
const FILE_LIMIT: usize = 50 * 1024 * 1024;

/// Writes `head`, then `body` (stopping quietly if the Worker already answered and closed),
/// and reads the status line of the answer.
fn raw_post(head: &str, body: impl Iterator<Item = Vec<u8>>) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", app().port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    stream.write_all(head.as_bytes()).expect("head");
    for piece in body {
        if stream.write_all(&piece).is_err() {
            break;
        }
    }
    let _ = stream.flush();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "no answer: {e}; read so far: {:?}",
                String::from_utf8_lossy(&answer)
            ),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn a_file_over_50_mb_is_413_whether_announced_or_streamed() {
    let app = app();
    let user = app.new_user();
    let head = |framing: &str| {
        format!(
            "POST /api/imports HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: text/csv\r\n{framing}\r\n\r\n",
            app.port, user.api_key
        )
    };
    let chunk = {
        let line = b"https://example.com/padding-padding-padding-padding,x\n";
        let mut c = b"url,slug\n".to_vec();
        while c.len() < 64 * 1024 {
            c.extend_from_slice(line);
        }
        c
    };
    let chunks = FILE_LIMIT / chunk.len() + 2;
    // Announced: refused from the Content-Length (the local dev proxy takes the whole body
    // before it hands the request on, so the whole body is sent).
    let announced = chunks * chunk.len();
    let answer = raw_post(
        &head(&format!("Content-Length: {announced}")),
        std::iter::repeat_n(chunk.clone(), chunks),
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // Streamed (chunked, no length): refused at the chunk that crosses the limit, before the
    // body ends (no terminating chunk is ever sent).
    let framed = std::iter::repeat_n(chunk, chunks).map(|c| {
        let mut piece = format!("{:x}\r\n", c.len()).into_bytes();
        piece.extend_from_slice(&c);
        piece.extend_from_slice(b"\r\n");
        piece
    });
    let answer = raw_post(&head("Transfer-Encoding: chunked"), framed);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(app.list_all_slugs(&user.api_key).is_empty());
    let jobs = app.d1_query(&format!(
        "SELECT COUNT(*) AS n FROM imports WHERE owner_id = {}",
        sql_str(&user.id)
    ));
    assert_eq!(jobs[0]["n"].as_u64(), Some(0));
}

#[test]
fn ten_thousand_rows_finish_through_the_queue_with_progress_visible_midway() {
    let app = app();
    let user = app.new_user();
    let p = prefix();
    let total = 10_000u64;
    let mut file = String::from("url,slug,tags\n");
    for i in 0..total {
        file.push_str(&format!("https://example.com/bulk/{i},{p}-{i},bulk\n"));
    }
    let (id, accepted) = start(&user.api_key, "", &file);
    assert_eq!(accepted["total"], total);
    let mut midway = None;
    let done = poll_job(BIG_IMPORT_DEADLINE, "10,000-row import done", || {
        let v = job(&user.api_key, &id).json();
        let created = v["created"].as_u64().unwrap_or(0);
        if midway.is_none() && v["status"] == "running" && created > 0 && created < total {
            midway = Some(v.clone());
        }
        (v["status"] == "done").then_some(v)
    });
    let midway = midway.unwrap_or_else(|| panic!("no progress seen between 0 and {total}"));
    assert!(midway["chunks_done"].as_u64().unwrap_or(0) < midway["chunks"].as_u64().unwrap_or(0));
    assert_eq!(counts(&done), (total, total, 0, 0), "{done}");
    assert!(done["finished_at"].is_string());
    // Every link is in KV (sampled) and, in batched writes, in the D1 index.
    for i in [0, 1234, 9999] {
        assert_eq!(
            link(&user, &format!("{p}-{i}"))["url"],
            format!("https://example.com/bulk/{i}")
        );
    }
    poll_until(BACKGROUND_DEADLINE, "10,000 rows indexed", || {
        let n = app.d1_query(&format!(
            "SELECT COUNT(*) AS n FROM links WHERE user_id = {}",
            sql_str(&user.id)
        ))[0]["n"]
            .as_u64();
        (n == Some(total)).then_some(())
    });
    let tagged = app.d1_query(&format!(
        "SELECT COUNT(*) AS n FROM link_tags t JOIN links l ON l.slug = t.slug WHERE l.user_id = {} AND t.tag = 'bulk'",
        sql_str(&user.id)
    ));
    assert_eq!(tagged[0]["n"].as_u64(), Some(total));
    assert!(report(&user.api_key, &id).is_empty());
}
