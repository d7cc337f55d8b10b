//! The reconciler at scale: 10,000 links seeded straight into KV (`wrangler kv bulk put`, with
//! key metadata, 50 legacy keys without), an empty D1, and a budget of two KV list pages per
//! invocation (`RECONCILE_MAX_PAGES = 2`). `POST /api/admin/reconcile` must rebuild D1 over
//! several invocations, resuming from its checkpoint each time; then find and repair exactly the
//! drift injected into D1 (missing, stale and orphan rows at the start, middle and end of the
//! key range), report it in `GET /api/admin/consistency` and alert on it; and a further sweep
//! must find nothing. Its own binary: it floods KV and edits D1 behind the Worker's back.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::{app, app_with_vars, is_rfc3339_ms_utc, poll_for, sql_str, TestApp};
use serde_json::{json, Value};

const LINKS: usize = 10_000;
/// KV list page size (the Worker's default) and pages per invocation (this binary's budget).
const PAGE: usize = 1_000;
const PAGES_PER_RUN: usize = 2;
const KEYS_PER_RUN: usize = PAGE * PAGES_PER_RUN;
const VERSION_BASE: u64 = 1_700_000_000_000;
const SEED_AT: &str = "2026-01-01T00:00:00.000Z";
const LEGACY_AT: &str = "2020-01-01T00:00:00.000Z";
/// The Worker's default `DRIFT_ALERT_THRESHOLD`.
const DRIFT_ALERT_THRESHOLD: u64 = 100;
/// A sweep of 10,000 keys at 2,000 a run needs 5 runs (6 if KV cannot tell that the 10th page
/// is the last); more means the checkpoint was not honoured.
const MAX_RUNS_PER_SWEEP: usize = LINKS / KEYS_PER_RUN + 1;

fn slug(i: usize) -> String {
    format!("sc{i:05}")
}

fn version(i: usize) -> u64 {
    VERSION_BASE + i as u64
}

/// Written by older code: no key metadata, last changed long ago.
fn is_legacy(i: usize) -> bool {
    i % 200 == 100
}

/// The link JSON as KV holds it.
fn link_value(i: usize, owner: &str) -> Value {
    let at = if is_legacy(i) { LEGACY_AT } else { SEED_AT };
    json!({
        "slug": slug(i),
        "url": format!("https://example.com/scale/{i}"),
        "title": null,
        "owner": owner,
        "is_active": true,
        "flag_reason": null,
        "created_at": at,
        "updated_at": at,
        "version": version(i),
    })
}

/// What `SELECT slug, version, url, user_id FROM links ORDER BY slug` must return.
fn expected_rows(owner: &str) -> Vec<Value> {
    (0..LINKS)
        .map(|i| {
            json!({
                "slug": slug(i),
                "version": version(i),
                "url": format!("https://example.com/scale/{i}"),
                "user_id": owner,
            })
        })
        .collect()
}

fn d1_rows() -> Vec<Value> {
    app().d1_query("SELECT slug, version, url, user_id FROM links ORDER BY slug")
}

/// The first few differences between two row lists, by slug.
fn diff(want: &[Value], actual: &[Value]) -> String {
    let index = |rows: &[Value]| -> BTreeMap<String, Value> {
        rows.iter()
            .map(|r| (r["slug"].as_str().unwrap_or_default().to_owned(), r.clone()))
            .collect()
    };
    common::describe_diff(&index(want), &index(actual))
}

#[track_caller]
fn assert_d1_equals_kv(want: &[Value], when: &str) {
    let actual = d1_rows();
    assert!(
        actual == want,
        "{when}: D1 must equal KV exactly: {}",
        diff(want, &actual)
    );
}

/// The drift injected into D1 after the first sweep. The first run's slug range (the first
/// 2,000 keys) gets 40 of each kind, so that run alone exceeds the alert threshold; the other
/// 60 of each kind are spread thinly over the rest, so no later run does.
struct Drift {
    missing: BTreeSet<String>,
    stale: BTreeSet<String>,
    orphans: BTreeSet<String>,
}

