//! The JSON API end to end: users, link create/get/patch/delete, listing, auth, errors.
//!
//! Every test makes its own users and random slugs, so all run in parallel on one server.

mod common;

use std::collections::HashSet;

use common::{
    app, is_rfc3339_ms_utc, poll_until, random_alnum, random_slug, User, BACKGROUND_DEADLINE,
};
use serde_json::{json, Value};

fn link_path(slug: &str) -> String {
    format!("/api/links/{slug}")
}

/// Polls the caller's list until it holds exactly `expected` (as a set), then returns it in order.
#[track_caller]
fn wait_for_list(token: &str, expected: &[String]) -> Vec<String> {
    let want: HashSet<&String> = expected.iter().collect();
    poll_until(
        BACKGROUND_DEADLINE,
        &format!("GET /api/links to list exactly {expected:?}"),
        || {
            let slugs = app().list_all_slugs(token);
            (slugs.iter().collect::<HashSet<_>>() == want).then_some(slugs)
        },
    )
}

/// The link behind `slug` as its owner sees it.
#[track_caller]
/// The link as a GET answers it, without `clicks` (the roll-up's count, which only reads add),
/// so it compares equal to what the writes answered.
fn get_link(user_token: &str, slug: &str) -> Value {
    let resp = app().get(&link_path(slug), Some(user_token));
    resp.assert_status(200);
    let mut link = resp.json();
    let clicks = link
        .as_object_mut()
        .and_then(|l| l.remove("clicks"))
        .expect("a GET shows clicks");
    assert!(clicks.is_u64(), "clicks is a count: {clicks}");
    link
}

/// Asserts that a rejected create wrote nothing: the slug is unknown to the API and the redirect.
#[track_caller]
fn assert_slug_free(user: &User, slug: &str) {
    app()
        .get(&link_path(slug), Some(&user.api_key))
        .assert_error(404, "not_found");
    app()
        .get_no_redirect(&format!("/{slug}"))
        .assert_status(404);
}

// ---- health, routing, auth ---------------------------------------------------------------

#[test]
fn healthz_is_200() {
    app().get("/healthz", None).assert_status(200);
}

#[test]
fn unknown_route_is_404_json_not_found() {
    let user = app().new_user();
    for path in ["/api/nope", "/api/links/abc/extra", "/api/admin/nope"] {
        app()
            .get(path, Some(&user.api_key))
            .assert_error(404, "not_found");
    }
}

#[test]
fn wrong_method_on_known_route_is_405() {
    let user = app().new_user();
    let token = Some(user.api_key.as_str());
    app()
        .request("PUT", "/api/links/abc", token, Some("{}"))
        .assert_error(405, "method_not_allowed");
    app()
        .request("PUT", "/api/links", token, Some("{}"))
        .assert_error(405, "method_not_allowed");
    app()
        .request("DELETE", "/api/links", token, None)
        .assert_error(405, "method_not_allowed");
}

