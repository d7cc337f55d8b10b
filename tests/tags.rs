//! Tags (issue 25) end to end against the real Worker: validation (every bad value is a 400
//! `invalid_tags` with nothing written), normalisation, PATCH set and clear, `GET /api/tags`,
//! the lists' `tag` filter in both modes over several pages, isolation between users, and the
//! sweep repairing `link_tags` rows removed from D1 or added there by hand.

mod common;

use std::collections::BTreeSet;
use std::thread;
use std::time::Duration;

use common::{
    app, poll_for, poll_until, random_alnum, random_slug, slug_of, sql_str, url_encode, version_of,
    BACKGROUND_DEADLINE,
};
use serde_json::{json, Value};

/// A tag no other test (or earlier run on the same store) uses.
fn fresh_tag(prefix: &str) -> String {
    format!("{prefix}-{}", random_alnum(8).to_lowercase())
}

fn tags_of(link: &Value) -> Vec<String> {
    link["tags"]
        .as_array()
        .unwrap_or_else(|| panic!("tags missing in {link}"))
        .iter()
        .map(|t| t.as_str().expect("tag string").to_owned())
        .collect()
}

/// The slug's `link_tags` rows in D1, sorted.
fn d1_tags(slug: &str) -> Vec<String> {
    app()
        .d1_query(&format!(
            "SELECT tag FROM link_tags WHERE slug = {} ORDER BY tag",
            sql_str(slug)
        ))
        .iter()
        .map(|r| r["tag"].as_str().expect("tag").to_owned())
        .collect()
}

fn sorted(tags: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
    v.sort();
    v
}

/// Waits until D1 indexes the slug's tags as `want` (any order).
#[track_caller]
fn wait_for_d1_tags(slug: &str, want: &[&str]) {
    let want = sorted(want);
    let mut last = Vec::new();
    let done = poll_for(BACKGROUND_DEADLINE, || {
        last = d1_tags(slug);
        (last == want).then_some(())
    });
    assert!(
        done.is_some(),
        "D1 link_tags of {slug}: want {want:?}, have {last:?}"
    );
}

/// Waits until the link's D1 row is at the version KV's value has.
#[track_caller]
fn wait_indexed(link: &Value) {
    let slug = slug_of(link);
    let version = link["version"].as_u64().expect("version");
    poll_until(BACKGROUND_DEADLINE, "the link's D1 row", || {
        app()
            .d1_query(&format!(
                "SELECT version FROM links WHERE slug = {}",
                sql_str(&slug)
            ))
            .first()
            .and_then(|r| r["version"].as_u64())
            .filter(|v| *v == version)
    });
}

/// Every slug of `GET path` (a list endpoint with its query), paging `limit` at a time.
#[track_caller]
fn all_pages(path: &str, token: &str, limit: u32) -> (Vec<String>, usize) {
    let mut slugs = Vec::new();
    let mut cursor: Option<String> = None;
    for pages in 1..=100 {
        let mut url = format!("{path}&limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={}", url_encode(c)));
        }
        let resp = app().get(&url, Some(token));
        resp.assert_status(200);
        let page = resp.json();
        for l in page["links"].as_array().expect("links") {
            slugs.push(l["slug"].as_str().expect("slug").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (slugs, pages),
        }
    }
    panic!("{path}: more than 100 pages");
}

#[test]
fn bad_tags_are_refused_with_invalid_tags_and_nothing_is_written() {
    let user = app().new_user();
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let bad: Vec<Value> = vec![
        json!(eleven),
        json!([""]),
        json!(["   "]),
        json!(["a b"]),
        json!(["a,b"]),
        json!(["tab\there"]),
        json!(["ctl\u{1}x"]),
        json!(["nbsp\u{a0}x"]),
        json!(["x".repeat(33)]),
        json!(["ok", 1]),
        json!("go"),
        json!({"go": true}),
        json!(7),
    ];
    for tags in &bad {
        let slug = random_slug();
        let resp = app().create_link(
            &user,
            &json!({"url": "https://example.com/t", "slug": slug, "tags": tags}),
        );
        resp.assert_error(400, "invalid_tags");
        assert_eq!(
            app().kv_get(&format!("link:{slug}")),
            None,
            "a refused create ({tags}) must write nothing"
        );
        app()
            .get(&format!("/api/links/{slug}"), Some(&user.api_key))
            .assert_error(404, "not_found");
    }

    // PATCH: the link is left exactly as it was.
    let link = app().create_link_ok(
        &user,
        &json!({"url": "https://example.com/t", "tags": ["keep"]}),
    );
    let slug = slug_of(&link);
    let before = app().kv_get(&format!("link:{slug}")).expect("kv value");
    for tags in &bad {
        app()
            .patch(
                &format!("/api/links/{slug}"),
                Some(&user.api_key),
                &json!({"tags": tags}).to_string(),
            )
            .assert_error(400, "invalid_tags");
    }
    assert_eq!(
        app().kv_get(&format!("link:{slug}")).as_deref(),
        Some(before.as_str()),
        "refused patches must not change the link"
    );
    // The bounds themselves are allowed: ten tags of 32 characters.
    let ten: Vec<String> = (0..10).map(|i| format!("{i}{}", "x".repeat(31))).collect();
    let ok = app().patch_link_ok(&user, &slug, json!({ "tags": ten }));
    assert_eq!(tags_of(&ok), ten);
}

