//! Accounts end to end: a user's API keys (issue, use, list without secrets, last use, revoke),
//! and the admin's user management (list with link counts and pages, disable, re-enable,
//! promote, validation).
//!
//! Every test makes its own users, keys and random slugs, so all run in parallel on one server.
//! D1 is written in the background: anything read from the admin user list is polled.

mod common;

use std::collections::{BTreeSet, HashSet};

use common::{
    app, is_rfc3339_ms_utc, poll_until, random_alnum, random_email, random_slug, url_encode, User,
    BACKGROUND_DEADLINE,
};
use serde_json::{json, Value};

// ---- helpers -----------------------------------------------------------------------------------

/// A key as `POST /api/keys` returned it.
#[derive(Debug, Clone)]
struct IssuedKey {
    id: String,
    name: Value,
    created_at: String,
    api_key: String,
}

/// `POST /api/keys` as `token` with `body`; asserts 201 and the response's shape.
#[track_caller]
fn issue_key(token: &str, body: &str) -> IssuedKey {
    let resp = app().post("/api/keys", Some(token), body);
    resp.assert_status(201);
    let v = resp.json();
    assert_eq!(
        field_names(&v),
        set(&["id", "name", "created_at", "api_key"]),
        "POST /api/keys fields: {v}"
    );
    let text = |name: &str| v[name].as_str().unwrap_or_else(|| panic!("{name}: {v}"));
    let key = IssuedKey {
        id: text("id").to_owned(),
        name: v["name"].clone(),
        created_at: text("created_at").to_owned(),
        api_key: text("api_key").to_owned(),
    };
    assert!(is_key_id(&key.id), "key id: {v}");
    assert!(is_api_key(&key.api_key), "api_key: {v}");
    assert!(is_rfc3339_ms_utc(&key.created_at), "created_at: {v}");
    key
}

/// `k_` and alphanumerics.
fn is_key_id(id: &str) -> bool {
    id.strip_prefix("k_")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `el_` and exactly 32 alphanumerics.
fn is_api_key(key: &str) -> bool {
    key.strip_prefix("el_")
        .is_some_and(|rest| rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn field_names(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// `GET /api/keys` as `token`: the `keys` array, asserting 200.
#[track_caller]
fn list_keys(token: &str) -> Vec<Value> {
    let resp = app().get("/api/keys", Some(token));
    resp.assert_status(200);
    let v = resp.json();
    assert_eq!(field_names(&v), set(&["keys"]), "GET /api/keys: {v}");
    v["keys"].as_array().expect("keys array").clone()
}

fn ids_of(keys: &[Value]) -> Vec<String> {
    keys.iter()
        .map(|k| k["id"].as_str().expect("id").to_owned())
        .collect()
}

/// True when `text` holds a run of at least 64 hex digits (what a SHA-256 hex digest looks like).
fn has_hex_run_of_64(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_hexdigit() { run + 1 } else { 0 };
        if run >= 64 {
            return true;
        }
    }
    false
}

/// Whether `token` may use the links API right now: 200, or 401 `unauthorized`.
#[track_caller]
fn key_works(token: &str) -> bool {
    let resp = app().get("/api/links", Some(token));
    match resp.status {
        200 => true,
        401 => {
            resp.assert_error(401, "unauthorized");
            false
        }
        _ => panic!("GET /api/links -> {}: {}", resp.status, resp.body),
    }
}

fn admin() -> Option<&'static str> {
    Some(app().admin_token())
}

/// `POST /api/admin/users` as the admin: the full 201 body, and the user.
#[track_caller]
fn create_user() -> (Value, User) {
    let email = random_email();
    let resp = app().post(
        "/api/admin/users",
        admin(),
        &json!({ "email": email }).to_string(),
    );
    resp.assert_status(201);
    let v = resp.json();
    let user = User {
        id: v["id"].as_str().expect("id").to_owned(),
        email: v["email"].as_str().expect("email").to_owned(),
        api_key: v["api_key"].as_str().expect("api_key").to_owned(),
    };
    (v, user)
}

/// `PATCH /api/admin/users/{id}` as the admin with `body`.
fn patch_user(id: &str, body: &Value) -> common::Resp {
    app().patch(
        &format!("/api/admin/users/{}", url_encode(id)),
        admin(),
        &body.to_string(),
    )
}

/// One page of `GET /api/admin/users?{query}` as the admin, asserting 200.
#[track_caller]
fn users_page(query: &str) -> Value {
    let resp = app().get(&format!("/api/admin/users?{query}"), admin());
    resp.assert_status(200);
    let v = resp.json();
    assert_eq!(
        field_names(&v),
        set(&["users", "next_cursor"]),
        "GET /api/admin/users: {v}"
    );
    v
}

/// Every user of the admin list, paging `limit` at a time; also returns the page sizes.
#[track_caller]
fn all_users(limit: u32) -> (Vec<Value>, Vec<usize>) {
    let mut users = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let query = match &cursor {
            Some(c) => format!("limit={limit}&cursor={}", url_encode(c)),
            None => format!("limit={limit}"),
        };
        let page = users_page(&query);
        let rows = page["users"].as_array().expect("users array");
        sizes.push(rows.len());
        users.extend(rows.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => {
                assert_eq!(page["next_cursor"], Value::Null, "next_cursor: {page}");
                return (users, sizes);
            }
        }
    }
    panic!("the admin user list did not end after 10000 pages");
}

/// Polls the admin user list until `id`'s row satisfies `ok`; returns that row.
#[track_caller]
fn wait_for_user_row(id: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    poll_until(
        BACKGROUND_DEADLINE,
        &format!("admin user list: {id} {what}"),
        || {
            all_users(100)
                .0
                .into_iter()
                .find(|u| u["id"] == json!(id))
                .filter(|u| ok(u))
        },
    )
}

fn create_links(user: &User, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let slug = random_slug();
            app().create_link_ok(
                user,
                &json!({ "url": format!("https://example.com/c{i}"), "slug": slug }),
            );
            slug
        })
        .collect()
}

