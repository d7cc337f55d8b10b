//! Moderation end to end: the admin's view of every link (owner emails from D1, link state from
//! KV, filters, pages), flagging and unflagging (the redirect answers 410 at once), the
//! destination blocklist (subdomains, creates and updates refused; an address blocked in every
//! spelling, IPv4-mapped and NAT64 IPv6 included), and the admin role on every admin route.
//!
//! Every test makes its own users, random slugs and random blocked hosts (`t<random>.example`),
//! so all run in parallel on one server. The admin list is read from D1, which is written in the
//! background: it is polled.

mod common;

use std::collections::{BTreeSet, HashSet};

use common::{
    app, poll_until, random_alnum, random_slug, slug_of, sql_str, url_encode, User,
    BACKGROUND_DEADLINE,
};
use serde_json::{json, Value};

const REASONS: [&str; 6] = ["spam", "phishing", "malware", "abuse", "illegal", "other"];

// ---- helpers -----------------------------------------------------------------------------------

fn admin() -> Option<&'static str> {
    Some(app().admin_token())
}

/// Creates a link with a random slug; returns the 201 body.
#[track_caller]
fn create(user: &User, url: &str, title: Option<&str>) -> Value {
    let mut body = json!({ "url": url, "slug": random_slug() });
    if let Some(title) = title {
        body["title"] = json!(title);
    }
    app().create_link_ok(user, &body)
}

/// One page of `GET /api/admin/links?{query}` as the admin, asserting 200 and the envelope.
#[track_caller]
fn admin_links_page(query: &str) -> Value {
    let resp = app().get(&format!("/api/admin/links?{query}"), admin());
    resp.assert_status(200);
    let v = resp.json();
    let fields: BTreeSet<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    // `total` (issue 25) comes on the first page only.
    let mut want = BTreeSet::from(["links", "next_cursor"]);
    if !query.contains("cursor=") {
        want.insert("total");
    }
    assert_eq!(fields, want, "GET /api/admin/links?{query}: {v}");
    v
}

/// Every link of the admin list for `filter` (a query string without limit/cursor), paging
/// `limit` at a time; also returns the page sizes.
#[track_caller]
fn admin_links_all(filter: &str, limit: u32) -> (Vec<Value>, Vec<usize>) {
    let mut links = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let mut query = format!("limit={limit}");
        if !filter.is_empty() {
            query.push('&');
            query.push_str(filter);
        }
        if let Some(c) = &cursor {
            query.push_str(&format!("&cursor={}", url_encode(c)));
        }
        let page = admin_links_page(&query);
        let rows = page["links"].as_array().expect("links array");
        sizes.push(rows.len());
        links.extend(rows.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => {
                assert_eq!(page["next_cursor"], Value::Null, "next_cursor: {page}");
                return (links, sizes);
            }
        }
    }
    panic!("the admin link list did not end after 10000 pages");
}

fn slug_set(links: &[Value]) -> BTreeSet<String> {
    links.iter().map(slug_of).collect()
}

fn slugs_of(links: &[&Value]) -> BTreeSet<String> {
    links.iter().map(|l| slug_of(l)).collect()
}

/// Polls the admin list for `filter` until its slugs are exactly `want`; returns the links.
/// `want` must not be empty: an empty list is what the first poll sees before any write reached
/// D1, so waiting for one proves nothing (first wait for the writes to show under a filter that
/// holds them, then [`assert_admin_list_empty`]).
#[track_caller]
fn wait_for_admin_list(filter: &str, want: &BTreeSet<String>) -> Vec<Value> {
    assert!(
        !want.is_empty(),
        "waiting for an empty list passes at once: prove the writes first"
    );
    let mut last = BTreeSet::new();
    let found = common::poll_for(BACKGROUND_DEADLINE, || {
        let (links, _) = admin_links_all(filter, 100);
        last = slug_set(&links);
        (last == *want).then_some(links)
    });
    found.unwrap_or_else(|| {
        panic!("GET /api/admin/links?{filter}: wanted exactly {want:?}, last saw {last:?}")
    })
}

