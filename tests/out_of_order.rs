//! Out-of-order background writes never roll D1 back (invariant 3): bursts of rapid updates to
//! one link, sequential and concurrent, end with D1's row equal to KV, also when D1 is down for
//! part of the burst (the `links` table renamed away) and the frequent cron repairs it; and an
//! older write arriving after a newer one is ignored.
//!
//! Its own binary: it breaks D1. The outage test and the one that writes the stores directly
//! hold `D1_OUTAGE` for writing; every other test holds it for reading, so none of them sees
//! the outage or meets those writes.

mod common;

use std::sync::{Barrier, RwLock};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{
    app, expected_d1_row, poll_for, random_slug, slug_of, sql_str, version_of, User,
    BACKGROUND_DEADLINE, D1_LINK_COLUMNS,
};
use serde_json::{json, Value};

const FREQUENT: &str = "*/5 * * * *";
/// How long a burst's background writes (or a cron's repair) may take to reach D1.
const SETTLE_DEADLINE: Duration = Duration::from_secs(30);

static D1_OUTAGE: RwLock<()> = RwLock::new(());

fn link_path(slug: &str) -> String {
    format!("/api/links/{slug}")
}

fn d1_row(slug: &str) -> Option<Value> {
    app()
        .d1_query(&format!(
            "SELECT {D1_LINK_COLUMNS} FROM links WHERE slug = {}",
            sql_str(slug)
        ))
        .into_iter()
        .next()
}

/// The raw KV value of `link:<slug>`, parsed.
fn kv_link(slug: &str) -> Value {
    let raw = app()
        .kv_get(&format!("link:{slug}"))
        .unwrap_or_else(|| panic!("link:{slug} is missing from KV"));
    serde_json::from_str(&raw).expect("KV link value is JSON")
}

/// Polls until D1's row of `slug` equals the link KV holds; returns that KV link.
/// `context` says what the caller did, for the failure message.
#[track_caller]
fn wait_until_d1_equals_kv(slug: &str, context: &str) -> Value {
    let mut last = (Value::Null, None);
    let settled = poll_for(SETTLE_DEADLINE, || {
        let kv = kv_link(slug);
        let row = d1_row(slug);
        let equal = row.as_ref() == Some(&expected_d1_row(&kv));
        last = (kv.clone(), row);
        equal.then_some(kv)
    });
    settled.unwrap_or_else(|| {
        panic!(
            "{context}: D1 row of {slug} should equal KV within {SETTLE_DEADLINE:?}\n\
             KV: {}\nD1: {:?}",
            last.0, last.1
        )
    })
}

/// Polls until the failed index write of `slug` at `version` has left its pending marker
/// (`sync:pending:<ms>:link:<slug>:<version>`).
#[track_caller]
fn wait_for_pending_marker(slug: &str, version: u64) {
    let suffix = format!(":{version}");
    let marked = poll_for(BACKGROUND_DEADLINE, || {
        app()
            .pending_markers_of(slug)
            .iter()
            .any(|name| name.ends_with(&suffix))
            .then_some(())
    });
    assert!(
        marked.is_some(),
        "the index write of {slug} v{version} during the outage left no pending marker"
    );
}

/// `PATCH` the url; asserts 200 and that the answer carries the new url.
#[track_caller]
fn patch_url(user: &User, slug: &str, url: &str) -> Value {
    let resp = app().patch(
        &link_path(slug),
        Some(&user.api_key),
        &json!({ "url": url }).to_string(),
    );
    resp.assert_status(200);
    let link = resp.json();
    assert_eq!(link["url"], json!(url), "PATCH answer: {link}");
    link
}

/// `n` PATCHes one after another, each with a distinct url; asserts the versions strictly
/// increase in the order the answers came back.
#[track_caller]
fn sequential_patches(user: &User, slug: &str, tag: &str, n: usize) -> Vec<Value> {
    let answers: Vec<Value> = (0..n)
        .map(|i| patch_url(user, slug, &format!("https://example.com/{tag}/seq/{i}")))
        .collect();
    let versions: Vec<u64> = answers.iter().map(version_of).collect();
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "versions of sequential PATCHes must strictly increase: {versions:?}"
    );
    answers
}