#[test]
fn links_api_without_or_with_bad_token_is_401() {
    let body = json!({ "url": "https://example.com/" }).to_string();
    let bad_headers: &[&[(&str, &str)]] = &[
        &[],
        &[("Authorization", "Bearer el_not-a-real-key")],
        &[("Authorization", "Bearer ")],
        &[("Authorization", "Basic dXNlcjpwYXNz")],
        &[("Authorization", "el_token-without-scheme")],
    ];
    for headers in bad_headers {
        for (method, path, body) in [
            ("POST", "/api/links", Some(body.as_str())),
            ("GET", "/api/links", None),
            ("GET", "/api/links/abcdef", None),
            ("PATCH", "/api/links/abcdef", Some("{}")),
            ("DELETE", "/api/links/abcdef", None),
            (
                "POST",
                "/api/admin/users",
                Some(r#"{"email":"x@example.com"}"#),
            ),
        ] {
            let resp = app().request_with_headers(method, path, headers, body);
            assert_eq!(
                (resp.status, resp.error_code().as_deref()),
                (401, Some("unauthorized")),
                "{method} {path} with headers {headers:?}: {}",
                resp.body
            );
        }
    }
}

#[test]
fn unauthorized_create_writes_nothing() {
    let user = app().new_user();
    let slug = random_slug();
    let resp = app().post(
        "/api/links",
        Some("el_wrong"),
        &json!({ "url": "https://example.com/", "slug": slug }).to_string(),
    );
    resp.assert_error(401, "unauthorized");
    assert_slug_free(&user, &slug);
}

// ---- users ---------------------------------------------------------------------------------

#[test]
fn admin_creates_user_with_el_api_key() {
    let email = common::random_email();
    let resp = app().post(
        "/api/admin/users",
        Some(app().admin_token()),
        &json!({ "email": email }).to_string(),
    );
    resp.assert_status(201);
    let v = resp.json();
    assert_eq!(v["email"], json!(email));
    assert_eq!(v["role"], json!("user"));
    assert!(v["id"].as_str().is_some_and(|id| !id.is_empty()), "{v}");
    let key = v["api_key"].as_str().expect("api_key");
    assert!(key.starts_with("el_") && key.len() > 10, "api_key: {key}");

    // The new key works.
    let page = app().list_links(key, "");
    assert_eq!(page["links"], json!([]));
}

#[test]
fn user_key_on_admin_route_is_403() {
    let user = app().new_user();
    let email = common::random_email();
    app()
        .post(
            "/api/admin/users",
            Some(&user.api_key),
            &json!({ "email": email }).to_string(),
        )
        .assert_error(403, "forbidden");
    // Nothing was written: the admin can still create that email.
    app()
        .post(
            "/api/admin/users",
            Some(app().admin_token()),
            &json!({ "email": email }).to_string(),
        )
        .assert_status(201);
}

#[test]
fn reconcile_and_consistency_are_admin_only() {
    let user = app().new_user();
    let endpoints = [
        ("POST", "/api/admin/reconcile"),
        ("GET", "/api/admin/consistency"),
    ];
    for (method, path) in endpoints {
        app()
            .request(method, path, Some(&user.api_key), None)
            .assert_error(403, "forbidden");
        app()
            .request(method, path, None, None)
            .assert_error(401, "unauthorized");
        app()
            .request(method, path, Some("el_not-a-real-key"), None)
            .assert_error(401, "unauthorized");
    }
    // Wrong methods are 405, also for the admin.
    let admin = Some(app().admin_token());
    for (method, path) in [
        ("GET", "/api/admin/reconcile"),
        ("PUT", "/api/admin/reconcile"),
        ("DELETE", "/api/admin/reconcile"),
        ("POST", "/api/admin/consistency"),
        ("PATCH", "/api/admin/consistency"),
        ("DELETE", "/api/admin/consistency"),
    ] {
        let body = (method != "GET" && method != "DELETE").then_some("{}");
        app()
            .request(method, path, admin, body)
            .assert_error(405, "method_not_allowed");
        app()
            .request(method, path, Some(&user.api_key), body)
            .assert_error(405, "method_not_allowed");
    }
    // The admin is let in.
    app()
        .get("/api/admin/consistency", admin)
        .assert_status(200);
}

#[test]
fn create_user_with_duplicate_email_is_409_case_insensitive() {
    let email = common::random_email();
    let admin = Some(app().admin_token());
    app()
        .post(
            "/api/admin/users",
            admin,
            &json!({ "email": email }).to_string(),
        )
        .assert_status(201);
    for dup in [email.clone(), email.to_uppercase()] {
        app()
            .post(
                "/api/admin/users",
                admin,
                &json!({ "email": dup }).to_string(),
            )
            .assert_error(409, "email_taken");
    }
}

#[test]
fn create_user_with_invalid_email_is_400() {
    let admin = Some(app().admin_token());
    for email in [
        "",
        "plainaddress",
        "@example.com",
        "user@",
        "us er@example.com",
        "user@@example.com",
    ] {
        app()
            .post(
                "/api/admin/users",
                admin,
                &json!({ "email": email }).to_string(),
            )
            .assert_error(400, "invalid_email");
    }
}

#[test]
fn create_user_with_malformed_body_is_400_invalid_json() {
    let admin = Some(app().admin_token());
    for body in [
        "",
        "not json",
        "{",
        r#"{"email":5}"#,
        "[]",
        "{}",
        r#"{"email":"a@example.com","role":"admin"}"#,
    ] {
        app()
            .post("/api/admin/users", admin, body)
            .assert_error(400, "invalid_json");
    }
}

// ---- create ----------------------------------------------------------------------------------

#[test]
fn create_with_custom_slug_returns_full_link() {
    let user = app().new_user();
    let slug = random_slug();
    let resp = app().create_link(
        &user,
        &json!({ "url": "https://example.com/a?b=c#d", "slug": slug, "title": "Hello" }),
    );
    resp.assert_status(201);
    let link = resp.json();
    assert_eq!(link["slug"], json!(slug));
    assert_eq!(link["url"], json!("https://example.com/a?b=c#d"));
    assert_eq!(link["short_url"], json!(app().short_url(&slug)));
    assert_eq!(link["title"], json!("Hello"));
    assert_eq!(link["owner"], json!(user.id));
    assert_eq!(link["is_active"], json!(true));
    assert_eq!(link["flag_reason"], Value::Null);
    let created = link["created_at"].as_str().expect("created_at");
    let updated = link["updated_at"].as_str().expect("updated_at");
    assert!(is_rfc3339_ms_utc(created), "created_at: {created}");
    assert!(is_rfc3339_ms_utc(updated), "updated_at: {updated}");
    assert!(
        link["version"].is_u64() || link["version"].is_i64(),
        "version: {link}"
    );

    // Readable right away, identical.
    assert_eq!(get_link(&user.api_key, &slug), link);
}

#[test]
fn create_without_slug_generates_alphanumeric_slug() {
    let user = app().new_user();
    let mut seen = HashSet::new();
    for _ in 0..5 {
        let link = app().create_link_ok(&user, &json!({ "url": "https://example.com/gen" }));
        let slug = link["slug"].as_str().expect("slug").to_owned();
        assert!(slug.len() >= 7, "generated slug too short: {slug}");
        assert!(
            slug.chars().all(|c| c.is_ascii_alphanumeric()),
            "generated slug not alphanumeric: {slug}"
        );
        assert_eq!(link["title"], Value::Null);
        assert_eq!(link["short_url"], json!(app().short_url(&slug)));
        assert!(seen.insert(slug), "generated slug repeated");
    }
}

#[test]
fn create_with_taken_slug_is_409_and_original_unchanged() {
    let owner = app().new_user();
    let other = app().new_user();
    let slug = random_slug();
    let original = app().create_link_ok(
        &owner,
        &json!({ "url": "https://example.com/original", "slug": slug, "title": "first" }),
    );

    for (who, body) in [
        (
            &other,
            json!({ "url": "https://evil.example/", "slug": slug }),
        ),
        (
            &owner,
            json!({ "url": "https://example.com/again", "slug": slug, "title": "second" }),
        ),
    ] {
        app()
            .create_link(who, &body)
            .assert_error(409, "slug_taken");
    }
    let admin_resp = app().post(
        "/api/links",
        Some(app().admin_token()),
        &json!({ "url": "https://evil.example/", "slug": slug }).to_string(),
    );
    admin_resp.assert_error(409, "slug_taken");

    assert_eq!(get_link(&owner.api_key, &slug), original);
    let redirect = app().get_no_redirect(&format!("/{slug}"));
    redirect.assert_status(302);
    assert_eq!(redirect.location(), Some("https://example.com/original"));
}

#[test]
fn slugs_are_case_sensitive() {
    let user = app().new_user();
    let base = random_alnum(8).to_lowercase();
    let upper = format!("Ab{base}");
    let lower = format!("ab{base}");
    let a = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/upper", "slug": upper }),
    );
    let b = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/lower", "slug": lower }),
    );
    assert_eq!(a["slug"], json!(upper));
    assert_eq!(b["slug"], json!(lower));
    assert_eq!(
        get_link(&user.api_key, &upper)["url"],
        json!("https://example.com/upper")
    );
    assert_eq!(
        get_link(&user.api_key, &lower)["url"],
        json!("https://example.com/lower")
    );
}