/// Reads the admin list for `filter` once and asserts it is empty. Only meaningful after a wait
/// has shown the links it must leave out in D1 (so they are there to be excluded).
#[track_caller]
fn assert_admin_list_empty(filter: &str) {
    let (links, _) = admin_links_all(filter, 100);
    assert!(
        links.is_empty(),
        "GET /api/admin/links?{filter}: wanted nothing, got {:?}",
        slug_set(&links)
    );
}

/// The admin list's entry for `link` as the API must show it: the link plus its owner's email.
/// A link as the admin list shows it: with its owner's email and its clicks (none yet).
fn listed_as(link: &Value, email: &str) -> Value {
    let mut v = link.clone();
    v["owner_email"] = json!(email);
    v["clicks"] = json!(0);
    v
}

/// `POST /api/admin/links/{slug}/flag` as the admin.
fn flag(slug: &str, reason: &str) -> common::Resp {
    app().post(
        &format!("/api/admin/links/{slug}/flag"),
        admin(),
        &json!({ "reason": reason }).to_string(),
    )
}

fn unflag(slug: &str) -> common::Resp {
    app().delete(&format!("/api/admin/links/{slug}/flag"), admin())
}

#[track_caller]
fn assert_redirects(slug: &str, target: &str) {
    let resp = app().get_no_redirect(&format!("/{slug}"));
    resp.assert_status(302);
    assert_eq!(resp.location(), Some(target), "redirect of {slug}");
}

/// The owner's view of a link, asserting 200, without `clicks` (the roll-up's count, which
/// only reads add), so it compares equal to what writes answered.
#[track_caller]
fn get_link(user: &User, slug: &str) -> Value {
    let resp = app().get(&format!("/api/links/{slug}"), Some(&user.api_key));
    resp.assert_status(200);
    let mut link = resp.json();
    let clicks = link.as_object_mut().and_then(|l| l.remove("clicks"));
    assert!(clicks.is_some(), "a GET shows clicks: {link}");
    link
}

/// A host nobody else uses: `t<random>.example`.
fn random_host() -> String {
    format!("t{}.example", random_alnum(12).to_lowercase())
}

fn blocklist() -> Vec<String> {
    let resp = app().get("/api/admin/blocklist", admin());
    resp.assert_status(200);
    let v = resp.json();
    v["hosts"]
        .as_array()
        .unwrap_or_else(|| panic!("hosts array: {v}"))
        .iter()
        .map(|h| h.as_str().expect("host string").to_owned())
        .collect()
}

#[track_caller]
fn block(host: &str) -> Value {
    let resp = app().post(
        "/api/admin/blocklist",
        admin(),
        &json!({ "host": host }).to_string(),
    );
    resp.assert_status(201);
    resp.json()
}

#[track_caller]
fn unblock(host: &str) {
    app()
        .delete(&format!("/api/admin/blocklist/{host}"), admin())
        .assert_status(204);
}

// ---- the admin link list -----------------------------------------------------------------------

#[test]
fn admin_link_list_shows_every_field_and_the_owners_email_newest_first() {
    let user = app().new_user();
    let first = create(&user, "https://example.com/first", Some("First"));
    let second = create(&user, "https://example.com/second", None);

    let listed = wait_for_admin_list(&format!("owner={}", user.id), &slugs_of(&[&first, &second]));
    assert_eq!(
        listed,
        vec![
            listed_as(&second, &user.email),
            listed_as(&first, &user.email)
        ],
        "the admin list shows the links as created, newest first, with the owner's email"
    );
}

