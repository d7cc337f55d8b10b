//! Link lifecycle (issue 6) end to end, with the shipped vars (`DEFAULT_TTL_SECONDS` 0,
//! `EXPIRED_GRACE_DAYS` 30, `HISTORY` on, `PERMANENT_REDIRECT_MAX_AGE` 3600).
//!
//! - Expiry: `ttl` links redirect until they expire, then answer the 410 "Link unavailable"
//!   page naming "expired" while the API shows `"expired": true` and nothing is deleted; the KV
//!   key's `expiration` is `expires_at` + 30 days and moves, stays or disappears with every write
//!   as `expires_at` does; an expired link extended by PATCH redirects again; every malformed
//!   expiry, redirect type, state or flag type is refused with its error code and writes nothing.
//! - States: disabled → 410 "disabled", re-activated → 302; a flagged link answers 410 "flagged"
//!   and its owner cannot change its state; archived links keep redirecting and leave the default
//!   list; the `state=` and `archived=` list filters, and bad filter values.
//! - Redirects: 301/302/307/308 with their `Cache-Control`, `X-Robots-Tag: noindex` on every
//!   redirect (GET and HEAD); the visitor's query appended to the destination's (repeated names:
//!   the destination's value first, fragment kept), or not at all with `forward_query: false`.
//! - Index: the D1 row carries the new columns, and the KV value the stored fields only.
//! - History: create + 5 updates + delete → 7 rows, newest first, with the API's versions, ops,
//!   actor and snapshots, paged without duplicates, visible to the (former) owner and the admin
//!   only, and mirrored one row per version in D1 `link_history`; admin flag and unflag are
//!   recorded as updates by the admin.
//! - Restore: a version of the history made current again (every setting, the password too),
//!   as a new version, or, the link deleted, created again for its owner; `If-Match`; who may;
//!   bad bodies write nothing; today's blocklist; a flag stays, and a link deleted while
//!   flagged does not come back. `GET /api/deleted-links` lists the caller's deleted links
//!   (not one created again, not another user's), paged, each restorable from it.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{
    app, assert_link_unavailable, expected_d1_row, expires_ms, now_ms, poll_for, poll_until,
    random_slug, rfc3339_ms, slug_of, sql_str, stored_form, version_of, Resp, User,
    BACKGROUND_DEADLINE, D1_LINK_COLUMNS,
};
use serde_json::{json, Value};

const DAY_SECS: u64 = 86_400;
const GRACE_SECS: u64 = 30 * DAY_SECS;
/// 100 years as the contract counts them (365.25-day years).
const HUNDRED_YEARS_SECS: u64 = 3_155_760_000;
/// How long a link with a short ttl may take to answer 410 after its expiry.
const EXPIRY_DEADLINE: Duration = Duration::from_secs(15);

// ---- helpers ---------------------------------------------------------------------------------

#[track_caller]
fn create(user: &User, body: Value) -> Value {
    app().create_link_ok(user, &body)
}

#[track_caller]
fn get_link(user: &User, slug: &str) -> Value {
    let resp = app().get(&format!("/api/links/{slug}"), Some(&user.api_key));
    resp.assert_status(200);
    resp.json()
}

/// The `wrangler kv key list` entry of `link:<slug>` (`{"name"[,"expiration"][,"metadata"]}`).
#[track_caller]
fn kv_key(slug: &str) -> Value {
    let name = format!("link:{slug}");
    app()
        .kv_list(&name)
        .into_iter()
        .find(|k| k["name"] == json!(name))
        .unwrap_or_else(|| panic!("{name} is not listed in KV"))
}

/// The KV `expiration` of `link:<slug>`; `None` when the key has none.
#[track_caller]
fn kv_expiration(slug: &str) -> Option<u64> {
    kv_key(slug)["expiration"].as_u64()
}

/// Asserts the KV expiration of `link` is its `expires_at` + the 30-day grace (in seconds,
/// rounded up; a second of slack for the rounding). Returns the listed key.
#[track_caller]
fn assert_kv_expiration_follows(link: &Value) -> Value {
    let slug = slug_of(link);
    let want = expires_ms(link).div_ceil(1000) + GRACE_SECS;
    let key = kv_key(&slug);
    let got = key["expiration"].as_u64();
    assert!(
        got.is_some_and(|g| g.abs_diff(want) <= 1),
        "KV expiration of link:{slug} should be expires_at {} + 30 days = {want}; got {key}",
        link["expires_at"]
    );
    key
}

/// GET and HEAD of `path`: `status`, `Location`, the redirect headers.
#[track_caller]
fn assert_redirect(path: &str, status: u16, location: &str) {
    let cache_control = match status {
        301 | 308 => "public, max-age=3600",
        _ => "private, max-age=90",
    };
    for resp in [app().get_no_redirect(path), app().head(path)] {
        let described = format!(
            "{} {path} -> {} {:?} {}",
            resp.method, resp.status, resp.headers, resp.body
        );
        assert_eq!(resp.status, status, "{described}");
        assert_eq!(resp.location(), Some(location), "Location: {described}");
        assert_eq!(
            resp.header("cache-control"),
            Some(cache_control),
            "Cache-Control: {described}"
        );
        assert_eq!(
            resp.header("x-robots-tag"),
            Some("noindex"),
            "X-Robots-Tag: {described}"
        );
    }
}

/// GET and HEAD of `/<slug>` both answer the 410 page naming `reason`.
#[track_caller]
fn assert_unavailable(slug: &str, reason: &str) {
    assert_link_unavailable(&app().get_no_redirect(&format!("/{slug}")), reason);
    assert_link_unavailable(&app().head(&format!("/{slug}")), reason);
}

/// Polls until `/<slug>` answers 410; returns that response.
#[track_caller]
fn wait_for_410(slug: &str) -> Resp {
    poll_until(EXPIRY_DEADLINE, &format!("/{slug} to answer 410"), || {
        let resp = app().get_no_redirect(&format!("/{slug}"));
        (resp.status == 410).then_some(resp)
    })
}

/// The slugs of the caller's list with `query` (one page of up to 100).
#[track_caller]
fn listed(user: &User, query: &str) -> BTreeSet<String> {
    let q = if query.is_empty() {
        "limit=100".to_owned()
    } else {
        format!("limit=100&{query}")
    };
    app().list_links(&user.api_key, &q)["links"]
        .as_array()
        .expect("links array")
        .iter()
        .map(slug_of)
        .collect()
}