#[test]
fn slug_and_url_length_limits_are_inclusive() {
    let user = app().new_user();
    let three = format!("z{}", random_alnum(2));
    let sixty_four = format!("t{}", random_alnum(63));
    let dashed = format!("a-b_{}", random_alnum(6));
    for slug in [&three, &sixty_four, &dashed] {
        let resp = app().create_link(
            &user,
            &json!({ "url": "https://example.com/", "slug": slug }),
        );
        // A 3-char random slug may collide with another test's generated slug only in theory.
        resp.assert_status(201);
    }
    let prefix = "https://example.com/";
    let url_2048 = format!("{prefix}{}", "a".repeat(2048 - prefix.len()));
    let link = app().create_link_ok(&user, &json!({ "url": url_2048 }));
    assert_eq!(link["url"], json!(url_2048));
    let title_200 = "é".repeat(200);
    let link = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/", "title": title_200 }),
    );
    assert_eq!(link["title"], json!(title_200));
}

#[test]
fn create_with_invalid_url_is_400_and_writes_nothing() {
    let user = app().new_user();
    let long = format!("https://example.com/{}", "a".repeat(3000));
    let at_2049 = format!("https://example.com/{}", "a".repeat(2049 - 20));
    let self_host = format!("http://127.0.0.1:{}/x", app().port);
    let cases = [
        "ftp://example.com",
        "example.com",
        "/relative",
        "javascript:alert(1)",
        "http://",
        "https://user:pw@example.com",
        "https://user@example.com/",
        "",
        "mailto:a@example.com",
        "data:text/html,hi",
        "http://127.0.0.1/x",
        "HTTPS://127.0.0.1/x",
        self_host.as_str(),
        long.as_str(),
        at_2049.as_str(),
    ];
    let mut slugs = Vec::new();
    for url in cases {
        let slug = random_slug();
        let resp = app().create_link(&user, &json!({ "url": url, "slug": slug }));
        assert_eq!(
            (resp.status, resp.error_code().as_deref()),
            (400, Some("invalid_url")),
            "url {url:?}: {}",
            resp.body
        );
        assert_slug_free(&user, &slug);
        slugs.push(slug);
    }
    // The slug is still free, and the list holds only what was created properly.
    let ok = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/", "slug": slugs[0] }),
    );
    assert_eq!(ok["slug"], json!(slugs[0]));
    wait_for_list(&user.api_key, &[slugs[0].clone()]);
}

