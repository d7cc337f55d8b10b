//! `GET|HEAD /<slug>`: the hot path. One KV read (edge-cached), a decision that parses only the
//! fields a redirect needs (`url`, `is_active`, `flag_reason`, `expires_at`, `redirect_type`,
//! `forward_query`, `owner`, `created_at`, `max_clicks`), and the response. Never D1; the
//! slug's Durable Object only for a link with `max_clicks` (a GET takes one click there). The
//! click is recorded without awaiting (an Analytics Engine write and a queue message in
//! `wait_until`). An expired link is answered 410 here and left alone: KV drops its key after
//! the grace period, the cron its D1 row.
//!
//! Every redirect carries `Location`, `Cache-Control` (short and private for temporary
//! redirects, so an update reaches visitors within 90 s; public and configurable for permanent
//! ones) and `X-Robots-Tag: noindex` (search engines should index the destination, not us).

use worker::{Context, Env, Method, Request, Response};

use crate::lifecycle::{merge_query, query_of, RedirectType, TEMPORARY_CACHE_CONTROL};
use crate::link::{Destination, Redirect, Slug, Unavailable};
use crate::platform::{claims, kv, now, permanent_redirect_max_age};
use crate::track;

pub async fn serve(req: &Request, env: &Env, ctx: &Context, raw_slug: &str) -> Response {
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
    match Redirect::decide(value.as_deref(), now) {
        Redirect::To(to) => {
            let is_get = req.method() == Method::Get;
            if let (Some(limit), true) = (to.max_clicks, is_get) {
                match take_click(env, raw_slug, &to.created_at, limit).await {
                    Ok(true) => {}
                    Ok(false) => return unavailable(&Unavailable::LimitReached),
                    Err(e) => {
                        worker::console_error!("click limit {raw_slug}: {e}");
                        return page(503);
                    }
                }
            }
            let Some(response) = redirect(req, env, &to) else {
                return page(502);
            };
            if is_get {
                track::record(env, ctx, track::click_of(req, env, raw_slug, &to.owner));
            }
            response
        }
        Redirect::NotFound => page(404),
        Redirect::Unavailable(why) => unavailable(&why),
    }
}

/// Takes one click of a limited link from its slug's Durable Object: the count is exact.
async fn take_click(
    env: &Env,
    slug: &str,
    life: &str,
    limit: u64,
) -> Result<bool, crate::store::StoreError> {
    claims(env)?.take_click(slug, life, limit).await
}

fn redirect(req: &Request, env: &Env, to: &Destination) -> Option<Response> {
    let location = if to.forward_query {
        merge_query(&to.url, query_of(&req.inner().url()))
            .into_owned()
            .into()
    } else {
        std::borrow::Cow::Borrowed(to.url.as_ref())
    };
    let cache_control = cache_control(env, to.redirect_type);
    Response::builder()
        .with_status(to.redirect_type.status())
        .with_header("Location", &location)
        .ok()?
        .with_header("Cache-Control", &cache_control)
        .ok()?
        .with_header("X-Robots-Tag", "noindex")
        .ok()
        .map(|b| b.empty())
}

/// Browsers keep permanent redirects (and shared caches may too), so only those are public
/// and long-lived; the lifetime is the operator's choice (`PERMANENT_REDIRECT_MAX_AGE`).
fn cache_control(env: &Env, kind: RedirectType) -> std::borrow::Cow<'static, str> {
    if kind.is_permanent() {
        format!("public, max-age={}", permanent_redirect_max_age(env)).into()
    } else {
        TEMPORARY_CACHE_CONTROL.into()
    }
}

/// 410 with the same "Link unavailable" page for every reason; only the reason's words differ.
fn unavailable(why: &Unavailable) -> Response {
    let text = match why {
        Unavailable::Disabled => "This link has been disabled by its owner.".to_owned(),
        Unavailable::Flagged(reason) => format!(
            "This link was flagged ({}) and disabled by the administrators.",
            html_escape(reason)
        ),
        Unavailable::Expired => "This link has expired.".to_owned(),
        Unavailable::LimitReached => {
            "This link's click limit reached: it takes no more visitors.".to_owned()
        }
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
    match builder
        .with_header("Content-Type", "text/html; charset=utf-8")
        .and_then(|b| b.with_header("X-Robots-Tag", "noindex"))
    {
        Ok(b) => b.fixed(body.into_bytes()),
        Err(_) => Response::builder().with_status(status).empty(),
    }
}
