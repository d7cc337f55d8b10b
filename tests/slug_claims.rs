//! Atomic slug claims (one Durable Object per slug): of concurrent creates of one slug exactly
//! one wins and its link stays untouched; generated slugs never collide; a deleted slug stays
//! reserved for its owner (the link's owner, also when the admin deleted it) during the
//! quarantine (`SLUG_QUARANTINE_DAYS`, default 30 days here).
//!
//! Every test makes its own users and random slugs, so all run in parallel on one server.

mod common;

use std::collections::HashSet;
use std::sync::Barrier;
use std::thread;

use common::{app, poll_for, random_slug, sql_str, Resp, User, BACKGROUND_DEADLINE};
use serde_json::{json, Value};

fn link_path(slug: &str) -> String {
    format!("/api/links/{slug}")
}

/// The raw KV value of `link:<slug>`, parsed, in [`stored_form`].
fn kv_link(slug: &str) -> Option<Value> {
    app()
        .kv_get(&format!("link:{slug}"))
        .map(|raw| common::stored_form(&serde_json::from_str(&raw).expect("KV link value is JSON")))
}

/// The D1 row of `slug` (url, owner, version), if any.
fn d1_row(slug: &str) -> Option<Value> {
    app()
        .d1_query(&format!(
            "SELECT url, user_id, version FROM links WHERE slug = {}",
            sql_str(slug)
        ))
        .into_iter()
        .next()
}

/// Polls until D1's row for `link`'s slug carries its url, owner and version.
#[track_caller]
fn wait_for_d1_row(link: &Value) {
    let slug = link["slug"].as_str().expect("slug");
    let want = json!({ "url": link["url"], "user_id": link["owner"], "version": link["version"] });
    let mut last = None;
    let ok = poll_for(BACKGROUND_DEADLINE, || {
        last = d1_row(slug);
        (last.as_ref() == Some(&want)).then_some(())
    });
    assert!(
        ok.is_some(),
        "D1 row of {slug} should become {want} within {BACKGROUND_DEADLINE:?}; last seen {last:?}"
    );
}

/// Asserts the slug is held by `link` everywhere: the owner's GET, the raw KV value, the redirect.
#[track_caller]
fn assert_held_by(owner: &User, link: &Value) {
    let slug = link["slug"].as_str().expect("slug");
    let resp = app().get(&link_path(slug), Some(&owner.api_key));
    resp.assert_status(200);
    // Compared in stored form: a GET adds derived fields (`clicks`) the create answer lacks.
    assert_eq!(
        common::stored_form(&resp.json()),
        common::stored_form(link),
        "GET {slug} must return the winner's link"
    );
    assert_eq!(
        kv_link(slug),
        Some(common::stored_form(link)),
        "KV value of link:{slug} must be the winner's link"
    );
    let redirect = app().get_no_redirect(&format!("/{slug}"));
    redirect.assert_status(302);
    assert_eq!(redirect.location(), link["url"].as_str());
}

fn create(user: &User, slug: &str, url: &str) -> Resp {
    app().create_link(user, &json!({ "url": url, "slug": slug }))
}

