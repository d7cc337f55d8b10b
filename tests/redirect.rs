//! The public redirect, `GET|HEAD /<slug>`, end to end: 302 to the target (also at `/<slug>/`),
//! 404 for unknown or deleted slugs, 410 for a flagged link, and changes visible at once.

mod common;

use common::{app, random_alnum, random_slug, User};
use serde_json::{json, Map, Value};

fn create(user: &User, slug: &str, url: &str) -> Value {
    app().create_link_ok(user, &json!({ "url": url, "slug": slug }))
}

/// Writes `slug`'s KV value as the API shows it, changed by `change`: states no API can set.
/// Returns the text written.
fn rewrite_stored(user: &User, slug: &str, change: impl FnOnce(&mut Map<String, Value>)) -> String {
    let mut stored = app()
        .get(&format!("/api/links/{slug}"), Some(&user.api_key))
        .json();
    let obj = stored.as_object_mut().expect("link object");
    obj.remove("short_url");
    change(obj);
    let text = stored.to_string();
    app().kv_put(&format!("link:{slug}"), &text);
    text
}

#[track_caller]
fn assert_redirects(path: &str, target: &str) {
    for resp in [app().get_no_redirect(path), app().head(path)] {
        resp.assert_status(302);
        assert_eq!(
            resp.location(),
            Some(target),
            "{} {path}: Location (headers {:?})",
            resp.method,
            resp.headers
        );
    }
}

#[test]
fn get_redirects_302_to_target() {
    let user = app().new_user();
    let slug = random_slug();
    create(&user, &slug, "https://example.com/landing?x=1");

    let resp = app().get_no_redirect(&format!("/{slug}"));
    resp.assert_status(302);
    assert_eq!(resp.location(), Some("https://example.com/landing?x=1"));
}

#[test]
fn head_redirects_302_to_target_without_body() {
    let user = app().new_user();
    let slug = random_slug();
    create(&user, &slug, "https://example.com/head");

    let resp = app().head(&format!("/{slug}"));
    resp.assert_status(302);
    assert_eq!(resp.location(), Some("https://example.com/head"));
    assert_eq!(resp.body, "");
}

#[test]
fn generated_slug_redirects() {
    let user = app().new_user();
    let link = app().create_link_ok(&user, &json!({ "url": "https://example.com/generated" }));
    let short_url = link["short_url"].as_str().expect("short_url");
    let path = short_url
        .strip_prefix(&app().base_url)
        .unwrap_or_else(|| panic!("short_url {short_url} is not on {}", app().base_url));
    assert_redirects(path, "https://example.com/generated");
}

#[test]
fn redirect_follows_update_at_once() {
    let user = app().new_user();
    let slug = random_slug();
    create(&user, &slug, "https://example.com/before");
    assert_redirects(&format!("/{slug}"), "https://example.com/before");

    app()
        .patch(
            &format!("/api/links/{slug}"),
            Some(&user.api_key),
            r#"{"url":"https://example.com/after"}"#,
        )
        .assert_status(200);

    assert_redirects(&format!("/{slug}"), "https://example.com/after");
}

#[test]
fn redirect_after_delete_is_404() {
    let user = app().new_user();
    let slug = random_slug();
    create(&user, &slug, "https://example.com/soon-gone");
    assert_redirects(&format!("/{slug}"), "https://example.com/soon-gone");

    app()
        .delete(&format!("/api/links/{slug}"), Some(&user.api_key))
        .assert_status(204);

    app()
        .get_no_redirect(&format!("/{slug}"))
        .assert_status(404);
    app().head(&format!("/{slug}")).assert_status(404);
}