// ---- keys: issue and use -----------------------------------------------------------------------

#[test]
fn created_key_is_shown_once_and_authenticates_as_its_user() {
    let user = app().new_user();
    let key = issue_key(&user.api_key, &json!({ "name": "laptop" }).to_string());
    assert_eq!(key.name, json!("laptop"));
    assert_ne!(key.api_key, user.api_key);

    // The new key acts as the same user: a link made with it is theirs, and the first key sees it.
    let slug = random_slug();
    let link = app().create_link_ok(
        &User {
            api_key: key.api_key.clone(),
            ..user.clone()
        },
        &json!({ "url": "https://example.com/by-new-key", "slug": slug }),
    );
    assert_eq!(link["owner"], json!(user.id));
    app()
        .get(&format!("/api/links/{slug}"), Some(&user.api_key))
        .assert_status(200);
}

#[test]
fn create_key_with_empty_body_makes_an_unnamed_key() {
    let user = app().new_user();
    let key = issue_key(&user.api_key, "");
    assert_eq!(key.name, Value::Null);
    assert!(key_works(&key.api_key));
    let key = issue_key(&user.api_key, "{}");
    assert_eq!(key.name, Value::Null);
    assert!(key_works(&key.api_key));
}

#[test]
fn create_key_name_of_64_printable_chars_is_accepted() {
    let user = app().new_user();
    let ascii = "n".repeat(64);
    let wide = "é".repeat(64);
    for name in [ascii.as_str(), wide.as_str(), "CI / deploy bot #1"] {
        let key = issue_key(&user.api_key, &json!({ "name": name }).to_string());
        assert_eq!(key.name, json!(name));
    }
}

#[test]
fn create_key_with_invalid_name_is_400_and_writes_nothing() {
    let user = app().new_user();
    let before = ids_of(&list_keys(&user.api_key));
    let too_long = "n".repeat(65);
    for name in ["", "   ", too_long.as_str(), "a\nb", "a\u{7}b", "tab\there"] {
        app()
            .post(
                "/api/keys",
                Some(&user.api_key),
                &json!({ "name": name }).to_string(),
            )
            .assert_error(400, "invalid_name");
    }
    for body in [
        r#"{"name":5}"#,
        r#"{"name":"ok","extra":1}"#,
        r#"{"nam":"x"}"#,
        "[]",
        "not json",
    ] {
        app()
            .post("/api/keys", Some(&user.api_key), body)
            .assert_error(400, "invalid_json");
    }
    assert_eq!(ids_of(&list_keys(&user.api_key)), before);
}