#[test]
fn admin_link_list_shows_link_fields_from_kv_not_d1() {
    let user = app().new_user();
    let link = create(&user, "https://example.com/kv-truth", Some("old title"));
    let slug = slug_of(&link);
    wait_for_admin_list(&format!("owner={}", user.id), &slugs_of(&[&link]));

    // Change the title in KV only (D1 is not told).
    let key = format!("link:{slug}");
    let raw = app().kv_get(&key).expect("the link is in KV");
    let mut stored: Value = serde_json::from_str(&raw).expect("KV link value is JSON");
    let new_title = format!("kv only {}", random_alnum(8));
    stored["title"] = json!(new_title);
    app().kv_put(&key, &stored.to_string());

    let shown = poll_until(
        BACKGROUND_DEADLINE,
        "the admin list to show the title KV holds",
        || {
            let (links, _) = admin_links_all(&format!("owner={}", user.id), 100);
            links
                .into_iter()
                .find(|l| l["slug"] == json!(slug) && l["title"] == json!(new_title))
        },
    );
    assert_eq!(shown["owner_email"], json!(user.email));
    let d1 = app().d1_query(&format!(
        "SELECT title FROM links WHERE slug = {}",
        sql_str(&slug)
    ));
    assert_eq!(
        d1,
        vec![json!({ "title": "old title" })],
        "D1 must still hold the old title, or this proves nothing"
    );
}

#[test]
fn admin_link_list_filters_by_text_owner_and_state() {
    let alice = app().new_user();
    let bob = app().new_user();
    let tok = random_alnum(10).to_lowercase();
    let tok_upper = tok.to_uppercase();

    // Matches by url, title (other case) and slug; bob's matches by url; one does not match.
    let by_url = create(&alice, &format!("https://example.com/{tok}/a"), None);
    let by_title = create(
        &alice,
        "https://example.com/t",
        Some(&format!("About {tok_upper}")),
    );
    let by_slug = app().create_link_ok(
        &alice,
        &json!({ "url": "https://example.com/s", "slug": format!("s{tok}x") }),
    );
    let bobs = create(&bob, &format!("https://example.org/{tok}"), None);
    let other = create(&alice, "https://example.com/unrelated", Some("unrelated"));

    let q_upper = format!("q={tok_upper}");
    wait_for_admin_list(&q_upper, &slugs_of(&[&by_url, &by_title, &by_slug, &bobs]));

    let alices = slugs_of(&[&by_url, &by_title, &by_slug]);
    wait_for_admin_list(&format!("q={tok}&owner={}", alice.id), &alices);
    wait_for_admin_list(
        &format!("q={tok}&owner={}", url_encode(&alice.email)),
        &alices,
    );
    wait_for_admin_list(
        &format!("q={tok}&owner={}", url_encode(&alice.email.to_uppercase())),
        &alices,
    );
    wait_for_admin_list(
        &format!("q={tok}&owner={}", url_encode(&bob.email)),
        &slugs_of(&[&bobs]),
    );
    wait_for_admin_list(
        &format!("owner={}", alice.id),
        &slugs_of(&[&by_url, &by_title, &by_slug, &other]),
    );

    // State: flag one; it moves from "active" to "flagged".
    flag(&slug_of(&by_title), "spam").assert_status(200);
    let flagged = wait_for_admin_list(&format!("q={tok}&state=flagged"), &slugs_of(&[&by_title]));
    assert_eq!(flagged[0]["is_active"], json!(false));
    assert_eq!(flagged[0]["flag_reason"], json!("spam"));
    wait_for_admin_list(
        &format!("q={tok}&state=active"),
        &slugs_of(&[&by_url, &by_slug, &bobs]),
    );
    // The waits above prove D1 holds every link of `tok` with its current state (the flag
    // included), so an empty answer now is the filters excluding them, not a lagging index.
    assert_admin_list_empty(&format!("q={tok}&state=disabled"));

    // A filter that matches nothing is an empty list, not an error.
    assert_admin_list_empty(&format!("q={tok}&owner=u_{}", random_alnum(12)));
}