#[test]
fn a_trailing_slash_is_the_same_short_link() {
    let user = app().new_user();
    let slug = random_slug();
    create(&user, &slug, "https://example.com/landing?x=1");
    assert_redirects(&format!("/{slug}/"), "https://example.com/landing?x=1");
    let resp = app().get_no_redirect(&format!("/{slug}/?utm=mail"));
    resp.assert_status(302);
    assert_eq!(
        resp.location(),
        Some("https://example.com/landing?x=1&utm=mail")
    );
    // Not deeper paths, nor two slashes: a visitor gets the HTML 404 page there (the API's
    // paths keep their JSON errors); an unknown slug with one is the HTML 404 too.
    for path in [format!("/{slug}//"), format!("/{slug}/more")] {
        let resp = app().get_no_redirect(&path);
        resp.assert_status(404);
        assert_eq!(resp.location(), None, "{path}");
        assert!(
            resp.content_type()
                .is_some_and(|ct| ct.starts_with("text/html")),
            "{path}: {:?}",
            resp.content_type()
        );
    }
    for path in ["/api", "/api/nope", "/rest/nope/x"] {
        let resp = app().get_no_redirect(path);
        assert_eq!(resp.status, 404, "{path}");
        assert!(
            resp.content_type().is_some_and(|ct| ct.contains("json")),
            "{path}: {:?}",
            resp.content_type()
        );
    }
    let resp = app().get_no_redirect(&format!("/{}/", random_slug()));
    resp.assert_status(404);
    assert!(resp
        .content_type()
        .is_some_and(|ct| ct.starts_with("text/html")));
}

#[test]
fn unknown_slug_is_404_html() {
    let slug = random_slug();
    let resp = app().get_no_redirect(&format!("/{slug}"));
    resp.assert_status(404);
    assert_eq!(resp.location(), None);
    assert!(
        resp.content_type()
            .is_some_and(|ct| ct.starts_with("text/html")),
        "content-type: {:?}",
        resp.content_type()
    );
    assert!(!resp.body.is_empty(), "404 page has a body");
    assert_eq!(resp.header("x-robots-tag"), Some("noindex"));
    app().head(&format!("/{slug}")).assert_status(404);
}

#[test]
fn interleaved_pages_and_redirects_keep_their_own_headers() {
    // Pages and redirects each copy a `Headers` made once per isolate: a page must never carry
    // a redirect's `Location` or `Cache-Control`, nor a redirect a page's `Content-Type`.
    let user = app().new_user();
    let slug = random_slug();
    let url = "https://example.com/interleaved";
    create(&user, &slug, url);
    for _ in 0..3 {
        let page = app().get_no_redirect(&format!("/{}", random_slug()));
        page.assert_status(404);
        assert_eq!(page.location(), None, "{:?}", page.headers);
        assert_eq!(page.header("cache-control"), None, "{:?}", page.headers);
        assert_eq!(page.header("x-robots-tag"), Some("noindex"));
        assert_eq!(page.content_type(), Some("text/html; charset=utf-8"));

        let hit = app().get_no_redirect(&format!("/{slug}"));
        hit.assert_status(302);
        assert_eq!(hit.location(), Some(url));
        assert_eq!(hit.content_type(), None, "{:?}", hit.headers);
        assert_eq!(hit.header("x-robots-tag"), Some("noindex"));
    }
}

#[test]
fn invalid_slug_path_is_not_a_redirect() {
    for path in ["/ab", "/dot.ted", &format!("/t{}", random_alnum(70))] {
        let resp = app().get_no_redirect(path);
        assert!(
            resp.status == 404 || resp.status == 400,
            "GET {path}: {} {}",
            resp.status,
            resp.body
        );
        assert_eq!(resp.location(), None);
    }
}

#[test]
fn inactive_link_is_410_link_unavailable() {
    let user = app().new_user();
    let slug = random_slug();
    create(&user, &slug, "https://example.com/flagged");
    assert_redirects(&format!("/{slug}"), "https://example.com/flagged");

    // Simulates an admin flag (no API can deactivate a link yet): rewrite the KV value.
    rewrite_stored(&user, &slug, |obj| {
        obj.insert("is_active".into(), json!(false));
        obj.insert("flag_reason".into(), json!("test"));
    });

    let resp = app().get_no_redirect(&format!("/{slug}"));
    resp.assert_status(410);
    assert_eq!(resp.location(), None, "no redirect for an inactive link");
    assert!(
        resp.content_type()
            .is_some_and(|ct| ct.starts_with("text/html")),
        "content-type: {:?}",
        resp.content_type()
    );
    assert!(
        resp.body.contains("Link unavailable"),
        "410 page should say \"Link unavailable\": {}",
        resp.body
    );
    let head = app().head(&format!("/{slug}"));
    head.assert_status(410);
    assert_eq!(head.location(), None);
}