impl Drift {
    fn new() -> Self {
        let dense = |offset: usize, n: usize| (0..n).map(move |k| offset + 50 * k);
        let sparse = |offset: usize, n: usize| (0..n).map(move |k| 2_000 + offset + 133 * k);
        let missing = dense(7, 40).chain(sparse(5, 60)).map(slug).collect();
        let stale = dense(23, 40).chain(sparse(60, 60)).map(slug).collect();
        // Orphans: slugs never in KV, before the first key, between keys, and after the last.
        let orphans = ["0orph-start".to_owned(), "zzorph-end".to_owned()]
            .into_iter()
            .chain(
                dense(41, 39)
                    .chain(sparse(100, 59))
                    .map(|i| format!("{}o", slug(i))),
            )
            .collect();
        Drift {
            missing,
            stale,
            orphans,
        }
    }

    /// Injected (missing, stale, orphans) with `after < slug <= upto` (no bound when `None`).
    fn counts_in(&self, after: &str, upto: Option<&str>) -> (u64, u64, u64) {
        let count = |set: &BTreeSet<String>| {
            set.iter()
                .filter(|s| s.as_str() > after && upto.is_none_or(|u| s.as_str() <= u))
                .count() as u64
        };
        (
            count(&self.missing),
            count(&self.stale),
            count(&self.orphans),
        )
    }

    fn inject(&self, owner: &str) {
        let list =
            |set: &BTreeSet<String>| set.iter().map(|s| sql_str(s)).collect::<Vec<_>>().join(",");
        let rows: Vec<String> = self
            .orphans
            .iter()
            .map(|s| {
                format!(
                    "({}, 'https://orphan.example/', {}, NULL, 'active', NULL, \
                     '2020-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z', 1000)",
                    sql_str(s),
                    sql_str(owner)
                )
            })
            .collect();
        // One CLI run for all three kinds.
        app().d1_exec(&format!(
            "DELETE FROM links WHERE slug IN ({}); \
             UPDATE links SET version = version - 86400000, \
             url = 'https://stale.example/' || slug WHERE slug IN ({}); \
             INSERT INTO links (slug, url, user_id, title, state, flag_reason, created_at, \
             updated_at, version) VALUES {}",
            list(&self.missing),
            list(&self.stale),
            rows.join(",")
        ));
    }
}

/// Every field `POST /api/admin/reconcile` must answer with.
const SUMMARY_FIELDS: &[&str] = &[
    "event",
    "trigger",
    "pending_seen",
    "pending_repaired",
    "sweep_active",
    "pages",
    "scanned",
    "missing",
    "stale",
    "unknown_meta",
    "metadata_added",
    "orphans",
    "samples",
    "sweep_complete",
    "checkpoint_after",
    "kv_ops",
    "d1_queries",
    "drift_alert",
    "errors",
    "duration_ms",
];

fn n(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("`{field}` is not a count in {v}"))
}

/// Runs `POST /api/admin/reconcile` until the sweep completes. Asserts each run stayed within
/// its budget and resumed exactly where the previous one stopped: run `k` covers keys
/// `2000k .. 2000k + 1999` and reports the last of them as `checkpoint_after`.
/// `after_run(k, run)` is called after each run, before the next starts.
#[track_caller]
fn sweep_to_completion(
    app: &TestApp,
    label: &str,
    mut after_run: impl FnMut(usize, &Value),
) -> Vec<Value> {
    let started = Instant::now();
    let mut runs: Vec<Value> = Vec::new();
    loop {
        let run = app.admin_reconcile();
        let k = runs.len();
        after_run(k, &run);
        let described = format!("{label}, run {}: {run}", k + 1);
        for field in SUMMARY_FIELDS {
            assert!(
                run.get(field).is_some(),
                "`{field}` missing in the summary: {described}"
            );
        }
        assert_eq!(run["event"], json!("reconcile"), "{described}");
        assert_eq!(run["trigger"], json!("manual"), "{described}");
        assert_eq!(run["errors"], json!([]), "{described}");
        assert_eq!(run["sweep_active"], json!(true), "{described}");
        assert!(n(&run, "kv_ops") <= 800, "KV budget: {described}");
        assert!(n(&run, "d1_queries") <= 800, "D1 budget: {described}");
        assert!(
            n(&run, "pages") <= PAGES_PER_RUN as u64,
            "RECONCILE_MAX_PAGES=2 not honoured: {described}"
        );
        let first_key = k * KEYS_PER_RUN;
        let scanned_here = LINKS.saturating_sub(first_key).min(KEYS_PER_RUN) as u64;
        assert_eq!(n(&run, "scanned"), scanned_here, "{described}");
        let complete = run["sweep_complete"] == json!(true);
        if complete {
            assert_eq!(run["checkpoint_after"], Value::Null, "{described}");
            runs.push(run);
            eprintln!(
                "e2e: {label}: {} runs in {:.1}s",
                runs.len(),
                started.elapsed().as_secs_f64()
            );
            return runs;
        }
        assert_eq!(n(&run, "pages"), PAGES_PER_RUN as u64, "{described}");
        assert_eq!(
            run["checkpoint_after"],
            json!(slug(first_key + KEYS_PER_RUN - 1)),
            "each run must resume after the previous run's last key: {described}"
        );
        runs.push(run);
        assert!(
            runs.len() < MAX_RUNS_PER_SWEEP,
            "{label}: not complete after {} runs; the sweep does not advance",
            runs.len()
        );
    }
}