#[test]
fn url_on_the_shorteners_own_host_is_400_ignoring_case_and_port() {
    let user = app().new_user();
    let auth = format!("Bearer {}", user.api_key);
    let host = format!("Short.Example.Test:{}", app().port);
    let headers = [
        ("Host", host.as_str()),
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    for url in [
        "http://short.example.test/x",
        "https://SHORT.EXAMPLE.TEST:8443/x",
        "http://Short.Example.Test",
    ] {
        let slug = random_slug();
        let body = json!({ "url": url, "slug": slug }).to_string();
        let resp = app().request_with_headers("POST", "/api/links", &headers, Some(&body));
        assert_eq!(
            (resp.status, resp.error_code().as_deref()),
            (400, Some("invalid_url")),
            "url {url:?} on host {host}: {}",
            resp.body
        );
        assert_slug_free(&user, &slug);
    }
    // Another host is fine, and short_url follows the request's host.
    let slug = random_slug();
    let body = json!({ "url": "https://example.com/", "slug": slug }).to_string();
    let resp = app().request_with_headers("POST", "/api/links", &headers, Some(&body));
    resp.assert_status(201);
    let short_url = resp.json()["short_url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        short_url.eq_ignore_ascii_case(&format!("http://{host}/{slug}")),
        "short_url {short_url} should be on the request host {host}"
    );
}

#[test]
fn create_with_invalid_slug_is_400_and_writes_nothing() {
    let user = app().new_user();
    let too_long = format!("t{}", random_alnum(64));
    let mut cases: Vec<String> = vec![
        "ab".into(),
        too_long,
        "has space".into(),
        "dot.ted".into(),
        "slash/x".into(),
        "ünï".into(),
        "emoji😀x".into(),
        "".into(),
        "API".into(),
        "admin".into(),
        "Admin".into(),
        "HealthZ".into(),
    ];
    for reserved in [
        "api",
        "admin",
        "healthz",
        "favicon.ico",
        "robots.txt",
        "sitemap.xml",
        "static",
        "assets",
        "login",
        "logout",
        "signup",
        "dashboard",
        "docs",
        "help",
        "about",
        "www",
    ] {
        cases.push(reserved.into());
    }
    for slug in &cases {
        let resp = app().create_link(
            &user,
            &json!({ "url": "https://example.com/", "slug": slug }),
        );
        assert_eq!(
            (resp.status, resp.error_code().as_deref()),
            (400, Some("invalid_slug")),
            "slug {slug:?}: {}",
            resp.body
        );
    }
    let sentinel = app().create_link_ok(&user, &json!({ "url": "https://example.com/" }));
    let sentinel = sentinel["slug"].as_str().unwrap().to_owned();
    wait_for_list(&user.api_key, &[sentinel]);
}

#[test]
fn create_with_invalid_title_is_400_and_writes_nothing() {
    let user = app().new_user();
    let cases = [
        "x".repeat(201),
        "é".repeat(201),
        "bell\u{7}".to_owned(),
        "new\nline".to_owned(),
        "tab\there".to_owned(),
        "nul\u{0}".to_owned(),
        "del\u{7f}".to_owned(),
    ];
    let mut slugs = Vec::new();
    for title in &cases {
        let slug = random_slug();
        let resp = app().create_link(
            &user,
            &json!({ "url": "https://example.com/", "slug": slug, "title": title }),
        );
        assert_eq!(
            (resp.status, resp.error_code().as_deref()),
            (400, Some("invalid_title")),
            "title {title:?}: {}",
            resp.body
        );
        assert_slug_free(&user, &slug);
        slugs.push(slug);
    }
    app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/", "slug": slugs[0] }),
    );
    wait_for_list(&user.api_key, &[slugs[0].clone()]);
}

#[test]
fn create_with_oversized_body_is_413_and_writes_nothing() {
    let user = app().new_user();
    let slug = random_slug();
    let body = json!({
        "url": format!("https://example.com/{}", "a".repeat(9000)),
        "slug": slug,
    })
    .to_string();
    assert!(body.len() > 8 * 1024);
    app()
        .post("/api/links", Some(&user.api_key), &body)
        .assert_error(413, "payload_too_large");
    let padded = format!(
        "{}{}",
        json!({ "url": "https://example.com/", "slug": slug }),
        " ".repeat(9000)
    );
    app()
        .post("/api/links", Some(&user.api_key), &padded)
        .assert_error(413, "payload_too_large");
    assert_slug_free(&user, &slug);
    app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/", "slug": slug }),
    );
    wait_for_list(&user.api_key, &[slug]);
}