/// `threads` clients released together, each sending `per_thread` PATCHes one after another.
/// Asserts each client's versions strictly increase. Returns every answer.
#[track_caller]
fn concurrent_patches(
    user: &User,
    slug: &str,
    tag: &str,
    threads: usize,
    per_thread: usize,
) -> Vec<Value> {
    let start = Barrier::new(threads);
    let per_client: Vec<Vec<Value>> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    (0..per_thread)
                        .map(|i| {
                            patch_url(user, slug, &format!("https://example.com/{tag}/c{t}/{i}"))
                        })
                        .collect::<Vec<Value>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for answers in &per_client {
        let versions: Vec<u64> = answers.iter().map(version_of).collect();
        assert!(
            versions.windows(2).all(|w| w[0] < w[1]),
            "one client's PATCHes, each after the previous answer, must get increasing versions: {versions:?}"
        );
    }
    per_client.into_iter().flatten().collect()
}

/// Versions that more than one answer carried (each write should have its own).
fn shared_versions(answers: &[Value]) -> Vec<u64> {
    let mut versions: Vec<u64> = answers.iter().map(version_of).collect();
    versions.sort_unstable();
    let mut shared: Vec<u64> = versions
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    shared.dedup();
    shared
}

/// The link KV ended with must be one of the answers, and the newest of them: an answered
/// write with a higher version may not be lost behind an older one.
#[track_caller]
fn assert_kv_holds_newest_answer(kv: &Value, answers: &[Value]) {
    let newest = answers
        .iter()
        .max_by_key(|a| version_of(a))
        .expect("some answers");
    assert!(
        answers
            .iter()
            .any(|a| common::stored_form(a) == common::stored_form(kv)),
        "KV holds a link no PATCH answered: {kv}"
    );
    assert_eq!(
        version_of(kv),
        version_of(newest),
        "KV must hold the newest answered write (url {}), not an older one (url {}); \
         versions shared by several answers: {:?}",
        newest["url"],
        kv["url"],
        shared_versions(answers)
    );
}

fn create_indexed(user: &User) -> Value {
    let link = app().create_link_ok(
        user,
        &json!({ "url": "https://example.com/start", "slug": random_slug() }),
    );
    wait_until_d1_equals_kv(&slug_of(&link), "after the create");
    link
}

#[test]
fn rapid_sequential_updates_get_increasing_versions_and_d1_ends_equal_to_kv() {
    let _shared = D1_OUTAGE.read().unwrap();
    let user = app().new_user();
    let link = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/start", "slug": random_slug() }),
    );
    let slug = slug_of(&link);

    // Act: 30 PATCHes as fast as one client can send them, while the create's and each
    // earlier PATCH's background D1 writes may still be in flight.
    let answers = sequential_patches(&user, &slug, "rapid", 30);
    assert!(version_of(&answers[0]) > version_of(&link));

    // Assert: KV holds the last answer, and D1 settles on exactly that.
    let kv = wait_until_d1_equals_kv(&slug, "after 30 rapid PATCHes");
    let last = answers.last().unwrap();
    assert_kv_holds_newest_answer(&kv, &answers);
    assert_eq!(kv["url"], last["url"]);
    let get = app().get(&link_path(&slug), Some(&user.api_key));
    assert_eq!(
        common::stored_form(&get.json()),
        common::stored_form(last),
        "GET returns the last PATCH's link"
    );
}

#[test]
fn concurrent_updates_leave_d1_equal_to_the_newest_write_in_kv() {
    let _shared = D1_OUTAGE.read().unwrap();
    let user = app().new_user();
    let link = create_indexed(&user);
    let slug = slug_of(&link);

    // Act: 10 clients at once, 3 PATCHes each, distinct urls.
    let answers = concurrent_patches(&user, &slug, "burst", 10, 3);
    assert_eq!(answers.len(), 30);

    // Assert: KV holds the newest answered write, and D1 settles on exactly that.
    assert_kv_holds_newest_answer(&kv_link(&slug), &answers);
    let context = format!(
        "after 30 concurrent PATCHes (versions answered to more than one PATCH: {:?})",
        shared_versions(&answers)
    );
    wait_until_d1_equals_kv(&slug, &context);
}