/// The sum of a count over a sweep's runs.
fn total(runs: &[Value], field: &str) -> u64 {
    runs.iter().map(|r| n(r, field)).sum()
}

/// The slug range run `k` compared: after the previous run's checkpoint, up to its own.
fn run_range(runs: &[Value], k: usize) -> (String, Option<String>) {
    let after = match k {
        0 => String::new(),
        _ => runs[k - 1]["checkpoint_after"]
            .as_str()
            .expect("checkpoint")
            .to_owned(),
    };
    (
        after,
        runs[k]["checkpoint_after"].as_str().map(str::to_owned),
    )
}

/// Finds the wrangler log line that is this run's summary (the JSON, maybe behind a level
/// prefix); true when it was logged at error level.
#[track_caller]
fn logged_at_error_level(app: &TestApp, run: &Value) -> bool {
    // wrangler writes its log a little after the response.
    let found = poll_for(Duration::from_secs(10), || {
        let log = std::fs::read_to_string(app.log_path()).expect("wrangler log");
        let line = log.lines().find(|line| {
            let (Some(start), Some(end)) = (line.find(r#"{"event":"reconcile""#), line.rfind('}'))
            else {
                return false;
            };
            start < end
                && serde_json::from_str::<Value>(&line[start..=end])
                    .ok()
                    .as_ref()
                    == Some(run)
        })?;
        Some(line.contains("ERROR"))
    });
    found.unwrap_or_else(|| {
        panic!("every run must log its summary as one JSON line; not in the log: {run}")
    })
}

/// Keys (of the first 1000 under `link:sc0`) whose metadata is not `{version, updated_at}` of
/// their value.
fn keys_without_right_metadata(app: &TestApp, owner: &str) -> Vec<String> {
    let listed = app.kv_list("link:sc0");
    assert_eq!(listed.len(), PAGE, "kv key list shows 1000 keys");
    listed
        .iter()
        .filter_map(|key| {
            let name = key["name"].as_str().expect("name");
            let i: usize = name.strip_prefix("link:sc")?.parse().ok()?;
            let value = link_value(i, owner);
            let want = json!({ "version": value["version"], "updated_at": value["updated_at"] });
            (key["metadata"] != want).then(|| name.to_owned())
        })
        .collect()
}

#[test]
fn sweeps_of_ten_thousand_links_resume_from_checkpoints_and_repair_exactly_the_drift() {
    let app = app_with_vars(&[("RECONCILE_MAX_PAGES", "2")]);
    let user = app.new_user();
    let owner = user.id.as_str();
    assert_eq!(
        (0..LINKS).filter(|&i| is_legacy(i)).count(),
        50,
        "legacy keys"
    );

    // Arrange: 10,000 links straight into KV; D1 has none of them.
    let entries: Vec<Value> = (0..LINKS)
        .map(|i| {
            let value = link_value(i, owner);
            let mut entry =
                json!({ "key": format!("link:{}", slug(i)), "value": value.to_string() });
            if !is_legacy(i) {
                entry["metadata"] =
                    json!({ "version": value["version"], "updated_at": value["updated_at"] });
            }
            entry
        })
        .collect();
    let seeding = Instant::now();
    app.kv_bulk_put(&entries);
    eprintln!(
        "e2e: {} KV keys seeded in {:.1}s",
        entries.len(),
        seeding.elapsed().as_secs_f64()
    );
    let want = expected_rows(owner);
    let seeded = app.get(
        &format!("/api/links/{}", slug(LINKS - 1)),
        Some(&user.api_key),
    );
    seeded.assert_status(200);
    assert_eq!(seeded.json()["version"], json!(version(LINKS - 1)));
    let before = app.consistency();
    assert_eq!(
        (
            &before["kv_total"],
            &before["d1_total"],
            &before["last_full_sweep_at"],
            &before["last_sweep"],
            &before["sweep_in_progress"],
            &before["pending_markers"],
        ),
        (
            &Value::Null,
            &json!(0),
            &Value::Null,
            &Value::Null,
            &Value::Null,
            &json!(0)
        ),
        "before any sweep: {before}"
    );

    // Act 1: the first sweep rebuilds D1 from KV, two pages a run.
    let rebuild = sweep_to_completion(app, "rebuild sweep", |k, run| {
        if k > 0 {
            return;
        }
        // Between runs the checkpoint is saved, and D1 holds exactly the swept pages.
        let report = app.consistency();
        let under_way = &report["sweep_in_progress"];
        assert_eq!(
            (
                &under_way["after"],
                &under_way["invocations"],
                &under_way["scanned"]
            ),
            (&run["checkpoint_after"], &json!(1), &json!(KEYS_PER_RUN)),
            "the checkpoint after the first run: {report}"
        );
        assert_eq!(report["last_sweep"], Value::Null, "{report}");
        assert_eq!(report["d1_total"], json!(KEYS_PER_RUN), "{report}");
    });

    // Assert 1: several runs, each resuming from the checkpoint; D1 now equals KV.
    assert!(
        rebuild.len() >= LINKS / KEYS_PER_RUN,
        "rebuild took {} runs",
        rebuild.len()
    );
    assert_eq!(total(&rebuild, "scanned"), LINKS as u64);
    assert_eq!(
        total(&rebuild, "missing"),
        LINKS as u64,
        "every key was missing"
    );
    assert_eq!(
        (total(&rebuild, "stale"), total(&rebuild, "orphans")),
        (0, 0)
    );
    assert_d1_equals_kv(&want, "after the rebuild sweep");
    let after_rebuild = app.consistency();
    assert_eq!(after_rebuild["kv_total"], json!(LINKS), "{after_rebuild}");
    assert_eq!(after_rebuild["d1_total"], json!(LINKS), "{after_rebuild}");
    assert_eq!(after_rebuild["sweep_in_progress"], Value::Null);
    assert_eq!(
        after_rebuild["last_sweep"]["invocations"],
        json!(rebuild.len())
    );
    assert!(after_rebuild["last_full_sweep_at"]
        .as_str()
        .is_some_and(is_rfc3339_ms_utc));
    // Legacy keys (the quiet ones, all of them) should have their metadata back by now.
    let legacy_unmended_after_rebuild = keys_without_right_metadata(app, owner);

    // Arrange 2: drift in D1 at the start, middle and end of the key range.
    let drift = Drift::new();
    assert_eq!(
        (drift.missing.len(), drift.stale.len(), drift.orphans.len()),
        (100, 100, 100)
    );
    drift.inject(owner);
    let drifted = app.d1_query(
        "SELECT COUNT(*) AS rows, \
         SUM(version = 1000) AS orphans, \
         SUM(url LIKE 'https://stale.example/%') AS stale FROM links",
    );
    assert_eq!(
        drifted,
        vec![json!({ "rows": LINKS, "orphans": 100, "stale": 100 })],
        "drift injected: 100 rows deleted, 100 rolled back, 100 orphans added"
    );

    // Act 2: a new sweep.
    let repair = sweep_to_completion(app, "drift sweep", |_, _| {});

    // Assert 2: each run found exactly the drift in its slug range, and alerted above 100.
    for (k, run) in repair.iter().enumerate() {
        let (after, upto) = run_range(&repair, k);
        let (missing, stale, orphans) = drift.counts_in(&after, upto.as_deref());
        assert_eq!(
            (n(run, "missing"), n(run, "stale"), n(run, "orphans")),
            (missing, stale, orphans),
            "drift sweep run {} over ({after:?}, {upto:?}]: {run}",
            k + 1
        );
        // A run alerts on its own drift, and the run that completes a sweep also on the whole
        // sweep's drift (300 here), so drift spread thinly over many runs still alerts.
        let completes = run["sweep_complete"] == json!(true);
        let alert = missing + stale + orphans > DRIFT_ALERT_THRESHOLD
            || (completes && 300 > DRIFT_ALERT_THRESHOLD);
        assert_eq!(
            run["drift_alert"],
            json!(alert),
            "drift_alert of run {}: {run}",
            k + 1
        );
        assert_eq!(
            logged_at_error_level(app, run),
            alert,
            "a run alerts (logs at error level) exactly when its drift, or its completed sweep's, exceeds {DRIFT_ALERT_THRESHOLD}: {run}"
        );
    }
    assert!(
        repair[0]["drift_alert"] == json!(true),
        "the first run holds 120 drifted slugs: it must alert"
    );
    let report = app.consistency();
    let last = &report["last_sweep"];
    assert_eq!(
        (n(last, "missing"), n(last, "stale"), n(last, "orphans")),
        (100, 100, 100),
        "consistency must report the injected drift: {report}"
    );
    for (kind, injected) in [
        ("missing", &drift.missing),
        ("stale", &drift.stale),
        ("orphans", &drift.orphans),
    ] {
        let samples = last["samples"][kind].as_array().expect("samples array");
        assert_eq!(samples.len(), 10, "up to 10 {kind} samples: {report}");
        for s in samples {
            assert!(
                injected.contains(s.as_str().unwrap_or_default()),
                "{kind} sample {s} is not an injected {kind} slug"
            );
        }
    }
    assert_eq!(
        (n(last, "scanned"), n(last, "invocations")),
        (LINKS as u64, repair.len() as u64)
    );
    assert_eq!(last["cursor"], Value::Null);
    assert_eq!(report["kv_total"], json!(LINKS), "{report}");
    assert_eq!(report["d1_total"], json!(LINKS), "{report}");
    assert_eq!(report["sweep_in_progress"], Value::Null, "{report}");
    assert!(
        report["last_full_sweep_at"].as_str() > after_rebuild["last_full_sweep_at"].as_str(),
        "last_full_sweep_at must move on: {report}"
    );
    assert_d1_equals_kv(&want, "after the drift sweep");

    // Act 3: one more full sweep.
    let clean = sweep_to_completion(app, "clean sweep", |_, _| {});

    // Assert 3: nothing left to find, nothing alerted, every key has its metadata.
    for run in &clean {
        assert_eq!(
            (
                n(run, "missing"),
                n(run, "stale"),
                n(run, "orphans"),
                n(run, "unknown_meta")
            ),
            (0, 0, 0, 0),
            "clean sweep: {run}"
        );
        assert_eq!(run["drift_alert"], json!(false), "{run}");
        assert!(
            !logged_at_error_level(app, run),
            "clean run logged as error: {run}"
        );
    }
    let report = app.consistency();
    let last = &report["last_sweep"];
    assert_eq!(
        (
            n(last, "missing"),
            n(last, "stale"),
            n(last, "orphans"),
            n(last, "unknown_meta")
        ),
        (0, 0, 0, 0),
        "{report}"
    );
    assert_eq!(
        last["samples"],
        json!({ "missing": [], "stale": [], "orphans": [] })
    );
    assert_eq!(report["kv_total"], json!(LINKS));
    assert_eq!(report["d1_total"], json!(LINKS));
    assert_d1_equals_kv(&want, "after the clean sweep");
    let legacy_unmended = keys_without_right_metadata(app, owner);
    assert_eq!(
        legacy_unmended,
        Vec::<String>::new(),
        "keys without the right metadata at the end"
    );
    assert_eq!(
        legacy_unmended_after_rebuild,
        Vec::<String>::new(),
        "legacy keys (no metadata, value quiet since 2020) must get their metadata in the sweep \
         that reads them; they still lacked it after the first full sweep (drift sweep then \
         reported unknown_meta {}, metadata_added {})",
        total(&repair, "unknown_meta"),
        total(&repair, "metadata_added")
    );
}