#[test]
fn admin_token_cannot_create_keys_is_403() {
    app()
        .post(
            "/api/keys",
            admin(),
            &json!({ "name": "admin" }).to_string(),
        )
        .assert_error(403, "forbidden");
}

#[test]
fn keys_api_without_or_with_bad_token_is_401() {
    let fake = format!("el_{}", random_alnum(32));
    for token in [None, Some(fake.as_str())] {
        for (method, path, body) in [
            ("POST", "/api/keys", Some("{}")),
            ("GET", "/api/keys", None),
            ("DELETE", "/api/keys/k_abcdefabcdef", None),
        ] {
            app()
                .request(method, path, token, body)
                .assert_error(401, "unauthorized");
        }
    }
}

// ---- keys: list ----------------------------------------------------------------------------------

#[test]
fn key_list_is_oldest_first_and_never_shows_a_secret_or_hash() {
    let (created, user) = create_user();
    let a = issue_key(&user.api_key, &json!({ "name": "a" }).to_string());
    let b = issue_key(&user.api_key, "");

    let resp = app().get("/api/keys", Some(&user.api_key));
    resp.assert_status(200);
    let keys = resp.json()["keys"].as_array().expect("keys").clone();

    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(keys[0]["name"], json!("default"), "first key: {keys:?}");
    assert_eq!(ids_of(&keys[1..]), vec![a.id.clone(), b.id.clone()]);
    assert_eq!(keys[1]["name"], json!("a"));
    assert_eq!(keys[2]["name"], Value::Null);
    assert_eq!(keys[1]["created_at"], json!(a.created_at));
    assert_eq!(keys[2]["created_at"], json!(b.created_at));
    for k in &keys {
        assert_eq!(
            field_names(k),
            set(&["id", "name", "created_at", "last_used_at"]),
            "listed key: {k}"
        );
        assert!(is_key_id(k["id"].as_str().unwrap_or_default()), "{k}");
        let at = k["created_at"].as_str().unwrap_or_default();
        assert!(is_rfc3339_ms_utc(at), "created_at: {k}");
    }
    let times: Vec<&str> = keys
        .iter()
        .map(|k| k["created_at"].as_str().unwrap_or_default())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "not oldest first: {times:?}"
    );

    // No secret, nor its random part, nor anything shaped like a SHA-256 hex digest.
    let first_key = created["api_key"].as_str().expect("api_key");
    for secret in [first_key, a.api_key.as_str(), b.api_key.as_str()] {
        let random = &secret["el_".len()..];
        assert!(
            !resp.body.contains(random),
            "GET /api/keys leaks a secret: {}",
            resp.body
        );
    }
    assert!(
        !has_hex_run_of_64(&resp.body),
        "GET /api/keys shows something like a hash: {}",
        resp.body
    );
}

#[test]
fn key_lists_are_per_user() {
    let alice = app().new_user();
    let bob = app().new_user();
    let bobs = issue_key(&bob.api_key, &json!({ "name": "bob-ci" }).to_string());
    let alices = ids_of(&list_keys(&alice.api_key));
    assert_eq!(
        alices.len(),
        1,
        "alice sees only her default key: {alices:?}"
    );
    assert!(!alices.contains(&bobs.id));
    assert!(ids_of(&list_keys(&bob.api_key)).contains(&bobs.id));
}