#[test]
fn case_sensitive_slugs_redirect_to_different_targets() {
    let user = app().new_user();
    let base = random_alnum(8).to_lowercase();
    let upper = format!("AbcDef{base}");
    let lower = format!("abcdef{base}");
    create(&user, &upper, "https://example.com/upper");
    create(&user, &lower, "https://example.com/lower");

    assert_redirects(&format!("/{upper}"), "https://example.com/upper");
    assert_redirects(&format!("/{lower}"), "https://example.com/lower");
    app()
        .get_no_redirect(&format!("/ABCDEF{}", base.to_uppercase()))
        .assert_status(404);
}

#[test]
fn query_string_on_short_url_still_redirects() {
    let user = app().new_user();
    let slug = random_slug();
    create(&user, &slug, "https://example.com/q");

    for path in [
        format!("/{slug}?utm_source=test&x=1"),
        format!("/{slug}?"),
        format!("/{slug}?a=%2F%3F"),
    ] {
        let resp = app().get_no_redirect(&path);
        resp.assert_status(302);
        let location = resp.location().unwrap_or_default();
        assert!(
            location.starts_with("https://example.com/q"),
            "GET {path}: Location {location:?}"
        );
    }
}

#[test]
fn redirect_needs_no_credentials_and_ignores_them() {
    let user = app().new_user();
    let other = app().new_user();
    let slug = random_slug();
    create(&user, &slug, "https://example.com/public");

    for token in [None, Some(other.api_key.as_str()), Some("el_garbage")] {
        let resp = app().get(&format!("/{slug}"), token);
        resp.assert_status(302);
        assert_eq!(resp.location(), Some("https://example.com/public"));
    }
}

/// The redirect copies the stored value into wasm memory and slices `Location` out of the JS
/// string by offsets: a non-ASCII title and a long URL must not shift or truncate it.
#[test]
fn location_is_exact_beside_a_non_ascii_title_and_for_a_long_url() {
    let user = app().new_user();
    let slug = random_slug();
    let url = "https://example.com/caf%C3%A9?q=%E6%97%A5%E6%9C%AC";
    app().create_link_ok(
        &user,
        &json!({ "url": url, "slug": slug, "title": "Café 日本 🎉 — ünïcödé" }),
    );
    assert_redirects(&format!("/{slug}"), url);

    let long_slug = random_slug();
    let long_url = format!("https://example.com/{}", "a/".repeat(1000));
    create(&user, &long_slug, &long_url);
    assert_redirects(&format!("/{long_slug}"), &long_url);
}

#[test]
fn a_stored_value_larger_than_the_copy_buffer_still_redirects() {
    // The redirect once copied a KV value into a 16 KiB buffer; a value of any size (no API
    // writes one this large, but KV may hold it) must answer the same.
    let user = app().new_user();
    let slug = random_slug();
    let url = "https://example.com/large-value";
    create(&user, &slug, url);
    let text = rewrite_stored(&user, &slug, |obj| {
        obj.insert("padding".into(), json!("é".repeat(12_000)));
    });
    assert!(text.len() > 16 * 1024, "{} bytes", text.len());
    assert_redirects(&format!("/{slug}"), url);
}

