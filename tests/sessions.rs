//! Dashboard sessions end to end: signing in with an API key and with the admin token, the
//! cookie on reads and on changes (with and without the CSRF header), and every way a session
//! ends: sign-out, the key revoked, the user disabled, expiry. Also `GET /` with `HOME_URL`.
//!
//! The server runs with `SESSION_DAYS=3` and `HOME_URL` set, to show both are read.

mod common;

use common::{random_slug, Resp, TestApp, User};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const SESSION_DAYS: u64 = 3;
const HOME: &str = "https://home.example/welcome";

fn app() -> &'static TestApp {
    common::app_with_vars(&[
        ("SESSION_DAYS", &SESSION_DAYS.to_string()),
        ("HOME_URL", HOME),
    ])
}

/// Signs in with `key`; the answer and the cookie's session id.
#[track_caller]
fn sign_in(key: &str) -> (Value, String) {
    let resp = app().post("/api/session", None, &json!({ "key": key }).to_string());
    resp.assert_status(200);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let cookie = resp
        .header("set-cookie")
        .unwrap_or_else(|| panic!("no Set-Cookie: {resp:?}"))
        .to_owned();
    let id = cookie
        .strip_prefix("edgelink_session=")
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("not the session cookie: {cookie}"))
        .to_owned();
    assert_eq!(id.len(), 32, "{cookie}");
    assert_eq!(
        cookie,
        format!(
            "edgelink_session={id}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={}",
            SESSION_DAYS * 86_400
        )
    );
    (resp.json(), id)
}

/// A request carrying the session cookie (and the CSRF header when `csrf`).
fn with_cookie(method: &str, path: &str, id: &str, csrf: bool, body: Option<&str>) -> Resp {
    let cookie = format!("other=1; edgelink_session={id}");
    let mut headers = vec![("Cookie", cookie.as_str())];
    if csrf {
        headers.push(("X-Edgelink-Csrf", "1"));
    }
    if body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    app().request_with_headers(method, path, &headers, body)
}