#[test]
fn last_used_at_is_recorded_after_a_keys_first_use() {
    let user = app().new_user();
    let key = issue_key(&user.api_key, &json!({ "name": "ci" }).to_string());
    let listed = |token: &str| {
        list_keys(token)
            .into_iter()
            .find(|k| k["id"] == json!(key.id))
            .unwrap_or_else(|| panic!("{} not listed", key.id))
    };

    // Not used yet (the list is read with the user's other key).
    assert_eq!(listed(&user.api_key)["last_used_at"], Value::Null);

    assert!(key_works(&key.api_key));

    let used = poll_until(
        BACKGROUND_DEADLINE,
        "last_used_at of a key after its first use",
        || {
            let k = listed(&user.api_key);
            k["last_used_at"].as_str().map(str::to_owned)
        },
    );
    assert!(is_rfc3339_ms_utc(&used), "last_used_at: {used}");
    assert!(
        used >= key.created_at,
        "last used {used} before created {}",
        key.created_at
    );
}

// ---- keys: revoke --------------------------------------------------------------------------------

#[test]
fn revoked_key_is_401_at_once_and_the_users_other_keys_still_work() {
    let user = app().new_user();
    let key = issue_key(&user.api_key, &json!({ "name": "old" }).to_string());
    assert!(key_works(&key.api_key));

    app()
        .delete(&format!("/api/keys/{}", key.id), Some(&user.api_key))
        .assert_status(204);

    assert!(!key_works(&key.api_key), "a revoked key still works");
    app()
        .get("/api/keys", Some(&key.api_key))
        .assert_error(401, "unauthorized");
    assert!(key_works(&user.api_key));
    assert!(!ids_of(&list_keys(&user.api_key)).contains(&key.id));

    // Revoking it again: it is gone.
    app()
        .delete(&format!("/api/keys/{}", key.id), Some(&user.api_key))
        .assert_error(404, "not_found");
}

#[test]
fn a_key_can_revoke_itself() {
    let user = app().new_user();
    let key = issue_key(&user.api_key, "");
    app()
        .delete(&format!("/api/keys/{}", key.id), Some(&key.api_key))
        .assert_status(204);
    assert!(!key_works(&key.api_key));
    assert!(key_works(&user.api_key));
}

#[test]
fn revoking_another_users_key_is_404_and_that_key_keeps_working() {
    let alice = app().new_user();
    let bob = app().new_user();
    let bobs = issue_key(&bob.api_key, &json!({ "name": "bob" }).to_string());

    app()
        .delete(&format!("/api/keys/{}", bobs.id), Some(&alice.api_key))
        .assert_error(404, "not_found");

    assert!(key_works(&bobs.api_key));
    assert!(ids_of(&list_keys(&bob.api_key)).contains(&bobs.id));
}

#[test]
fn revoking_an_unknown_key_id_is_404() {
    let user = app().new_user();
    let unknown = format!("k_{}", random_alnum(12));
    for id in [unknown.as_str(), "nope", "k_", "k_a-b"] {
        app()
            .delete(&format!("/api/keys/{id}"), Some(&user.api_key))
            .assert_error(404, "not_found");
    }
    assert!(key_works(&user.api_key));
}

// ---- admin: a user's keys -----------------------------------------------------------------------

fn user_keys_path(user_id: &str) -> String {
    format!("/api/admin/users/{}/keys", url_encode(user_id))
}

#[test]
fn the_admin_lists_issues_and_revokes_a_users_keys() {
    let (_, user) = create_user();
    let own = issue_key(&user.api_key, &json!({ "name": "laptop" }).to_string());

    // The admin sees what the user sees: the same keys, never a secret or a hash.
    let resp = app().get(&user_keys_path(&user.id), admin());
    resp.assert_status(200);
    assert!(!resp.body.contains(&own.api_key) && !has_hex_run_of_64(&resp.body));
    let listed = resp.json()["keys"].as_array().expect("keys").clone();
    assert_eq!(ids_of(&listed), ids_of(&list_keys(&user.api_key)));

    // A new key for a user who lost theirs: shown once, to the admin, and it is the user's.
    let resp = app().post(
        &user_keys_path(&user.id),
        admin(),
        &json!({ "name": "replacement" }).to_string(),
    );
    resp.assert_status(201);
    let issued = resp.json();
    assert_eq!(issued["name"], "replacement", "{issued}");
    let (issued_id, issued_key) = (
        issued["id"].as_str().expect("id").to_owned(),
        issued["api_key"].as_str().expect("api_key").to_owned(),
    );
    assert!(is_key_id(&issued_id) && is_api_key(&issued_key), "{issued}");
    let mine = app().create_link_ok(
        &User {
            api_key: issued_key.clone(),
            ..user.clone()
        },
        &json!({ "url": "https://example.com/replacement" }),
    );
    let slug = mine["slug"].as_str().expect("slug");
    app()
        .get(&format!("/api/links/{slug}"), Some(&user.api_key))
        .assert_status(200);
    assert!(ids_of(&list_keys(&user.api_key)).contains(&issued_id));

    // Revoked by the admin: it fails at once, the user's other keys go on.
    app()
        .delete(&format!("{}/{}", user_keys_path(&user.id), own.id), admin())
        .assert_status(204);
    assert!(
        !key_works(&own.api_key),
        "a key the admin revoked still works"
    );
    assert!(key_works(&user.api_key) && key_works(&issued_key));
    assert!(!ids_of(&list_keys(&user.api_key)).contains(&own.id));
}

