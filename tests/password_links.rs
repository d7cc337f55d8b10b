//! Password links against the real Worker: `password` on create and PATCH (every bad value 400
//! and nothing written; the hash never in an API response), the form a browser gets, the right
//! password by form POST and by `X-Link-Password`, a wrong one, the guess limit (the 11th guess
//! within a minute 429 whatever the password; another client and another link unaffected), and
//! Sink's password hash, adopted in place and imported from Sink's export, opening with Sink's
//! password.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{
    app, early_in_a_rate_window, poll_until, random_slug, Resp, User, BACKGROUND_DEADLINE,
};
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse 1";
/// Sink's stored form of "sink secret 7": PBKDF2-SHA256, 10,000 iterations, the salt
/// "edgelink-e2e-salt", as Sink's `hashLinkPassword` writes it (checked with Python's
/// `hashlib.pbkdf2_hmac`).
const SINK_HASH: &str =
    "sink-pwd:v1:10000:ZWRnZWxpbmstZTJlLXNhbHQ:EvVDOFsN8OsgppUx4hk3C0-1Y5Q5zpt0_bqKuQTP1hE:dCA3";
const SINK_PASSWORD: &str = "sink secret 7";
const FORM: &str = "application/x-www-form-urlencoded";

fn password_link(user: &User, password: &str) -> (String, Value) {
    let slug = random_slug();
    let link = app().create_link_ok(
        user,
        &json!({"url": format!("https://example.com/{slug}?a=1"), "slug": slug, "password": password}),
    );
    (slug, link)
}

fn with_header(slug_path: &str, password: &str, client: &str) -> Resp {
    app().request_with_headers(
        "GET",
        slug_path,
        &[("X-Link-Password", password), ("CF-Connecting-IP", client)],
        None,
    )
}

fn post_form(slug_path: &str, body: &str, client: &str) -> Resp {
    app().request_with_headers(
        "POST",
        slug_path,
        &[("Content-Type", FORM), ("CF-Connecting-IP", client)],
        Some(body),
    )
}

/// A client address of its own, so that one test's guesses never count against another's.
fn client() -> String {
    let n = u32::from_str_radix(&random_slug()[1..7], 36).unwrap_or(7) % 250 + 1;
    let m = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.subsec_nanos() % 250 + 1);
    format!("203.0.{n}.{m}")
}

#[track_caller]
fn assert_form(resp: &Resp, status: u16) {
    resp.assert_status(status);
    assert_eq!(resp.header("cache-control"), Some("no-store"), "{resp:?}");
    assert!(resp.content_type().unwrap_or("").starts_with("text/html"));
    let csp = resp.header("content-security-policy").unwrap_or("");
    assert!(
        // http: and https: too: browsers check the right password's redirect to the
        // destination against form-action (tests/browser follows one in chromium).
        csp.contains("default-src 'none'") && csp.contains("form-action 'self' http: https:"),
        "{csp}"
    );
    assert!(resp.location().is_none());
    assert!(
        resp.body.contains("<form method=\"post\">"),
        "{}",
        resp.body
    );
    assert!(resp.body.contains("<label for=\"password\">"));
    assert!(resp.body.contains("type=\"password\""));
}

#[track_caller]
fn assert_no_secret(body: &str) {
    assert!(
        !body.contains("pbkdf2"),
        "a hash in an API response: {body}"
    );
    assert!(!body.contains("password_hash"), "{body}");
    assert!(
        !body.contains(PASSWORD),
        "the password in an API response: {body}"
    );
}

#[test]
fn a_bad_password_on_create_is_400_and_writes_nothing() {
    let user = app().new_user();
    for bad in [
        json!("short12"),
        json!(""),
        json!("x".repeat(257)),
        json!(12345678),
        json!(true),
        json!(["correct horse 1"]),
        json!({"password": "correct horse 1"}),
        json!("tab\tinside1"),
    ] {
        let slug = random_slug();
        app()
            .create_link(
                &user,
                &json!({"url": "https://example.com/", "slug": slug, "password": bad}),
            )
            .assert_error(400, "invalid_password");
        app().assert_no_link(&user, &slug);
    }
    // 8 and 256 characters (not bytes) are both fine.
    password_link(&user, "12345678");
    password_link(&user, &"é".repeat(256));
}

