//! `GET|HEAD /<slug>`: the hot path. One KV read (edge-cached), a decision that parses only the
//! `url`, `is_active` and `flag_reason` fields, and the response. Never D1, never the slug's
//! Durable Object; nothing awaited after the read.

use worker::{Env, Response};

use crate::link::{Redirect, Slug, Unavailable};
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
        Redirect::Unavailable(why) => unavailable(&why),
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

/// 410 with the same "Link unavailable" page for every reason; only the reason's word differs.
fn unavailable(why: &Unavailable) -> Response {
    let text = match why {
        Unavailable::Disabled => "This link has been disabled by its owner.".to_owned(),
        Unavailable::Flagged(reason) => format!(
            "This link was flagged ({}) and disabled by the administrators.",
            html_escape(reason)
        ),
    };
    html(410, "Link unavailable", &text)
}

/// Minimal escaping for text placed in HTML; the reason comes from KV, so it is not trusted.
fn html_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// A small HTML page for people who follow a short link that goes nowhere.
fn page(status: u16) -> Response {
    match status {
        404 => html(
            404,
            "Link not found",
            "There is no link here. Check the address.",
        ),
        _ => html(
            status,
            "Temporarily unavailable",
            "This link cannot be followed right now. Please try again in a moment.",
        ),
    }
}

fn html(status: u16, title: &str, text: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"robots\" content=\"noindex\"></head>\
         <body><h1>{title}</h1><p>{text}</p></body></html>"
    );
    let builder = Response::builder().with_status(status);
    match builder.with_header("Content-Type", "text/html; charset=utf-8") {
        Ok(b) => b.fixed(body.into_bytes()),
        Err(_) => Response::builder().with_status(status).empty(),
    }
}
