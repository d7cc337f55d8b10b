//! Smart links end to end (issue 26, part A) against the real Worker in `wrangler dev`:
//!
//! - `targets`, `variants` and `preview` on create and PATCH: every bad value is a 400 with the
//!   option's code (a blocked destination `blocked_destination`) and nothing is written; good
//!   values are in the API view and the history, and `null` removes them.
//! - Targets: iOS, Android and desktop user agents each get their target, a country sent the
//!   way `wrangler dev` lets a test set `request.cf` (the `MF-CF-Blob` header, DESIGN.md "Local
//!   runtime facts") beats the device, a bot gets the default `url`, the visitor's query is
//!   forwarded to whichever destination.
//! - Variants: 2,000 visitors (by IP) split by weight within a bound that cannot flake, the same
//!   visitor keeps its variant, and the stats API's `group=variant` counts exactly the
//!   redirects each variant answered.
//! - Preview: a social crawler's user agent gets the 200 page of Open Graph tags (escaped, with
//!   the strict CSP), a browser's the redirect; crawler visits count as bots.

mod common;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use common::{app, group_list, poll_for, random_slug, User};
use serde_json::{json, Value};

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
const DESKTOP: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const TWITTERBOT: &str = "Twitterbot/1.0";
const FACEBOOK: &str = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)";

/// The queue consumer batches for up to 5 s, and retries a batch that fails.
const ROLLUP_DEADLINE: Duration = Duration::from_secs(90);

/// A GET of `/<slug><query>` as a visitor with these headers; (status, Location, response).
fn visit(slug: &str, query: &str, headers: &[(&str, &str)]) -> common::Resp {
    app().request_with_headers("GET", &format!("/{slug}{query}"), headers, None)
}

fn location_for(slug: &str, query: &str, headers: &[(&str, &str)]) -> String {
    let resp = visit(slug, query, headers);
    resp.assert_status(302);
    resp.location().expect("Location").to_owned()
}

fn country(code: &str) -> String {
    json!({ "country": code }).to_string()
}

#[track_caller]
fn stored_link(user: &User, slug: &str) -> Value {
    let resp = app().get(&format!("/api/links/{slug}"), Some(&user.api_key));
    resp.assert_status(200);
    resp.json()
}

