//! With `SLUG_QUARANTINE_DAYS = 0` a deleted slug is free for anyone at once, and the new
//! owner's link is not disturbed by the previous life's delete. Its own binary: it needs its own
//! server vars.

mod common;

use common::{app_with_vars, poll_for, random_slug, sql_str, BACKGROUND_DEADLINE};
use serde_json::json;

#[test]
fn without_quarantine_a_deleted_slug_is_free_for_another_user_at_once() {
    let app = app_with_vars(&[("SLUG_QUARANTINE_DAYS", "0")]);
    let (first, second) = (app.new_user(), app.new_user());
    let slug = random_slug();
    let old = app.create_link_ok(
        &first,
        &json!({ "url": "https://example.com/first-owner", "slug": slug }),
    );
    app.delete(&format!("/api/links/{slug}"), Some(&first.api_key))
        .assert_status(204);

    // Another user claims it at once.
    let resp = app.create_link(
        &second,
        &json!({ "url": "https://example.com/second-owner", "slug": slug }),
    );
    resp.assert_status(201);
    let new = resp.json();
    assert_eq!(new["owner"], json!(second.id));
    assert!(new["version"].as_u64() > old["version"].as_u64());

    // It is the second user's now: the previous owner cannot take it back.
    app.create_link(
        &first,
        &json!({ "url": "https://example.com/back", "slug": slug }),
    )
    .assert_error(409, "slug_taken");
    app.get(&format!("/api/links/{slug}"), Some(&first.api_key))
        .assert_error(404, "not_found");
    let mine = app.get(&format!("/api/links/{slug}"), Some(&second.api_key));
    assert_eq!(common::stored_form(&mine.json()), common::stored_form(&new));
    let redirect = app.get_no_redirect(&format!("/{slug}"));
    assert_eq!(
        redirect.location(),
        Some("https://example.com/second-owner")
    );

    // D1 ends with the second owner's row (the first life's delete must not remove it).
    let want = json!({ "url": new["url"], "user_id": second.id, "version": new["version"] });
    let mut last = None;
    let indexed = poll_for(BACKGROUND_DEADLINE, || {
        last = app
            .d1_query(&format!(
                "SELECT url, user_id, version FROM links WHERE slug = {}",
                sql_str(&slug)
            ))
            .into_iter()
            .next();
        (last.as_ref() == Some(&want)).then_some(())
    });
    assert!(
        indexed.is_some(),
        "D1 row of {slug} should become {want}; last seen {last:?}"
    );
}