fn session_key(id: &str) -> String {
    let hex: String = Sha256::digest(id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("session:{hex}")
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn a_key_signs_in_and_the_cookie_stands_for_its_user() {
    let user = app().new_user();
    let (body, id) = sign_in(&user.api_key);
    assert_eq!(body["role"], "user");
    assert_eq!(body["user"], json!({ "id": user.id, "email": user.email }));
    let expires = body["expires_at"].as_str().expect("expires_at");
    assert!(common::is_rfc3339_ms_utc(expires), "{expires}");

    // KV keeps the session under the hash of its id, never the id, and drops it at expiry.
    let key = session_key(&id);
    let stored: Value = serde_json::from_str(&app().kv_get(&key).expect("session in KV")).unwrap();
    assert_eq!(stored["user"], user.id.as_str());
    assert!(!stored.to_string().contains(&id));
    let expiration = app()
        .kv_expiration(&key)
        .flatten()
        .expect("a KV expiration");
    let want = now_secs() + SESSION_DAYS * 86_400;
    assert!(expiration.abs_diff(want) < 120, "{expiration} vs {want}");

    let again = with_cookie("GET", "/api/session", &id, false, None);
    again.assert_status(200);
    assert_eq!(again.json(), body);

    let slug = app().new_link(&user);
    let got = with_cookie("GET", &format!("/api/links/{slug}"), &id, false, None);
    got.assert_status(200);
    assert_eq!(got.json()["slug"], slug.as_str());
    // The admin's routes stay the admin's.
    with_cookie("GET", "/api/admin/users", &id, false, None).assert_error(403, "forbidden");
}

#[test]
fn the_admin_token_signs_in_as_the_admin() {
    let (body, id) = sign_in(app().admin_token());
    assert_eq!(body["role"], "admin");
    assert_eq!(body["user"], Value::Null);
    with_cookie("GET", "/api/admin/users", &id, false, None).assert_status(200);
    assert_eq!(
        with_cookie("GET", "/api/session", &id, false, None).json(),
        body
    );
}

#[test]
fn bad_keys_and_bodies_get_no_session() {
    for key in ["el_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not a key", ""] {
        let resp = app().post("/api/session", None, &json!({ "key": key }).to_string());
        resp.assert_error(401, "unauthorized");
        assert_eq!(resp.header("set-cookie"), None);
    }
    app()
        .post("/api/session", None, "{\"token\":\"x\"}")
        .assert_error(400, "invalid_json");
    app()
        .post("/api/session", None, "nope")
        .assert_error(400, "invalid_json");
    // No cookie, a malformed one, or one of no session: 401.
    app()
        .get("/api/session", None)
        .assert_error(401, "unauthorized");
    with_cookie("GET", "/api/session", "short", false, None).assert_error(401, "unauthorized");
    with_cookie("GET", "/api/links", &"A".repeat(32), false, None)
        .assert_error(401, "unauthorized");
}

#[test]
fn changes_by_cookie_need_the_csrf_header() {
    let user = app().new_user();
    let slug = app().new_link(&user);
    let (_, id) = sign_in(&user.api_key);
    let path = format!("/api/links/{slug}");
    let patch = json!({ "title": "by cookie" }).to_string();

    with_cookie("PATCH", &path, &id, false, Some(&patch)).assert_error(403, "csrf_required");
    let unchanged = app().get(&path, Some(&user.api_key));
    assert_eq!(unchanged.json()["title"], Value::Null);

    let other = random_slug();
    let create = json!({ "url": "https://example.com/c", "slug": other }).to_string();
    with_cookie("POST", "/api/links", &id, false, Some(&create)).assert_error(403, "csrf_required");
    app().assert_no_link(&user, &other);
    with_cookie("DELETE", &path, &id, false, None).assert_error(403, "csrf_required");

    let patched = with_cookie("PATCH", &path, &id, true, Some(&patch));
    patched.assert_status(200);
    assert_eq!(patched.json()["title"], "by cookie");
    with_cookie("POST", "/api/links", &id, true, Some(&create)).assert_status(201);

    // A bearer token needs no CSRF header, and wins over any cookie.
    let bearer = app().request_with_headers(
        "PATCH",
        &path,
        &[
            ("Authorization", &format!("Bearer {}", user.api_key)),
            (
                "Cookie",
                "edgelink_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ),
            ("Content-Type", "application/json"),
        ],
        Some(&json!({ "title": "by key" }).to_string()),
    );
    bearer.assert_status(200);
    let bad_bearer = app().request_with_headers(
        "GET",
        &path,
        &[
            (
                "Authorization",
                "Bearer el_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ),
            ("Cookie", &format!("edgelink_session={id}")),
        ],
        None,
    );
    bad_bearer.assert_error(401, "unauthorized");

    // The Shlink API takes keys only.
    let shlink = with_cookie("GET", "/rest/v3/short-urls", &id, false, None);
    assert_eq!(shlink.status, 401, "{}", shlink.body);
}

#[test]
fn signing_out_ends_the_session() {
    let user = app().new_user();
    let (_, id) = sign_in(&user.api_key);
    with_cookie("DELETE", "/api/session", &id, false, None).assert_error(403, "csrf_required");
    with_cookie("GET", "/api/session", &id, false, None).assert_status(200);

    let out = with_cookie("DELETE", "/api/session", &id, true, None);
    out.assert_status(204);
    assert_eq!(
        out.header("set-cookie"),
        Some("edgelink_session=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0")
    );
    assert_eq!(app().kv_get(&session_key(&id)), None);
    with_cookie("GET", "/api/session", &id, false, None).assert_error(401, "unauthorized");
    with_cookie("GET", "/api/links", &id, false, None).assert_error(401, "unauthorized");
    // Signing out twice, or with no cookie, is still 204.
    with_cookie("DELETE", "/api/session", &id, true, None).assert_status(204);
    app().delete("/api/session", None).assert_status(204);
    // The key itself still works.
    app()
        .get("/api/links", Some(&user.api_key))
        .assert_status(200);
}

/// A second key of `user`, with its id.
fn second_key(user: &User) -> (String, String) {
    let resp = app().post("/api/keys", Some(&user.api_key), "{}");
    resp.assert_status(201);
    let v = resp.json();
    (
        v["api_key"].as_str().unwrap().to_owned(),
        v["id"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn revoking_the_key_ends_its_sessions_only() {
    let user = app().new_user();
    let (key, key_id) = second_key(&user);
    let (_, from_second) = sign_in(&key);
    let (_, from_first) = sign_in(&user.api_key);
    with_cookie("GET", "/api/links", &from_second, false, None).assert_status(200);

    app()
        .delete(&format!("/api/keys/{key_id}"), Some(&user.api_key))
        .assert_status(204);
    with_cookie("GET", "/api/links", &from_second, false, None).assert_error(401, "unauthorized");
    with_cookie("GET", "/api/session", &from_second, false, None).assert_error(401, "unauthorized");
    with_cookie("GET", "/api/links", &from_first, false, None).assert_status(200);
}

#[test]
fn disabling_the_user_ends_the_session() {
    let user = app().new_user();
    let (_, id) = sign_in(&user.api_key);
    let admin = app().admin_token().to_owned();
    let path = format!("/api/admin/users/{}", user.id);
    app()
        .patch(
            &path,
            Some(&admin),
            &json!({ "disabled": true }).to_string(),
        )
        .assert_status(200);
    with_cookie("GET", "/api/links", &id, false, None).assert_error(401, "unauthorized");
    with_cookie("GET", "/api/session", &id, false, None).assert_error(401, "unauthorized");
}

#[test]
fn an_expired_session_is_refused_even_while_kv_still_has_it() {
    let user = app().new_user();
    let (_, id) = sign_in(&user.api_key);
    let key = session_key(&id);
    let mut stored: Value = serde_json::from_str(&app().kv_get(&key).unwrap()).unwrap();
    stored["expires_at"] = json!("2001-01-01T00:00:00.000Z");
    app().kv_put(&key, &stored.to_string());
    with_cookie("GET", "/api/session", &id, false, None).assert_error(401, "unauthorized");
    with_cookie("GET", "/api/links", &id, false, None).assert_error(401, "unauthorized");
}

#[test]
fn the_front_page_redirects_to_home_url() {
    for method in ["GET", "HEAD"] {
        let resp = app().request(method, "/", None, None);
        resp.assert_status(302);
        assert_eq!(resp.location(), Some(HOME));
    }
}
