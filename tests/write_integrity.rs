//! The write path's integrity, end to end against the real Worker: every change of a link is an
//! intent that the slug's Durable Object applies to the newest state it holds.
//!
//! - a flag survives everything its owner can do (delete and re-create; an edit made from a
//!   stale KV read, made for real by writing an older value straight into local KV);
//! - `ETag` / `If-Match` refuse a write to a link that has moved on (412), changing nothing;
//! - numbers are bounded where they enter, and one unreadable D1 row never fails a list;
//! - the object's step order: a failed KV write answers 5xx and changes nothing (KV, D1, the
//!   object); a failed record commit after KV took the write still answers 2xx;
//! - the reconciler's metadata repair goes through the object and never writes back an older
//!   value than the object holds.
//!
//! The faults use the Worker's test-only switch: this binary starts `wrangler dev` with
//! `FAULT_INJECTION=on` (never set in the shipped wrangler.toml), and a test arms a fault for
//! its own slug by writing `fault:<point>:<slug>` into local KV.

mod common;

use common::{
    app_with_vars, poll_until, random_slug, version_of, TestApp, User, BACKGROUND_DEADLINE,
};
use serde_json::{json, Value};

fn app() -> &'static TestApp {
    app_with_vars(&[("FAULT_INJECTION", "on")])
}

fn admin() -> Option<&'static str> {
    Some(app().admin_token())
}

/// Creates a link at a random slug for `user`; its 201 body.
#[track_caller]
fn create(user: &User, url: &str) -> Value {
    app().create_link_ok(user, &json!({ "url": url, "slug": random_slug() }))
}

fn slug(link: &Value) -> String {
    link["slug"].as_str().expect("slug").to_owned()
}

/// The stored KV value of `link:<slug>`, parsed.
#[track_caller]
fn kv_link(slug: &str) -> Option<Value> {
    app()
        .kv_get(&format!("link:{slug}"))
        .map(|text| serde_json::from_str(&text).expect("stored link is JSON"))
}

/// The D1 index row's version of `slug`, when it has one.
fn d1_version(slug: &str) -> Option<u64> {
    app()
        .d1_query(&format!("SELECT version FROM links WHERE slug = '{slug}'"))
        .first()
        .and_then(|row| row["version"].as_u64())
}

/// Waits until D1 indexes `slug` at `version`.
#[track_caller]
fn wait_indexed(slug: &str, version: u64) {
    poll_until(BACKGROUND_DEADLINE, "D1 to index the write", || {
        (d1_version(slug) == Some(version)).then_some(())
    });
}

#[track_caller]
fn flag(slug: &str, reason: &str) -> Value {
    let resp = app().post(
        &format!("/api/admin/links/{slug}/flag"),
        admin(),
        &json!({ "reason": reason }).to_string(),
    );
    resp.assert_status(200);
    resp.json()
}

// ---- flags ---------------------------------------------------------------------------------

#[test]
fn a_flag_survives_its_owner_deleting_and_recreating_the_slug() {
    let app = app();
    let (owner, stranger) = (app.new_user(), app.new_user());
    let link = create(&owner, "https://example.com/phish");
    let s = slug(&link);
    flag(&s, "phishing");
    app.get_no_redirect(&format!("/{s}")).assert_status(410);

    app.delete(&format!("/api/links/{s}"), Some(&owner.api_key))
        .assert_status(204);
    let again = json!({ "url": "https://example.com/phish", "slug": s });
    app.create_link(&owner, &again)
        .assert_error(409, "slug_taken");
    app.create_link(&stranger, &again)
        .assert_error(409, "slug_taken");
    // Nothing redirects: the slug is neither live nor claimed.
    app.get_no_redirect(&format!("/{s}")).assert_status(404);
    assert_eq!(kv_link(&s), None);

    // Only an admin frees it; then its owner may have it back.
    let resp = app.delete(&format!("/api/admin/links/{s}/flag"), admin());
    resp.assert_status(204);
    app.create_link(&owner, &again).assert_status(201);
    app.get_no_redirect(&format!("/{s}")).assert_status(302);
}

#[test]
fn an_owner_edit_from_a_stale_read_keeps_the_flag() {
    let app = app();
    let owner = app.new_user();
    let link = create(&owner, "https://example.com/stale");
    let s = slug(&link);
    let before_flag = app.kv_get(&format!("link:{s}")).expect("stored");
    let flagged = flag(&s, "phishing");
    assert_eq!(flagged["state"], "flagged");
    // KV as another location may still show it within a minute: the link before the flag.
    app.kv_put(&format!("link:{s}"), &before_flag);

    let edited = app.patch_link_ok(&owner, &s, json!({ "title": "harmless" }));
    assert_eq!(edited["state"], "flagged", "{edited}");
    assert_eq!(edited["flag_reason"], "phishing");
    assert_eq!(edited["title"], "harmless");
    assert!(version_of(&edited) > version_of(&flagged));
    let stored = kv_link(&s).expect("stored");
    assert_eq!(stored["is_active"], false);
    assert_eq!(stored["flag_reason"], "phishing");
    app.get_no_redirect(&format!("/{s}")).assert_status(410);
    // Neither can the owner clear it by asking for it.
    let resp = app.patch(
        &format!("/api/links/{s}"),
        Some(&owner.api_key),
        &json!({ "state": "active" }).to_string(),
    );
    resp.assert_error(400, "invalid_state");
    wait_indexed(&s, version_of(&edited));
}