#[test]
fn tags_are_normalised_kept_in_kv_and_d1_and_patch_sets_and_clears_them() {
    let user = app().new_user();
    let link = app().create_link_ok(
        &user,
        &json!({"url": "https://example.com/n", "tags": [" Café ", "Zeta", "CAFÉ", "alpha", "zeta"]}),
    );
    let slug = slug_of(&link);
    assert_eq!(tags_of(&link), vec!["café", "zeta", "alpha"]);
    let kv: Value =
        serde_json::from_str(&app().kv_get(&format!("link:{slug}")).expect("kv")).expect("json");
    assert_eq!(tags_of(&kv), vec!["café", "zeta", "alpha"]);
    assert_eq!(
        tags_of(
            &app()
                .get(&format!("/api/links/{slug}"), Some(&user.api_key))
                .json()
        ),
        vec!["café", "zeta", "alpha"]
    );
    wait_for_d1_tags(&slug, &["café", "zeta", "alpha"]);
    // The redirect ignores the new field.
    app()
        .get_no_redirect(&format!("/{slug}"))
        .assert_status(302);

    // A PATCH without tags keeps them; with tags replaces them; null and [] clear them.
    let p = app().patch_link_ok(&user, &slug, json!({"title": "t"}));
    assert_eq!(tags_of(&p), vec!["café", "zeta", "alpha"]);
    let p = app().patch_link_ok(&user, &slug, json!({"tags": ["New", "café"]}));
    assert_eq!(tags_of(&p), vec!["new", "café"]);
    wait_for_d1_tags(&slug, &["new", "café"]);
    let p = app().patch_link_ok(&user, &slug, json!({ "tags": null }));
    assert!(tags_of(&p).is_empty());
    wait_for_d1_tags(&slug, &[]);
    let p = app().patch_link_ok(&user, &slug, json!({"tags": ["again"]}));
    assert_eq!(tags_of(&p), vec!["again"]);
    wait_for_d1_tags(&slug, &["again"]);
    let p = app().patch_link_ok(&user, &slug, json!({"tags": []}));
    assert!(tags_of(&p).is_empty());
    wait_for_d1_tags(&slug, &[]);

    // A link created without tags has none; a delete removes the tag rows with the row.
    let plain = app().create_link_ok(&user, &json!({"url": "https://example.com/p"}));
    assert!(tags_of(&plain).is_empty());
    let gone = app().create_link_ok(
        &user,
        &json!({"url": "https://example.com/g", "tags": ["bye"]}),
    );
    let gone_slug = slug_of(&gone);
    wait_for_d1_tags(&gone_slug, &["bye"]);
    app()
        .delete(&format!("/api/links/{gone_slug}"), Some(&user.api_key))
        .assert_status(204);
    wait_for_d1_tags(&gone_slug, &[]);
}