/// Polls until the list with `query` shows exactly `want`.
#[track_caller]
fn wait_for_list(user: &User, query: &str, want: &[&str]) {
    let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
    let mut last = BTreeSet::new();
    let ok = poll_for(BACKGROUND_DEADLINE, || {
        last = listed(user, query);
        (last == want).then_some(())
    });
    assert!(
        ok.is_some(),
        "GET /api/links?{query} should list exactly {want:?}; got {last:?}"
    );
}

/// The D1 row of `slug` in [`D1_LINK_COLUMNS`].
fn d1_row(slug: &str) -> Option<Value> {
    app()
        .d1_query(&format!(
            "SELECT {D1_LINK_COLUMNS} FROM links WHERE slug = {}",
            sql_str(slug)
        ))
        .into_iter()
        .next()
}

/// Polls until the D1 row of `link` equals [`expected_d1_row`]; returns it.
#[track_caller]
fn wait_for_d1_row(link: &Value) -> Value {
    let slug = slug_of(link);
    let want = expected_d1_row(link);
    let mut last = None;
    let ok = poll_for(BACKGROUND_DEADLINE, || {
        last = d1_row(&slug);
        (last.as_ref() == Some(&want)).then_some(())
    });
    assert!(
        ok.is_some(),
        "D1 row of {slug} should become {want}; last seen {last:?}"
    );
    want
}

// ---- expiry ------------------------------------------------------------------------------------

