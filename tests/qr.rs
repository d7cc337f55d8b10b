//! QR codes of links end to end (`GET /api/links/{slug}/qr`): who may get one, SVG and PNG,
//! the `ETag` and its 304, parameters out of bounds. Also `GET /` without `HOME_URL`, and that
//! the OpenAPI document is served from the static assets.
//!
//! tests/js/qr.test.mjs decodes the PNG back to the short URL.

mod common;

use std::path::Path;
use std::process::Command;

use common::{app, random_alnum};
use serde_json::Value;

/// The text an independent decoder (jsQR, tests/js/qr-decode.mjs) reads from the image.
fn decode(bytes: &[u8], ext: &str) -> String {
    let file = app()
        .persist_dir()
        .join(format!("qr-{}.{ext}", random_alnum(8)));
    std::fs::write(&file, bytes).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("node")
        .arg("tests/js/qr-decode.mjs")
        .arg(&file)
        .current_dir(root)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "decoding {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

fn qr_path(slug: &str, query: &str) -> String {
    format!("/api/links/{slug}/qr{query}")
}

#[test]
fn owner_and_admin_get_the_code_others_are_told_it_does_not_exist() {
    let owner = app().new_user();
    let other = app().new_user();
    let slug = app().new_link(&owner);

    let svg = app().get(&qr_path(&slug, ""), Some(&owner.api_key));
    svg.assert_status(200);
    assert_eq!(svg.content_type(), Some("image/svg+xml"));
    assert!(svg
        .header("cache-control")
        .is_some_and(|c| c.starts_with("private")));
    let body = &svg.body;
    assert!(
        body.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"256\" height=\"256\""),
        "{body}"
    );
    assert!(body.contains("<path d=\"M4 4h7v1h-7z"), "{body}");
    assert!(body.ends_with("</svg>"));
    assert_eq!(decode(body.as_bytes(), "svg"), app().short_url(&slug));

    let admin = app().get(&qr_path(&slug, ""), Some(app().admin_token()));
    admin.assert_status(200);
    assert_eq!(admin.body, svg.body);

    app()
        .get(&qr_path(&slug, ""), Some(&other.api_key))
        .assert_error(404, "not_found");
    app()
        .get(&qr_path("no-such-link-here", ""), Some(&owner.api_key))
        .assert_error(404, "not_found");
    app()
        .get(&qr_path(&slug, ""), None)
        .assert_error(401, "unauthorized");
}

#[test]
fn the_etag_answers_304_until_the_drawing_changes() {
    let owner = app().new_user();
    let slug = app().new_link(&owner);
    let first = app().get(&qr_path(&slug, "?size=300"), Some(&owner.api_key));
    first.assert_status(200);
    let tag = first.header("etag").expect("an ETag").to_owned();
    assert!(tag.starts_with("\"qr-"), "{tag}");

    let auth = format!("Bearer {}", owner.api_key);
    let cached = app().request_with_headers(
        "GET",
        &qr_path(&slug, "?size=300"),
        &[("Authorization", &auth), ("If-None-Match", &tag)],
        None,
    );
    cached.assert_status(304);
    assert_eq!(cached.body, "");
    assert_eq!(cached.header("etag"), Some(tag.as_str()));

    // Another drawing of the same link has another tag.
    let bigger = app().request_with_headers(
        "GET",
        &qr_path(&slug, "?size=400"),
        &[("Authorization", &auth), ("If-None-Match", &tag)],
        None,
    );
    bigger.assert_status(200);
    assert_ne!(bigger.header("etag"), Some(tag.as_str()));
}

#[test]
fn png_is_drawn_in_whole_modules() {
    let owner = app().new_user();
    let slug = app().new_link(&owner);
    let path = qr_path(&slug, "?format=png&size=200&margin=2&ecc=H");
    let auth = format!("Bearer {}", owner.api_key);
    // The body is binary: read it raw.
    let resp = ureq::get(&app().url(&path))
        .set("Authorization", &auth)
        .call()
        .expect("GET the PNG");
    assert_eq!(resp.content_type(), "image/png");
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!(width, height);
    assert!((100..=200).contains(&width), "{width}");
    assert_eq!(decode(&bytes, "png"), app().short_url(&slug));
}

#[test]
fn parameters_out_of_bounds_are_400() {
    let owner = app().new_user();
    let slug = app().new_link(&owner);
    for query in [
        "?format=gif",
        "?size=10",
        "?size=99999",
        "?size=abc",
        "?margin=17",
        "?margin=-1",
        "?ecc=Z",
    ] {
        app()
            .get(&qr_path(&slug, query), Some(&owner.api_key))
            .assert_error(400, "invalid_query");
    }
}

#[test]
fn the_front_page_redirects_to_the_dashboard() {
    let resp = app().get_no_redirect("/");
    resp.assert_status(302);
    assert_eq!(resp.location(), Some("/dashboard/"));
}

#[test]
fn the_openapi_document_is_a_static_asset() {
    let resp = app().get("/api/openapi.json", None);
    resp.assert_status(200);
    let doc: Value = resp.json();
    assert!(doc["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.1")));
    assert!(doc["paths"]["/api/session"].is_object());
}