#[test]
fn admin_link_list_text_filter_treats_percent_and_underscore_literally() {
    let user = app().new_user();
    let tok = random_alnum(10).to_lowercase();
    let percent = create(&user, "https://example.com/p", Some(&format!("{tok}%off")));
    let percent_decoy = create(&user, "https://example.com/p2", Some(&format!("{tok}xoff")));
    let underscore = create(&user, "https://example.com/u", Some(&format!("{tok}_z")));
    let underscore_decoy = create(&user, "https://example.com/u2", Some(&format!("{tok}yz")));
    // All four are indexed (so a wildcard would find the decoys).
    wait_for_admin_list(
        &format!("q={tok}"),
        &slugs_of(&[&percent, &percent_decoy, &underscore, &underscore_decoy]),
    );

    wait_for_admin_list(
        &format!("q={}", url_encode(&format!("{tok}%off"))),
        &slugs_of(&[&percent]),
    );
    wait_for_admin_list(
        &format!("q={}", url_encode(&format!("{tok}_z"))),
        &slugs_of(&[&underscore]),
    );
}

#[test]
fn admin_link_list_rejects_bad_state_limit_and_cursor() {
    for state in ["archived", "ACTIVE?", "flagged,active"] {
        app()
            .get(
                &format!("/api/admin/links?state={}", url_encode(state)),
                admin(),
            )
            .assert_error(400, "invalid_state");
    }
    for limit in ["0", "101", "-1", "x"] {
        app()
            .get(&format!("/api/admin/links?limit={limit}"), admin())
            .assert_error(400, "invalid_limit");
    }
    for cursor in ["zz", "abc", "not-a-cursor"] {
        app()
            .get(&format!("/api/admin/links?cursor={cursor}"), admin())
            .assert_error(400, "invalid_cursor");
    }
}

#[test]
fn admin_link_list_pages_over_more_than_one_page() {
    let user = app().new_user();
    let links: Vec<Value> = (0..5)
        .map(|i| create(&user, &format!("https://example.com/page{i}"), None))
        .collect();
    let filter = format!("owner={}", user.id);
    let want: BTreeSet<String> = links.iter().map(slug_of).collect();
    wait_for_admin_list(&filter, &want);

    let (paged, sizes) = admin_links_all(&filter, 2);
    assert_eq!(sizes, vec![2, 2, 1], "page sizes for 5 links, limit 2");
    let paged_slugs: Vec<String> = paged.iter().map(slug_of).collect();
    let mut expected: Vec<&Value> = links.iter().collect();
    expected.sort_by(|a, b| {
        let key = |l: &Value| (l["created_at"].to_string(), slug_of(l));
        key(b).cmp(&key(a))
    });
    let expected: Vec<String> = expected.iter().map(|l| slug_of(l)).collect();
    assert_eq!(
        paged_slugs, expected,
        "newest first across pages, no repeats"
    );
}

// ---- flag and unflag -----------------------------------------------------------------------------