#[test]
fn ttl_link_redirects_then_answers_410_expired_without_deleting() {
    let user = app().new_user();
    let slug = random_slug();
    let before = now_ms();
    let link = create(
        &user,
        json!({ "url": "https://example.com/short-lived", "slug": slug, "ttl": 2 }),
    );
    let after = now_ms();
    let expires = expires_ms(&link);
    assert!(
        expires + 1000 >= before + 2000 && expires <= after + 2000 + 1000,
        "ttl 2 should expire 2 s after the create ({before}..{after}): {link}"
    );
    assert_eq!(link["expired"], json!(false), "{link}");
    assert_eq!(link["state"], json!("active"), "{link}");
    assert_redirect(&format!("/{slug}"), 302, "https://example.com/short-lived");

    // Wall-clock expiry, then the 410 page.
    let resp = wait_for_410(&slug);
    assert!(
        now_ms() + 500 >= expires,
        "410 before expires_at ({expires})"
    );
    assert_link_unavailable(&resp, "expired");
    assert_unavailable(&slug, "expired");

    // The API shows it expired; the read deleted nothing.
    let got = get_link(&user, &slug);
    assert_eq!(got["expired"], json!(true), "{got}");
    assert_eq!(
        got["version"], link["version"],
        "a read must not write: {got}"
    );
    assert_eq!(got["expires_at"], link["expires_at"]);
    let kv = app()
        .kv_get(&format!("link:{slug}"))
        .expect("the expired link is still in KV");
    let kv: Value = serde_json::from_str(&kv).expect("KV value is JSON");
    assert_eq!(stored_form(&kv), stored_form(&link));
    wait_for_d1_row(&link);
    // The list (D1-backed) shows it too, expired.
    let page = app().list_links(&user.api_key, "limit=100");
    let item = page["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["slug"] == json!(slug))
        .unwrap_or_else(|| panic!("{slug} should still be listed: {page}"));
    assert_eq!(item["expired"], json!(true), "{item}");
    assert_eq!(item["expires_at"], link["expires_at"], "{item}");
}

#[test]
fn kv_expiration_follows_expires_at() {
    let user = app().new_user();

    // No expiry: no KV expiration.
    let plain = create(
        &user,
        json!({ "url": "https://example.com/forever", "slug": random_slug() }),
    );
    assert_eq!(plain["expires_at"], Value::Null, "{plain}");
    assert_eq!(kv_expiration(&slug_of(&plain)), None);

    // expires_at in a day (with milliseconds, so the rounding shows).
    let slug = random_slug();
    let at = rfc3339_ms(now_ms() + DAY_SECS * 1000 + 123);
    let link = create(
        &user,
        json!({ "url": "https://example.com/day", "slug": slug, "expires_at": at }),
    );
    assert_eq!(link["expires_at"], json!(at), "{link}");
    assert_kv_expiration_follows(&link);

    // Moved by a new expires_at.
    let at2 = rfc3339_ms(now_ms() + 2 * DAY_SECS * 1000 + 456);
    let link = app().patch_link_ok(&user, &slug, json!({ "expires_at": at2 }));
    assert_eq!(link["expires_at"], json!(at2), "{link}");
    assert_kv_expiration_follows(&link);

    // Moved by a ttl.
    let before = now_ms();
    let link = app().patch_link_ok(&user, &slug, json!({ "ttl": 7200 }));
    let expires = expires_ms(&link);
    assert!(
        expires + 1000 >= before + 7_200_000 && expires <= now_ms() + 7_200_000 + 1000,
        "ttl 7200 from now: {link}"
    );
    assert_kv_expiration_follows(&link);

    // Kept by a write that does not touch the expiry.
    let link = app().patch_link_ok(&user, &slug, json!({ "title": "still expiring" }));
    assert_eq!(link["expires_at"], json!(rfc3339_ms(expires)), "{link}");
    let key = assert_kv_expiration_follows(&link);
    assert_eq!(
        key["metadata"],
        json!({ "version": link["version"], "updated_at": link["updated_at"] }),
        "KV metadata stays {{version, updated_at}}: {key}"
    );

    // Removed when the expiry is cleared.
    let link = app().patch_link_ok(&user, &slug, json!({ "expires_at": null }));
    assert_eq!(link["expires_at"], Value::Null, "{link}");
    assert_eq!(
        kv_expiration(&slug),
        None,
        "clearing expires_at must remove the KV expiration"
    );
    assert_redirect(&format!("/{slug}"), 302, "https://example.com/day");
}

#[test]
fn expired_link_extended_by_patch_redirects_again() {
    let user = app().new_user();
    let (by_ttl, by_at) = (random_slug(), random_slug());
    create(
        &user,
        json!({ "url": "https://example.com/revive-ttl", "slug": by_ttl, "ttl": 1 }),
    );
    create(
        &user,
        json!({ "url": "https://example.com/revive-at", "slug": by_at, "ttl": 1 }),
    );
    assert_link_unavailable(&wait_for_410(&by_ttl), "expired");
    assert_link_unavailable(&wait_for_410(&by_at), "expired");
    assert_eq!(get_link(&user, &by_ttl)["expired"], json!(true));

    let revived = app().patch_link_ok(&user, &by_ttl, json!({ "ttl": 3600 }));
    assert_eq!(revived["expired"], json!(false), "{revived}");
    assert_redirect(&format!("/{by_ttl}"), 302, "https://example.com/revive-ttl");
    assert_kv_expiration_follows(&revived);

    let at = rfc3339_ms(now_ms() + 3_600_000);
    let revived = app().patch_link_ok(&user, &by_at, json!({ "expires_at": at }));
    assert_eq!(revived["expired"], json!(false), "{revived}");
    assert_eq!(revived["expires_at"], json!(at));
    assert_redirect(&format!("/{by_at}"), 302, "https://example.com/revive-at");
    assert_eq!(get_link(&user, &by_at)["expired"], json!(false));
    wait_for_d1_row(&revived);
}

/// Expiry values refused with `invalid_expiry` (each is merged into a create or PATCH body).
fn invalid_expiries() -> Vec<Value> {
    let now = now_ms();
    let years_101 = now + (HUNDRED_YEARS_SECS + 366 * DAY_SECS) * 1000;
    vec![
        json!({ "expires_at": rfc3339_ms(now - 60_000) }),
        json!({ "expires_at": "2001-01-01T00:00:00.000Z" }),
        json!({ "expires_at": rfc3339_ms(years_101) }),
        json!({ "expires_at": rfc3339_ms(now + 3_600_000), "ttl": 60 }),
        json!({ "expires_at": 1_893_456_000 }),
        json!({ "expires_at": true }),
        json!({ "expires_at": {} }),
        json!({ "expires_at": "2030-01-01" }),
        json!({ "expires_at": "tomorrow" }),
        json!({ "expires_at": "" }),
        json!({ "expires_at": "2030-13-01T00:00:00.000Z" }),
        json!({ "ttl": 0 }),
        json!({ "ttl": -1 }),
        json!({ "ttl": 1.5 }),
        json!({ "ttl": "60" }),
        json!({ "ttl": HUNDRED_YEARS_SECS + 1 }),
        json!({ "ttl": true }),
    ]
}

fn merged(mut base: Value, extra: &Value) -> Value {
    let obj = base.as_object_mut().expect("object");
    for (k, v) in extra.as_object().expect("object") {
        obj.insert(k.clone(), v.clone());
    }
    base
}

/// Every `bad` field set is refused with `code` on create (nothing created) and on PATCH
/// (nothing changed).
#[track_caller]
fn assert_refused(user: &User, bad: &[Value], code: &str) {
    let existing = create(
        user,
        json!({ "url": "https://example.com/untouched", "slug": random_slug() }),
    );
    let existing_slug = slug_of(&existing);
    for fields in bad {
        let slug = random_slug();
        let body = merged(
            json!({ "url": "https://example.com/x", "slug": slug }),
            fields,
        );
        let resp = app().create_link(user, &body);
        assert_eq!(
            (resp.status, resp.error_code()),
            (400, Some(code.to_owned())),
            "POST /api/links {body} -> {} {}",
            resp.status,
            resp.body
        );
        resp.assert_error(400, code);
        app()
            .get(&format!("/api/links/{slug}"), Some(&user.api_key))
            .assert_error(404, "not_found");

        let resp = app().patch(
            &format!("/api/links/{existing_slug}"),
            Some(&user.api_key),
            &fields.to_string(),
        );
        assert_eq!(
            (resp.status, resp.error_code()),
            (400, Some(code.to_owned())),
            "PATCH {fields} -> {} {}",
            resp.status,
            resp.body
        );
        resp.assert_error(400, code);
    }
    // Compared in stored form: reads may add derived fields the create answer lacks.
    assert_eq!(
        stored_form(&get_link(user, &existing_slug)),
        stored_form(&existing),
        "refused PATCHes must not change the link"
    );
}

#[test]
fn invalid_expiry_is_refused() {
    let user = app().new_user();
    assert_refused(&user, &invalid_expiries(), "invalid_expiry");
}

/// An ordinary far expiry: 2040 lies beyond 2038-01-19, the end of 32-bit Unix seconds.
#[test]
fn expiry_after_2038_is_accepted() {
    let user = app().new_user();
    let slug = random_slug();
    let at = "2040-01-01T00:00:00.000Z";
    let resp = app().create_link(
        &user,
        &json!({ "url": "https://example.com/2040", "slug": slug, "expires_at": at }),
    );
    resp.assert_status(201);
    assert_eq!(resp.json()["expires_at"], json!(at));
    assert_redirect(&format!("/{slug}"), 302, "https://example.com/2040");

    let slug = random_slug();
    create(
        &user,
        json!({ "url": "https://example.com/2040b", "slug": slug }),
    );
    let link = app().patch_link_ok(&user, &slug, json!({ "expires_at": at }));
    assert_eq!(link["expires_at"], json!(at));
}

#[test]
fn expiry_limits_are_inclusive() {
    let user = app().new_user();
    // The largest ttl, and an expires_at just under 100 years ahead, are accepted.
    let link = create(
        &user,
        json!({ "url": "https://example.com/long", "slug": random_slug(), "ttl": HUNDRED_YEARS_SECS }),
    );
    assert!(expires_ms(&link) > now_ms() + (HUNDRED_YEARS_SECS - DAY_SECS) * 1000);
    let at = rfc3339_ms(now_ms() + (HUNDRED_YEARS_SECS - DAY_SECS) * 1000);
    let link = create(
        &user,
        json!({ "url": "https://example.com/long2", "slug": random_slug(), "expires_at": at }),
    );
    assert_eq!(link["expires_at"], json!(at));
    // `expires_at: null` on create: no expiry.
    let link = create(
        &user,
        json!({ "url": "https://example.com/none", "slug": random_slug(), "expires_at": null }),
    );
    assert_eq!(link["expires_at"], Value::Null);
}

#[test]
fn invalid_redirect_type_is_refused() {
    let user = app().new_user();
    let bad: Vec<Value> = [
        json!(303),
        json!(300),
        json!(200),
        json!(0),
        json!(-302),
        json!(3020),
        json!(302.5),
        json!("302"),
        json!(null),
        json!(true),
    ]
    .into_iter()
    .map(|v| json!({ "redirect_type": v }))
    .collect();
    assert_refused(&user, &bad, "invalid_redirect_type");
}

#[test]
fn invalid_state_and_flag_types_are_refused() {
    let user = app().new_user();
    let bad_state: Vec<Value> = ["flagged", "x", "Active", "archived", ""]
        .into_iter()
        .map(|s| json!({ "state": s }))
        .collect();
    assert_refused(&user, &bad_state, "invalid_state");
    let bad_types = vec![
        json!({ "forward_query": "yes" }),
        json!({ "forward_query": 1 }),
        json!({ "archived": "true" }),
        json!({ "archived": 1 }),
    ];
    assert_refused(&user, &bad_types, "invalid_json");
}

/// Nulls the contract gives no meaning to: `expires_at: null` together with a `ttl` is "both
/// fields"; a null flag would otherwise silently change nothing.
#[test]
fn meaningless_nulls_are_refused() {
    let user = app().new_user();
    assert_refused(
        &user,
        &[json!({ "expires_at": null, "ttl": 60 })],
        "invalid_expiry",
    );
    assert_refused(
        &user,
        &[
            json!({ "forward_query": null }),
            json!({ "archived": null }),
        ],
        "invalid_json",
    );
}

// ---- states ------------------------------------------------------------------------------------

#[test]
fn disabled_link_answers_410_and_reactivated_link_redirects() {
    let user = app().new_user();
    let slug = random_slug();
    let link = create(
        &user,
        json!({ "url": "https://example.com/toggle", "slug": slug }),
    );
    assert_eq!(
        (
            &link["state"],
            &link["archived"],
            &link["redirect_type"],
            &link["forward_query"]
        ),
        (&json!("active"), &json!(false), &json!(302), &json!(true)),
        "defaults: {link}"
    );
    assert_redirect(&format!("/{slug}"), 302, "https://example.com/toggle");

    let disabled = app().patch_link_ok(&user, &slug, json!({ "state": "disabled" }));
    assert_eq!(disabled["state"], json!("disabled"), "{disabled}");
    assert_eq!(disabled["is_active"], json!(false), "{disabled}");
    assert_unavailable(&slug, "disabled");
    assert_eq!(get_link(&user, &slug)["state"], json!("disabled"));
    wait_for_d1_row(&disabled);

    let active = app().patch_link_ok(&user, &slug, json!({ "state": "active" }));
    assert_eq!(active["state"], json!("active"), "{active}");
    assert_eq!(active["is_active"], json!(true), "{active}");
    assert_redirect(&format!("/{slug}"), 302, "https://example.com/toggle");

    // Created disabled.
    let slug = random_slug();
    let link = create(
        &user,
        json!({ "url": "https://example.com/born-off", "slug": slug, "state": "disabled" }),
    );
    assert_eq!(link["state"], json!("disabled"), "{link}");
    assert_unavailable(&slug, "disabled");
}

#[test]
fn flagged_link_is_410_and_its_owner_cannot_change_its_state() {
    let user = app().new_user();
    let admin = app().admin_token().to_owned();
    let slug = random_slug();
    create(
        &user,
        json!({ "url": "https://example.com/flag-me", "slug": slug }),
    );
    let resp = app().post(
        &format!("/api/admin/links/{slug}/flag"),
        Some(&admin),
        r#"{"reason":"spam"}"#,
    );
    resp.assert_status(200);
    let flagged = resp.json();
    assert_eq!(flagged["state"], json!("flagged"), "{flagged}");
    assert_unavailable(&slug, "flagged");

    for state in ["active", "disabled", "flagged"] {
        app()
            .patch(
                &format!("/api/links/{slug}"),
                Some(&user.api_key),
                &json!({ "state": state }).to_string(),
            )
            .assert_error(400, "invalid_state");
    }
    assert_eq!(get_link(&user, &slug)["version"], flagged["version"]);

    let resp = app().delete(&format!("/api/admin/links/{slug}/flag"), Some(&admin));
    resp.assert_status(200);
    assert_eq!(resp.json()["state"], json!("active"));
    assert_redirect(&format!("/{slug}"), 302, "https://example.com/flag-me");
}

#[test]
fn archived_links_redirect_and_leave_the_default_list() {
    let user = app().new_user();
    let (a, b, c) = (random_slug(), random_slug(), random_slug());
    create(&user, json!({ "url": "https://example.com/a", "slug": a }));
    create(&user, json!({ "url": "https://example.com/b", "slug": b }));
    let c_link = create(
        &user,
        json!({ "url": "https://example.com/c", "slug": c, "archived": true }),
    );
    assert_eq!(c_link["archived"], json!(true), "{c_link}");
    let b_link = app().patch_link_ok(&user, &b, json!({ "archived": true }));
    assert_eq!(b_link["archived"], json!(true), "{b_link}");
    assert_eq!(
        b_link["state"],
        json!("active"),
        "archived is not a state: {b_link}"
    );

    wait_for_list(&user, "", &[&a]);
    wait_for_list(&user, "archived=false", &[&a]);
    wait_for_list(&user, "archived=true", &[&b, &c]);
    assert_redirect(&format!("/{b}"), 302, "https://example.com/b");
    assert_redirect(&format!("/{c}"), 302, "https://example.com/c");

    let page = app().list_links(&user.api_key, "archived=true");
    for item in page["links"].as_array().expect("links") {
        assert_eq!(item["archived"], json!(true), "{item}");
    }

    app().patch_link_ok(&user, &c, json!({ "archived": false }));
    wait_for_list(&user, "", &[&a, &c]);
    wait_for_list(&user, "archived=true", &[&b]);
}

#[test]
fn list_filters_by_state() {
    let user = app().new_user();
    let admin = app().admin_token().to_owned();
    let (act, dis, flg, arch) = (random_slug(), random_slug(), random_slug(), random_slug());
    create(
        &user,
        json!({ "url": "https://example.com/act", "slug": act }),
    );
    create(
        &user,
        json!({ "url": "https://example.com/dis", "slug": dis, "state": "disabled" }),
    );
    create(
        &user,
        json!({ "url": "https://example.com/flg", "slug": flg }),
    );
    create(
        &user,
        json!({ "url": "https://example.com/arch", "slug": arch, "state": "disabled", "archived": true }),
    );
    app()
        .post(
            &format!("/api/admin/links/{flg}/flag"),
            Some(&admin),
            r#"{"reason":"phishing"}"#,
        )
        .assert_status(200);

    wait_for_list(&user, "state=flagged", &[&flg]);
    wait_for_list(&user, "state=active", &[&act]);
    wait_for_list(&user, "state=disabled", &[&dis]);
    wait_for_list(&user, "state=disabled&archived=true", &[&arch]);
    wait_for_list(&user, "state=active&archived=true", &[]);
    wait_for_list(&user, "", &[&act, &dis, &flg]);

    // Every item carries the new fields, as the link's own GET shows them.
    let page = app().list_links(&user.api_key, "limit=100");
    for item in page["links"].as_array().expect("links") {
        let full = get_link(&user, &slug_of(item));
        for field in [
            "expires_at",
            "archived",
            "redirect_type",
            "forward_query",
            "state",
            "expired",
            "version",
        ] {
            assert!(item.get(field).is_some(), "`{field}` missing in {item}");
            assert_eq!(item[field], full[field], "`{field}` of {item} vs {full}");
        }
    }
}

#[test]
fn bad_list_filters_are_400() {
    let user = app().new_user();
    for query in ["state=bogus", "state=archived", "state=ACTIVE"] {
        app()
            .get(&format!("/api/links?{query}"), Some(&user.api_key))
            .assert_error(400, "invalid_state");
    }
    for query in ["archived=yes", "archived=1", "archived=TRUE"] {
        app()
            .get(&format!("/api/links?{query}"), Some(&user.api_key))
            .assert_error(400, "invalid_query");
    }
}

// ---- redirect options --------------------------------------------------------------------------

#[test]
fn redirect_types_send_their_status_and_cache_control() {
    let user = app().new_user();
    for rt in [None, Some(301), Some(302), Some(307), Some(308)] {
        let slug = random_slug();
        let url = format!("https://example.com/rt/{}", rt.unwrap_or(0));
        let mut body = json!({ "url": url, "slug": slug });
        if let Some(rt) = rt {
            body["redirect_type"] = json!(rt);
        }
        let link = create(&user, body);
        let status = rt.unwrap_or(302);
        assert_eq!(link["redirect_type"], json!(status), "{link}");
        assert_redirect(&format!("/{slug}"), status, &url);
    }

    // A PATCH changes the status at once.
    let slug = random_slug();
    create(
        &user,
        json!({ "url": "https://example.com/perm", "slug": slug, "redirect_type": 301 }),
    );
    assert_redirect(&format!("/{slug}"), 301, "https://example.com/perm");
    let link = app().patch_link_ok(&user, &slug, json!({ "redirect_type": 307 }));
    assert_eq!(link["redirect_type"], json!(307));
    assert_redirect(&format!("/{slug}"), 307, "https://example.com/perm");
    app().patch_link_ok(&user, &slug, json!({ "redirect_type": 308 }));
    assert_redirect(&format!("/{slug}?x=1"), 308, "https://example.com/perm?x=1");
}

#[test]
fn visitor_query_is_appended_to_the_destination() {
    let user = app().new_user();
    let with_query = random_slug();
    create(
        &user,
        json!({ "url": "https://example.com/p?a=1#frag", "slug": with_query }),
    );
    let cases = [
        ("?a=2&b=3", "https://example.com/p?a=1&a=2&b=3#frag"),
        ("", "https://example.com/p?a=1#frag"),
        ("?", "https://example.com/p?a=1#frag"),
        (
            "?q=a%20b&r=%2F",
            "https://example.com/p?a=1&q=a%20b&r=%2F#frag",
        ),
    ];
    for (query, want) in cases {
        assert_redirect(&format!("/{with_query}{query}"), 302, want);
    }

    let no_query = random_slug();
    create(
        &user,
        json!({ "url": "https://example.com/p", "slug": no_query }),
    );
    assert_redirect(
        &format!("/{no_query}?x=1"),
        302,
        "https://example.com/p?x=1",
    );
    assert_redirect(
        &format!("/{no_query}?x=1&x=2"),
        302,
        "https://example.com/p?x=1&x=2",
    );
    assert_redirect(&format!("/{no_query}"), 302, "https://example.com/p");

    let fragment_only = random_slug();
    create(
        &user,
        json!({ "url": "https://example.com/doc#top", "slug": fragment_only }),
    );
    assert_redirect(
        &format!("/{fragment_only}?utm_source=mail"),
        302,
        "https://example.com/doc?utm_source=mail#top",
    );
}

#[test]
fn forward_query_false_keeps_the_destination_exactly() {
    let user = app().new_user();
    let slug = random_slug();
    let link = create(
        &user,
        json!({ "url": "https://example.com/fixed?a=1#f", "slug": slug, "forward_query": false }),
    );
    assert_eq!(link["forward_query"], json!(false), "{link}");
    assert_redirect(
        &format!("/{slug}?a=2&b=3"),
        302,
        "https://example.com/fixed?a=1#f",
    );
    assert_redirect(&format!("/{slug}"), 302, "https://example.com/fixed?a=1#f");

    let link = app().patch_link_ok(&user, &slug, json!({ "forward_query": true }));
    assert_eq!(link["forward_query"], json!(true), "{link}");
    assert_redirect(
        &format!("/{slug}?b=3"),
        302,
        "https://example.com/fixed?a=1&b=3#f",
    );
}

// ---- index and stored value --------------------------------------------------------------------

#[test]
fn d1_row_and_kv_value_carry_the_new_fields() {
    let user = app().new_user();
    let slug = random_slug();
    let at = rfc3339_ms(now_ms() + DAY_SECS * 1000);
    let link = create(
        &user,
        json!({
            "url": "https://example.com/columns", "slug": slug, "title": "cols",
            "expires_at": at, "archived": true, "redirect_type": 308, "forward_query": false,
        }),
    );
    let row = wait_for_d1_row(&link);
    assert_eq!(
        (
            &row["expires_at"],
            &row["archived"],
            &row["redirect_type"],
            &row["forward_query"]
        ),
        (&json!(at), &json!(1), &json!(308), &json!(0)),
        "{row}"
    );

    // The KV value holds the stored fields, nulls included, and no derived ones.
    let raw = app().kv_get(&format!("link:{slug}")).expect("link in KV");
    let kv: Value = serde_json::from_str(&raw).expect("KV value is JSON");
    for derived in ["short_url", "state", "expired", "has_password"] {
        assert!(
            kv.get(derived).is_none(),
            "`{derived}` is stored in KV: {kv}"
        );
    }
    for stored in ["expires_at", "archived", "redirect_type", "forward_query"] {
        assert!(kv.get(stored).is_some(), "`{stored}` missing in KV: {kv}");
    }
    assert_eq!(stored_form(&kv), stored_form(&link));

    let link = app().patch_link_ok(
        &user,
        &slug,
        json!({
            "expires_at": null, "archived": false, "redirect_type": 301,
            "forward_query": true, "state": "disabled",
        }),
    );
    let row = wait_for_d1_row(&link);
    assert_eq!(
        (
            &row["expires_at"],
            &row["archived"],
            &row["redirect_type"],
            &row["forward_query"],
            &row["state"]
        ),
        (
            &Value::Null,
            &json!(0),
            &json!(301),
            &json!(1),
            &json!("disabled")
        ),
        "{row}"
    );
    let raw = app().kv_get(&format!("link:{slug}")).expect("link in KV");
    let kv: Value = serde_json::from_str(&raw).expect("KV value is JSON");
    assert_eq!(stored_form(&kv), stored_form(&link));
}

// ---- history -----------------------------------------------------------------------------------

/// Asserts one history row: its version, op, actor, timestamp and link snapshot.
#[track_caller]
fn assert_history_row(row: &Value, version: u64, op: &str, actor: &str, snapshot: &Value) {
    assert_eq!(row["version"], json!(version), "version of {row}");
    assert_eq!(row["op"], json!(op), "op of {row}");
    assert_eq!(row["actor"], json!(actor), "actor of {row}");
    assert!(
        row["at"].as_str().is_some_and(common::is_rfc3339_ms_utc),
        "at of {row}"
    );
    assert_eq!(
        stored_form(&row["link"]),
        stored_form(snapshot),
        "link snapshot of the {op} row (version {version})"
    );
}

#[test]
fn history_records_create_updates_and_delete() {
    let user = app().new_user();
    let other = app().new_user();
    let admin = app().admin_token().to_owned();
    let slug = random_slug();

    let mut answers = vec![create(
        &user,
        json!({ "url": "https://example.com/h0", "slug": slug, "title": "h0" }),
    )];
    for body in [
        json!({ "url": "https://example.com/h1" }),
        json!({ "title": "h2" }),
        json!({ "ttl": 3600 }),
        json!({ "redirect_type": 301, "forward_query": false }),
        json!({ "state": "disabled", "archived": true }),
    ] {
        answers.push(app().patch_link_ok(&user, &slug, body));
    }
    let versions: Vec<u64> = answers.iter().map(version_of).collect();
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "versions increase: {versions:?}"
    );
    app()
        .delete(&format!("/api/links/{slug}"), Some(&user.api_key))
        .assert_status(204);

    // The former owner reads all 7 rows once the background writes landed.
    let mut last = Vec::new();
    let complete = poll_for(BACKGROUND_DEADLINE, || {
        let resp = app().history(&user.api_key, &slug, "limit=100");
        if resp.status != 200 {
            last = vec![json!({ "status": resp.status, "body": resp.body })];
            return None;
        }
        last = resp.json()["history"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (last.len() >= 7).then_some(())
    });
    assert!(
        complete.is_some(),
        "history of {slug} should reach 7 rows; got {}: {last:#?}",
        last.len()
    );
    let (rows, pages) = app().history_all(&user.api_key, &slug, 100);
    assert_eq!(pages, vec![7], "one page of 7: {rows:#?}");
    let got_versions: Vec<u64> = rows.iter().map(version_of).collect();
    assert!(
        got_versions.windows(2).all(|w| w[0] > w[1]),
        "newest first, strictly decreasing: {got_versions:?}"
    );
    let mut want_versions: Vec<u64> = versions.iter().rev().copied().collect();
    assert!(
        got_versions[0] > want_versions[0],
        "the delete's version is above the last update's: {got_versions:?}"
    );
    want_versions.insert(0, got_versions[0]);
    assert_eq!(got_versions, want_versions, "the versions the API returned");

    let last_state = answers.last().expect("answers");
    assert_history_row(&rows[0], got_versions[0], "delete", &user.id, last_state);
    for (i, row) in rows[1..].iter().enumerate() {
        let answer = &answers[answers.len() - 1 - i];
        let op = if i == answers.len() - 1 {
            "create"
        } else {
            "update"
        };
        assert_history_row(row, version_of(answer), op, &user.id, answer);
    }
    let ats: Vec<&str> = rows.iter().map(|r| r["at"].as_str().unwrap()).collect();
    assert!(
        ats.windows(2).all(|w| w[0] >= w[1]),
        "at newest first: {ats:?}"
    );

    // Paging: 3 + 3 + 1, every row once, same order.
    let (paged, pages) = app().history_all(&user.api_key, &slug, 3);
    assert_eq!(pages, vec![3, 3, 1], "page sizes");
    assert_eq!(paged, rows, "paged history equals the single page");

    // Who may read it.
    app()
        .history(&other.api_key, &slug, "")
        .assert_error(404, "not_found");
    let (as_admin, _) = app().history_all(&admin, &slug, 100);
    assert_eq!(as_admin, rows, "the admin reads the same history");
    app()
        .history(&user.api_key, &random_slug(), "")
        .assert_error(404, "not_found");
    for limit in ["0", "101", "x"] {
        app()
            .history(&user.api_key, &slug, &format!("limit={limit}"))
            .assert_error(400, "invalid_limit");
    }
    let resp = app().history(&user.api_key, &slug, "");
    resp.assert_status(200);
    assert_eq!(
        resp.json()["history"].as_array().map(Vec::len),
        Some(7),
        "default limit 20"
    );

    // D1 holds exactly one row per version.
    let d1 = app().d1_query(&format!(
        "SELECT slug, version, op, actor, owner, at, link FROM link_history WHERE slug = {} \
         ORDER BY version DESC",
        sql_str(&slug)
    ));
    assert_eq!(d1.len(), 7, "link_history rows of {slug}: {d1:#?}");
    for (row, api) in d1.iter().zip(&rows) {
        assert_eq!(row["version"], api["version"], "{row}");
        assert_eq!(row["op"], api["op"], "{row}");
        assert_eq!(row["actor"], json!(user.id), "{row}");
        assert_eq!(row["owner"], json!(user.id), "{row}");
        assert_eq!(row["at"], api["at"], "{row}");
        let link: Value = serde_json::from_str(row["link"].as_str().expect("link TEXT"))
            .unwrap_or_else(|e| panic!("link column is not JSON ({e}): {row}"));
        assert_eq!(stored_form(&link), stored_form(&api["link"]), "{row}");
    }
}

#[test]
fn admin_flag_and_unflag_are_recorded_as_updates_by_the_admin() {
    let user = app().new_user();
    let admin = app().admin_token().to_owned();
    let slug = random_slug();
    let created = create(
        &user,
        json!({ "url": "https://example.com/moderated", "slug": slug }),
    );
    let resp = app().post(
        &format!("/api/admin/links/{slug}/flag"),
        Some(&admin),
        r#"{"reason":"abuse"}"#,
    );
    resp.assert_status(200);
    let flagged = resp.json();
    let resp = app().delete(&format!("/api/admin/links/{slug}/flag"), Some(&admin));
    resp.assert_status(200);
    let unflagged = resp.json();

    let rows = poll_until(BACKGROUND_DEADLINE, "3 history rows", || {
        let (rows, _) = app().history_all(&user.api_key, &slug, 100);
        (rows.len() >= 3).then_some(rows)
    });
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert_history_row(
        &rows[0],
        version_of(&unflagged),
        "update",
        "admin",
        &unflagged,
    );
    assert_history_row(&rows[1], version_of(&flagged), "update", "admin", &flagged);
    assert_history_row(&rows[2], version_of(&created), "create", &user.id, &created);
    assert_eq!(rows[1]["link"]["flag_reason"], json!("abuse"));
}

// ---- restore ---------------------------------------------------------------------------------

/// `POST /api/links/{slug}/restore` with `{"version": version}`.
fn restore(token: &str, slug: &str, version: u64) -> Resp {
    app().post(
        &format!("/api/links/{slug}/restore"),
        Some(token),
        &json!({ "version": version }).to_string(),
    )
}

/// Waits until the history of `slug`, read with `token`, holds `version` (the index is written
/// in the background).
#[track_caller]
fn wait_for_version(token: &str, slug: &str, version: u64) {
    poll_until(BACKGROUND_DEADLINE, "the version in the history", || {
        let (rows, _) = app().history_all(token, slug, 100);
        rows.iter().any(|r| version_of(r) == version).then_some(())
    });
}

#[track_caller]
fn assert_redirects(slug: &str, status: u16, to: &str) {
    let resp = app().get(&format!("/{slug}"), None);
    resp.assert_status(status);
    assert_eq!(resp.location(), Some(to), "{slug} redirects to");
}

#[test]
fn restoring_a_version_brings_back_every_setting_and_undoes_a_delete() {
    let user = app().new_user();
    let other = app().new_user();
    let slug = random_slug();
    let first = create(
        &user,
        json!({ "url": "https://example.com/one", "slug": slug, "title": "One",
                "tags": ["alpha"], "redirect_type": 307, "max_clicks": 500 }),
    );
    let v1 = version_of(&first);
    let second = app().patch_link_ok(
        &user,
        &slug,
        json!({ "url": "https://example.com/two", "title": "Two", "tags": ["beta"],
                "redirect_type": 301, "max_clicks": null, "password": "sesame-1234" }),
    );
    assert_eq!(second["has_password"], json!(true));
    wait_for_version(&user.api_key, &slug, v1);

    // Back to version 1: its destination, title, tags, options, and no password.
    let resp = restore(&user.api_key, &slug, v1);
    resp.assert_status(200);
    let restored = resp.json();
    for field in [
        "url",
        "title",
        "tags",
        "redirect_type",
        "max_clicks",
        "has_password",
    ] {
        assert_eq!(restored[field], first[field], "{field} of {restored}");
    }
    assert_eq!(restored["created_at"], first["created_at"], "the same life");
    let v3 = version_of(&restored);
    assert!(v3 > version_of(&second), "a new version: {v3}");
    assert_eq!(resp.header("ETag"), Some(format!("\"{v3}\"").as_str()));
    assert_redirects(&slug, 307, "https://example.com/one");
    // And forward again, to version 2: the password comes back with it.
    wait_for_version(&user.api_key, &slug, version_of(&second));
    let resp = restore(&user.api_key, &slug, version_of(&second));
    resp.assert_status(200);
    assert_eq!(resp.json()["has_password"], json!(true));
    assert_eq!(resp.json()["url"], json!("https://example.com/two"));
    assert_eq!(
        app().get(&format!("/{slug}"), None).status,
        200,
        "the password form"
    );
    let v4 = version_of(&resp.json());

    // The history records each restore as an update by its actor.
    wait_for_version(&user.api_key, &slug, v4);
    let (rows, _) = app().history_all(&user.api_key, &slug, 100);
    let ops: Vec<(u64, &str)> = rows
        .iter()
        .map(|r| (version_of(r), r["op"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        ops,
        vec![
            (v4, "update"),
            (v3, "update"),
            (version_of(&second), "update"),
            (v1, "create")
        ]
    );

    // If-Match: a stale version is refused and changes nothing.
    let auth = format!("Bearer {}", user.api_key);
    let stale = format!("\"{v3}\"");
    let body = json!({ "version": v1 }).to_string();
    app()
        .request_with_headers(
            "POST",
            &format!("/api/links/{slug}/restore"),
            &[
                ("Authorization", &auth),
                ("If-Match", &stale),
                ("Content-Type", "application/json"),
            ],
            Some(&body),
        )
        .assert_error(412, "version_mismatch");
    assert_eq!(version_of(&get_link(&user, &slug)), v4);

    // Bad bodies and versions: nothing written.
    for bad in [
        "{}",
        r#"{"version":0}"#,
        r#"{"version":-1}"#,
        r#"{"version":"1"}"#,
        r#"{"version":1.5}"#,
        r#"{"version":9007199254740992}"#,
        &format!(r#"{{"version":{v1},"url":"https://example.com/x"}}"#),
        "not json",
    ] {
        app()
            .post(
                &format!("/api/links/{slug}/restore"),
                Some(&user.api_key),
                bad,
            )
            .assert_error(400, "invalid_json");
    }
    // A version the link never had, and someone else's link: 404.
    restore(&user.api_key, &slug, v1 + 1).assert_error(404, "not_found");
    restore(&other.api_key, &slug, v1).assert_error(404, "not_found");
    restore(&user.api_key, &random_slug(), v1).assert_error(404, "not_found");
    assert_eq!(version_of(&get_link(&user, &slug)), v4);

    // Deleted: restoring brings the link back for its owner, as a new life.
    app()
        .delete(&format!("/api/links/{slug}"), Some(&user.api_key))
        .assert_status(204);
    assert_eq!(app().get(&format!("/{slug}"), None).status, 404);
    let resp = restore(&user.api_key, &slug, v1);
    resp.assert_status(201);
    let back = resp.json();
    assert_eq!(back["owner"], json!(user.id));
    assert_eq!(back["url"], json!("https://example.com/one"));
    assert_eq!(back["tags"], json!(["alpha"]));
    assert!(
        back["created_at"].as_str() > first["created_at"].as_str(),
        "{back}"
    );
    assert_redirects(&slug, 307, "https://example.com/one");
    // Once there, restoring what it already is writes nothing: the same version.
    let resp = restore(&user.api_key, &slug, v1);
    resp.assert_status(200);
    assert_eq!(version_of(&resp.json()), version_of(&back), "{}", resp.body);

    // The admin may restore any version of anyone's link; the owner stays.
    let resp = restore(app().admin_token(), &slug, version_of(&second));
    resp.assert_status(200);
    assert_eq!(resp.json()["owner"], json!(user.id));
    assert_eq!(resp.json()["url"], json!("https://example.com/two"));
}

#[test]
fn a_restore_meets_todays_blocklist_and_never_escapes_a_flag() {
    let user = app().new_user();
    let admin = app().admin_token().to_owned();
    let host = format!("gone-bad-{}.example", random_slug().to_ascii_lowercase());
    let slug = random_slug();
    let first = create(
        &user,
        json!({ "url": format!("https://{host}/x"), "slug": slug }),
    );
    let v1 = version_of(&first);
    let second = app().patch_link_ok(&user, &slug, json!({ "url": "https://example.com/safe" }));
    wait_for_version(&user.api_key, &slug, v1);

    // Its first destination was blocked since: refused, nothing changed.
    app()
        .post(
            "/api/admin/blocklist",
            Some(&admin),
            &json!({ "host": host }).to_string(),
        )
        .assert_status(201);
    restore(&user.api_key, &slug, v1).assert_error(400, "blocked_destination");
    assert_eq!(version_of(&get_link(&user, &slug)), version_of(&second));
    app()
        .delete(&format!("/api/admin/blocklist/{host}"), Some(&admin))
        .assert_status(204);

    // Flagged: a restore changes the destination but the flag stays.
    app()
        .post(
            &format!("/api/admin/links/{slug}/flag"),
            Some(&admin),
            r#"{"reason":"spam"}"#,
        )
        .assert_status(200);
    let resp = restore(&user.api_key, &slug, v1);
    resp.assert_status(200);
    assert_eq!(resp.json()["state"], json!("flagged"), "{}", resp.body);
    assert_eq!(app().get(&format!("/{slug}"), None).status, 410);

    // Deleted while flagged: restoring does not bring it back.
    app()
        .delete(&format!("/api/links/{slug}"), Some(&user.api_key))
        .assert_status(204);
    restore(&user.api_key, &slug, v1).assert_error(409, "slug_taken");
    assert_eq!(app().get(&format!("/{slug}"), None).status, 404);
}

/// `GET /api/deleted-links?{query}` as `user`: the slugs listed, and the page.
fn deleted_links(user: &User, query: &str) -> (Vec<String>, Value) {
    let resp = app().get(&format!("/api/deleted-links?{query}"), Some(&user.api_key));
    resp.assert_status(200);
    let page = resp.json();
    let slugs = page["deleted"]
        .as_array()
        .map(|a| a.iter().map(slug_of).collect())
        .unwrap_or_default();
    (slugs, page)
}

#[test]
fn deleted_links_are_listed_newest_first_until_restored_or_taken_again() {
    let user = app().new_user();
    let other = app().new_user();
    let [a, b, c] = [random_slug(), random_slug(), random_slug()];
    for slug in [&a, &b, &c] {
        create(
            &user,
            json!({ "url": format!("https://example.com/{slug}"), "slug": slug, "title": slug }),
        );
    }
    let theirs = random_slug();
    create(
        &other,
        json!({ "url": "https://example.com/t", "slug": theirs }),
    );
    for (who, slug) in [(&user, &a), (&user, &b), (&user, &c), (&other, &theirs)] {
        app()
            .delete(&format!("/api/links/{slug}"), Some(&who.api_key))
            .assert_status(204);
    }
    // `c` is created again at once by its owner: no longer deleted.
    create(
        &user,
        json!({ "url": "https://example.com/again", "slug": c }),
    );

    let (slugs, page) = poll_until(BACKGROUND_DEADLINE, "the two deletes listed", || {
        let (slugs, page) = deleted_links(&user, "");
        (slugs.len() >= 2).then_some((slugs, page))
    });
    assert_eq!(slugs, vec![b.clone(), a.clone()], "newest first: {page}");
    let item = &page["deleted"][0];
    assert_eq!(item["deleted_by"], json!(user.id));
    assert_eq!(item["link"]["title"], json!(b));
    assert_eq!(
        item["link"]["url"],
        json!(format!("https://example.com/{b}"))
    );
    assert!(item["link"].get("password_hash").is_none(), "{item}");
    assert_eq!(page["next_cursor"], Value::Null);
    let (theirs_listed, _) = deleted_links(&other, "");
    assert_eq!(theirs_listed, vec![theirs.clone()]);

    // Paged one at a time, every link once.
    let (first, page) = deleted_links(&user, "limit=1");
    assert_eq!(first, vec![b.clone()]);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let (second, page) = deleted_links(
        &user,
        &format!("limit=1&cursor={}", common::url_encode(&cursor)),
    );
    assert_eq!(second, vec![a.clone()]);
    assert_eq!(page["next_cursor"], Value::Null);
    for bad in ["limit=0", "limit=101", "limit=x"] {
        app()
            .get(&format!("/api/deleted-links?{bad}"), Some(&user.api_key))
            .assert_error(400, "invalid_limit");
    }
    for bad in ["nonsense", "2026-01-01T00:00:00.000Z~a%20b", "x~abc"] {
        app()
            .get(
                &format!("/api/deleted-links?cursor={bad}"),
                Some(&user.api_key),
            )
            .assert_error(400, "invalid_cursor");
    }

    // Restored with the version it lists: back, and off the list.
    let version = page_version(&deleted_links(&user, "").1, &b);
    restore(&user.api_key, &b, version).assert_status(201);
    assert_redirects(&b, 302, &format!("https://example.com/{b}"));
    let (slugs, _) = deleted_links(&user, "");
    assert_eq!(
        slugs,
        vec![a.clone()],
        "a restored link is no longer deleted"
    );
}

/// The version a deleted-links page lists for `slug`.
#[track_caller]
fn page_version(page: &Value, slug: &str) -> u64 {
    page["deleted"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["slug"] == json!(slug)))
        .map(version_of)
        .unwrap_or_else(|| panic!("{slug} is not in {page}"))
}
