//! `GET|HEAD /<slug>`: the hot path. One KV read (edge-cached), a decision that parses only the
//! fields a redirect needs (`url`, `is_active`, `flag_reason`, `expires_at`, `redirect_type`,
//! `forward_query`, `owner`, `created_at`, `max_clicks`), and the response. Never D1; the
//! slug's Durable Object only for a link with `max_clicks` (a GET takes one click there). The
//! click is recorded without awaiting (an Analytics Engine write and a queue message in
//! `waitUntil`). An expired link is answered 410 here and left alone: KV drops its key after
//! the grace period, the cron its D1 row.
//!
//! Every redirect carries `Location`, `Cache-Control` (short and private for temporary
//! redirects, so an update reaches visitors within 90 s; public and configurable for permanent
//! ones) and `X-Robots-Tag: noindex` (search engines should index the destination, not us).
//!
//! Why it is written against the raw runtime objects rather than workers-rs' `Request`,
//! `KvStore` and `Response`: those wrappers cross the wasm↔JS boundary 40–130 times per
//! redirect (binding lookups, option objects and headers built field by field, an async
//! executor scheduling every wake-up), which made the redirect slower than a JS Worker doing
//! the same read (BENCHMARKS.md). Here the KV promise's `then` calls one long-lived wasm
//! function ([`DECIDE`]) that decides and answers: no Rust future, no per-request closure, and
//! one JS call each for the request's method and URL, the read, the request's click facts, the
//! response and the click.

use std::cell::{OnceCell, RefCell};

use worker::js_sys::{Function, Promise};
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::future_to_promise;
use worker::{console_error, web_sys, worker_sys, Env};

use crate::analytics::{click_of, RequestFacts};
use crate::lifecycle::{merge_query, query_of, RedirectType, TEMPORARY_CACHE_CONTROL};
use crate::link::{Destination, Redirect, Slug, Unavailable};
use crate::platform::{
    analytics_salt, claims, click_rollup_enabled, has_binding, now, permanent_redirect_max_age,
    CLICKS_BINDING, CLICK_QUEUE_BINDING,
};
use crate::store::kv::{LINK_PREFIX, REDIRECT_CACHE_TTL_SECS};
use crate::track;

// The redirect's JS side. `LINKS` is `platform::LINKS_BINDING`. The options object of the KV
// read is made once per isolate, in JS, so a read passes no object across the boundary.
#[wasm_bindgen(inline_js = r#"
let readOptions;
export function read_then(env, key, cacheTtl, req, ctx, visit, decide) {
  readOptions ??= { type: "text", cacheTtl };
  return env.LINKS.get(key, readOptions).then(
    (value) => decide(value, false, req, env, ctx, visit),
    (e) => {
      console.error(`redirect ${key}: ${e}`);
      return decide(null, true, req, env, ctx, visit);
    },
  );
}
export function request_line(req) {
  return `${req.method} ${req.url}`;
}
export function redirect_response(status, location, cacheControl) {
  return new Response(null, {
    status,
    headers: { Location: location, "Cache-Control": cacheControl, "X-Robots-Tag": "noindex" },
  });
}
export function html_response(status, body) {
  return new Response(body, {
    status,
    headers: { "Content-Type": "text/html; charset=utf-8", "X-Robots-Tag": "noindex" },
  });
}
export function request_facts(req) {
  const h = req.headers, cf = req.cf || {}, bm = cf.botManagement || {};
  return [
    h.get("User-Agent"), h.get("CF-Connecting-IP"), h.get("DNT"), h.get("Sec-GPC"),
    h.get("Referer"), cf.country, bm.verifiedBot ? "1" : "", bm.score,
  ].map((v) => (v == null ? "" : String(v))).join("\n");
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    fn read_then(
        env: &Env,
        key: &str,
        cache_ttl: u32,
        req: &web_sys::Request,
        ctx: &worker_sys::Context,
        visit: u8,
        decide: &Function,
    ) -> Result<Promise, JsValue>;
    #[wasm_bindgen(catch)]
    fn redirect_response(
        status: u16,
        location: &str,
        cache_control: &JsValue,
    ) -> Result<web_sys::Response, JsValue>;
    /// `GET https://sho.rt/abc`: the request's method and URL in one crossing of the boundary,
    /// for [`crate::route::split_request_line`].
    pub fn request_line(req: &web_sys::Request) -> String;
    fn html_response(status: u16, body: &JsValue) -> web_sys::Response;
    fn request_facts(req: &web_sys::Request) -> String;
}