#[test]
fn flagged_link_answers_410_page_at_once_and_unflag_restores_302() {
    let user = app().new_user();
    let link = create(&user, "https://example.com/flag-me", Some("to flag"));
    let slug = slug_of(&link);
    assert_redirects(&slug, "https://example.com/flag-me");

    let resp = flag(&slug, "phishing");
    resp.assert_status(200);
    let flagged = resp.json();
    assert_eq!(flagged["is_active"], json!(false));
    assert_eq!(flagged["flag_reason"], json!("phishing"));
    assert!(
        flagged["version"].as_u64() > link["version"].as_u64(),
        "version must grow: {flagged}"
    );
    for field in ["slug", "url", "short_url", "title", "owner", "created_at"] {
        assert_eq!(flagged[field], link[field], "{field} changed by a flag");
    }
    assert_eq!(get_link(&user, &slug), flagged, "the owner sees the flag");

    let page = app().get_no_redirect(&format!("/{slug}"));
    page.assert_status(410);
    assert!(
        page.content_type()
            .is_some_and(|c| c.starts_with("text/html")),
        "content type: {:?}",
        page.content_type()
    );
    assert!(page.location().is_none(), "a 410 must not redirect");
    assert!(
        page.body.contains("<title>Link unavailable</title>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("flagged"), "{}", page.body);
    assert!(page.body.contains("phishing"), "{}", page.body);
    assert!(
        !page.body.contains("example.com/flag-me"),
        "the flagged destination must not be shown: {}",
        page.body
    );
    app().head(&format!("/{slug}")).assert_status(410);

    let resp = unflag(&slug);
    resp.assert_status(200);
    let restored = resp.json();
    assert_eq!(restored["is_active"], json!(true));
    assert_eq!(restored["flag_reason"], Value::Null);
    assert!(restored["version"].as_u64() > flagged["version"].as_u64());
    assert_redirects(&slug, "https://example.com/flag-me");
    assert_eq!(get_link(&user, &slug), restored);
}

#[test]
fn every_flag_reason_is_accepted_and_shown_to_visitors() {
    let user = app().new_user();
    let link = create(&user, "https://example.com/reasons", None);
    let slug = slug_of(&link);
    for reason in REASONS {
        let resp = flag(&slug, reason);
        resp.assert_status(200);
        assert_eq!(resp.json()["flag_reason"], json!(reason));
        let page = app().get_no_redirect(&format!("/{slug}"));
        page.assert_status(410);
        assert!(
            page.body.contains(reason),
            "page for {reason}: {}",
            page.body
        );
    }
}

#[test]
fn flag_with_bad_reason_is_400_and_link_keeps_redirecting() {
    let user = app().new_user();
    let link = create(&user, "https://example.com/keep", None);
    let slug = slug_of(&link);
    for reason in ["", "Phishing", "spam!", "internal note: bad", "SPAM"] {
        flag(&slug, reason).assert_error(400, "invalid_reason");
    }
    for body in [
        "{}",
        r#"{"reason":5}"#,
        r#"{"reason":"spam","note":"x"}"#,
        "[]",
        "",
    ] {
        app()
            .post(&format!("/api/admin/links/{slug}/flag"), admin(), body)
            .assert_error(400, "invalid_json");
    }
    assert_eq!(
        get_link(&user, &slug),
        link,
        "a refused flag wrote something"
    );
    assert_redirects(&slug, "https://example.com/keep");
}

#[test]
fn flag_or_unflag_of_unknown_slug_is_404() {
    let slug = random_slug();
    flag(&slug, "spam").assert_error(404, "not_found");
    unflag(&slug).assert_error(404, "not_found");
    app()
        .get_no_redirect(&format!("/{slug}"))
        .assert_status(404);
}

// ---- blocklist -----------------------------------------------------------------------------------

#[test]
fn blocklist_adds_normalised_hosts_lists_and_removes_them() {
    let host = random_host();
    let other = random_host();

    let added = block(&format!("{}.", host.to_uppercase()));
    assert_eq!(added, json!({ "host": host }));
    assert_eq!(block(&other), json!({ "host": other }));
    let hosts = blocklist();
    assert!(hosts.contains(&host) && hosts.contains(&other), "{hosts:?}");

    unblock(&host);
    let hosts = blocklist();
    assert!(
        !hosts.contains(&host),
        "removed host still listed: {hosts:?}"
    );
    assert!(hosts.contains(&other), "the other host went too: {hosts:?}");
    unblock(&other);
    assert!(!blocklist().contains(&other));
}

#[test]
fn a_blocked_address_is_blocked_however_a_url_writes_it() {
    let user = app().new_user();
    let refused = |url: &str| {
        app()
            .create_link(&user, &json!({ "url": url, "slug": random_slug() }))
            .assert_error(400, "blocked_destination");
    };
    // An IPv4 address (TEST-NET-3, a random last octet): IPv6 literals that reach it too.
    // Never 0, so that `::{n:x}:1` below stays one spelling.
    let n: u8 = random_alnum(4)
        .bytes()
        .fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b))
        | 1;
    let v4 = format!("203.0.113.{n}");
    assert_eq!(block(&v4), json!({ "host": v4 }));
    for url in [
        format!("http://{v4}/x"),
        format!("http://[::ffff:{v4}]/x"),
        format!("http://[0:0:0:0:0:FFFF:{v4}]:8080/x"),
        format!("http://[::ffff:cb00:71{n:02x}]/x"),
        format!("http://[64:ff9b::{v4}]/x"),
        format!("http://{}/x", 0xCB00_7100u32 + u32::from(n)),
    ] {
        refused(&url);
    }
    unblock(&v4);

    // An IPv6 address, entered bare: listed in brackets, refused in any spelling, removed by
    // its percent-encoded form as the dashboard sends it.
    let v6 = format!("2001:db8::{n:x}:1");
    let listed = format!("[{v6}]");
    assert_eq!(block(&v6.to_uppercase()), json!({ "host": listed }));
    assert!(blocklist().contains(&listed));
    refused(&format!("http://[2001:0DB8:0:0:0:0:{n:x}:1]/x"));
    let other = create(&user, &format!("http://[2001:db8::{n:x}:2]/x"), None);
    assert_eq!(other["url"], json!(format!("http://[2001:db8::{n:x}:2]/x")));
    unblock(&url_encode(&listed));
    assert!(!blocklist().contains(&listed));
    create(&user, &format!("http://[{v6}]/x"), None);

    // An IPv4-mapped address entered for the list is its IPv4 address.
    assert_eq!(block(&format!("[::ffff:{v4}]")), json!({ "host": v4 }));
    refused(&format!("http://{v4}/y"));
    unblock(&v4);
}