#[test]
fn create_with_malformed_json_is_400_invalid_json_and_writes_nothing() {
    let user = app().new_user();
    let slug = random_slug();
    let cases = [
        String::new(),
        "not json".to_owned(),
        "{".to_owned(),
        "null".to_owned(),
        "[]".to_owned(),
        r#""https://example.com/""#.to_owned(),
        "{}".to_owned(),
        format!(r#"{{"slug":"{slug}"}}"#),
        format!(r#"{{"url":123,"slug":"{slug}"}}"#),
        r#"{"url":"https://example.com/","slug":5}"#.to_owned(),
        format!(r#"{{"url":"https://example.com/","slug":"{slug}","title":7}}"#),
        format!(r#"{{"url":"https://example.com/","slug":"{slug}","title":["x"]}}"#),
        format!(r#"{{"url":"https://example.com/","slug":"{slug}","extra":1}}"#),
        format!(r#"{{"url":"https://example.com/","slug":"{slug}","owner":"someone"}}"#),
        format!(r#"{{"url":"https://example.com/","slug":"{slug}","is_active":false}}"#),
    ];
    for body in &cases {
        let resp = app().post("/api/links", Some(&user.api_key), body);
        assert_eq!(
            (resp.status, resp.error_code().as_deref()),
            (400, Some("invalid_json")),
            "body {body:?}: {}",
            resp.body
        );
    }
    assert_slug_free(&user, &slug);
    app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/", "slug": slug }),
    );
    wait_for_list(&user.api_key, &[slug]);
}

#[test]
fn create_with_json_array_body_is_400_invalid_json_and_writes_nothing() {
    // An array is the wrong shape even when its items line up with the fields in order.
    let user = app().new_user();
    let slug = random_slug();
    let body = json!(["https://example.com/array", slug, null]).to_string();
    app()
        .post("/api/links", Some(&user.api_key), &body)
        .assert_error(400, "invalid_json");
    assert_slug_free(&user, &slug);
}

#[test]
fn create_user_with_json_array_body_is_400_invalid_json() {
    let email = common::random_email();
    let body = json!([email]).to_string();
    app()
        .post("/api/admin/users", Some(app().admin_token()), &body)
        .assert_error(400, "invalid_json");
    // Nothing was written: the email is still free.
    app()
        .post(
            "/api/admin/users",
            Some(app().admin_token()),
            &json!({ "email": email }).to_string(),
        )
        .assert_status(201);
}

#[test]
fn patch_with_json_array_body_is_400_invalid_json_and_link_unchanged() {
    let user = app().new_user();
    let slug = random_slug();
    let created = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/orig", "slug": slug, "title": "orig" }),
    );
    for body in ["[]", r#"["https://example.com/array",null]"#] {
        let resp = app().patch(&link_path(&slug), Some(&user.api_key), body);
        assert_eq!(
            (resp.status, resp.error_code().as_deref()),
            (400, Some("invalid_json")),
            "PATCH body {body:?}: {}",
            resp.body
        );
    }
    assert_eq!(get_link(&user.api_key, &slug), created);
}

// ---- get / patch / delete ---------------------------------------------------------------------

#[test]
fn get_patch_delete_unknown_slug_is_404() {
    let user = app().new_user();
    let token = Some(user.api_key.as_str());
    let slug = random_slug();
    app()
        .get(&link_path(&slug), token)
        .assert_error(404, "not_found");
    app()
        .patch(&link_path(&slug), token, r#"{"title":"x"}"#)
        .assert_error(404, "not_found");
    app()
        .delete(&link_path(&slug), token)
        .assert_error(404, "not_found");
    // And the PATCH did not create it.
    app()
        .get(&link_path(&slug), token)
        .assert_error(404, "not_found");
}

#[test]
fn invalid_slug_in_path_is_404_or_400() {
    let user = app().new_user();
    for slug in ["ab", "dot.ted", "api", &format!("t{}", random_alnum(70))] {
        let resp = app().get(&link_path(slug), Some(&user.api_key));
        assert!(
            matches!(
                (resp.status, resp.error_code().as_deref()),
                (404, Some("not_found")) | (400, Some("invalid_slug"))
            ),
            "GET {}: {} {}",
            link_path(slug),
            resp.status,
            resp.body
        );
    }
}

#[test]
fn patch_url_and_title_bumps_version_and_updated_at() {
    let user = app().new_user();
    let slug = random_slug();
    let created = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/old", "slug": slug, "title": "old" }),
    );

    let resp = app().patch(
        &link_path(&slug),
        Some(&user.api_key),
        &json!({ "url": "https://example.com/new", "title": "new" }).to_string(),
    );
    resp.assert_status(200);
    let patched = resp.json();
    assert_eq!(patched["url"], json!("https://example.com/new"));
    assert_eq!(patched["title"], json!("new"));
    assert_eq!(patched["slug"], json!(slug));
    assert_eq!(patched["owner"], json!(user.id));
    assert_eq!(patched["created_at"], created["created_at"]);
    assert_eq!(patched["short_url"], created["short_url"]);
    assert!(
        patched["version"].as_u64() > created["version"].as_u64(),
        "version must grow: {} -> {}",
        created["version"],
        patched["version"]
    );
    let updated_at = patched["updated_at"].as_str().expect("updated_at");
    assert!(is_rfc3339_ms_utc(updated_at));
    assert!(
        updated_at > created["updated_at"].as_str().unwrap(),
        "updated_at must move: {} -> {updated_at}",
        created["updated_at"]
    );
    assert_eq!(get_link(&user.api_key, &slug), patched);
}

#[test]
fn patch_title_only_keeps_url_and_null_clears_title() {
    let user = app().new_user();
    let slug = random_slug();
    app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/keep", "slug": slug }),
    );

    let resp = app().patch(&link_path(&slug), Some(&user.api_key), r#"{"title":"T"}"#);
    resp.assert_status(200);
    let titled = resp.json();
    assert_eq!(titled["title"], json!("T"));
    assert_eq!(titled["url"], json!("https://example.com/keep"));

    let resp = app().patch(&link_path(&slug), Some(&user.api_key), r#"{"title":null}"#);
    resp.assert_status(200);
    let cleared = resp.json();
    assert_eq!(cleared["title"], Value::Null);
    assert_eq!(cleared["url"], json!("https://example.com/keep"));
    assert!(cleared["version"].as_u64() > titled["version"].as_u64());
    assert_eq!(get_link(&user.api_key, &slug)["title"], Value::Null);
}

#[test]
fn patch_with_empty_object_is_noop() {
    let user = app().new_user();
    let slug = random_slug();
    let created = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/same", "slug": slug, "title": "same" }),
    );
    let resp = app().patch(&link_path(&slug), Some(&user.api_key), "{}");
    resp.assert_status(200);
    assert_eq!(resp.json(), created);
    assert_eq!(get_link(&user.api_key, &slug), created);
}

#[test]
fn patch_with_bad_input_is_400_and_link_unchanged() {
    let user = app().new_user();
    let slug = random_slug();
    let created = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/orig", "slug": slug, "title": "orig" }),
    );
    let long_title = "x".repeat(201);
    let cases: Vec<(String, &str)> = vec![
        (
            json!({ "url": "ftp://example.com" }).to_string(),
            "invalid_url",
        ),
        (json!({ "url": "" }).to_string(), "invalid_url"),
        (
            json!({ "url": "http://127.0.0.1/x" }).to_string(),
            "invalid_url",
        ),
        (
            json!({ "url": "https://example.com/ok", "title": long_title }).to_string(),
            "invalid_title",
        ),
        (json!({ "title": "a\u{1}b" }).to_string(), "invalid_title"),
        ("not json".to_owned(), "invalid_json"),
        (json!({ "url": 5 }).to_string(), "invalid_json"),
        (json!({ "slug": "other" }).to_string(), "invalid_json"),
        (
            json!({ "title": "x", "nope": true }).to_string(),
            "invalid_json",
        ),
    ];
    for (body, code) in &cases {
        let resp = app().patch(&link_path(&slug), Some(&user.api_key), body);
        assert_eq!(
            (resp.status, resp.error_code().as_deref()),
            (400, Some(*code)),
            "PATCH body {body:?}: {}",
            resp.body
        );
    }
    let big = format!(r#"{{"title":"x"}}{}"#, " ".repeat(9000));
    app()
        .patch(&link_path(&slug), Some(&user.api_key), &big)
        .assert_error(413, "payload_too_large");
    assert_eq!(get_link(&user.api_key, &slug), created);
}

#[test]
fn delete_is_204_with_empty_body_then_gone() {
    let user = app().new_user();
    let slug = random_slug();
    app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/del", "slug": slug }),
    );

    let resp = app().delete(&link_path(&slug), Some(&user.api_key));
    resp.assert_status(204);
    assert_eq!(resp.body, "");

    app()
        .get(&link_path(&slug), Some(&user.api_key))
        .assert_error(404, "not_found");
    app()
        .delete(&link_path(&slug), Some(&user.api_key))
        .assert_error(404, "not_found");
    app()
        .get_no_redirect(&format!("/{slug}"))
        .assert_status(404);
    wait_for_list(&user.api_key, &[]);
}

#[test]
fn versions_strictly_increase_across_writes() {
    let user = app().new_user();
    let slug = random_slug();
    let mut last = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/v0", "slug": slug }),
    )["version"]
        .as_u64()
        .expect("integer version");
    for i in 1..=4 {
        let resp = app().patch(
            &link_path(&slug),
            Some(&user.api_key),
            &json!({ "url": format!("https://example.com/v{i}") }).to_string(),
        );
        resp.assert_status(200);
        let version = resp.json()["version"].as_u64().expect("integer version");
        assert!(
            version > last,
            "write {i}: version {version} is not above {last}"
        );
        last = version;
    }
}

// ---- ownership and admin ---------------------------------------------------------------------

#[test]
fn other_users_link_is_404_and_unchanged() {
    let owner = app().new_user();
    let intruder = app().new_user();
    let slug = random_slug();
    let original = app().create_link_ok(
        &owner,
        &json!({ "url": "https://example.com/mine", "slug": slug, "title": "mine" }),
    );
    let token = Some(intruder.api_key.as_str());

    app()
        .get(&link_path(&slug), token)
        .assert_error(404, "not_found");
    app()
        .patch(
            &link_path(&slug),
            token,
            r#"{"url":"https://evil.example/"}"#,
        )
        .assert_error(404, "not_found");
    app()
        .delete(&link_path(&slug), token)
        .assert_error(404, "not_found");

    assert_eq!(get_link(&owner.api_key, &slug), original);
    let redirect = app().get_no_redirect(&format!("/{slug}"));
    redirect.assert_status(302);
    assert_eq!(redirect.location(), Some("https://example.com/mine"));
}

#[test]
fn list_shows_only_own_links() {
    let alice = app().new_user();
    let bob = app().new_user();
    let a: Vec<String> = (0..2)
        .map(|_| {
            app().create_link_ok(&alice, &json!({ "url": "https://example.com/a" }))["slug"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let b = vec![
        app().create_link_ok(&bob, &json!({ "url": "https://example.com/b" }))["slug"]
            .as_str()
            .unwrap()
            .to_owned(),
    ];
    wait_for_list(&alice.api_key, &a);
    wait_for_list(&bob.api_key, &b);
    let page = app().list_links(&alice.api_key, "");
    for link in page["links"].as_array().unwrap() {
        assert_eq!(
            link["owner"],
            json!(alice.id),
            "foreign link in list: {link}"
        );
    }
}

#[test]
fn admin_can_get_patch_and_delete_any_link() {
    let user = app().new_user();
    let admin = Some(app().admin_token());
    let slug = random_slug();
    let created = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/u", "slug": slug }),
    );

    let resp = app().get(&link_path(&slug), admin);
    resp.assert_status(200);
    assert_eq!(
        common::stored_form(&resp.json()),
        common::stored_form(&created)
    );

    let resp = app().patch(
        &link_path(&slug),
        admin,
        r#"{"url":"https://example.com/by-admin"}"#,
    );
    resp.assert_status(200);
    let patched = resp.json();
    assert_eq!(patched["url"], json!("https://example.com/by-admin"));
    assert_eq!(
        patched["owner"],
        json!(user.id),
        "admin edits keep the owner"
    );
    assert_eq!(get_link(&user.api_key, &slug), patched);

    app().delete(&link_path(&slug), admin).assert_status(204);
    app()
        .get(&link_path(&slug), Some(&user.api_key))
        .assert_error(404, "not_found");
}

#[test]
fn admin_created_link_is_owned_by_admin() {
    let slug = random_slug();
    let resp = app().post(
        "/api/links",
        Some(app().admin_token()),
        &json!({ "url": "https://example.com/adm", "slug": slug }).to_string(),
    );
    resp.assert_status(201);
    assert_eq!(resp.json()["owner"], json!("admin"));
    let user = app().new_user();
    app()
        .get(&link_path(&slug), Some(&user.api_key))
        .assert_error(404, "not_found");
}

// ---- list --------------------------------------------------------------------------------------

#[test]
fn list_paginates_newest_first_visiting_each_link_once() {
    let user = app().new_user();
    let mut created = Vec::new();
    for i in 0..7 {
        let link = app().create_link_ok(
            &user,
            &json!({ "url": format!("https://example.com/p{i}"), "slug": random_slug() }),
        );
        created.push(link);
    }
    let slugs: Vec<String> = created
        .iter()
        .map(|l| l["slug"].as_str().unwrap().to_owned())
        .collect();
    wait_for_list(&user.api_key, &slugs);

    // Expected order: created_at descending, ties by slug descending.
    let mut expected = created.clone();
    expected.sort_by(|a, b| {
        let key = |l: &Value| {
            (
                l["created_at"].as_str().unwrap().to_owned(),
                l["slug"].as_str().unwrap().to_owned(),
            )
        };
        key(b).cmp(&key(a))
    });
    let expected: Vec<String> = expected
        .iter()
        .map(|l| l["slug"].as_str().unwrap().to_owned())
        .collect();

    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=3&cursor={}", common::url_encode(c)),
            None => "limit=3".to_owned(),
        };
        let page = app().list_links(&user.api_key, &query);
        let links = page["links"].as_array().expect("links").clone();
        assert!(links.len() <= 3, "page larger than limit: {page}");
        for link in &links {
            let full = created
                .iter()
                .find(|c| c["slug"] == link["slug"])
                .unwrap_or_else(|| panic!("unexpected link in list: {link}"));
            for field in [
                "url",
                "owner",
                "created_at",
                "version",
                "title",
                "short_url",
            ] {
                assert_eq!(link[field], full[field], "field {field} of {link}");
            }
            seen.push(link["slug"].as_str().unwrap().to_owned());
        }
        pages.push(links.len());
        match &page["next_cursor"] {
            Value::Null => break,
            Value::String(c) => cursor = Some(c.clone()),
            other => panic!("next_cursor must be string or null, got {other}"),
        }
        assert!(pages.len() <= 7, "paging did not end: pages {pages:?}");
    }
    assert_eq!(seen, expected, "newest first, every link exactly once");
    assert_eq!(pages, vec![3, 3, 1], "page sizes");
}

#[test]
fn list_reflects_updates_and_deletes_after_the_index_catches_up() {
    let user = app().new_user();
    let keep = random_slug();
    let gone = random_slug();
    app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/v1", "slug": keep }),
    );
    app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/x", "slug": gone }),
    );
    wait_for_list(&user.api_key, &[keep.clone(), gone.clone()]);

    let resp = app().patch(
        &link_path(&keep),
        Some(&user.api_key),
        r#"{"url":"https://example.com/v2","title":"second"}"#,
    );
    resp.assert_status(200);
    let patched = resp.json();
    app()
        .delete(&link_path(&gone), Some(&user.api_key))
        .assert_status(204);

    poll_until(
        BACKGROUND_DEADLINE,
        "the list to show only the patched link, as patched",
        || {
            let page = app().list_links(&user.api_key, "");
            let links = page["links"].as_array()?.clone();
            (links.len() == 1
                && ["url", "title", "version", "updated_at"]
                    .iter()
                    .all(|f| links[0][f] == patched[f]))
            .then_some(())
        },
    );
}

/// The first item of a list page that is `slug`, once the index has it.
#[track_caller]
fn listed(path: &str, token: &str, slug: &str) -> Value {
    poll_until(
        BACKGROUND_DEADLINE,
        &format!("{path} to list {slug}"),
        || {
            let resp = app().get(path, Some(token));
            resp.assert_status(200);
            resp.json()["links"]
                .as_array()?
                .iter()
                .find(|l| l["slug"] == slug)
                .cloned()
        },
    )
}

#[test]
fn lists_show_each_link_as_a_read_of_it_does_with_its_clicks() {
    let user = app().new_user();
    let slug = random_slug();
    let created = app().create_link_ok(
        &user,
        &json!({
            "url": "https://example.com/listed",
            "slug": slug,
            "title": "listed",
            "tags": ["list-view"],
            "password": "open sesame",
            "valid_since": "2026-01-01T00:00:00Z",
            "targets": { "ios": "https://example.com/ios", "countries": { "DE": "https://example.de/" } },
            "variants": [
                { "url": "https://example.com/a", "weight": 60 },
                { "url": "https://example.com/b", "weight": 40 }
            ],
            "preview": { "title": "A card" }
        }),
    );
    assert_eq!(created["has_password"], true);
    let read = get_link(&user.api_key, &slug);

    let path = format!("/api/links?q={slug}");
    let mut own = listed(&path, &user.api_key, &slug);
    let clicks = own.as_object_mut().and_then(|l| l.remove("clicks"));
    assert_eq!(clicks, Some(json!(0)), "the owner's list counts clicks");
    assert_eq!(own, read, "the owner's list shows the link as GET does");
    assert!(own.get("password_hash").is_none());

    let path = format!("/api/admin/links?q={slug}");
    let mut all = listed(&path, app().admin_token(), &slug);
    let fields = all.as_object_mut().expect("an object");
    assert_eq!(
        fields.remove("clicks"),
        Some(json!(0)),
        "the admin's list counts clicks"
    );
    assert_eq!(fields.remove("owner_email"), Some(json!(user.email)));
    assert_eq!(all, read, "the admin's list shows the link as GET does");
}

#[test]
fn lists_read_links_from_kv_not_a_stale_index_row_and_never_show_anothers_link() {
    let (alice, bob) = (app().new_user(), app().new_user());
    let (hers, his) = (random_slug(), random_slug());
    app().create_link_ok(
        &alice,
        &json!({ "url": "https://example.com/hers", "slug": hers }),
    );
    app().create_link_ok(
        &bob,
        &json!({ "url": "https://example.com/his", "slug": his }),
    );
    wait_for_list(&alice.api_key, std::slice::from_ref(&hers));
    wait_for_list(&bob.api_key, std::slice::from_ref(&his));

    // The index drifts (as it may while a background write is pending): her row holds an old
    // destination, and his row names her as its owner.
    app().d1_write(&format!(
        "UPDATE links SET url = 'https://stale.example/', title = 'stale' WHERE slug = '{hers}'; \
         UPDATE links SET user_id = '{}' WHERE slug = '{his}';",
        alice.id
    ));
    let page = app().list_links(&alice.api_key, "limit=100");
    let links = page["links"].as_array().expect("links");
    let slugs: Vec<&str> = links.iter().filter_map(|l| l["slug"].as_str()).collect();
    assert_eq!(
        slugs,
        [hers.as_str()],
        "her list never shows his link: {page}"
    );
    assert_eq!(links[0]["url"], "https://example.com/hers");
    assert_eq!(links[0]["title"], Value::Null);

    // Deleting through the API removes both rows (a delete applies to the row's version).
    for (user, slug) in [(&alice, &hers), (&bob, &his)] {
        app()
            .delete(&link_path(slug), Some(&user.api_key))
            .assert_status(204);
    }
    wait_for_list(&alice.api_key, &[]);
}

#[test]
fn concurrent_creates_of_one_slug_have_exactly_one_winner() {
    // Several slugs, each raced by 12 creates from two users at once: exactly one 201 per slug,
    // every other attempt 409, and the stored link is the winner's.
    let users: Vec<User> = (0..2).map(|_| app().new_user()).collect();
    let slugs: Vec<String> = (0..8).map(|_| random_slug()).collect();
    let racers = 12;
    let start = std::sync::Barrier::new(racers * slugs.len());
    let results: Vec<(usize, usize, common::Resp)> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for i in 0..racers {
            for (n, slug) in slugs.iter().enumerate() {
                let (user, start) = (&users[i % 2], &start);
                handles.push(s.spawn(move || {
                    let url = format!("https://example.com/race{n}/{i}");
                    start.wait();
                    (
                        n,
                        i,
                        app().create_link(user, &json!({ "url": url, "slug": slug })),
                    )
                }));
            }
        }
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    for (n, slug) in slugs.iter().enumerate() {
        let mine: Vec<&(usize, usize, common::Resp)> =
            results.iter().filter(|(k, _, _)| *k == n).collect();
        let statuses: Vec<(usize, u16)> = mine.iter().map(|(_, i, r)| (*i, r.status)).collect();
        let winners: Vec<&&(usize, usize, common::Resp)> =
            mine.iter().filter(|(_, _, r)| r.status == 201).collect();
        assert_eq!(
            winners.len(),
            1,
            "slug {slug}: exactly one of {racers} concurrent creates may win; (racer, status): {statuses:?}"
        );
        for (_, _, resp) in mine.iter().filter(|(_, _, r)| r.status != 201) {
            resp.assert_error(409, "slug_taken");
        }
        let (_, winner_index, winner) = winners[0];
        let won = winner.json();
        let owner = &users[winner_index % 2];
        assert_eq!(
            get_link(&owner.api_key, slug),
            won,
            "slug {slug}: the stored link must be the winner's"
        );
        let redirect = app().get_no_redirect(&format!("/{slug}"));
        assert_eq!(redirect.location(), won["url"].as_str());
    }
}

#[test]
fn list_default_limit_is_20() {
    let user = app().new_user();
    let slugs: Vec<String> = (0..21)
        .map(|_| {
            app().create_link_ok(&user, &json!({ "url": "https://example.com/d" }))["slug"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    wait_for_list(&user.api_key, &slugs);
    let page = app().list_links(&user.api_key, "");
    assert_eq!(page["links"].as_array().unwrap().len(), 20);
    assert!(
        page["next_cursor"].is_string(),
        "more remain: {}",
        page["next_cursor"]
    );
    let all = app().list_links(&user.api_key, "limit=100");
    assert_eq!(all["links"].as_array().unwrap().len(), 21);
    assert_eq!(all["next_cursor"], Value::Null);
}

#[test]
fn list_with_bad_limit_is_400_invalid_limit() {
    let user = app().new_user();
    for limit in ["0", "101", "-1", "abc", "1.5"] {
        app()
            .get(&format!("/api/links?limit={limit}"), Some(&user.api_key))
            .assert_error(400, "invalid_limit");
    }
    for limit in ["1", "100"] {
        app()
            .get(&format!("/api/links?limit={limit}"), Some(&user.api_key))
            .assert_status(200);
    }
}

#[test]
fn list_with_garbage_cursor_is_400_invalid_cursor() {
    let user = app().new_user();
    for cursor in ["garbage", "%%%", "eyJub3QiOiJhIGN1cnNvciJ9", "AAAA", "null"] {
        let path = format!("/api/links?cursor={}", common::url_encode(cursor));
        app()
            .get(&path, Some(&user.api_key))
            .assert_error(400, "invalid_cursor");
    }
}