type Decide = dyn Fn(JsValue, bool, web_sys::Request, Env, worker_sys::Context, u8) -> JsValue;

/// What the visitor's request was, carried through the KV read's `then` as one small number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visit {
    /// A GET, which is a click; a HEAD is not.
    pub is_get: bool,
    /// The request URL has a query, so a link that forwards it reads the URL again.
    pub has_query: bool,
}

impl Visit {
    fn to_bits(self) -> u8 {
        u8::from(self.is_get) | u8::from(self.has_query) << 1
    }

    fn from_bits(bits: u8) -> Self {
        Visit {
            is_get: bits & 1 != 0,
            has_query: bits & 2 != 0,
        }
    }
}

thread_local! {
    /// The `then` of every redirect's KV read: created once per isolate and never dropped.
    static DECIDE: Closure<Decide> = Closure::wrap(Box::new(decide) as Box<Decide>);
    /// What the redirect reads from the environment, once per isolate (vars and secrets do not
    /// change while an isolate lives).
    static CONFIG: OnceCell<Config> = const { OnceCell::new() };
}

struct Config {
    /// Both `Cache-Control` values as JS strings: a redirect then copies only its `Location` out.
    temporary_cache_control: JsValue,
    permanent_cache_control: JsValue,
    salt: Option<String>,
    /// Whether a click goes anywhere: the Analytics Engine dataset, or the roll-up's queue.
    /// Without either, the redirect does not even read the request's click facts.
    records_clicks: bool,
    /// Whether clicks are sent to the roll-up's queue.
    rollup: bool,
}

impl Config {
    fn from_env(env: &Env) -> Self {
        let rollup = click_rollup_enabled(env) && has_binding(env, CLICK_QUEUE_BINDING);
        Config {
            temporary_cache_control: JsValue::from_str(TEMPORARY_CACHE_CONTROL),
            permanent_cache_control: JsValue::from(format!(
                "public, max-age={}",
                permanent_redirect_max_age(env)
            )),
            salt: analytics_salt(env),
            records_clicks: rollup || has_binding(env, CLICKS_BINDING),
            rollup,
        }
    }

    /// Browsers keep permanent redirects (and shared caches may too), so only those are
    /// public and long-lived; the lifetime is the operator's choice.
    fn cache_control(&self, kind: RedirectType) -> &JsValue {
        if kind.is_permanent() {
            &self.permanent_cache_control
        } else {
            &self.temporary_cache_control
        }
    }
}

fn with_config<T>(env: &Env, f: impl FnOnce(&Config) -> T) -> T {
    CONFIG.with(|c| f(c.get_or_init(|| Config::from_env(env))))
}

/// Answers a redirect request: a promise of the response (see the module doc).
pub fn serve(
    req: web_sys::Request,
    env: Env,
    ctx: worker_sys::Context,
    raw_slug: &str,
    visit: Visit,
) -> Promise {
    if !Slug::is_valid(raw_slug) {
        return Promise::resolve(&JsValue::from(page(Page::NotFound)));
    }
    let key = format!("{LINK_PREFIX}{raw_slug}");
    let read = DECIDE.with(|decide| {
        read_then(
            &env,
            &key,
            REDIRECT_CACHE_TTL_SECS,
            &req,
            &ctx,
            visit.to_bits(),
            decide.as_ref().unchecked_ref(),
        )
    });
    read.unwrap_or_else(|e| {
        console_error!("redirect {raw_slug}: {e:?}");
        Promise::resolve(&JsValue::from(page(Page::TryAgain)))
    })
}

/// The KV read's outcome to a response (or, for a limited link, a promise of one).
fn decide(
    value: JsValue,
    failed: bool,
    req: web_sys::Request,
    env: Env,
    ctx: worker_sys::Context,
    visit: u8,
) -> JsValue {
    let visit = Visit::from_bits(visit);
    if failed {
        return page(Page::TryAgain).into();
    }
    let text = value.as_string();
    match Redirect::decide(text.as_deref(), now) {
        Redirect::To(to) if to.max_clicks.is_some() => {
            limited(to.into_owned(), req, env, ctx, visit).into()
        }
        Redirect::To(to) => follow(&to, &req, &env, &ctx, visit).into(),
        Redirect::NotFound => page(Page::NotFound).into(),
        Redirect::Unavailable(why) => page(Page::Unavailable(why)).into(),
    }
}

