//! Adopting a Sink KV namespace in place (issue 25), end to end: 1,500 keys as Sink 0.2 and 0.3
//! leave them (`tests/fixtures/sink/generate.mjs`) are written into the running Worker's `LINKS`
//! namespace; every one answers as it should before the sweep, while the sweep is part way
//! (each run adopts at most `RECONCILE_MAX_ADOPTIONS`), and after it; afterwards D1 holds
//! exactly KV's links, the `ADOPT_OWNER`'s list and API show them with Sink's fields mapped,
//! `adopted` and `unknown` are counted, the unknown keys are untouched, and a write that lands
//! between the sweep's read and its adoption is never overwritten.
//!
//! Its own binary: the sweep adopts every Sink key of the namespace, so nothing else may put
//! Sink keys into it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const FIXTURE_KEYS: usize = 1500;
/// Adoptions per cron run: the 1,470 Sink links take several runs, so "during" is seen.
const MAX_ADOPTIONS: u64 = 400;
const NIGHTLY: &str = "0 3 * * *";
const FREQUENT: &str = "*/5 * * * *";

/// The `ADOPT_OWNER` this binary's Worker starts with: a user id the test then gives to a user
/// it creates ([`owner`]), as an operator sets the var to an existing user's id.
fn owner_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| format!("u_sink{}", random_alnum(8)))
}

fn app() -> &'static TestApp {
    app_with_vars(&[
        ("ADOPT_OWNER", owner_id()),
        ("RECONCILE_MAX_ADOPTIONS", "400"),
        ("FAULT_INJECTION", "on"),
    ])
}

/// A user made through the admin API whose id is then the one `ADOPT_OWNER` names (the Worker
/// read its vars at start, before any user existed): its KV record, its API key's record, its
/// e-mail's and its D1 row moved to that id.
fn owner() -> User {
    let app = app();
    let made = app.new_user();
    let id = owner_id();
    let moved = |text: String| text.replace(&made.id, id);
    let record = app
        .kv_get(&format!("user:{}", made.id))
        .expect("user record");
    app.kv_put(&format!("user:{id}"), &moved(record));
    app.kv_delete(&format!("user:{}", made.id));
    app.kv_put(&format!("email:{}", made.email), id);
    let mut rekeyed = 0;
    for key in app.kv_list_names("apikey:") {
        if let Some(value) = app.kv_get(&key).filter(|v| v.contains(&made.id)) {
            app.kv_put(&key, &moved(value));
            rekeyed += 1;
        }
    }
    assert_eq!(rekeyed, 1, "the new user's one API key");
    app.d1_write(&format!(
        "UPDATE users SET id = {} WHERE id = {};",
        sql_str(id),
        sql_str(&made.id)
    ));
    let me = app.get("/api/links", Some(&made.api_key));
    me.assert_status(200);
    User {
        id: id.to_owned(),
        ..made
    }
}

/// The fixture: entries `{key, value, metadata?, expiration?, kind, slug, expect?}`.
fn fixture() -> Vec<Value> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("node")
        .args([
            "tests/fixtures/sink/generate.mjs",
            "--count",
            &FIXTURE_KEYS.to_string(),
            "--seed",
            "25",
            "--prefix",
            &format!("s{}", random_alnum(3)),
        ])
        .current_dir(root)
        .output()
        .expect("node runs the fixture generator");
    assert!(
        out.status.success(),
        "generate.mjs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let Value::Array(entries) = serde_json::from_slice(&out.stdout).expect("a JSON array") else {
        panic!("not an array");
    };
    assert_eq!(entries.len(), FIXTURE_KEYS);
    entries
}

/// A GET as the admin that waits as long as it takes: a cron run through 400 slug objects
/// takes 12 to 20 s here, longer under load (the harness's 60 s is not enough), and the report
/// right after it is counted in flight ([`TestApp::nudged`]) so the proxy nudger covers it.
fn patient_admin_get(path: &str) -> Value {
    let app = app();
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(600))
        .build();
    // Nudged: after a run through hundreds of slug objects the dev proxy can park the next
    // request until another one arrives (tests/common's PROXY_NUDGE_EVERY).
    let resp = app.nudged(|| {
        agent
            .get(&app.url(path))
            .set("Authorization", &format!("Bearer {}", app.admin_token()))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}\n{}", app.log_tail(20)))
    });
    let text = resp.into_string().expect("body");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn consistency() -> Value {
    patient_admin_get("/api/admin/consistency")
}