#[test]
fn updates_across_a_d1_outage_leave_d1_equal_to_kv_after_the_frequent_cron() {
    let _exclusive = D1_OUTAGE.write().unwrap_or_else(|e| e.into_inner());
    let user = app().new_user();
    let link = create_indexed(&user);
    let slug = slug_of(&link);
    let mut answers = vec![link];

    // Act 1: the burst starts with D1 up...
    answers.extend(sequential_patches(&user, &slug, "before", 5));
    answers.extend(concurrent_patches(&user, &slug, "before", 3, 2));
    // ...goes on while D1 is down...
    app().d1_write("ALTER TABLE links RENAME TO links_away");
    answers.extend(sequential_patches(&user, &slug, "during", 5));
    answers.extend(concurrent_patches(&user, &slug, "during", 3, 2));
    let newest_during = kv_link(&slug);
    // A PATCH answers before its background index write runs: D1 may only come back once the
    // newest write's attempt has failed, or that write could still land and D1 would be current
    // before the cron ran.
    wait_for_pending_marker(&slug, version_of(&newest_during));
    // ...and D1 comes back.
    app().d1_write("ALTER TABLE links_away RENAME TO links");

    // The outage was felt: D1 is behind KV, and failed writes left pending markers.
    let behind = d1_row(&slug).expect("the row from before the outage");
    assert!(
        version_of(&behind) < version_of(&newest_during),
        "writes during the outage reached D1 before the cron: D1 {behind}, KV {newest_during}"
    );
    let consistency = app().consistency();
    assert!(
        consistency["pending_markers"].as_u64() > Some(0),
        "failed index writes must leave pending markers: {consistency}"
    );

    // Act 2: the frequent cron drains the markers.
    app().run_cron(FREQUENT);

    // Assert: D1 equals KV, KV holds the newest answered write, and no marker is left.
    let context = format!(
        "after the outage and the frequent cron (versions answered to more than one PATCH: {:?})",
        shared_versions(&answers)
    );
    let kv = wait_until_d1_equals_kv(&slug, &context);
    assert_eq!(kv, newest_during, "the cron must not change KV");
    assert_kv_holds_newest_answer(&kv, &answers);
    let consistency = app().consistency();
    assert_eq!(
        (
            &consistency["pending_markers"],
            &consistency["pending_markers_more"]
        ),
        (&json!(0), &json!(false)),
        "the frequent cron must clear the markers it repaired: {consistency}"
    );

    // And the next burst, with D1 up, is indexed by its own background writes.
    answers.extend(concurrent_patches(&user, &slug, "after", 3, 3));
    let context = format!(
        "after the post-outage burst (versions answered to more than one PATCH: {:?})",
        shared_versions(&answers)
    );
    let kv = wait_until_d1_equals_kv(&slug, &context);
    assert_kv_holds_newest_answer(&kv, &answers);
}

#[test]
fn an_older_write_arriving_after_a_newer_one_does_not_roll_d1_back() {
    // Alone: it writes D1 and KV directly, and the bursts of the other tests write both.
    let _exclusive = D1_OUTAGE.write().unwrap_or_else(|e| e.into_inner());
    let user = app().new_user();
    let link = create_indexed(&user);
    let slug = slug_of(&link);

    // Arrange: D1 already holds a newer write than KV's (as if it had overtaken this one).
    let newer_version = version_of(&link) + 1_000_000;
    app().d1_write(&format!(
        "UPDATE links SET url = 'https://example.com/newer', version = {newer_version} \
         WHERE slug = {}",
        sql_str(&slug)
    ));
    let newer = d1_row(&slug).expect("row");
    assert_eq!(version_of(&newer), newer_version);

    // Act: a pending marker makes the frequent cron write KV's (older) link to D1.
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let marker = format!("sync:pending:{now_ms:013}:link:{slug}");
    app().kv_put(&marker, "1");
    app().run_cron(FREQUENT);
    let drained = poll_for(BACKGROUND_DEADLINE, || {
        app().kv_get(&marker).is_none().then_some(())
    });
    assert!(drained.is_some(), "the frequent cron must drain {marker}");

    // Assert: the older write was not applied over the newer row.
    assert_eq!(
        d1_row(&slug),
        Some(newer),
        "an upsert of version {} rolled back D1's version {newer_version}",
        link["version"]
    );
}