#[test]
fn get_tags_counts_the_callers_links_and_their_clicks_sorted_by_tag() {
    let user = app().new_user();
    let other = app().new_user();
    let (a, b) = (fresh_tag("b-tag"), fresh_tag("a-tag"));
    let l1 = app().create_link_ok(
        &user,
        &json!({"url": "https://example.com/1", "tags": [a, b]}),
    );
    let l2 = app().create_link_ok(&user, &json!({"url": "https://example.com/2", "tags": [a]}));
    // Archived links still count: they are the caller's.
    let l3 = app().create_link_ok(
        &user,
        &json!({"url": "https://example.com/3", "tags": [b], "archived": true}),
    );
    // Another user's link with the same tag never shows in this user's counts.
    let theirs = app().create_link_ok(
        &other,
        &json!({"url": "https://example.com/4", "tags": [a, "only-theirs"]}),
    );
    for l in [&l1, &l2, &l3, &theirs] {
        wait_indexed(l);
    }
    // People's clicks from the roll-up (bots are not counted, as in the list).
    let day = |l: &Value| l["created_at"].as_str().expect("created_at")[..10].to_owned();
    let click = |l: &Value, bot: u8, n: u64| {
        format!(
            "INSERT INTO clicks_daily (slug, day, bot, dimension, value, clicks) \
             VALUES ({}, '{}', {bot}, 'total', '', {n});",
            sql_str(&slug_of(l)),
            day(l)
        )
    };
    app().d1_write(&format!(
        "{}{}{}{}",
        click(&l1, 0, 5),
        click(&l1, 1, 100),
        click(&l3, 0, 2),
        click(&theirs, 0, 1000)
    ));

    let mut last = Value::Null;
    let want = json!({"tags": [
        {"tag": b, "links": 2, "clicks": 7},
        {"tag": a, "links": 2, "clicks": 5},
    ]});
    let done = poll_for(BACKGROUND_DEADLINE, || {
        let resp = app().get("/api/tags", Some(&user.api_key));
        resp.assert_status(200);
        last = resp.json();
        (last == want).then_some(())
    });
    assert!(done.is_some(), "GET /api/tags: want {want}, have {last}");

    let theirs_tags = app().get("/api/tags", Some(&other.api_key)).json();
    let names: Vec<&str> = theirs_tags["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t["tag"].as_str().expect("tag"))
        .collect();
    assert_eq!(names, vec![a.as_str(), "only-theirs"], "{theirs_tags}");
    app().get("/api/tags", None).assert_status(401);
}

#[test]
fn the_tag_filter_pages_in_both_modes_with_the_other_filters_and_never_shows_others_links() {
    let user = app().new_user();
    let other = app().new_user();
    let (x, y) = (fresh_tag("x"), fresh_tag("y"));
    let mut want_any = BTreeSet::new();
    let mut want_all = BTreeSet::new();
    let mut want_x = BTreeSet::new();
    let mut created = Vec::new();
    for i in 0..9 {
        let tags: Vec<&str> = match i % 3 {
            0 => vec![&x],
            1 => vec![&y, &x],
            _ => vec![&y],
        };
        let l = app().create_link_ok(
            &user,
            &json!({"url": format!("https://example.com/f{i}"), "tags": tags}),
        );
        let slug = slug_of(&l);
        want_any.insert(slug.clone());
        if i % 3 == 1 {
            want_all.insert(slug.clone());
        }
        if i % 3 != 2 {
            want_x.insert(slug.clone());
        }
        created.push(l);
    }
    // Filtered out by the other filters or by owner: archived, disabled, untagged, another's.
    let archived = app().create_link_ok(
        &user,
        &json!({"url": "https://example.com/a", "tags": [x, y], "archived": true}),
    );
    let disabled = app().create_link_ok(
        &user,
        &json!({"url": "https://example.com/d", "tags": [x, y], "state": "disabled"}),
    );
    let untagged = app().create_link_ok(&user, &json!({"url": "https://example.com/u"}));
    let theirs = app().create_link_ok(
        &other,
        &json!({"url": "https://example.com/o", "tags": [x, y]}),
    );
    for l in created
        .iter()
        .chain([&archived, &disabled, &untagged, &theirs])
    {
        wait_indexed(l);
    }
    want_any.insert(slug_of(&disabled));
    want_all.insert(slug_of(&disabled));
    want_x.insert(slug_of(&disabled));

    let key = &user.api_key;
    let q = |extra: &str| {
        format!(
            "/api/links?tag={}&tag={}{extra}",
            url_encode(&x),
            url_encode(&y)
        )
    };
    let set = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>();

    let (any, pages) = all_pages(&q(""), key, 2);
    assert!(pages > 1, "the filter must span pages");
    assert_eq!(any.len(), want_any.len(), "no slug twice: {any:?}");
    assert_eq!(set(any), want_any);
    let (explicit_any, _) = all_pages(&q("&tag_mode=any"), key, 3);
    assert_eq!(set(explicit_any), want_any);
    // Upper case in the filter is the same tag.
    let (upper_x, _) = all_pages(
        &format!("/api/links?tag={}", url_encode(&x.to_uppercase())),
        key,
        2,
    );
    assert_eq!(set(upper_x), want_x);

    let (all, pages) = all_pages(&q("&tag_mode=all"), key, 2);
    assert!(pages > 1, "the all filter must span pages");
    assert_eq!(set(all), want_all);

    // With the state and archive filters.
    let (disabled_only, _) = all_pages(&q("&tag_mode=all&state=disabled"), key, 2);
    assert_eq!(disabled_only, vec![slug_of(&disabled)]);
    let (archived_only, _) = all_pages(&q("&archived=true"), key, 2);
    assert_eq!(archived_only, vec![slug_of(&archived)]);

    // The other user sees only their own link under the same tags.
    let (theirs_listed, _) = all_pages(&q("&tag_mode=all"), &other.api_key, 2);
    assert_eq!(theirs_listed, vec![slug_of(&theirs)]);

    // The admin list takes the same filter, over every owner.
    let admin = app().admin_token().to_owned();
    let (admin_all, _) = all_pages(
        &format!(
            "/api/admin/links?tag={}&tag={}&tag_mode=all",
            url_encode(&x),
            url_encode(&y)
        ),
        &admin,
        2,
    );
    let mut want_admin = want_all.clone();
    want_admin.insert(slug_of(&archived));
    want_admin.insert(slug_of(&theirs));
    assert_eq!(set(admin_all), want_admin);

    // Bad filters are refused.
    app()
        .get(&q("&tag_mode=some"), Some(key))
        .assert_error(400, "invalid_query");
    app()
        .get("/api/links?tag=a%20b", Some(key))
        .assert_error(400, "invalid_query");
    app()
        .get("/api/admin/links?tag=x&tag_mode=none", Some(&admin))
        .assert_error(400, "invalid_query");
}

#[test]
fn the_sweep_repairs_tag_rows_removed_changed_or_orphaned_in_d1() {
    let user = app().new_user();
    let link = app().create_link_ok(
        &user,
        &json!({"url": "https://example.com/r", "tags": ["one", "two", "three"]}),
    );
    let slug = slug_of(&link);
    wait_for_d1_tags(&slug, &["one", "two", "three"]);
    let other = app().create_link_ok(
        &user,
        &json!({"url": "https://example.com/r2", "tags": ["kept"]}),
    );
    let other_slug = slug_of(&other);
    wait_for_d1_tags(&other_slug, &["kept"]);

    // Break D1 behind the Worker's back: a tag row removed from one link, a stale tag row
    // added to another, and tag rows of a slug that has no link at all.
    let orphan = random_slug();
    app().d1_write(&format!(
        "DELETE FROM link_tags WHERE slug = {s} AND tag = 'two';
         INSERT INTO link_tags (slug, tag) VALUES ({o}, 'stale');
         INSERT INTO link_tags (slug, tag) VALUES ({g}, 'ghost'), ({g}, 'ghost2');",
        s = sql_str(&slug),
        o = sql_str(&other_slug),
        g = sql_str(&orphan),
    ));
    assert_eq!(d1_tags(&slug), sorted(&["one", "three"]));
    assert_eq!(d1_tags(&orphan), sorted(&["ghost", "ghost2"]));

    let mut runs = Vec::new();
    let repaired = poll_for(Duration::from_secs(60), || {
        runs.push(app().admin_reconcile());
        let ok = d1_tags(&slug) == sorted(&["one", "two", "three"])
            && d1_tags(&other_slug) == sorted(&["kept"])
            && d1_tags(&orphan).is_empty();
        if !ok {
            thread::sleep(Duration::from_millis(300));
        }
        ok.then_some(())
    });
    assert!(
        repaired.is_some(),
        "the sweep must repair the tag rows: {:?} {:?} {:?}; runs: {runs:#?}",
        d1_tags(&slug),
        d1_tags(&other_slug),
        d1_tags(&orphan)
    );
    // The repair rewrote tags under the row's own version: the link row did not move.
    let row = app().d1_query(&format!(
        "SELECT version, tags FROM links WHERE slug = {}",
        sql_str(&slug)
    ));
    assert_eq!(row[0]["version"], link["version"]);
    assert_eq!(row[0]["tags"], json!(r#"["one","two","three"]"#));
}

#[test]
fn an_older_write_arriving_late_does_not_roll_tags_back() {
    let user = app().new_user();
    let link = app().create_link_ok(
        &user,
        &json!({"url": "https://example.com/o", "tags": ["old"]}),
    );
    let slug = slug_of(&link);
    wait_for_d1_tags(&slug, &["old"]);
    let newer = app().patch_link_ok(&user, &slug, json!({"tags": ["new"]}));
    wait_for_d1_tags(&slug, &["new"]);
    // D1 already holds a newer write than KV's (as if it had overtaken this one), with other
    // tags; a pending marker then replays KV's older value.
    let ahead = newer["version"].as_u64().expect("version") + 1_000_000;
    app().d1_write(&format!(
        "UPDATE links SET version = {ahead}, tags = '[\"newest\"]' WHERE slug = {s};
         DELETE FROM link_tags WHERE slug = {s};
         INSERT INTO link_tags (slug, tag) VALUES ({s}, 'newest');",
        s = sql_str(&slug)
    ));
    let marker = format!(
        "sync:pending:{:013}:link:{slug}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis()
    );
    app().kv_put(&marker, "1");
    app().run_cron("*/5 * * * *");
    poll_until(BACKGROUND_DEADLINE, "the marker drained", || {
        app().kv_get(&marker).is_none().then_some(())
    });
    assert_eq!(
        d1_tags(&slug),
        vec!["newest"],
        "an older write must not roll the tags back"
    );
    // Put the row back as KV has it, for the sweeps of the other tests.
    app().d1_write(&format!(
        "UPDATE links SET version = {v}, tags = '[\"new\"]' WHERE slug = {s};
         DELETE FROM link_tags WHERE slug = {s};
         INSERT INTO link_tags (slug, tag) VALUES ({s}, 'new');",
        v = newer["version"],
        s = sql_str(&slug)
    ));
}

// ---- renaming and deleting tags ----------------------------------------------------------

fn get_link(token: &str, slug: &str) -> Value {
    let resp = app().get(&format!("/api/links/{slug}"), Some(token));
    resp.assert_status(200);
    resp.json()
}

/// `GET /api/tags`' names for `token`.
fn tag_names(token: &str) -> Vec<String> {
    let resp = app().get("/api/tags", Some(token));
    resp.assert_status(200);
    resp.json()["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t["tag"].as_str().expect("tag").to_owned())
        .collect()
}

/// A rename and a delete change every link of the owner's carrying the tags, each through its
/// slug's Durable Object: KV at once with a new version and a history entry, the index in the
/// background. A link carrying both names keeps one; other tags, other links and another
/// user's link with the same tag are untouched.
#[test]
fn a_tag_is_renamed_merged_and_deleted_on_every_link_of_its_owner() {
    let user = app().new_user();
    let other = app().new_user();
    let key = user.api_key.as_str();
    let (old, new, keep) = (fresh_tag("old"), fresh_tag("new"), fresh_tag("keep"));
    let create = |owner: &common::User, body: Value| app().create_link_ok(owner, &body);
    let l1 = create(
        &user,
        json!({"url": "https://example.com/1", "tags": [keep, old, "stay"]}),
    );
    let l2 = create(
        &user,
        json!({"url": "https://example.com/2", "tags": [old], "archived": true}),
    );
    let l3 = create(
        &user,
        json!({"url": "https://example.com/3", "tags": [old, new]}),
    );
    let l4 = create(
        &user,
        json!({"url": "https://example.com/4", "tags": [keep]}),
    );
    let theirs = create(
        &other,
        json!({"url": "https://example.com/5", "tags": [old]}),
    );
    for l in [&l1, &l2, &l3, &l4, &theirs] {
        wait_indexed(l);
    }
    let (s1, s2, s3, s4, s5) = (
        slug_of(&l1),
        slug_of(&l2),
        slug_of(&l3),
        slug_of(&l4),
        slug_of(&theirs),
    );

    let resp = app().post(
        "/api/tags/rename",
        Some(key),
        &json!({"from": old.to_uppercase(), "to": format!(" {new} ")}).to_string(),
    );
    resp.assert_status(200);
    assert_eq!(
        resp.json(),
        json!({"from": old, "to": new, "links": 3, "more": false, "failed": []})
    );
    // KV, the truth, at once.
    let after1 = get_link(key, &s1);
    assert_eq!(tags_of(&after1), vec![keep.as_str(), new.as_str(), "stay"]);
    assert!(version_of(&after1) > version_of(&l1));
    let after2 = get_link(key, &s2);
    assert_eq!(
        (tags_of(&after2), after2["archived"].clone()),
        (vec![new.clone()], json!(true))
    );
    assert_eq!(tags_of(&get_link(key, &s3)), vec![new.clone()], "merged");
    assert_eq!(get_link(key, &s4)["version"], l4["version"], "untouched");
    let theirs_now = get_link(&other.api_key, &s5);
    assert_eq!(
        (tags_of(&theirs_now), theirs_now["version"].clone()),
        (vec![old.clone()], theirs["version"].clone()),
        "another user's link keeps its tag"
    );
    // The history has the change, by the owner.
    let history = app().history(key, &s1, "").json();
    let newest = &history["history"][0];
    assert_eq!(
        (newest["op"].as_str(), newest["actor"].as_str()),
        (Some("update"), Some(user.id.as_str())),
        "{history}"
    );
    assert_eq!(tags_of(&newest["link"]), tags_of(&after1));
    // The index follows in the background.
    wait_for_d1_tags(&s1, &[&keep, &new, "stay"]);
    wait_for_d1_tags(&s2, &[&new]);
    wait_for_d1_tags(&s3, &[&new]);
    wait_for_d1_tags(&s5, &[&old]);
    let names = tag_names(key);
    assert!(names.contains(&new) && !names.contains(&old), "{names:?}");
    let (mut listed, _) = all_pages(&format!("/api/links?tag={new}"), key, 10);
    listed.extend(all_pages(&format!("/api/links?tag={new}&archived=true"), key, 10).0);
    assert_eq!(
        listed.into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([s1.clone(), s2.clone(), s3.clone()])
    );

    // Nothing carries the old name any more: a second rename changes nothing.
    let again = app().post(
        "/api/tags/rename",
        Some(key),
        &json!({"from": old, "to": "whatever"}).to_string(),
    );
    again.assert_status(200);
    assert_eq!(again.json()["links"], json!(0));

    // Delete two tags, one of them in another case; `stay` and the links stay.
    let resp = app().delete(
        &format!("/api/tags?tag={}&tag={}", new.to_uppercase(), keep),
        Some(key),
    );
    resp.assert_status(200);
    assert_eq!(
        resp.json(),
        json!({"tags": [new, keep], "links": 4, "more": false, "failed": []})
    );
    assert_eq!(tags_of(&get_link(key, &s1)), vec!["stay"]);
    for s in [&s2, &s3, &s4] {
        assert!(tags_of(&get_link(key, s)).is_empty(), "{s}");
    }
    wait_for_d1_tags(&s1, &["stay"]);
    wait_for_d1_tags(&s4, &[]);
    assert_eq!(tags_of(&get_link(&other.api_key, &s5)), vec![old.clone()]);
}

#[test]
fn a_bad_tag_edit_is_a_400_and_changes_nothing() {
    let user = app().new_user();
    let key = user.api_key.as_str();
    let tag = fresh_tag("bad");
    let link = app().create_link_ok(
        &user,
        &json!({"url": "https://example.com/b", "tags": [tag]}),
    );
    wait_indexed(&link);
    let rename = |body: Value| app().post("/api/tags/rename", Some(key), &body.to_string());
    rename(json!({"from": tag, "to": "has space"})).assert_error(400, "invalid_tags");
    rename(json!({"from": tag, "to": "x".repeat(33)})).assert_error(400, "invalid_tags");
    rename(json!({"from": tag, "to": tag.to_uppercase()})).assert_error(400, "invalid_tags");
    rename(json!({"from": tag})).assert_error(400, "invalid_json");
    rename(json!({"from": tag, "to": "ok", "also": 1})).assert_error(400, "invalid_json");
    rename(json!(["a", "b"])).assert_error(400, "invalid_json");
    app()
        .delete("/api/tags", Some(key))
        .assert_error(400, "invalid_query");
    let eleven: Vec<String> = (0..11).map(|i| format!("tag={tag}{i}")).collect();
    app()
        .delete(&format!("/api/tags?{}", eleven.join("&")), Some(key))
        .assert_error(400, "invalid_query");
    app()
        .delete(&format!("/api/tags?tag={tag}&tag=a%20b"), Some(key))
        .assert_error(400, "invalid_tags");
    app()
        .post(
            "/api/tags/rename",
            None,
            &json!({"from": tag, "to": "y"}).to_string(),
        )
        .assert_status(401);
    app()
        .delete(&format!("/api/tags?tag={tag}"), None)
        .assert_status(401);
    let now = get_link(key, &slug_of(&link));
    assert_eq!(
        (now["version"].clone(), tags_of(&now)),
        (link["version"].clone(), vec![tag.clone()]),
        "nothing written"
    );
}
