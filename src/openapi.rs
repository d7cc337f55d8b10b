//! The OpenAPI document (`assets/api/openapi.json`, served as a static asset at
//! `/api/openapi.json`, so none of it is in the wasm) checked against the route tables: every
//! route [`Route::parse`] and [`ShlinkRoute::parse`] answer is documented, and every documented
//! path and method reaches the route its template names. Tests only.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::route::{Method, Route};
use crate::shlink::route::ShlinkRoute;

const DOCUMENT: &str = include_str!("../assets/api/openapi.json");

/// Every request the Worker's own table routes, as `(method, OpenAPI path template)`.
/// [`index`] makes a new [`Route`] variant a compile error here until it is listed.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/"),
    ("head", "/"),
    ("get", "/healthz"),
    ("head", "/healthz"),
    ("get", "/{slug}"),
    ("head", "/{slug}"),
    // A password link's form (any other link answers it 405).
    ("post", "/{slug}"),
    ("post", "/api/session"),
    ("get", "/api/session"),
    ("delete", "/api/session"),
    ("post", "/api/admin/users"),
    ("get", "/api/admin/users"),
    ("patch", "/api/admin/users/{id}"),
    ("get", "/api/admin/users/{id}/keys"),
    ("post", "/api/admin/users/{id}/keys"),
    ("delete", "/api/admin/users/{id}/keys/{key}"),
    ("get", "/api/admin/links"),
    ("post", "/api/admin/links/{slug}/flag"),
    ("delete", "/api/admin/links/{slug}/flag"),
    ("get", "/api/admin/blocklist"),
    ("post", "/api/admin/blocklist"),
    ("delete", "/api/admin/blocklist/{host}"),
    ("get", "/api/admin/consistency"),
    ("post", "/api/admin/reconcile"),
    ("post", "/api/admin/clicks/replay"),
    ("post", "/api/keys"),
    ("get", "/api/keys"),
    ("delete", "/api/keys/{id}"),
    ("post", "/api/links"),
    ("get", "/api/links"),
    ("post", "/api/links/bulk"),
    ("get", "/api/links/export"),
    ("get", "/api/links/{slug}"),
    ("patch", "/api/links/{slug}"),
    ("delete", "/api/links/{slug}"),
    ("get", "/api/links/{slug}/history"),
    ("post", "/api/links/{slug}/restore"),
    ("get", "/api/deleted-links"),
    ("get", "/api/links/{slug}/stats"),
    ("get", "/api/links/{slug}/qr"),
    ("get", "/api/stats"),
    ("get", "/api/stats/top"),
    ("get", "/api/tags"),
    ("delete", "/api/tags"),
    ("post", "/api/tags/rename"),
    ("post", "/api/imports"),
    ("get", "/api/imports/{id}"),
    ("get", "/api/imports/{id}/report"),
];

/// The Shlink table's routes (its CORS preflight, any `OPTIONS`, is not an operation).
const SHLINK_ROUTES: &[(&str, &str)] = &[
    ("get", "/rest/health"),
    ("get", "/rest/v3/health"),
    ("get", "/rest/v3/short-urls"),
    ("post", "/rest/v3/short-urls"),
    ("get", "/rest/v3/short-urls/shorten"),
    ("get", "/rest/v3/short-urls/{shortCode}"),
    ("patch", "/rest/v3/short-urls/{shortCode}"),
    ("delete", "/rest/v3/short-urls/{shortCode}"),
    ("get", "/rest/v3/short-urls/{shortCode}/visits"),
    ("get", "/rest/v3/visits"),
    ("get", "/rest/v3/tags"),
    ("put", "/rest/v3/tags"),
    ("delete", "/rest/v3/tags"),
    ("get", "/rest/v3/tags/stats"),
    ("get", "/rest/v3/domains"),
    ("get", "/rest/v3/mercure-info"),
];

