//! A Sink namespace under edgelink without `ADOPT_OWNER` (docs/import-export.md, "Switching
//! from Sink"): Sink's links redirect as they did, nobody can take their slugs, and the sweep
//! only counts them (`adoptable`, and `unknown` for what is no link), touching nothing. Its own
//! binary: the Worker starts without `ADOPT_OWNER`.

mod common;

use common::*;
use serde_json::json;

#[test]
fn without_adopt_owner_sink_links_redirect_and_are_only_counted() {
    let app = app();
    // Made first: the local KV store exists once the Worker has written to it.
    let user = app.new_user();
    let prefix = random_alnum(6);
    let sink: Vec<(String, String)> = (0..5)
        .map(|i| {
            let slug = format!("k{prefix}{i}");
            let value = json!({
                "id": format!("id{i}"), "url": format!("https://example.com/{slug}"),
                "slug": slug, "createdAt": 1700000000 + i, "updatedAt": 1700000100 + i,
                "title": "Sink link", "tags": ["old"],
            })
            .to_string();
            (slug, value)
        })
        .collect();
    let garbage_slug = format!("k{prefix}x");
    let mut entries: Vec<_> = sink
        .iter()
        .map(|(slug, value)| {
            json!({"key": format!("link:{slug}"), "value": value,
                   "metadata": {"url": format!("https://example.com/{slug}")}})
        })
        .collect();
    entries.push(json!({"key": format!("link:{garbage_slug}"), "value": "<html>"}));
    app.kv_put_many(&entries);

    for (slug, _) in &sink {
        let resp = app.get_no_redirect(&format!("/{slug}"));
        resp.assert_status(301);
        assert_eq!(
            resp.location(),
            Some(format!("https://example.com/{slug}").as_str())
        );
    }
    app.get_no_redirect(&format!("/{garbage_slug}"))
        .assert_status(404);
    app.create_link(
        &user,
        &json!({"url": "https://example.org/", "slug": sink[0].0}),
    )
    .assert_error(409, "slug_taken");

    let summary = app.admin_reconcile();
    assert_eq!(summary["adopted"], 0, "{summary}");
    assert_eq!(summary["adoptable"], 5, "{summary}");
    assert_eq!(summary["unknown"], 1, "{summary}");
    assert_eq!(summary["missing"], 0, "not drift: {summary}");
    assert_eq!(summary["samples"]["unknown"], json!([garbage_slug]));
    for (slug, value) in &sink {
        assert_eq!(
            app.kv_get(&format!("link:{slug}")).as_deref(),
            Some(value.as_str())
        );
        assert!(
            app.d1_query(&format!(
                "SELECT slug FROM links WHERE slug = {}",
                sql_str(slug)
            ))
            .is_empty(),
            "{slug} indexed without an owner"
        );
        app.get_no_redirect(&format!("/{slug}")).assert_status(301);
    }
    assert_eq!(
        app.kv_get(&format!("link:{garbage_slug}")).as_deref(),
        Some("<html>")
    );
}