fn run_cron(expr: &str) {
    patient_admin_get(&format!("/__scheduled?cron={}", expr.replace(' ', "+")));
}

fn kind(e: &Value) -> &str {
    e["kind"].as_str().expect("kind")
}

fn slug(e: &Value) -> &str {
    e["slug"].as_str().expect("slug")
}

fn adoptable(e: &Value) -> bool {
    kind(e) != "unknown"
}

/// Every entry answers as its kind says: a 301 to Sink's url (with the visitor's query only
/// where Sink forwarded it), 410 for an expired or a password-protected link, 404 for a value
/// that is no link. `phase` names the moment in failures.
fn assert_all_answer(entries: &[Value], phase: &str) {
    let app = app();
    for (i, e) in entries.iter().enumerate() {
        let s = slug(e);
        let resp = app.get_no_redirect(&format!("/{s}"));
        let want = match kind(e) {
            "active" => 301,
            "expired" | "protected" => 410,
            _ => 404,
        };
        assert_eq!(
            resp.status,
            want,
            "{phase}: /{s} ({}) -> {}",
            kind(e),
            resp.body
        );
        if want != 301 {
            assert_eq!(resp.location(), None, "{phase}: /{s} went somewhere");
            continue;
        }
        let url = e["expect"]["url"].as_str().expect("url");
        assert_eq!(resp.location(), Some(url), "{phase}: /{s}");
        if i % 4 == 0 {
            let with_query = app.get_no_redirect(&format!("/{s}?via=sink"));
            assert_eq!(with_query.status, 301, "{phase}: /{s}?via=sink");
            let location = with_query.location().expect("Location");
            let forwarded = location.contains("via=sink");
            assert_eq!(
                forwarded,
                e["expect"]["forward_query"] == true,
                "{phase}: /{s}?via=sink -> {location}"
            );
            assert!(location.starts_with(url), "{phase}: {location}");
        }
    }
}

/// Whether the key holds edgelink's own link now (adopted), rather than Sink's value.
fn is_edgelink(value: &str) -> bool {
    serde_json::from_str::<Value>(value).is_ok_and(|v| v.get("owner").is_some())
}