#[test]
fn a_users_keys_are_the_admins_alone_and_only_under_their_owner() {
    let (_, alice) = create_user();
    let (_, bob) = create_user();
    let bobs = issue_key(&bob.api_key, "");

    // A user, even of these very keys, is not the admin.
    for token in [&alice.api_key, &bob.api_key] {
        app()
            .get(&user_keys_path(&bob.id), Some(token))
            .assert_error(403, "forbidden");
        app()
            .post(&user_keys_path(&bob.id), Some(token), "")
            .assert_error(403, "forbidden");
        app()
            .delete(
                &format!("{}/{}", user_keys_path(&bob.id), bobs.id),
                Some(token),
            )
            .assert_error(403, "forbidden");
    }
    app()
        .get(&user_keys_path(&bob.id), None)
        .assert_error(401, "unauthorized");

    // Bob's key under Alice's path is no key of hers.
    app()
        .delete(
            &format!("{}/{}", user_keys_path(&alice.id), bobs.id),
            admin(),
        )
        .assert_error(404, "not_found");
    assert!(key_works(&bobs.api_key));

    // No such user (the built-in admin has a token, not keys); a bad name; a bad body.
    let unknown = format!("u_{}", random_alnum(12));
    for id in [unknown.as_str(), "admin", "u_a%2Fb", &"u".repeat(80)] {
        app()
            .get(&user_keys_path(id), admin())
            .assert_error(404, "not_found");
        app()
            .post(&user_keys_path(id), admin(), "")
            .assert_error(404, "not_found");
    }
    let before = ids_of(&list_keys(&bob.api_key));
    app()
        .post(&user_keys_path(&bob.id), admin(), r#"{"name": 7}"#)
        .assert_error(400, "invalid_json");
    app()
        .post(
            &user_keys_path(&bob.id),
            admin(),
            &json!({ "name": "x".repeat(65) }).to_string(),
        )
        .assert_error(400, "invalid_name");
    assert_eq!(
        ids_of(&list_keys(&bob.api_key)),
        before,
        "a refused create wrote a key"
    );
}

// ---- admin: disable, re-enable, promote ------------------------------------------------------------

#[test]
fn disabled_users_keys_are_401_and_their_links_still_redirect() {
    let (created, user) = create_user();
    let second = issue_key(&user.api_key, &json!({ "name": "second" }).to_string());
    let slug = random_slug();
    app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/still-here", "slug": slug }),
    );

    let resp = patch_user(&user.id, &json!({ "disabled": true }));
    resp.assert_status(200);
    let v = resp.json();
    assert_eq!(
        v,
        json!({
            "id": user.id,
            "email": user.email,
            "role": "user",
            "disabled": true,
            "created_at": created["created_at"],
        })
    );

    for token in [&user.api_key, &second.api_key] {
        assert!(!key_works(token), "a disabled user's key still works");
        app()
            .get("/api/keys", Some(token))
            .assert_error(401, "unauthorized");
    }
    // A disabled user cannot write either, and nothing is written.
    let blocked_slug = random_slug();
    app()
        .create_link(
            &user,
            &json!({ "url": "https://example.com/nope", "slug": blocked_slug }),
        )
        .assert_error(401, "unauthorized");
    app()
        .get_no_redirect(&format!("/{blocked_slug}"))
        .assert_status(404);

    let redirect = app().get_no_redirect(&format!("/{slug}"));
    redirect.assert_status(302);
    assert_eq!(redirect.location(), Some("https://example.com/still-here"));
}