/// A number per [`Route`] variant; `None` for the answers that are no route. Exhaustive on
/// purpose: a new variant does not compile until it has a number (and a line in [`ROUTES`]).
fn index(route: &Route) -> Option<usize> {
    Some(match route {
        Route::Home => 0,
        Route::Health => 1,
        Route::CreateSession => 2,
        Route::GetSession => 3,
        Route::DeleteSession => 4,
        Route::CreateUser => 5,
        Route::ListUsers => 6,
        Route::UpdateUser(_) => 7,
        Route::AdminLinks => 8,
        Route::FlagLink(_) => 9,
        Route::UnflagLink(_) => 10,
        Route::Blocklist => 11,
        Route::BlockHost => 12,
        Route::UnblockHost(_) => 13,
        Route::CreateKey => 14,
        Route::ListKeys => 15,
        Route::RevokeKey(_) => 16,
        Route::Consistency => 17,
        Route::Reconcile => 18,
        Route::ReplayClicks => 19,
        Route::CreateLink => 20,
        Route::BulkCreateLinks => 21,
        Route::ListLinks => 22,
        Route::ExportLinks => 23,
        Route::GetLink(_) => 24,
        Route::UpdateLink(_) => 25,
        Route::DeleteLink(_) => 26,
        Route::LinkHistory(_) => 27,
        Route::LinkStats(_) => 28,
        Route::LinkQr(_) => 29,
        Route::TopLinks => 30,
        Route::Tags => 31,
        Route::CreateImport => 32,
        Route::GetImport(_) => 33,
        Route::ImportReport(_) => 34,
        Route::Shlink => 35,
        Route::Redirect(_) => 36,
        Route::UserKeys(_) => 37,
        Route::CreateUserKey(_) => 38,
        Route::RevokeUserKey(_, _) => 39,
        Route::DeleteTags => 40,
        Route::RenameTag => 41,
        Route::AccountStats => 42,
        Route::RestoreLink(_) => 43,
        Route::DeletedLinks => 44,
        Route::NotFound | Route::MethodNotAllowed => return None,
    })
}
const VARIANTS: usize = 45;

/// A concrete path for a template: every `{param}` becomes a plausible value.
fn fill(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            "{slug}" | "{shortCode}" => "abc",
            "{id}" | "{key}" => "k_1",
            "{host}" => "evil.example",
            other => other,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn method(name: &str) -> Method {
    Method::from_name(&name.to_ascii_uppercase())
}

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("assets/api/openapi.json is JSON")
}

/// `(method, path)` operations, e.g. `("get", "/api/links/{slug}")`.
type Operations = BTreeSet<(String, String)>;

/// Every operation of the document, and apart those marked as static assets.
fn operations(doc: &Value) -> (Operations, Operations) {
    let mut ops = BTreeSet::new();
    let mut assets = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (verb, op) in item.as_object().expect("a path item") {
            let key = (verb.clone(), path.clone());
            if op["x-edgelink-static-asset"] == Value::Bool(true) {
                assets.insert(key);
            } else {
                ops.insert(key);
            }
        }
    }
    (ops, assets)
}

#[test]
fn every_route_is_listed_once() {
    let mut seen = BTreeSet::new();
    for (verb, template) in ROUTES {
        let path = fill(template);
        let route = Route::parse(method(verb), &path);
        let i = index(&route).unwrap_or_else(|| panic!("{verb} {path} is not routed: {route:?}"));
        assert_ne!(route, Route::Shlink, "{verb} {path}");
        seen.insert(i);
    }
    for (verb, template) in SHLINK_ROUTES {
        let path = fill(template);
        assert_eq!(Route::parse(method(verb), &path), Route::Shlink, "{path}");
        let shlink = ShlinkRoute::parse(&verb.to_ascii_uppercase(), &path);
        assert_ne!(shlink, ShlinkRoute::NotFound, "{verb} {path}");
        assert_ne!(shlink, ShlinkRoute::Preflight, "{verb} {path}");
        seen.insert(35);
    }
    assert_eq!(
        seen.len(),
        VARIANTS,
        "a Route variant has no line in ROUTES"
    );
}

#[test]
fn the_document_describes_exactly_the_routes() {
    let doc = document();
    let (ops, assets) = operations(&doc);
    let routed: Operations = ROUTES
        .iter()
        .chain(SHLINK_ROUTES)
        .map(|(v, p)| (v.to_string(), p.to_string()))
        .collect();
    let undocumented: Vec<_> = routed.difference(&ops).collect();
    let unrouted: Vec<_> = ops.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routed, not documented: {undocumented:?}"
    );
    assert!(unrouted.is_empty(), "documented, not routed: {unrouted:?}");
    // The document itself is the static assets', never the Worker's.
    for (verb, path) in &assets {
        assert_eq!(Route::parse(method(verb), path), Route::NotFound, "{path}");
    }
    assert!(assets.contains(&("get".into(), "/api/openapi.json".into())));
}

#[test]
fn every_operation_names_its_parameters_and_responses() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (verb, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().expect("operationId");
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{verb} {path}: no responses"
            );
            let declared: BTreeSet<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            let in_path: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .map(str::to_owned)
                .collect();
            assert_eq!(declared, in_path, "{verb} {path}: path parameters");
        }
    }
}