#[test]
fn concurrent_redirects_of_different_links_keep_their_own_headers() {
    // Every redirect's headers start from one shared `Headers` in the isolate: interleaved
    // redirects of temporary and permanent links must each keep their own.
    let user = app().new_user();
    let links: Vec<(String, String, u16)> = (0..4u16)
        .map(|i| {
            let slug = random_slug();
            let url = format!("https://example.com/concurrent/{i}/{slug}");
            let status = if i % 2 == 0 { 302 } else { 301 };
            app().create_link_ok(
                &user,
                &json!({ "url": url, "slug": slug, "redirect_type": status }),
            );
            (slug, url, status)
        })
        .collect();
    std::thread::scope(|s| {
        for t in 0..8 {
            let links = &links;
            s.spawn(move || {
                for n in 0..12 {
                    let (slug, url, status) = &links[(t + n) % links.len()];
                    let resp = app().get_no_redirect(&format!("/{slug}"));
                    let cache_control = if *status == 301 {
                        "public, max-age=3600"
                    } else {
                        "private, max-age=90"
                    };
                    let described = format!("/{slug}: {} {:?}", resp.status, resp.headers);
                    assert_eq!(resp.status, *status, "{described}");
                    assert_eq!(resp.location(), Some(url.as_str()), "{described}");
                    assert_eq!(
                        resp.header("cache-control"),
                        Some(cache_control),
                        "{described}"
                    );
                    assert_eq!(resp.header("x-robots-tag"), Some("noindex"), "{described}");
                }
            });
        }
    });
}

#[test]
fn a_stored_value_that_is_not_a_link_answers_404_and_redirects_nowhere() {
    // The redirect reads KV through the runtime's JSON.parse and checks each field it uses for
    // its JSON type in JS, and for its value in Rust: what `Link` could not have written is no
    // link, never a redirect to whatever the value holds.
    let user = app().new_user();
    // Each field set to a value of the wrong type or range (`None`: the field removed).
    let cases = [
        ("is_active", Some(json!("yes"))),
        ("redirect_type", Some(json!(303))),
        ("redirect_type", Some(Value::Null)),
        ("redirect_type", Some(json!("302"))),
        ("max_clicks", Some(json!(-1))),
        ("max_clicks", Some(json!(1.5))),
        ("expires_at", Some(json!("tomorrow"))),
        ("expires_at", Some(json!(4e12))),
        ("forward_query", Some(Value::Null)),
        ("url", None),
        ("url", Some(json!(7))),
        ("owner", None),
    ];
    for (field, value) in cases {
        let slug = random_slug();
        create(&user, &slug, "https://example.com/never");
        rewrite_stored(&user, &slug, |obj| {
            match &value {
                Some(v) => obj.insert(field.into(), v.clone()),
                None => obj.remove(field),
            };
        });
        for resp in [
            app().get_no_redirect(&format!("/{slug}")),
            app().head(&format!("/{slug}")),
        ] {
            resp.assert_status(404);
            let what = format!("{field}: {value:?}");
            assert_eq!(
                resp.location(),
                None,
                "{what}: {} went somewhere",
                resp.method
            );
        }
    }
    for text in [
        "not json",
        "[]",
        "null",
        "\"https://example.com/never\"",
        "{\"url\":1",
    ] {
        let slug = random_slug();
        create(&user, &slug, "https://example.com/never");
        app().kv_put(&format!("link:{slug}"), text);
        let resp = app().get_no_redirect(&format!("/{slug}"));
        resp.assert_status(404);
        assert_eq!(resp.location(), None, "{text}");
    }
}

#[test]
fn a_value_stored_before_the_lifecycle_fields_redirects_with_their_defaults() {
    // Values written before expiry, redirect types, query forwarding and click limits lack
    // those fields: a 302 that forwards the visitor's query, as `Link` reads them.
    let user = app().new_user();
    let slug = random_slug();
    create(&user, &slug, "https://example.com/old?a=1");
    rewrite_stored(&user, &slug, |obj| {
        for field in [
            "redirect_type",
            "forward_query",
            "max_clicks",
            "expires_at",
            "archived",
        ] {
            obj.remove(field);
        }
    });
    assert_redirects(&format!("/{slug}"), "https://example.com/old?a=1");
    let resp = app().get_no_redirect(&format!("/{slug}?b=2"));
    resp.assert_status(302);
    assert_eq!(resp.location(), Some("https://example.com/old?a=1&b=2"));
}