#[test]
fn re_enabling_a_user_restores_all_their_keys() {
    let user = app().new_user();
    let second = issue_key(&user.api_key, "");
    patch_user(&user.id, &json!({ "disabled": true })).assert_status(200);
    assert!(!key_works(&user.api_key));
    assert!(!key_works(&second.api_key));

    let resp = patch_user(&user.id, &json!({ "disabled": false }));
    resp.assert_status(200);
    assert_eq!(resp.json()["disabled"], json!(false));

    assert!(key_works(&user.api_key));
    assert!(key_works(&second.api_key));
}

#[test]
fn promoting_a_user_to_admin_opens_the_admin_routes_to_their_key() {
    let user = app().new_user();
    app()
        .get("/api/admin/users", Some(&user.api_key))
        .assert_error(403, "forbidden");

    let resp = patch_user(&user.id, &json!({ "role": "admin" }));
    resp.assert_status(200);
    let v = resp.json();
    assert_eq!(
        (&v["role"], &v["disabled"]),
        (&json!("admin"), &json!(false))
    );

    app()
        .get("/api/admin/users?limit=1", Some(&user.api_key))
        .assert_status(200);
    let email = random_email();
    app()
        .post(
            "/api/admin/users",
            Some(&user.api_key),
            &json!({ "email": email }).to_string(),
        )
        .assert_status(201);

    // Demoted again, the key is an ordinary user's key once more.
    patch_user(&user.id, &json!({ "role": "user" })).assert_status(200);
    app()
        .get("/api/admin/users", Some(&user.api_key))
        .assert_error(403, "forbidden");
    assert!(key_works(&user.api_key));
}

#[test]
fn patch_user_with_both_fields_applies_both() {
    let user = app().new_user();
    let resp = patch_user(&user.id, &json!({ "role": "admin", "disabled": true }));
    resp.assert_status(200);
    let v = resp.json();
    assert_eq!(
        (&v["role"], &v["disabled"]),
        (&json!("admin"), &json!(true))
    );
    assert!(!key_works(&user.api_key), "disabled, even as an admin");
}

#[test]
fn patch_unknown_user_is_404() {
    let unknown = format!("u_{}", random_alnum(12));
    for id in [unknown.as_str(), "nobody"] {
        patch_user(id, &json!({ "disabled": true })).assert_error(404, "not_found");
    }
}

#[test]
fn patch_user_with_bad_body_is_400_invalid_json_and_changes_nothing() {
    let user = app().new_user();
    for body in [
        r#"{"role":"root"}"#,
        r#"{"role":"Admin"}"#,
        r#"{"role":5}"#,
        r#"{"disabled":"yes"}"#,
        r#"{"disabled":1}"#,
        r#"{"disabled":true,"email":"x@example.com"}"#,
        r#"{"name":"x"}"#,
        "[]",
        "",
        "not json",
    ] {
        app()
            .patch(&format!("/api/admin/users/{}", user.id), admin(), body)
            .assert_error(400, "invalid_json");
    }
    // Still an enabled, ordinary user.
    assert!(key_works(&user.api_key));
    app()
        .get("/api/admin/users", Some(&user.api_key))
        .assert_error(403, "forbidden");
    wait_for_user_row(&user.id, "listed as an enabled user", |u| {
        u["role"] == json!("user") && u["disabled"] == json!(false)
    });
}

#[test]
fn patch_user_with_empty_body_changes_nothing() {
    let (created, user) = create_user();
    let resp = patch_user(&user.id, &json!({}));
    resp.assert_status(200);
    let v = resp.json();
    assert_eq!(
        v,
        json!({
            "id": user.id,
            "email": user.email,
            "role": "user",
            "disabled": false,
            "created_at": created["created_at"],
        })
    );
    assert!(key_works(&user.api_key));
}

// ---- admin: user list ------------------------------------------------------------------------------