fn secs_to_rfc3339(secs: u64) -> String {
    // Through the Worker's own format: `Timestamp`'s RFC 3339 with milliseconds and `Z`.
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[test]
fn a_sink_namespace_is_adopted_in_place_and_redirects_throughout() {
    let app = app();
    let owner = owner();
    let entries = fixture();
    app.kv_put_many(&entries);
    let adoptable_slugs: BTreeSet<&str> =
        entries.iter().filter(|e| adoptable(e)).map(slug).collect();
    let unknown: Vec<&Value> = entries.iter().filter(|e| !adoptable(e)).collect();
    assert_eq!(adoptable_slugs.len(), 1470);
    assert_eq!(unknown.len(), 30);

    // Before any sweep: Sink's values redirect as Sink answered them.
    assert_all_answer(&entries, "before the sweep");
    // Another user cannot take a Sink link's slug; a value that is no link answers 404.
    let stranger = app.new_user();
    let first_active = entries
        .iter()
        .filter(|e| kind(e) == "active")
        .min_by_key(|e| slug(e))
        .expect("an active link");
    let raced_slug = slug(first_active).to_owned();
    let taken = entries
        .iter()
        .filter(|e| kind(e) == "active")
        .max_by_key(|e| slug(e))
        .expect("an active link");
    app.create_link(
        &stranger,
        &json!({"url": "https://example.org/mine", "slug": slug(taken)}),
    )
    .assert_error(409, "slug_taken");

    // The concurrent write: Sink (still running) edits the first link to be adopted between
    // the sweep's read of it and its adoption (the test-only race of `FAULT_INJECTION`).
    let mut raced: Value = serde_json::from_str(first_active["value"].as_str().unwrap()).unwrap();
    raced["url"] = json!("https://example.com/raced");
    raced["updatedAt"] = json!(1_800_000_000u64);
    let raced_value = raced.to_string();
    app.kv_put(
        "fault:adopt-race",
        &json!({ &raced_slug: &raced_value }).to_string(),
    );

    // One budget-limited run: part of the namespace is converted.
    run_cron(NIGHTLY);
    // The race is one-shot: the sweep disarmed it.
    assert_eq!(app.kv_get("fault:adopt-race"), None);
    let during = consistency();
    let progress = &during["sweep_in_progress"];
    assert_eq!(
        progress["adopted"],
        MAX_ADOPTIONS - 1,
        "one run adopts its allowance, less the raced link: {during}"
    );
    let converted = entries
        .iter()
        .filter(|e| adoptable(e))
        .filter(|e| {
            app.kv_get(e["key"].as_str().unwrap())
                .is_some_and(|v| is_edgelink(&v))
        })
        .count();
    assert_eq!(
        converted as u64,
        MAX_ADOPTIONS - 1,
        "converted after one run"
    );
    // The raced key keeps the concurrent write, not the adoption of what the sweep read.
    assert_eq!(
        app.kv_get(&format!("link:{raced_slug}")).as_deref(),
        Some(raced_value.as_str())
    );
    assert_eq!(
        app.get_no_redirect(&format!("/{raced_slug}")).location(),
        Some("https://example.com/raced")
    );
    let raced_index = entries.iter().position(|e| slug(e) == raced_slug).unwrap();
    let mut now_entries = entries.clone();
    now_entries[raced_index]["expect"]["url"] = json!("https://example.com/raced");
    assert_all_answer(&now_entries, "during the sweep");

    // The frequent runs continue the sweep to its end.
    let mut runs = 1;
    let last = poll_until(Duration::from_secs(300), "the sweep to finish", || {
        run_cron(FREQUENT);
        runs += 1;
        let c = consistency();
        (c["sweep_in_progress"].is_null() && !c["last_sweep"].is_null()).then_some(c)
    });
    assert!(
        runs >= 4,
        "1,470 adoptions at 400 a run take several runs, took {runs}"
    );
    let sweep = &last["last_sweep"];
    assert_eq!(
        sweep["adopted"], 1469,
        "every Sink link but the raced one: {sweep}"
    );
    assert_eq!(sweep["unknown"], 30, "{sweep}");
    assert_eq!(sweep["scanned"], FIXTURE_KEYS as u64, "{sweep}");
    assert_eq!(
        sweep["missing"], 0,
        "Sink and unknown values are not drift: {sweep}"
    );
    let samples = sweep["samples"]["unknown"]
        .as_array()
        .expect("unknown samples");
    let unknown_slugs: BTreeSet<&str> = unknown.iter().map(|e| slug(e)).collect();
    assert!(!samples.is_empty() && samples.len() <= 10, "{sweep}");
    for s in samples {
        assert!(
            unknown_slugs.contains(s.as_str().unwrap()),
            "sample {s} is no unknown key"
        );
    }

    // The next sweep adopts the raced link as it now is.
    run_cron(NIGHTLY);
    let c = poll_until(
        Duration::from_secs(120),
        "the second sweep to finish",
        || {
            let c = consistency();
            if c["sweep_in_progress"].is_null() {
                return Some(c);
            }
            run_cron(FREQUENT);
            None
        },
    );
    assert_eq!(
        c["last_sweep"]["adopted"], 1,
        "the raced link, next sweep: {c}"
    );
    assert_eq!(c["last_sweep"]["unknown"], 30);
    let raced_link = app.get(&format!("/api/links/{raced_slug}"), Some(&owner.api_key));
    raced_link.assert_status(200);
    assert_eq!(raced_link.json()["url"], "https://example.com/raced");

    // After: every key answers as before, and D1 holds exactly KV's links.
    assert_all_answer(&now_entries, "after the sweep");
    let mut in_kv: BTreeMap<String, u64> = BTreeMap::new();
    for e in &entries {
        let key = e["key"].as_str().unwrap();
        let value = app.kv_get(key).expect("every key still there");
        if adoptable(e) {
            let link: Value = serde_json::from_str(&value).expect("JSON");
            assert_eq!(link["owner"], owner.id, "{key}: {value}");
            in_kv.insert(
                slug(e).to_owned(),
                link["version"].as_u64().expect("version"),
            );
        } else {
            // Left untouched.
            assert_eq!(value, e["value"].as_str().unwrap(), "{key} was changed");
        }
    }
    let in_d1: BTreeMap<String, u64> = app
        .d1_query("SELECT slug, version FROM links")
        .iter()
        .map(|r| {
            (
                r["slug"].as_str().unwrap().to_owned(),
                r["version"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        in_d1, in_kv,
        "D1 = KV: every adopted link at its version, nothing else"
    );
    let mut tags_in_d1: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in app.d1_query("SELECT slug, tag FROM link_tags ORDER BY slug, tag") {
        tags_in_d1
            .entry(r["slug"].as_str().unwrap().to_owned())
            .or_default()
            .push(r["tag"].as_str().unwrap().to_owned());
    }
    for e in entries
        .iter()
        .filter(|e| adoptable(e) && slug(e) != raced_slug)
    {
        let want: Vec<String> = serde_json::from_value(e["expect"]["tags"].clone()).unwrap();
        let mut have = tags_in_d1.get(slug(e)).cloned().unwrap_or_default();
        let mut want_sorted = want.clone();
        have.sort();
        want_sorted.sort();
        assert_eq!(have, want_sorted, "{}: tag rows", slug(e));
    }
    let report = consistency();
    assert_eq!(
        report["d1_total"].as_u64(),
        report["kv_total"].as_u64().map(|n| n - 30),
        "every link in KV but the 30 unknown values is in D1: {report}"
    );

    // The owner's list and API show them, with Sink's fields mapped.
    let listed: BTreeSet<String> = app.list_all_slugs(&owner.api_key).into_iter().collect();
    let expected: BTreeSet<String> = adoptable_slugs.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        listed, expected,
        "the owner's list holds every adopted link"
    );
    for e in entries
        .iter()
        .filter(|e| adoptable(e) && slug(e) != raced_slug)
    {
        let s = slug(e);
        let x = &e["expect"];
        let resp = app.get(&format!("/api/links/{s}"), Some(&owner.api_key));
        resp.assert_status(200);
        let l = resp.json();
        assert_eq!(l["url"], x["url"], "{s}");
        assert_eq!(l["owner"], owner.id, "{s}");
        assert_eq!(l["title"], x["title"], "{s}");
        assert_eq!(l["tags"], x["tags"], "{s}");
        assert_eq!(l["targets"], x["targets"], "{s}");
        assert_eq!(l["preview"], x["preview"], "{s}");
        assert_eq!(l["redirect_type"], 301, "{s}");
        assert_eq!(l["forward_query"], x["forward_query"], "{s}");
        assert_eq!(l["max_clicks"], Value::Null, "{s}");
        let state = if x["is_active"] == true {
            "active"
        } else {
            "disabled"
        };
        assert_eq!(l["state"], state, "{s}");
        let expires = x["expires_at_s"].as_u64().map(secs_to_rfc3339);
        assert_eq!(l["expires_at"].as_str(), expires.as_deref(), "{s}");
        assert_eq!(l["expired"], kind(e) == "expired", "{s}");
        if let Some(created) = x["created_at_s"].as_u64() {
            assert_eq!(l["created_at"], secs_to_rfc3339(created), "{s}");
            let updated = x["updated_at_s"].as_u64().unwrap();
            assert_eq!(l["updated_at"], secs_to_rfc3339(updated), "{s}");
            assert_eq!(
                l["version"],
                updated * 1000,
                "{s}: version is updatedAt in ms"
            );
        }
        // Nothing edgelink has no place for comes along.
        for dropped in [
            "description",
            "comment",
            "apple",
            "cloaking",
            "password",
            "id",
        ] {
            assert!(l.get(dropped).is_none(), "{s}: {dropped} in {l}");
        }
    }
    // Another user still cannot see or take them.
    app.get(
        &format!("/api/links/{}", slug(taken)),
        Some(&stranger.api_key),
    )
    .assert_error(404, "not_found");
}