#[test]
fn blocklist_with_invalid_host_is_400_and_adds_nothing() {
    let before: HashSet<String> = blocklist().into_iter().collect();
    let tok = random_alnum(8).to_lowercase();
    let bad = [
        format!("http://{tok}.com"),
        format!("{tok}.com/p"),
        format!("a {tok}.com"),
        format!("{tok}.com:80"),
        format!("u@{tok}.com"),
        String::new(),
    ];
    for host in &bad {
        app()
            .post(
                "/api/admin/blocklist",
                admin(),
                &json!({ "host": host }).to_string(),
            )
            .assert_error(400, "invalid_host");
    }
    for body in ["{}", r#"{"host":5}"#, r#"{"host":"a.example","x":1}"#] {
        app()
            .post("/api/admin/blocklist", admin(), body)
            .assert_error(400, "invalid_json");
    }
    let added: Vec<String> = blocklist()
        .into_iter()
        .filter(|h| !before.contains(h) && h.contains(&tok))
        .collect();
    assert!(added.is_empty(), "invalid hosts were added: {added:?}");
}

#[test]
fn unicode_hosts_are_blocked_linked_and_unblocked_in_their_ascii_form() {
    // The Worker parses URLs with the runtime's own `URL`, which maps Unicode hosts
    // (src/web_url.rs); natively the unit tests cannot. `bücher` is `xn--bcher-kva` in punycode.
    let tok = random_alnum(8).to_lowercase();
    let ascii = format!("{tok}.xn--bcher-kva.example");
    assert_eq!(
        block(&format!("{tok}.BÜCHER.example.")),
        json!({ "host": ascii })
    );
    assert!(blocklist().contains(&ascii));

    let user = app().new_user();
    for url in [
        format!("https://{tok}.bücher.example/x"),
        format!("https://sub.{tok}.b%C3%BCcher.example/x"),
        format!("https://{ascii}/x"),
    ] {
        app()
            .create_link(&user, &json!({ "url": url, "slug": random_slug() }))
            .assert_error(400, "blocked_destination");
    }

    // Removal by the percent-encoded Unicode name in the path.
    unblock(&format!("{tok}.b%C3%BCcher.example"));
    assert!(!blocklist().contains(&ascii));

    let link = create(
        &user,
        &format!("https://{tok}.bücher.example/straße?q=ä#teil"),
        None,
    );
    let stored = format!("https://{ascii}/stra%C3%9Fe?q=%C3%A4#teil");
    assert_eq!(link["url"], json!(stored), "{link}");
    let slug = link["slug"].as_str().expect("slug");
    let resp = app().get_no_redirect(&format!("/{slug}"));
    resp.assert_status(302);
    assert_eq!(resp.location(), Some(stored.as_str()));

    // A host that is not a valid name even in Unicode is still refused.
    app()
        .create_link(
            &user,
            &json!({ "url": "https://exa mple.bücher/", "slug": random_slug() }),
        )
        .assert_error(400, "invalid_url");
}