// ---- ETag / If-Match -----------------------------------------------------------------------

/// `PATCH` or `DELETE` with `If-Match`.
fn with_if_match(
    method: &str,
    user: &User,
    slug: &str,
    etag: &str,
    body: Option<&str>,
) -> common::Resp {
    let auth = format!("Bearer {}", user.api_key);
    let mut headers = vec![("Authorization", auth.as_str()), ("If-Match", etag)];
    if body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    app().request_with_headers(method, &format!("/api/links/{slug}"), &headers, body)
}

#[test]
fn if_match_refuses_a_write_to_a_link_that_moved_on() {
    let app = app();
    let owner = app.new_user();
    let link = create(&owner, "https://example.com/etag");
    let s = slug(&link);
    let read = app.get(&format!("/api/links/{s}"), Some(&owner.api_key));
    read.assert_status(200);
    let etag = read.header("etag").expect("GET answers an ETag").to_owned();
    assert_eq!(etag, format!("\"{}\"", version_of(&link)));

    let first = with_if_match("PATCH", &owner, &s, &etag, Some(r#"{"title":"first"}"#));
    first.assert_status(200);
    let new_etag = first
        .header("etag")
        .expect("PATCH answers an ETag")
        .to_owned();
    assert_ne!(new_etag, etag);

    // A second writer still holding the first read.
    let late = with_if_match("PATCH", &owner, &s, &etag, Some(r#"{"title":"second"}"#));
    late.assert_error(412, "version_mismatch");
    with_if_match("DELETE", &owner, &s, &etag, None).assert_error(412, "version_mismatch");
    for malformed in ["W/\"1\"", "1", "\"a\", \"b\""] {
        with_if_match("PATCH", &owner, &s, malformed, Some(r#"{"title":"x"}"#))
            .assert_error(412, "version_mismatch");
    }
    let stored = kv_link(&s).expect("stored");
    assert_eq!(stored["title"], "first");
    assert_eq!(format!("\"{}\"", stored["version"]), new_etag);

    // `*` and the current ETag pass.
    with_if_match("PATCH", &owner, &s, "*", Some(r#"{"archived":true}"#)).assert_status(200);
    let current = app.get(&format!("/api/links/{s}"), Some(&owner.api_key));
    let current_etag = current.header("etag").expect("etag").to_owned();
    with_if_match("DELETE", &owner, &s, &current_etag, None).assert_status(204);
    assert_eq!(kv_link(&s), None);
}

// ---- numbers and unreadable rows -----------------------------------------------------------

#[test]
fn max_clicks_is_bounded_where_it_enters() {
    let app = app();
    let user = app.new_user();
    for bad in ["18446744073709551615", "9007199254740992", "1e300", "0"] {
        let s = random_slug();
        let body = format!(r#"{{"url":"https://example.com/","slug":"{s}","max_clicks":{bad}}}"#);
        let resp = app.post("/api/links", Some(&user.api_key), &body);
        resp.assert_error(400, "invalid_max_clicks");
        assert_eq!(kv_link(&s), None, "max_clicks {bad}: nothing written");
    }
    let link = app.create_link_ok(
        &user,
        &json!({ "url": "https://example.com/", "slug": random_slug(), "max_clicks": 9007199254740991u64 }),
    );
    assert_eq!(link["max_clicks"], 9007199254740991u64);
    app.get_no_redirect(&format!("/{}", slug(&link)))
        .assert_status(302);
    let resp = app.patch(
        &format!("/api/links/{}", slug(&link)),
        Some(&user.api_key),
        r#"{"max_clicks":18446744073709551615}"#,
    );
    resp.assert_error(400, "invalid_max_clicks");
    // The user's list still reads.
    let page = app.list_links(&user.api_key, "");
    assert_eq!(page["links"].as_array().map(Vec::len), Some(1), "{page}");
}

#[test]
fn an_unreadable_d1_row_leaves_the_list_readable() {
    let app = app();
    let user = app.new_user();
    let bad = create(&user, "https://example.com/bad");
    let good = create(&user, "https://example.com/good");
    wait_indexed(&slug(&bad), version_of(&bad));
    wait_indexed(&slug(&good), version_of(&good));
    // A number no reader holds exactly, as older code or a hand edit could leave it, in a
    // column the lists read from the row (the link itself comes from KV).
    app.d1_write(&format!(
        "UPDATE links SET clicks = 18446744073709551615.0 WHERE slug = '{}'",
        slug(&bad)
    ));
    let page = app.list_links(&user.api_key, "");
    let slugs: Vec<&str> = page["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter_map(|l| l["slug"].as_str())
        .collect();
    assert_eq!(slugs, [slug(&good).as_str()], "{page}");
    let all = app.get("/api/admin/links?limit=100", admin());
    all.assert_status(200);
}

// ---- the object's step order ---------------------------------------------------------------

#[test]
fn a_failed_kv_write_in_the_object_changes_nothing() {
    let app = app();
    let (owner, other) = (app.new_user(), app.new_user());
    let link = create(&owner, "https://example.com/before");
    let s = slug(&link);
    let v = version_of(&link);
    wait_indexed(&s, v);
    let stored_before = app.kv_get(&format!("link:{s}")).expect("stored");

    app.kv_put(&format!("fault:kv-write:{s}"), "1");
    let resp = app.patch(
        &format!("/api/links/{s}"),
        Some(&owner.api_key),
        &json!({ "title": "lost" }).to_string(),
    );
    assert!(
        resp.status >= 500,
        "a failed KV write answers 5xx: {}",
        resp.status
    );
    app.delete(&format!("/api/links/{s}"), Some(&owner.api_key))
        .assert_status(500);
    assert_eq!(
        app.kv_get(&format!("link:{s}")).as_deref(),
        Some(stored_before.as_str())
    );
    assert_eq!(d1_version(&s), Some(v));
    app.kv_delete(&format!("fault:kv-write:{s}"));

    // The object kept its state too: the next write builds on the link before the failure.
    let next = app.patch_link_ok(&owner, &s, json!({ "url": "https://example.com/after" }));
    assert_eq!(next["title"], Value::Null, "{next}");
    assert_eq!(next["url"], "https://example.com/after");
    assert!(version_of(&next) > v);
    wait_indexed(&s, version_of(&next));

    // A create whose KV write fails leaves the slug free for anyone.
    let fresh = random_slug();
    app.kv_put(&format!("fault:kv-write:{fresh}"), "1");
    let resp = app.create_link(
        &owner,
        &json!({ "url": "https://example.com/", "slug": fresh }),
    );
    assert!(resp.status >= 500, "{}", resp.status);
    assert_eq!(kv_link(&fresh), None);
    app.kv_delete(&format!("fault:kv-write:{fresh}"));
    let theirs = app.create_link_ok(
        &other,
        &json!({ "url": "https://example.com/", "slug": fresh }),
    );
    assert_eq!(theirs["owner"], other.id.as_str());
}

#[test]
fn a_failed_record_commit_after_the_kv_write_still_answers_success() {
    let app = app();
    let owner = app.new_user();
    let link = create(&owner, "https://example.com/commit");
    let s = slug(&link);
    app.kv_put(&format!("fault:record-commit:{s}"), "1");
    let first = app.patch_link_ok(&owner, &s, json!({ "title": "kept" }));
    assert_eq!(kv_link(&s).expect("stored")["title"], "kept");
    app.kv_delete(&format!("fault:record-commit:{s}"));

    // The object settles the pending write from KV: the next one builds on it.
    let second = app.patch_link_ok(&owner, &s, json!({ "archived": true }));
    assert_eq!(second["title"], "kept", "{second}");
    assert!(version_of(&second) > version_of(&first));
    // And a create of a committed-late slug is still refused.
    app.create_link(
        &app.new_user(),
        &json!({ "url": "https://example.com/", "slug": s }),
    )
    .assert_error(409, "slug_taken");
    wait_indexed(&s, version_of(&second));
}

// ---- the reconciler writes through the object ----------------------------------------------

#[test]
fn the_sweeps_metadata_repair_never_writes_back_an_older_value() {
    let app = app();
    let owner = app.new_user();
    let link = create(&owner, "https://example.com/old");
    let s = slug(&link);
    let old_value = app.kv_get(&format!("link:{s}")).expect("stored");
    let updated = app.patch_link_ok(&owner, &s, json!({ "url": "https://example.com/new" }));
    wait_indexed(&s, version_of(&updated));
    // KV shows the older value, without metadata (as older writers stored it): what a sweep
    // could read while the update was on its way.
    app.kv_put(&format!("link:{s}"), &old_value);

    poll_until(BACKGROUND_DEADLINE, "a sweep to repair the key", || {
        app.admin_reconcile();
        let stored = kv_link(&s)?;
        (stored["version"].as_u64() == Some(version_of(&updated))).then_some(stored)
    });
    let stored = kv_link(&s).expect("stored");
    assert_eq!(stored["url"], "https://example.com/new");
    let listed = app.kv_list(&format!("link:{s}"));
    assert_eq!(
        listed[0]["metadata"]["version"].as_u64(),
        Some(version_of(&updated)),
        "{listed:?}"
    );
    assert_eq!(d1_version(&s), Some(version_of(&updated)));
    let resp = app.get_no_redirect(&format!("/{s}"));
    assert_eq!(resp.location(), Some("https://example.com/new"));
}