#[test]
fn every_bad_smart_option_is_refused_and_nothing_is_written() {
    let user = app().new_user();
    let blocked = format!("blocked-{}.example", random_slug().to_lowercase());
    app()
        .post(
            "/api/admin/blocklist",
            Some(app().admin_token()),
            &json!({ "host": blocked }).to_string(),
        )
        .assert_status(201);
    let ok = json!({"url": "https://example.com/a", "weight": 1});
    let many_countries: serde_json::Map<String, Value> = [
        "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR",
        "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE",
        "SI", "SK", "US", "CA", "MX", "BR", "AR", "CL", "CO", "PE", "JP", "KR", "CN", "IN", "AU",
        "NZ", "ZA", "EG", "NG", "KE", "GH",
    ]
    .iter()
    .map(|c| (c.to_string(), json!("https://example.com/c")))
    .collect();
    assert_eq!(many_countries.len(), 51);
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"targets": "https://example.com/"}),
            "invalid_targets",
        ),
        (json!({"targets": {}}), "invalid_targets"),
        (json!({"targets": {"ios": 7}}), "invalid_targets"),
        (
            json!({"targets": {"ios": "javascript:alert(1)"}}),
            "invalid_targets",
        ),
        (
            json!({"targets": {"watch": "https://example.com/"}}),
            "invalid_targets",
        ),
        (
            json!({"targets": {"countries": {"ZZ": "https://example.com/"}}}),
            "invalid_targets",
        ),
        (
            json!({"targets": {"countries": {"DEU": "https://example.com/"}}}),
            "invalid_targets",
        ),
        (
            json!({"targets": {"countries": many_countries}}),
            "invalid_targets",
        ),
        (
            json!({"targets": {"android": format!("https://www.{blocked}/x")}}),
            "blocked_destination",
        ),
        (
            json!({"targets": {"countries": {"FR": format!("https://{blocked}/")}}}),
            "blocked_destination",
        ),
        (json!({"variants": ok.clone()}), "invalid_variants"),
        (json!({"variants": [ok.clone()]}), "invalid_variants"),
        (
            json!({"variants": [ok.clone(), ok.clone(), ok.clone(), ok.clone(), ok.clone(), ok.clone()]}),
            "invalid_variants",
        ),
        (
            json!({"variants": [ok.clone(), {"url": "https://example.com/b", "weight": 0}]}),
            "invalid_variants",
        ),
        (
            json!({"variants": [ok.clone(), {"url": "https://example.com/b", "weight": 101}]}),
            "invalid_variants",
        ),
        (
            json!({"variants": [ok.clone(), {"url": "https://example.com/b", "weight": 2.5}]}),
            "invalid_variants",
        ),
        (
            json!({"variants": [ok.clone(), {"url": "ftp://example.com/b", "weight": 5}]}),
            "invalid_variants",
        ),
        (
            json!({"variants": [ok.clone(), {"url": "https://example.com/b"}]}),
            "invalid_variants",
        ),
        (
            json!({"variants": [ok.clone(), {"url": format!("https://{blocked}/"), "weight": 5}]}),
            "blocked_destination",
        ),
        (json!({"preview": "title"}), "invalid_preview"),
        (json!({"preview": {}}), "invalid_preview"),
        (json!({"preview": {"title": ""}}), "invalid_preview"),
        (
            json!({"preview": {"title": "x".repeat(201)}}),
            "invalid_preview",
        ),
        (
            json!({"preview": {"description": "a\u{0}b"}}),
            "invalid_preview",
        ),
        (
            json!({"preview": {"image": "http://example.com/i.png"}}),
            "invalid_preview",
        ),
        (
            json!({"preview": {"image": "data:image/png;base64,AAAA"}}),
            "invalid_preview",
        ),
        (json!({"preview": {"site_name": "x"}}), "invalid_preview"),
    ];
    // A link to PATCH: it must come out of every refused PATCH as it went in.
    let slug = random_slug();
    let before = app().create_link_ok(
        &user,
        &json!({"url": "https://example.com/keep", "slug": slug}),
    );
    for (fields, code) in &cases {
        let new_slug = random_slug();
        let mut body = json!({"url": "https://example.com/new", "slug": new_slug});
        for (k, v) in fields.as_object().unwrap() {
            body[k] = v.clone();
        }
        app().create_link(&user, &body).assert_error(400, code);
        app().assert_no_link(&user, &new_slug);
        app()
            .patch(
                &format!("/api/links/{slug}"),
                Some(&user.api_key),
                &fields.to_string(),
            )
            .assert_error(400, code);
    }
    let after = stored_link(&user, &slug);
    assert_eq!(after["version"], before["version"], "{after}");
    assert!(after.get("targets").is_none() && after.get("variants").is_none());
    assert_eq!(
        location_for(&slug, "", &[("User-Agent", IPHONE)]),
        "https://example.com/keep"
    );
}

#[test]
fn targets_route_by_device_then_country_and_forward_the_query() {
    let user = app().new_user();
    let slug = random_slug();
    let created = app().create_link_ok(
        &user,
        &json!({
            "url": "https://example.com/default",
            "slug": slug,
            "targets": {
                "ios": "https://apps.apple.com/app/x",
                "android": "https://play.google.com/store/apps/x",
                "desktop": "https://example.com/desktop",
                "countries": {"de": "https://example.de/", "FR": "https://example.fr/"},
            },
        }),
    );
    assert_eq!(created["targets"]["countries"]["DE"], "https://example.de/");
    let ua = |ua| vec![("User-Agent", ua)];
    assert_eq!(
        location_for(&slug, "", &ua(IPHONE)),
        "https://apps.apple.com/app/x"
    );
    assert_eq!(
        location_for(&slug, "", &ua(ANDROID)),
        "https://play.google.com/store/apps/x"
    );
    assert_eq!(
        location_for(&slug, "", &ua(DESKTOP)),
        "https://example.com/desktop"
    );
    // A bot is no device: the default.
    assert_eq!(
        location_for(&slug, "", &ua("curl/8.4.0")),
        "https://example.com/default"
    );
    // The country beats the device.
    let de = country("DE");
    let fr = country("FR");
    let us = country("US");
    assert_eq!(
        location_for(&slug, "", &[("User-Agent", IPHONE), ("MF-CF-Blob", &de)]),
        "https://example.de/"
    );
    assert_eq!(
        location_for(&slug, "", &[("User-Agent", DESKTOP), ("MF-CF-Blob", &fr)]),
        "https://example.fr/"
    );
    assert_eq!(
        location_for(&slug, "", &[("User-Agent", ANDROID), ("MF-CF-Blob", &us)]),
        "https://play.google.com/store/apps/x"
    );
    // The visitor's query goes on to whichever destination.
    assert_eq!(
        location_for(
            &slug,
            "?utm_source=x",
            &[("User-Agent", IPHONE), ("MF-CF-Blob", &de)]
        ),
        "https://example.de/?utm_source=x"
    );
    assert_eq!(
        location_for(&slug, "?utm_source=x", &ua(IPHONE)),
        "https://apps.apple.com/app/x?utm_source=x"
    );
    // A PATCH changes them (a versioned write, in the history); null removes them.
    let patched = app().patch_link_ok(
        &user,
        &slug,
        json!({"targets": {"countries": {"DE": "https://example.de/neu"}}}),
    );
    assert!(patched["targets"].get("ios").is_none(), "{patched}");
    assert_eq!(
        location_for(&slug, "", &[("User-Agent", IPHONE), ("MF-CF-Blob", &de)]),
        "https://example.de/neu"
    );
    assert_eq!(
        location_for(&slug, "", &ua(IPHONE)),
        "https://example.com/default"
    );
    let cleared = app().patch_link_ok(&user, &slug, json!({"targets": null}));
    assert!(cleared.get("targets").is_none(), "{cleared}");
    assert_eq!(
        location_for(&slug, "", &[("User-Agent", IPHONE), ("MF-CF-Blob", &de)]),
        "https://example.com/default"
    );
    let history = poll_for(common::BACKGROUND_DEADLINE, || {
        let (rows, _) = app().history_all(&user.api_key, &slug, 50);
        (rows.len() == 3).then_some(rows)
    })
    .expect("three versions in the history");
    assert_eq!(
        history[1]["link"]["targets"]["countries"]["DE"], "https://example.de/neu",
        "{history:?}"
    );
}

