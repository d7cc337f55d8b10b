//! Moderation while D1 is down (its `links` table renamed away under the running Worker): a
//! flag still answers 200 and the redirect answers 410 at once, from KV alone; D1 keeps the
//! link active until the frequent cron pass repairs it, after which the admin list finds it
//! under `state=flagged`. Its own binary: it breaks D1.

mod common;

use common::{app, poll_until, random_slug, sql_str, BACKGROUND_DEADLINE};
use serde_json::{json, Value};

const FREQUENT: &str = "*/5 * * * *";

/// D1's row for `slug`: state, flag_reason and version.
fn d1_row(slug: &str) -> Option<Value> {
    app()
        .d1_query(&format!(
            "SELECT state, flag_reason, version FROM links WHERE slug = {}",
            sql_str(slug)
        ))
        .into_iter()
        .next()
}

/// Slugs of `GET /api/admin/links?{query}` (one page of 100), asserting 200.
fn admin_list(query: &str) -> Vec<Value> {
    let resp = app().get(
        &format!("/api/admin/links?limit=100&{query}"),
        Some(app().admin_token()),
    );
    resp.assert_status(200);
    resp.json()["links"].as_array().expect("links").clone()
}

#[test]
fn flag_during_d1_outage_answers_410_at_once_and_frequent_cron_indexes_it() {
    let user = app().new_user();
    let slug = random_slug();
    let link = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/outage-flag", "slug": slug, "title": "before" }),
    );
    let owner_filter = format!("owner={}", user.id);
    poll_until(BACKGROUND_DEADLINE, "the link indexed as active", || {
        (d1_row(&slug)
            == Some(json!({ "state": "active", "flag_reason": null, "version": link["version"] })))
        .then_some(())
    });

    // Act 1: break D1, then flag.
    app().d1_exec("ALTER TABLE links RENAME TO links_away");

    let resp = app().post(
        &format!("/api/admin/links/{slug}/flag"),
        Some(app().admin_token()),
        &json!({ "reason": "malware" }).to_string(),
    );
    resp.assert_status(200);
    let flagged = resp.json();
    assert_eq!(flagged["is_active"], json!(false));
    assert_eq!(flagged["flag_reason"], json!("malware"));
    assert!(flagged["version"].as_u64() > link["version"].as_u64());

    // The redirect reads KV only: 410 at once.
    let page = app().get_no_redirect(&format!("/{slug}"));
    page.assert_status(410);
    assert!(
        page.body.contains("Link unavailable") && page.body.contains("malware"),
        "{}",
        page.body
    );
    // The D1-backed admin list is unavailable, not wrong.
    app()
        .get("/api/admin/links", Some(app().admin_token()))
        .assert_error(503, "index_unavailable");

    // The failed background write left its marker: restoring D1 now cannot race with it.
    poll_until(
        BACKGROUND_DEADLINE,
        "a pending marker for the flagged slug",
        || (!app().pending_markers_of(&slug).is_empty()).then_some(()),
    );
    app().d1_exec("ALTER TABLE links_away RENAME TO links");

    // D1 is stale until the cron: still active, and not listed as flagged.
    assert_eq!(
        d1_row(&slug),
        Some(json!({ "state": "active", "flag_reason": null, "version": link["version"] })),
        "D1 changed before the cron ran"
    );
    let flagged_before: Vec<Value> = admin_list(&format!("state=flagged&{owner_filter}"));
    assert!(
        flagged_before.is_empty(),
        "listed as flagged before D1 caught up: {flagged_before:?}"
    );
    // The redirect is still 410 meanwhile.
    app()
        .get_no_redirect(&format!("/{slug}"))
        .assert_status(410);

    // Act 2: one frequent cron pass.
    app().run_cron(FREQUENT);

    poll_until(BACKGROUND_DEADLINE, "D1 row flagged after the cron", || {
        (d1_row(&slug)
            == Some(
                json!({ "state": "flagged", "flag_reason": "malware", "version": flagged["version"] }),
            ))
        .then_some(())
    });
    let listed = admin_list(&format!("state=flagged&{owner_filter}"));
    let mut want = flagged.clone();
    want["owner_email"] = json!(user.email);
    want["clicks"] = json!(0);
    assert_eq!(listed, vec![want], "admin list under state=flagged");
    assert!(
        admin_list(&format!("state=active&{owner_filter}")).is_empty(),
        "still listed as active"
    );
    assert!(
        app().pending_markers_of(&slug).is_empty(),
        "the cron left the marker behind"
    );
}