#[test]
fn twenty_concurrent_creates_of_one_slug_have_one_winner_whose_link_stays_untouched() {
    let users = [app().new_user(), app().new_user()];
    let slug = random_slug();
    let racers = 20;
    let start = Barrier::new(racers);

    // Act: 20 creates of one slug, 10 from each user, released together.
    let results: Vec<(usize, Resp)> = thread::scope(|s| {
        let handles: Vec<_> = (0..racers)
            .map(|i| {
                let (users, slug, start) = (&users, &slug, &start);
                s.spawn(move || {
                    let url = format!("https://example.com/race/{i}");
                    start.wait();
                    (i, create(&users[i % 2], slug, &url))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    // Assert: exactly one 201; every other attempt 409 slug_taken.
    let statuses: Vec<(usize, u16)> = results.iter().map(|(i, r)| (*i, r.status)).collect();
    let winners: Vec<&(usize, Resp)> = results.iter().filter(|(_, r)| r.status == 201).collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one of {racers} concurrent creates of {slug} may win; (racer, status): {statuses:?}"
    );
    for (_, resp) in results.iter().filter(|(_, r)| r.status != 201) {
        resp.assert_error(409, "slug_taken");
    }
    let (winner_index, winner_resp) = winners[0];
    let won = winner_resp.json();
    let (owner, loser) = (&users[winner_index % 2], &users[(winner_index + 1) % 2]);
    assert_eq!(won["slug"], json!(slug));
    assert_eq!(won["owner"], json!(owner.id));
    assert_eq!(
        won["url"],
        json!(format!("https://example.com/race/{winner_index}"))
    );

    // The winner's link is what KV holds, what its owner reads, and where the slug redirects;
    // the other user does not see it as theirs.
    assert_held_by(owner, &won);
    app()
        .get(&link_path(&slug), Some(&loser.api_key))
        .assert_error(404, "not_found");
    // D1 gets the winner's url, owner and version, and no loser's write overtakes it.
    wait_for_d1_row(&won);
    assert_held_by(owner, &won);
    assert_eq!(
        d1_row(&slug),
        Some(json!({ "url": won["url"], "user_id": owner.id, "version": won["version"] })),
        "D1 changed after it had the winner's row"
    );
}

#[test]
fn concurrent_creates_without_slug_all_succeed_with_distinct_slugs() {
    let users = [app().new_user(), app().new_user(), app().new_user()];
    let burst = 30;
    let start = Barrier::new(burst);

    let results: Vec<(usize, Resp)> = thread::scope(|s| {
        let handles: Vec<_> = (0..burst)
            .map(|i| {
                let (users, start) = (&users, &start);
                s.spawn(move || {
                    let body = json!({ "url": format!("https://example.com/gen/{i}") });
                    start.wait();
                    (i, app().create_link(&users[i % users.len()], &body))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut slugs = HashSet::new();
    for (i, resp) in &results {
        resp.assert_status(201);
        let link = resp.json();
        let slug = link["slug"].as_str().expect("slug").to_owned();
        assert!(
            slug.len() == 7 && slug.bytes().all(|b| b.is_ascii_alphanumeric()),
            "generated slug {slug:?} should be 7 alphanumerics"
        );
        assert!(
            slugs.insert(slug.clone()),
            "slug {slug} was handed out twice"
        );
        let owner = &users[i % users.len()];
        assert_eq!(link["url"], json!(format!("https://example.com/gen/{i}")));
        assert_eq!(link["owner"], json!(owner.id));
        let resp = app().get(&link_path(&slug), Some(&owner.api_key));
        assert_eq!(
            common::stored_form(&resp.json()),
            common::stored_form(&link),
            "GET {slug} as its owner"
        );
        let redirect = app().get_no_redirect(&format!("/{slug}"));
        assert_eq!(
            redirect.location(),
            link["url"].as_str(),
            "redirect of {slug}"
        );
        // The raw KV value too, for a few (each read is a wrangler CLI run).
        if i % 10 == 0 {
            assert_held_by(owner, &link);
        }
    }
    assert_eq!(slugs.len(), burst);
}

#[test]
fn deleted_slug_can_be_recreated_by_its_owner_at_once_but_not_by_another_user() {
    let (owner, other) = (app().new_user(), app().new_user());
    let slug = random_slug();
    let first = app().create_link_ok(
        &owner,
        &json!({ "url": "https://example.com/first", "slug": slug }),
    );
    app()
        .delete(&link_path(&slug), Some(&owner.api_key))
        .assert_status(204);

    // During the quarantine another user is refused, and the refusal writes nothing.
    create(&other, &slug, "https://example.com/squatter").assert_error(409, "slug_taken");
    assert_eq!(kv_link(&slug), None, "a refused create must not write KV");
    app()
        .get_no_redirect(&format!("/{slug}"))
        .assert_status(404);

    // The previous owner gets it back at once, as a new link with a newer version.
    let resp = create(&owner, &slug, "https://example.com/second");
    resp.assert_status(201);
    let second = resp.json();
    assert_eq!(second["owner"], json!(owner.id));
    assert!(
        second["version"].as_u64() > first["version"].as_u64(),
        "re-created version {} must be newer than the deleted link's {}",
        second["version"],
        first["version"]
    );
    assert_held_by(&owner, &second);
    // The first life's background delete must not remove the second life's D1 row.
    wait_for_d1_row(&second);

    // Now it is live again: still 409 for the other user, and the owner's link is untouched.
    create(&other, &slug, "https://example.com/squatter").assert_error(409, "slug_taken");
    assert_held_by(&owner, &second);
}

#[test]
fn slug_deleted_by_admin_is_released_to_its_owner_not_to_others_or_the_admin() {
    let (owner, third) = (app().new_user(), app().new_user());
    let admin = app().admin_token();
    let slug = random_slug();
    app().create_link_ok(
        &owner,
        &json!({ "url": "https://example.com/owned", "slug": slug }),
    );
    app()
        .delete(&link_path(&slug), Some(admin))
        .assert_status(204);
    assert_eq!(
        kv_link(&slug),
        None,
        "the admin's delete must remove the link"
    );

    // A third user and the admin itself are refused during the quarantine.
    create(&third, &slug, "https://example.com/third").assert_error(409, "slug_taken");
    app()
        .post(
            "/api/links",
            Some(admin),
            &json!({ "url": "https://example.com/admin", "slug": slug }).to_string(),
        )
        .assert_error(409, "slug_taken");
    assert_eq!(kv_link(&slug), None, "refused creates must not write KV");

    // The link's owner may re-create it at once.
    let resp = create(&owner, &slug, "https://example.com/owned-again");
    resp.assert_status(201);
    let again = resp.json();
    assert_eq!(again["owner"], json!(owner.id));
    assert_held_by(&owner, &again);
    wait_for_d1_row(&again);
}