/// A link with `max_clicks`: its slug's Durable Object counts exactly, so this one awaits.
/// A GET uses a click up; a HEAD only asks whether one is left.
fn limited(
    to: Destination<'static>,
    req: web_sys::Request,
    env: Env,
    ctx: worker_sys::Context,
    visit: Visit,
) -> Promise {
    future_to_promise(async move {
        let limit = to.max_clicks.unwrap_or(0);
        let slug = to.slug.as_ref();
        let taken = match claims(&env) {
            Ok(c) => {
                c.take_click(slug, &to.created_at, limit, visit.is_get)
                    .await
            }
            Err(e) => Err(e),
        };
        let response = match taken {
            Ok(true) => follow(&to, &req, &env, &ctx, visit),
            Ok(false) => page(Page::Unavailable(Unavailable::LimitReached)),
            Err(e) => {
                console_error!("click limit {slug}: {e}");
                page(Page::TryAgain)
            }
        };
        Ok(response.into())
    })
}

/// The redirect itself, and the click it records (GET only: a HEAD is not a visit).
fn follow(
    to: &Destination,
    req: &web_sys::Request,
    env: &Env,
    ctx: &worker_sys::Context,
    visit: Visit,
) -> web_sys::Response {
    let url;
    let location = if to.forward_query && visit.has_query {
        url = req.url();
        merge_query(&to.url, query_of(&url))
    } else {
        std::borrow::Cow::Borrowed(to.url.as_ref())
    };
    let response = with_config(env, |config| {
        redirect_response(
            to.redirect_type.status(),
            &location,
            config.cache_control(to.redirect_type),
        )
    });
    let Ok(response) = response else {
        console_error!("redirect {}: unusable Location {location}", &to.slug);
        return page(Page::BadDestination);
    };
    if visit.is_get {
        with_config(env, |config| {
            if !config.records_clicks {
                return;
            }
            let facts = request_facts(req);
            let click = click_of(
                &RequestFacts::parse(&facts),
                &to.slug,
                &to.owner,
                config.salt.as_deref(),
                now(),
            );
            track::record(env, ctx, &click, config.rollup);
        });
    }
    response
}

/// What a visitor is shown when a short link goes nowhere: one small HTML page per case, the
/// same "Link unavailable" page for every reason a link stopped (only the reason's words differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    NotFound,
    Unavailable(Unavailable),
    /// The KV read or the click counter failed: worth another try in a moment.
    TryAgain,
    /// KV holds a destination the runtime refuses as a `Location`.
    BadDestination,
}

impl Page {
    fn status(self) -> u16 {
        match self {
            Page::NotFound => 404,
            Page::Unavailable(_) => 410,
            Page::TryAgain => 503,
            Page::BadDestination => 502,
        }
    }

    fn body(self) -> String {
        let (title, text) = match self {
            Page::NotFound => (
                "Link not found",
                "There is no link here. Check the address.".to_owned(),
            ),
            Page::Unavailable(why) => ("Link unavailable", reason_text(why)),
            Page::TryAgain | Page::BadDestination => (
                "Temporarily unavailable",
                "This link cannot be followed right now. Please try again in a moment.".to_owned(),
            ),
        };
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
             <meta name=\"robots\" content=\"noindex\"></head>\
             <body><h1>{title}</h1><p>{text}</p></body></html>"
        )
    }
}

/// The reason in words; a flag names only its category.
fn reason_text(why: Unavailable) -> String {
    match why {
        Unavailable::Disabled => "This link has been disabled by its owner.".to_owned(),
        Unavailable::Flagged(reason) => format!(
            "This link was flagged ({}) and disabled by the administrators.",
            reason.as_str()
        ),
        Unavailable::Expired => "This link has expired.".to_owned(),
        Unavailable::LimitReached => {
            "This link's click limit reached: it takes no more visitors.".to_owned()
        }
    }
}

thread_local! {
    /// Page bodies as JS strings, each made on first use: a page then costs no formatting
    /// and no copy into JS. At most one per [`Page`] (a dozen).
    static PAGES: RefCell<Vec<(Page, JsValue)>> = const { RefCell::new(Vec::new()) };
}

fn page(page: Page) -> web_sys::Response {
    PAGES.with(|pages| {
        let mut pages = pages.borrow_mut();
        let body = match pages.iter().find(|(p, _)| *p == page) {
            Some((_, body)) => body,
            None => {
                pages.push((page, JsValue::from(page.body())));
                &pages[pages.len() - 1].1
            }
        };
        html_response(page.status(), body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_survives_the_trip_through_js() {
        for is_get in [false, true] {
            for has_query in [false, true] {
                let visit = Visit { is_get, has_query };
                assert_eq!(Visit::from_bits(visit.to_bits()), visit);
            }
        }
    }
}