#[test]
fn creating_a_link_to_a_blocked_host_or_its_subdomain_is_400_and_writes_nothing() {
    let user = app().new_user();
    let parent = random_host();
    let blocked = format!("bad.{parent}");
    block(&blocked);

    let refused: Vec<(String, String)> = [
        format!("https://{blocked}/x"),
        format!("https://sub.{blocked}/x"),
        format!("https://a.b.{blocked}:8443/x?y=1"),
        format!("https://{}/x", blocked.to_uppercase()),
        format!("http://{blocked}"),
    ]
    .into_iter()
    .map(|url| (url, random_slug()))
    .collect();
    for (url, slug) in &refused {
        app()
            .create_link(&user, &json!({ "url": url, "slug": slug }))
            .assert_error(400, "blocked_destination");
        app().assert_no_link(&user, slug);
    }

    // A parent or a sibling of the blocked host is not blocked.
    create(&user, &format!("https://{parent}/ok"), None);
    create(&user, &format!("https://good.{parent}/ok"), None);
    create(&user, &format!("https://notbad.{parent}/ok"), None);

    // After removal the same creates (same slugs: nothing was claimed) succeed.
    unblock(&blocked);
    for (url, slug) in &refused {
        app().create_link_ok(&user, &json!({ "url": url, "slug": slug }));
    }
}

#[test]
fn updating_a_link_to_a_blocked_host_is_400_and_leaves_it_unchanged() {
    let user = app().new_user();
    let host = random_host();
    let link = create(&user, "https://example.com/fine", Some("fine"));
    let slug = slug_of(&link);
    block(&host);

    for url in [format!("https://{host}/x"), format!("https://www.{host}/x")] {
        app()
            .patch(
                &format!("/api/links/{slug}"),
                Some(&user.api_key),
                &json!({ "url": url, "title": "changed" }).to_string(),
            )
            .assert_error(400, "blocked_destination");
    }
    assert_eq!(
        get_link(&user, &slug),
        link,
        "a refused update wrote something"
    );
    assert_redirects(&slug, "https://example.com/fine");

    unblock(&host);
    let resp = app().patch(
        &format!("/api/links/{slug}"),
        Some(&user.api_key),
        &json!({ "url": format!("https://{host}/x") }).to_string(),
    );
    resp.assert_status(200);
    assert_redirects(&slug, &format!("https://{host}/x"));
}

#[test]
fn a_subdomain_101_labels_deep_of_a_blocked_host_is_400_on_create_and_on_update() {
    let user = app().new_user();
    let blocked = format!("bad.{}", random_host());
    block(&blocked);
    // 101 labels above the blocked host: past the first 100 candidate parents, which were
    // all that was checked.
    let deep = format!("{}{blocked}", "a.".repeat(101));
    assert!(deep.len() <= 253, "a valid DNS name: {}", deep.len());
    let url = format!("https://{deep}/x");

    let slug = random_slug();
    app()
        .create_link(&user, &json!({ "url": url, "slug": slug }))
        .assert_error(400, "blocked_destination");
    app().assert_no_link(&user, &slug);

    let link = create(&user, "https://example.com/deep", Some("deep"));
    let slug = slug_of(&link);
    app()
        .patch(
            &format!("/api/links/{slug}"),
            Some(&user.api_key),
            &json!({ "url": url }).to_string(),
        )
        .assert_error(400, "blocked_destination");
    assert_eq!(
        get_link(&user, &slug),
        link,
        "a refused update wrote something"
    );
    assert_redirects(&slug, "https://example.com/deep");

    // Once unblocked, the same deep host is an ordinary destination.
    unblock(&blocked);
    app().create_link_ok(&user, &json!({ "url": url, "slug": random_slug() }));
}