#[test]
fn a_bad_password_on_patch_is_400_and_changes_nothing() {
    let user = app().new_user();
    let (slug, link) = password_link(&user, PASSWORD);
    for bad in [
        json!("short"),
        json!(7),
        json!(false),
        json!("y".repeat(300)),
    ] {
        app()
            .patch(
                &format!("/api/links/{slug}"),
                Some(&user.api_key),
                &json!({"password": bad, "title": "not applied"}).to_string(),
            )
            .assert_error(400, "invalid_password");
    }
    let now = app().get(&format!("/api/links/{slug}"), Some(&user.api_key));
    now.assert_status(200);
    assert_eq!(now.json()["version"], link["version"]);
    assert_eq!(now.json()["title"], Value::Null);
    // Still the same password.
    with_header(&format!("/{slug}"), PASSWORD, &client()).assert_status(302);
}

#[test]
fn the_hash_is_stored_and_never_shown_by_the_api() {
    let user = app().new_user();
    let (slug, created) = password_link(&user, PASSWORD);
    assert_eq!(created["has_password"], true);
    assert_no_secret(&created.to_string());

    let stored: Value =
        serde_json::from_str(&app().kv_get(&format!("link:{slug}")).expect("in KV")).unwrap();
    let hash = stored["password_hash"].as_str().expect("a hash in KV");
    assert!(hash.starts_with("pbkdf2-sha256:100000:"), "{hash}");
    assert!(!stored.to_string().contains(PASSWORD));

    let got = app().get(&format!("/api/links/{slug}"), Some(&user.api_key));
    got.assert_status(200);
    assert_eq!(got.json()["has_password"], true);
    assert_no_secret(&got.body);

    // The list and the history, once the index has the link.
    poll_until(BACKGROUND_DEADLINE, "the link in the list", || {
        let list = app().get("/api/links?limit=100", Some(&user.api_key));
        list.body.contains(&slug).then_some(())
    });
    assert_no_secret(&app().get("/api/links?limit=100", Some(&user.api_key)).body);
    let history = poll_until(BACKGROUND_DEADLINE, "the link's history", || {
        let h = app().history(&user.api_key, &slug, "");
        (h.status == 200
            && h.json()["history"]
                .as_array()
                .is_some_and(|a| !a.is_empty()))
        .then_some(h)
    });
    assert_no_secret(&history.body);
    assert_eq!(history.json()["history"][0]["link"]["has_password"], true);

    // The export is the one place it leaves: the same hash as KV's.
    let export = app().get("/api/links/export?format=ndjson", Some(&user.api_key));
    export.assert_status(200);
    assert!(export.body.contains(hash));

    // Removing the password: the link redirects to everyone again.
    let patched = app().patch_link_ok(&user, &slug, json!({"password": null}));
    assert_eq!(patched["has_password"], false);
    let stored: Value =
        serde_json::from_str(&app().kv_get(&format!("link:{slug}")).unwrap()).unwrap();
    assert!(stored.get("password_hash").is_none(), "{stored}");
    app()
        .get_no_redirect(&format!("/{slug}"))
        .assert_status(302);
}

#[test]
fn a_browser_gets_the_form_and_a_form_post_with_the_password_redirects() {
    let user = app().new_user();
    let (slug, _) = password_link(&user, PASSWORD);
    let path = format!("/{slug}");
    assert_form(&app().get_no_redirect(&path), 200);
    // HEAD: the form's status and headers, no body.
    let head = app().head(&path);
    head.assert_status(200);
    assert_eq!(head.header("cache-control"), Some("no-store"));
    assert!(head.location().is_none());

    let ip = client();
    let wrong = post_form(&path, "password=not+the+one", &ip);
    assert_form(&wrong, 403);
    assert!(wrong.body.contains("role=\"alert\""), "{}", wrong.body);

    // The visitor's query comes along as for any redirect (the form posts to the same URL).
    let right = post_form(
        &format!("{path}?utm_source=mail"),
        "password=correct+horse+1",
        &ip,
    );
    right.assert_status(303);
    assert_eq!(
        right.location(),
        Some(format!("https://example.com/{slug}?a=1&utm_source=mail").as_str())
    );
    assert_eq!(right.header("cache-control"), Some("private, no-store"));

    // A form without the field is the form again, not a guess.
    assert_form(&post_form(&path, "other=1", &ip), 200);
}

#[test]
fn the_header_opens_the_link_and_a_wrong_one_gets_the_form_again() {
    let user = app().new_user();
    let (slug, _) = password_link(&user, PASSWORD);
    let path = format!("/{slug}");
    let ip = client();
    let right = with_header(&path, PASSWORD, &ip);
    right.assert_status(302);
    assert_eq!(
        right.location(),
        Some(format!("https://example.com/{slug}?a=1").as_str())
    );
    assert_eq!(right.header("cache-control"), Some("private, no-store"));
    let wrong = with_header(&path, "correct horse 2", &ip);
    assert_form(&wrong, 403);

    // A new password replaces the old one.
    app().patch_link_ok(&user, &slug, json!({"password": "battery staple 9"}));
    assert_form(&with_header(&path, PASSWORD, &ip), 403);
    with_header(&path, "battery staple 9", &ip).assert_status(302);
}

