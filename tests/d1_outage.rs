//! D1 down for real (its `links` table renamed away under the running Worker): writes and
//! redirects keep working from KV, the D1-backed list answers 503, and after D1 returns one
//! frequent cron pass makes D1 equal KV for every affected slug. Its own binary: it breaks D1.

mod common;

use std::collections::BTreeMap;

use common::{
    app, expected_d1_row, is_pending_marker_of, poll_until, random_slug, slug_of, sql_str, User,
    BACKGROUND_DEADLINE, D1_LINK_COLUMNS, PENDING_PREFIX,
};
use serde_json::{json, Value};

const FREQUENT: &str = "*/5 * * * *";

/// D1 rows of `links` for these slugs, by slug.
fn d1_rows(slugs: &[String]) -> BTreeMap<String, Value> {
    let list = slugs
        .iter()
        .map(|s| sql_str(s))
        .collect::<Vec<_>>()
        .join(",");
    app()
        .d1_query(&format!(
            "SELECT {D1_LINK_COLUMNS} FROM links WHERE slug IN ({list}) ORDER BY slug"
        ))
        .into_iter()
        .map(|row| (row["slug"].as_str().expect("slug").to_owned(), row))
        .collect()
}

/// The expected D1 content: a row per live link, nothing for the deleted slugs.
fn expected_rows(live: &[&Value]) -> BTreeMap<String, Value> {
    live.iter()
        .map(|l| (l["slug"].as_str().unwrap().to_owned(), expected_d1_row(l)))
        .collect()
}

fn create(user: &User, body: Value) -> Value {
    let resp = app().create_link(user, &body);
    resp.assert_status(201);
    resp.json()
}