#[test]
fn a_host_longer_than_dns_allows_is_400_invalid_url() {
    let user = app().new_user();
    // 254 characters: the URL Standard accepts it; DNS (253) cannot carry it.
    let host = format!("b{}{}", "a.".repeat(116), random_host());
    assert_eq!(host.len(), 254);
    let slug = random_slug();
    app()
        .create_link(
            &user,
            &json!({ "url": format!("https://{host}/"), "slug": slug }),
        )
        .assert_error(400, "invalid_url");
    app()
        .get(&format!("/api/links/{slug}"), Some(&user.api_key))
        .assert_error(404, "not_found");
    let link = create(&user, "https://example.com/long", None);
    let slug = slug_of(&link);
    app()
        .patch(
            &format!("/api/links/{slug}"),
            Some(&user.api_key),
            &json!({ "url": format!("https://{host}/") }).to_string(),
        )
        .assert_error(400, "invalid_url");
    assert_eq!(get_link(&user, &slug), link);
}

// ---- the admin role ------------------------------------------------------------------------------

/// Every admin route, with a body where it takes one. `{slug}`, `{host}` and `{id}` are filled in.
fn admin_routes(slug: &str, host: &str, id: &str) -> Vec<(&'static str, String, Option<String>)> {
    vec![
        ("GET", "/api/admin/users".into(), None),
        (
            "POST",
            "/api/admin/users".into(),
            Some(json!({ "email": common::random_email() }).to_string()),
        ),
        (
            "PATCH",
            format!("/api/admin/users/{id}"),
            Some(json!({ "role": "admin" }).to_string()),
        ),
        ("GET", "/api/admin/links".into(), None),
        (
            "POST",
            format!("/api/admin/links/{slug}/flag"),
            Some(json!({ "reason": "spam" }).to_string()),
        ),
        ("DELETE", format!("/api/admin/links/{slug}/flag"), None),
        ("GET", "/api/admin/blocklist".into(), None),
        (
            "POST",
            "/api/admin/blocklist".into(),
            Some(json!({ "host": host }).to_string()),
        ),
        ("DELETE", format!("/api/admin/blocklist/{host}"), None),
        ("GET", "/api/admin/consistency".into(), None),
        ("POST", "/api/admin/reconcile".into(), Some("{}".into())),
    ]
}

#[test]
fn user_key_gets_403_on_every_admin_route_and_changes_nothing() {
    let user = app().new_user();
    let link = create(&user, "https://example.com/mine", None);
    let slug = slug_of(&link);
    let host = random_host();

    for (method, path, body) in admin_routes(&slug, &host, &user.id) {
        app()
            .request(method, &path, Some(&user.api_key), body.as_deref())
            .assert_error(403, "forbidden");
    }

    // Nothing happened: the link still redirects, the host is not blocked, the user is no admin.
    assert_eq!(get_link(&user, &slug), link);
    assert_redirects(&slug, "https://example.com/mine");
    assert!(!blocklist().contains(&host));
    create(&user, &format!("https://{host}/"), None);
    app()
        .get("/api/admin/users", Some(&user.api_key))
        .assert_error(403, "forbidden");
}

#[test]
fn admin_routes_without_token_are_401() {
    let slug = random_slug();
    let host = random_host();
    for (method, path, body) in admin_routes(&slug, &host, "u_nobody") {
        app()
            .request(method, &path, None, body.as_deref())
            .assert_error(401, "unauthorized");
        let wrong = format!("el_{}", random_alnum(32));
        app()
            .request(method, &path, Some(&wrong), body.as_deref())
            .assert_error(401, "unauthorized");
    }
}