#[test]
fn variants_split_visitors_by_weight_keep_each_visitor_and_count_per_variant() {
    const VISITORS: usize = 2_000;
    const THREADS: usize = 8;
    let user = app().new_user();
    let slug = random_slug();
    app().create_link_ok(
        &user,
        &json!({
            "url": "https://example.com/control",
            "slug": slug,
            "variants": [
                {"url": "https://example.com/a", "weight": 70},
                {"url": "https://example.com/b", "weight": 30},
            ],
        }),
    );
    let seen: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
    thread::scope(|s| {
        for t in 0..THREADS {
            let (seen, slug) = (&seen, &slug);
            s.spawn(move || {
                for i in (t..VISITORS).step_by(THREADS) {
                    // One visitor: one IP (and user agent).
                    let ip = format!("10.{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256);
                    let to = location_for(
                        slug,
                        "",
                        &[("User-Agent", DESKTOP), ("CF-Connecting-IP", &ip)],
                    );
                    *seen.lock().unwrap().entry(to).or_default() += 1;
                }
            });
        }
    });
    let mut seen = seen.into_inner().unwrap();
    let a = seen.get("https://example.com/a").copied().unwrap_or(0);
    let b = seen.get("https://example.com/b").copied().unwrap_or(0);
    assert_eq!(a + b, VISITORS, "only the variants, never `url`: {seen:?}");
    // Binomial(2000, 0.7): mean 1400, standard deviation 20.5. Six deviations either side
    // (a chance of about 2e-9 to fall outside) cannot flake and still catches a wrong split
    // (an even split is 1000, ignoring weights 1000 too).
    assert!(
        (1_277..=1_523).contains(&a),
        "variant a got {a} of {VISITORS}"
    );
    // The same visitor keeps its variant on return (the same day).
    for i in [0usize, 1, 2, 3, 77, 1_999] {
        let ip = format!("10.{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256);
        let headers = [("User-Agent", DESKTOP), ("CF-Connecting-IP", ip.as_str())];
        let first = location_for(&slug, "", &headers);
        for _ in 0..5 {
            assert_eq!(location_for(&slug, "", &headers), first, "visitor {ip}");
            *seen.entry(first.clone()).or_default() += 1;
        }
        *seen.entry(first).or_default() += 1;
    }
    // The stats count the clicks of each variant exactly, once the queue has drained.
    let want: Vec<(String, u64)> = [
        ("1", "https://example.com/a"),
        ("2", "https://example.com/b"),
    ]
    .iter()
    .map(|(n, url)| (n.to_string(), seen.get(*url).copied().unwrap_or(0) as u64))
    .collect();
    let total: u64 = want.iter().map(|(_, n)| n).sum();
    let stats = poll_for(ROLLUP_DEADLINE, || {
        let resp = app().get(
            &format!("/api/links/{slug}/stats?group=variant"),
            Some(&user.api_key),
        );
        resp.assert_status(200);
        let stats = resp.json();
        (stats["total"] == total).then_some(stats)
    })
    .expect("every click rolled up");
    let mut groups = group_list(&stats);
    groups.sort();
    assert_eq!(groups, want, "{stats}");
}

#[test]
fn a_crawler_gets_the_preview_page_and_a_browser_the_redirect() {
    let user = app().new_user();
    let slug = random_slug();
    app().create_link_ok(
        &user,
        &json!({
            "url": "https://example.com/article?id=1&x=2",
            "slug": slug,
            "preview": {
                "title": "Tom & \"Jerry\" <script>alert(1)</script>",
                "description": "It's a preview",
                "image": "https://img.example/card.png",
            },
        }),
    );
    for crawler in [TWITTERBOT, FACEBOOK] {
        let page = visit(&slug, "", &[("User-Agent", crawler)]);
        page.assert_status(200);
        assert!(page.content_type().unwrap_or("").starts_with("text/html"));
        let csp = page.header("Content-Security-Policy").unwrap_or("");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        let body = &page.body;
        assert!(
            body.contains(r#"<meta property="og:title" content="Tom &amp; &quot;Jerry&quot; &lt;script&gt;alert(1)&lt;/script&gt;">"#),
            "{body}"
        );
        assert!(body.contains(r#"<meta property="og:description" content="It&#39;s a preview">"#));
        assert!(
            body.contains(r#"<meta property="og:image" content="https://img.example/card.png">"#)
        );
        assert!(body.contains(r#"<meta name="twitter:card" content="summary_large_image">"#));
        assert!(body.contains(
            r#"<meta http-equiv="refresh" content="0; url=https://example.com/article?id=1&amp;x=2">"#
        ));
        assert!(!body.contains("<script>"), "{body}");
    }
    // A browser is redirected.
    assert_eq!(
        location_for(&slug, "", &[("User-Agent", DESKTOP)]),
        "https://example.com/article?id=1&x=2"
    );
    // A link without a preview redirects crawlers too.
    let plain = app().new_link(&user);
    visit(&plain, "", &[("User-Agent", TWITTERBOT)]).assert_status(302);
    // The two crawler visits are bots': people only, one click; with bots, three.
    let totals = poll_for(ROLLUP_DEADLINE, || {
        let total = |q: &str| {
            let resp = app().get(&format!("/api/links/{slug}/stats?{q}"), Some(&user.api_key));
            resp.assert_status(200);
            resp.json()["total"].as_u64().unwrap_or(0)
        };
        let (people, all) = (
            total("group=device"),
            total("group=device&include_bots=true"),
        );
        (all == 3).then_some((people, all))
    })
    .expect("the three visits rolled up");
    assert_eq!(totals, (1, 3));
    // Removing the preview: crawlers are redirected.
    app().patch_link_ok(&user, &slug, json!({"preview": null}));
    visit(&slug, "", &[("User-Agent", TWITTERBOT)]).assert_status(302);
}

#[test]
fn the_options_travel_through_export_and_import() {
    let user = app().new_user();
    let slug = random_slug();
    let options = json!({
        "targets": {"android": "https://play.google.com/x", "countries": {"DE": "https://example.de/"}},
        "variants": [{"url": "https://example.com/a", "weight": 2}, {"url": "https://example.com/b", "weight": 1}],
        "preview": {"title": "T, with \"quotes\""},
    });
    let mut body = options.clone();
    body["url"] = json!("https://example.com/x");
    body["slug"] = json!(slug);
    app().create_link_ok(&user, &body);
    for format in ["csv", "ndjson"] {
        let resp = app().get(
            &format!("/api/links/export?format={format}"),
            Some(&user.api_key),
        );
        resp.assert_status(200);
        if format == "csv" {
            let header = resp.body.lines().next().unwrap_or("");
            assert!(
                header.ends_with(",clicks,targets,variants,preview,password_hash"),
                "{header}"
            );
        } else {
            let line: Value = serde_json::from_str(resp.body.lines().next().unwrap()).unwrap();
            for key in ["targets", "variants", "preview"] {
                assert_eq!(line[key], options[key], "{line}");
            }
        }
        // Into another user's account, under a fresh slug: the same options come back.
        let other = app().new_user();
        let file = resp.body.replace(&slug, &format!("{slug}{format}"));
        let job = app().request_with_headers(
            "POST",
            &format!("/api/imports?format=edgelink-{format}"),
            &[
                ("Authorization", &format!("Bearer {}", other.api_key)),
                ("Content-Type", "text/plain"),
            ],
            Some(&file),
        );
        assert!(
            job.status == 201 || job.status == 202,
            "{} {}",
            job.status,
            job.body
        );
        let imported = poll_for(ROLLUP_DEADLINE, || {
            let resp = app().get(&format!("/api/links/{slug}{format}"), Some(&other.api_key));
            (resp.status == 200).then(|| resp.json())
        })
        .expect("the import wrote the link");
        for key in ["targets", "variants", "preview"] {
            assert_eq!(imported[key], options[key], "{format}: {imported}");
        }
    }
}