#[test]
fn writes_survive_d1_outage_and_frequent_cron_repairs_index() {
    let user = app().new_user();

    // Arrange: links that exist before the outage, indexed in D1.
    let to_update: Vec<Value> = (0..3)
        .map(|i| {
            create(
                &user,
                json!({ "url": format!("https://example.com/u{i}-old"), "slug": random_slug(), "title": "old" }),
            )
        })
        .collect();
    let to_delete: Vec<Value> = (0..3)
        .map(|i| {
            create(
                &user,
                json!({ "url": format!("https://example.com/d{i}"), "slug": random_slug() }),
            )
        })
        .collect();
    let untouched = create(
        &user,
        json!({ "url": "https://example.com/keep", "slug": random_slug() }),
    );
    let before: Vec<&Value> = to_update
        .iter()
        .chain(&to_delete)
        .chain([&untouched])
        .collect();
    let before_slugs: Vec<String> = before.iter().map(|l| slug_of(l)).collect();
    let want_before = expected_rows(&before);
    poll_until(BACKGROUND_DEADLINE, "pre-outage links in D1", || {
        (d1_rows(&before_slugs) == want_before).then_some(())
    });

    // Act 1: break D1 under the running Worker.
    app().d1_exec("ALTER TABLE links RENAME TO links_away");

    let created: Vec<Value> = vec![
        create(
            &user,
            json!({ "url": "https://example.com/n0", "slug": random_slug(), "title": "new zero" }),
        ),
        create(
            &user,
            json!({ "url": "https://example.com/n1", "slug": random_slug() }),
        ),
        create(&user, json!({ "url": "https://example.com/n2" })),
    ];
    let updated: Vec<Value> = to_update
        .iter()
        .enumerate()
        .map(|(i, link)| {
            let resp = app().patch(
                &format!("/api/links/{}", slug_of(link)),
                Some(&user.api_key),
                &json!({ "url": format!("https://example.com/u{i}-new"), "title": format!("new {i}") })
                    .to_string(),
            );
            resp.assert_status(200);
            let new = resp.json();
            assert!(new["version"].as_u64() > link["version"].as_u64());
            new
        })
        .collect();
    for link in &to_delete {
        let resp = app().delete(
            &format!("/api/links/{}", slug_of(link)),
            Some(&user.api_key),
        );
        resp.assert_status(204);
    }

    // Assert: redirects come from KV and are right; the D1-backed list is unavailable.
    let redirect_of = |slug: &str| app().get_no_redirect(&format!("/{slug}"));
    for link in created.iter().chain(&updated).chain([&untouched]) {
        let resp = redirect_of(&slug_of(link));
        resp.assert_status(302);
        assert_eq!(
            resp.location(),
            link["url"].as_str(),
            "redirect of {}",
            link["slug"]
        );
    }
    for link in &to_delete {
        redirect_of(&slug_of(link)).assert_status(404);
    }
    for link in created.iter().chain(&updated) {
        let resp = app().get(
            &format!("/api/links/{}", slug_of(link)),
            Some(&user.api_key),
        );
        resp.assert_status(200);
        // Compared in stored form: a GET adds `clicks` (null while D1 is away).
        assert_eq!(
            common::stored_form(&resp.json()),
            common::stored_form(link),
            "GET of a link reads KV, not D1"
        );
    }
    app()
        .get("/api/links", Some(&user.api_key))
        .assert_error(503, "index_unavailable");
    app()
        .get("/api/links?limit=5", Some(&user.api_key))
        .assert_error(503, "index_unavailable");

    // Every write of the outage has failed and left its marker: restoring D1 cannot race with
    // a background write still in flight.
    let changed: Vec<String> = created
        .iter()
        .chain(&updated)
        .chain(&to_delete)
        .map(slug_of)
        .collect();
    poll_until(
        BACKGROUND_DEADLINE,
        "a pending marker for every write of the outage",
        || {
            let names = app().kv_list_names(PENDING_PREFIX);
            let marked = |slug: &String| names.iter().any(|name| is_pending_marker_of(name, slug));
            changed.iter().all(marked).then_some(())
        },
    );

    // Restore D1. It must still be stale, so that what follows proves the cron repaired it.
    app().d1_exec("ALTER TABLE links_away RENAME TO links");
    let all: Vec<String> = created
        .iter()
        .chain(&updated)
        .chain(&to_delete)
        .chain([&untouched])
        .map(slug_of)
        .collect();
    let stale = d1_rows(&all);
    for link in &created {
        assert!(
            !stale.contains_key(&slug_of(link)),
            "created during the outage but already in D1 before the cron: {link}"
        );
    }
    for (old, new) in to_update.iter().zip(&updated) {
        assert_eq!(
            stale.get(&slug_of(old)),
            Some(&expected_d1_row(old)),
            "updated during the outage ({new}) but D1 changed before the cron"
        );
    }
    for link in &to_delete {
        assert!(
            stale.contains_key(&slug_of(link)),
            "deleted during the outage but already gone from D1 before the cron: {link}"
        );
    }

    // Act 2: one frequent cron pass.
    app().run_cron(FREQUENT);

    // Assert: D1 equals KV (as the API reported it) for every affected slug.
    let live: Vec<&Value> = created.iter().chain(&updated).chain([&untouched]).collect();
    let want = expected_rows(&live);
    for link in &live {
        let current = app()
            .get(
                &format!("/api/links/{}", slug_of(link)),
                Some(&user.api_key),
            )
            .json();
        assert_eq!(
            common::stored_form(&current),
            common::stored_form(link),
            "KV changed unexpectedly"
        );
    }
    let repaired = poll_until(
        BACKGROUND_DEADLINE,
        "D1 to equal KV after the frequent cron",
        || {
            let rows = d1_rows(&all);
            (rows == want).then_some(rows)
        },
    );

    // And D1 equals the raw KV values too (read through the wrangler CLI, not the Worker).
    for slug in &all {
        let kv = app()
            .kv_get(&format!("link:{slug}"))
            .map(|raw| serde_json::from_str::<Value>(&raw).expect("KV link value is JSON"));
        match kv {
            Some(kv) => assert_eq!(
                repaired.get(slug),
                Some(&expected_d1_row(&kv)),
                "D1 row differs from KV value {kv}"
            ),
            None => assert!(
                !repaired.contains_key(slug),
                "{slug} is gone from KV but still in D1"
            ),
        }
    }

    // The list works again and shows exactly the live links.
    let mut listed = app().list_all_slugs(&user.api_key);
    listed.sort();
    let mut live_slugs: Vec<String> = live.iter().map(|l| slug_of(l)).collect();
    live_slugs.sort();
    assert_eq!(listed, live_slugs);

    // A second pass changes nothing.
    app().run_cron(FREQUENT);
    assert_eq!(d1_rows(&all), repaired, "a second cron pass changed D1");
}