#[test]
fn admin_user_list_shows_users_with_their_link_counts() {
    let (created, busy) = create_user();
    let (_, idle) = create_user();
    let slugs = create_links(&busy, 3);

    let row = wait_for_user_row(&busy.id, "with link_count 3", |u| {
        u["link_count"] == json!(3)
    });
    assert_eq!(
        row,
        json!({
            "id": busy.id,
            "email": busy.email,
            "role": "user",
            "disabled": false,
            "created_at": created["created_at"],
            "link_count": 3,
        })
    );
    wait_for_user_row(&idle.id, "with link_count 0", |u| {
        u["link_count"] == json!(0)
    });

    // A deleted link stops counting; the other user's count is unaffected.
    app()
        .delete(&format!("/api/links/{}", slugs[0]), Some(&busy.api_key))
        .assert_status(204);
    wait_for_user_row(&busy.id, "with link_count 2", |u| {
        u["link_count"] == json!(2)
    });
    wait_for_user_row(&idle.id, "still with link_count 0", |u| {
        u["link_count"] == json!(0)
    });
}

#[test]
fn admin_user_list_reflects_role_and_disabled_changes() {
    let user = app().new_user();
    wait_for_user_row(&user.id, "listed", |_| true);
    patch_user(&user.id, &json!({ "disabled": true, "role": "admin" })).assert_status(200);
    wait_for_user_row(&user.id, "listed as a disabled admin", |u| {
        u["role"] == json!("admin") && u["disabled"] == json!(true)
    });
}

#[test]
fn admin_user_list_pages_newest_first_without_gaps_or_repeats() {
    let mine: Vec<User> = (0..3).map(|_| create_user().1).collect();
    let my_ids: Vec<String> = mine.iter().map(|u| u.id.clone()).collect();
    poll_until(BACKGROUND_DEADLINE, "three new users in D1", || {
        let listed: HashSet<String> = all_users(100)
            .0
            .iter()
            .map(|u| u["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        my_ids.iter().all(|id| listed.contains(id)).then_some(())
    });

    let (users, sizes) = all_users(2);
    assert!(sizes.len() >= 2, "three users need more than one page of 2");
    let (last, full) = sizes.split_last().expect("at least one page");
    assert!(
        full.iter().all(|n| *n == 2) && (1..=2).contains(last),
        "page sizes: {sizes:?}"
    );
    for u in &users {
        assert_eq!(
            field_names(u),
            set(&[
                "id",
                "email",
                "role",
                "disabled",
                "created_at",
                "link_count"
            ]),
            "listed user: {u}"
        );
    }

    let ids: Vec<String> = users
        .iter()
        .map(|u| u["id"].as_str().expect("id").to_owned())
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a user is listed twice: {ids:?}");

    let keys: Vec<(String, String)> = users
        .iter()
        .map(|u| {
            (
                u["created_at"].as_str().expect("created_at").to_owned(),
                u["id"].as_str().expect("id").to_owned(),
            )
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] > w[1]),
        "not newest first: {keys:?}"
    );

    // Mine, made one after another, come newest first.
    let positions: Vec<usize> = my_ids
        .iter()
        .map(|id| {
            ids.iter()
                .position(|x| x == id)
                .unwrap_or_else(|| panic!("{id} missing from the paged list"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] > w[1]),
        "my users (oldest first) at positions {positions:?}"
    );
}

#[test]
fn admin_user_list_with_bad_limit_or_cursor_is_400() {
    for limit in ["0", "101", "-1", "abc", "1.5"] {
        app()
            .get(&format!("/api/admin/users?limit={limit}"), admin())
            .assert_error(400, "invalid_limit");
    }
    for limit in ["1", "100"] {
        let page = users_page(&format!("limit={limit}"));
        let n = page["users"].as_array().expect("users").len();
        assert!(n <= limit.parse().unwrap(), "limit={limit} gave {n} users");
    }
    for cursor in ["zz", "abc", "not-a-cursor"] {
        app()
            .get(&format!("/api/admin/users?cursor={cursor}"), admin())
            .assert_error(400, "invalid_cursor");
    }
}