#[test]
fn a_post_to_a_link_without_a_password_is_405() {
    let user = app().new_user();
    let slug = app().new_link(&user);
    post_form(&format!("/{slug}"), "password=whatever1", &client())
        .assert_error(405, "method_not_allowed");
}

#[test]
fn the_eleventh_guess_in_a_minute_is_429_whatever_the_password() {
    let user = app().new_user();
    let (slug, _) = password_link(&user, PASSWORD);
    let (other_slug, _) = password_link(&user, PASSWORD);
    let path = format!("/{slug}");
    let (guesser, someone_else) = (client(), client());
    early_in_a_rate_window(25);
    for i in 0..10 {
        let wrong = if i % 2 == 0 {
            with_header(&path, &format!("wrong guess {i}"), &guesser)
        } else {
            post_form(&path, &format!("password=wrong+guess+{i}"), &guesser)
        };
        assert_form(&wrong, 403);
    }
    let limited = post_form(&path, "password=still+wrong", &guesser);
    assert_form(&limited, 429);
    assert_eq!(limited.header("retry-after"), Some("60"));
    assert!(limited.body.contains("Too many"), "{}", limited.body);
    // The right password too: the limit would mean nothing otherwise.
    let right = with_header(&path, PASSWORD, &guesser);
    right.assert_status(429);
    assert_eq!(right.header("retry-after"), Some("60"));
    // Only guesses count: the form itself still shows, and redirects are never limited.
    assert_form(&app().get_no_redirect(&path), 200);
    // Another client on this link, and this client on another link, are unaffected.
    with_header(&path, PASSWORD, &someone_else).assert_status(302);
    with_header(&format!("/{other_slug}"), PASSWORD, &guesser).assert_status(302);
}

#[test]
fn a_sink_password_hash_adopted_in_place_opens_with_sinks_password() {
    let slug = random_slug();
    let sink = json!({
        "id": "k3x9vd2mpa", "url": format!("https://example.com/{slug}"), "slug": slug,
        "createdAt": 1700000000, "updatedAt": 1700000000, "password": SINK_HASH,
    });
    app().kv_put(&format!("link:{slug}"), &sink.to_string());
    let path = format!("/{slug}");
    assert_form(&app().get_no_redirect(&path), 200);
    let ip = client();
    assert_form(&with_header(&path, "sink secret 8", &ip), 403);
    let right = with_header(&path, SINK_PASSWORD, &ip);
    right.assert_status(301);
    assert_eq!(
        right.location(),
        Some(format!("https://example.com/{slug}").as_str())
    );
    // A plain-text password (Sink before hashing) still stops the link.
    let plain = random_slug();
    let sink = json!({"url": "https://example.com/", "slug": plain, "password": "hunter22"});
    app().kv_put(&format!("link:{plain}"), &sink.to_string());
    app()
        .get_no_redirect(&format!("/{plain}"))
        .assert_status(410);
}

#[test]
fn a_sink_export_with_a_password_hash_imports_a_link_that_opens_with_sinks_password() {
    let user = app().new_user();
    let slug = random_slug();
    let file = json!({"version": "0.3.4", "links": [
        {"slug": slug, "url": format!("https://example.com/{slug}"), "createdAt": 1700000000,
         "password": SINK_HASH},
    ]})
    .to_string();
    let auth = format!("Bearer {}", user.api_key);
    let resp = app().request_with_headers(
        "POST",
        "/api/imports",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(&file),
    );
    resp.assert_status(202);
    let id = resp.json()["id"].as_str().expect("job id").to_owned();
    let job = poll_until(Duration::from_secs(120), "the import", || {
        let job = app().get(&format!("/api/imports/{id}"), Some(&user.api_key));
        (job.json()["status"] == "done").then(|| job.json())
    });
    assert_eq!(job["created"], 1, "{job}");
    let link = app().get(&format!("/api/links/{slug}"), Some(&user.api_key));
    assert_eq!(link.json()["has_password"], true);
    assert_no_secret(&link.body);
    let path = format!("/{slug}");
    assert_form(&app().get_no_redirect(&path), 200);
    with_header(&path, SINK_PASSWORD, &client()).assert_status(302);
}
