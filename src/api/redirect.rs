//! `GET|HEAD /<slug>`: the hot path. One KV read (edge-cached), a decision that parses only the
//! `url` and `is_active` fields, and the response. Never D1; nothing awaited after the read.

use worker::{Env, Response};

use crate::link::{Redirect, Slug};
use crate::platform::kv;

/// Browsers may reuse a redirect briefly; a PATCH reaches them within this many seconds.
const REDIRECT_CACHE_CONTROL: &str = "private, max-age=90";

pub async fn serve(env: &Env, raw_slug: &str) -> Response {
    if !Slug::is_valid(raw_slug) {
        return page(404);
    }
    let value = match kv(env) {
        Ok(kv) => kv.redirect_value(raw_slug).await,
        Err(e) => Err(e),
    };
    let value = match value {
        Ok(v) => v,
        Err(e) => {
            worker::console_error!("redirect {raw_slug}: {e}");
            return page(503);
        }
    };
    match Redirect::decide(value.as_deref()) {
        Redirect::To(url) => found(&url).unwrap_or_else(|| page(502)),
        Redirect::NotFound => page(404),
        Redirect::Unavailable => page(410),
    }
}

fn found(location: &str) -> Option<Response> {
    Response::builder()
        .with_status(302)
        .with_header("Location", location)
        .ok()?
        .with_header("Cache-Control", REDIRECT_CACHE_CONTROL)
        .ok()
        .map(|b| b.empty())
}

/// A small HTML page for people who follow a short link that goes nowhere.
fn page(status: u16) -> Response {
    let (title, text) = match status {
        404 => (
            "Link not found",
            "There is no link here. Check the address.",
        ),
        410 => (
            "Link unavailable",
            "This link has been disabled and no longer redirects.",
        ),
        _ => (
            "Temporarily unavailable",
            "This link cannot be followed right now. Please try again in a moment.",
        ),
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"robots\" content=\"noindex\"></head>\
         <body><h1>{title}</h1><p>{text}</p></body></html>"
    );
    let builder = Response::builder().with_status(status);
    match builder.with_header("Content-Type", "text/html; charset=utf-8") {
        Ok(b) => b.fixed(html.into_bytes()),
        Err(_) => Response::builder().with_status(status).empty(),
    }
}
