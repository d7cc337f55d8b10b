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
//! response and the click. The request line and the KV value are copied into one buffer per
//! isolate (no allocation; the value by the runtime's `encodeInto`, the ASCII request line by a
//! loop), a `Location` that is part of the value is sliced from the JS string, not copied back
//! out, and every response's headers are copied from one `Headers` (for redirects, or for
//! pages) made once per isolate.

use std::cell::{Cell, OnceCell, RefCell};

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
const encoder = new TextEncoder();
export function text_into(text, buf) {
  if (typeof text !== "string") return -2;
  const { read, written } = encoder.encodeInto(text, buf);
  return read === text.length ? written : -1;
}
// A URL from the runtime is ASCII (WHATWG serialises it so): a loop copies it for less than
// `encodeInto` costs a string made by joining method and URL.
function ascii_into(text, buf, at) {
  const end = at + text.length;
  if (end > buf.length) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) return -1;
    buf[at + i] = c;
  }
  return end;
}
export function request_line_into(req, buf) {
  const at = ascii_into(req.method, buf, 0);
  if (at < 0 || at >= buf.length) return -1;
  buf[at] = 32;
  return ascii_into(req.url, buf, at + 1);
}
export function read_then(env, keyBytes, cacheTtl, req, ctx, visit, decide) {
  readOptions ??= { type: "text", cacheTtl };
  const key = String.fromCharCode.apply(null, keyBytes);
  return env.LINKS.get(key, readOptions).then(
    (value) => decide(value, false, req, env, ctx, visit),
    (e) => {
      console.error(`redirect ${key}: ${e}`);
      return decide(null, true, req, env, ctx, visit);
    },
  );
}
export function redirect_response_at(status, value, start, end, cacheControl) {
  return redirect_response(status, value.slice(start, end), cacheControl);
}
// One Headers per isolate for redirects and one for pages, which each Response copies: cheaper
// than a headers object that the runtime reads property by property.
let redirectHeaders, redirectCacheControl;
export function redirect_response(status, location, cacheControl) {
  redirectHeaders ??= new Headers({ "X-Robots-Tag": "noindex" });
  if (cacheControl !== redirectCacheControl) {
    redirectHeaders.set("Cache-Control", cacheControl);
    redirectCacheControl = cacheControl;
  }
  redirectHeaders.set("Location", location);
  return new Response(null, { status, headers: redirectHeaders });
}
let pageHeaders;
export function html_response(status, body) {
  pageHeaders ??= new Headers({
    "Content-Type": "text/html; charset=utf-8",
    "X-Robots-Tag": "noindex",
  });
  return new Response(body, { status, headers: pageHeaders });
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
    /// `key` is ASCII (a valid slug's key), so JS reads it byte by byte: cheaper than the
    /// runtime's `TextDecoder` for a few bytes.
    #[wasm_bindgen(catch)]
    fn read_then(
        env: &Env,
        key: &[u8],
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
    /// [`redirect_response`] with the `Location` that is `value[start..end]` (UTF-16 offsets).
    #[wasm_bindgen(catch)]
    fn redirect_response_at(
        status: u16,
        value: &JsValue,
        start: u32,
        end: u32,
        cache_control: &JsValue,
    ) -> Result<web_sys::Response, JsValue>;
    /// A JS string's UTF-8 written into `buf`: its length; -1 when it does not fit, -2 when
    /// `text` is not a string.
    fn text_into(text: &JsValue, buf: &mut [u8]) -> i32;
    /// `GET https://sho.rt/abc`, the request's method and URL, written as [`text_into`] says,
    /// but -1 also when either is not ASCII.
    fn request_line_into(req: &web_sys::Request, buf: &mut [u8]) -> i32;
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
    req: &web_sys::Request,
    env: &Env,
    ctx: &worker_sys::Context,
    raw_slug: &str,
    visit: Visit,
) -> Promise {
    if !Slug::is_valid(raw_slug) {
        return Promise::resolve(&JsValue::from(page(Page::NotFound)));
    }
    let mut key = String::with_capacity(LINK_PREFIX.len() + raw_slug.len());
    key.push_str(LINK_PREFIX);
    key.push_str(raw_slug);
    let read = DECIDE.with(|decide| {
        read_then(
            env,
            key.as_bytes(),
            REDIRECT_CACHE_TTL_SECS,
            req,
            ctx,
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
    with_scratch_text(
        |buf| text_into(&value, buf),
        || value.as_string(),
        |text| match Redirect::decide(text, now) {
            Redirect::To(to) if to.max_clicks.is_some() => {
                limited(to.into_owned(), req, env, ctx, visit).into()
            }
            Redirect::To(to) => {
                let stored = text.map(|text| Stored {
                    text,
                    value: &value,
                });
                follow(&to, stored, &req, &env, &ctx, visit).into()
            }
            Redirect::NotFound => page(Page::NotFound).into(),
            Redirect::Unavailable(why) => page(Page::Unavailable(why)).into(),
        },
    )
}

/// The KV value a destination was parsed from, as the JS string it was copied from and as that
/// copy: a `Location` that is part of it is then sliced in JS, not copied back out.
struct Stored<'a> {
    text: &'a str,
    value: &'a JsValue,
}

/// Where `part` (a slice of `text`) starts and ends in the JS string `text` was copied from:
/// the same as its byte offsets when it and everything before it are ASCII (a stored URL is
/// ASCII: WHATWG serialises hosts in punycode and percent-encodes the rest).
fn js_span(text: &str, part: &str) -> Option<(u32, u32)> {
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    // In range only if `part` lies within `text` (two live strings do not overlap).
    text.get(start..end)?;
    if !text.get(..start)?.is_ascii() || !part.is_ascii() {
        return None;
    }
    Some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
}

thread_local! {
    /// The buffer a redirect's request line and KV value are copied into: one per isolate, so
    /// neither costs an allocation. Taken out while in use (a nested use would get a new one).
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Larger than any link's value (a URL is at most 2,048 bytes); a larger text is copied the slow way.
const SCRATCH_BYTES: usize = 16 * 1024;

/// Runs `f` over the text `fill` writes into the scratch buffer (as [`text_into`] does: -1 when
/// it does not fit, then `slow` gives it; -2 when there is none).
fn with_scratch_text<T>(
    fill: impl FnOnce(&mut [u8]) -> i32,
    slow: impl FnOnce() -> Option<String>,
    f: impl FnOnce(Option<&str>) -> T,
) -> T {
    let mut buf = SCRATCH.take();
    buf.resize(SCRATCH_BYTES, 0);
    let written = fill(&mut buf);
    let fast = usize::try_from(written)
        .ok()
        .and_then(|n| buf.get(..n))
        .and_then(|bytes| std::str::from_utf8(bytes).ok());
    let result = match (written, fast) {
        (-2, _) => f(None),
        (_, Some(text)) => f(Some(text)),
        (_, None) => f(slow().as_deref()),
    };
    SCRATCH.set(buf);
    result
}

/// Runs `f` over `GET https://sho.rt/abc`: the request's method and URL, copied in one crossing
/// of the boundary, for [`crate::route::split_request_line`].
pub fn with_request_line<T>(req: &web_sys::Request, f: impl FnOnce(&str) -> T) -> T {
    with_scratch_text(
        |buf| request_line_into(req, buf),
        || Some(format!("{} {}", req.method(), req.url())),
        |line| f(line.unwrap_or_default()),
    )
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
            Ok(true) => follow(&to, None, &req, &env, &ctx, visit),
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
    stored: Option<Stored>,
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
    let span = stored.and_then(|s| Some((s.value, js_span(s.text, &location)?)));
    let response = with_config(env, |config| {
        let (status, cache_control) = (
            to.redirect_type.status(),
            config.cache_control(to.redirect_type),
        );
        match span {
            Some((value, (start, end))) => {
                redirect_response_at(status, value, start, end, cache_control)
            }
            None => redirect_response(status, &location, cache_control),
        }
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
    fn a_location_within_an_ascii_value_is_sliced_by_its_byte_offsets() {
        let text = r#"{"slug":"abc","url":"https://example.com/a?b=1"}"#;
        let url = &text[21..46];
        assert_eq!(url, "https://example.com/a?b=1");
        assert_eq!(js_span(text, url), Some((21, 46)));
        assert_eq!(js_span(text, &text[..0]), Some((0, 0)));
    }

    #[test]
    fn a_location_is_copied_when_offsets_would_differ_or_it_is_not_part_of_the_value() {
        let text = r#"{"title":"café","url":"https://example.com/"}"#;
        let url = &text[text.find("https").unwrap()..text.len() - 2];
        assert_eq!(js_span(text, url), None, "a two-byte character before it");
        let elsewhere = String::from("https://example.com/");
        assert_eq!(js_span(text, &elsewhere), None);
        assert_eq!(js_span(&text[30..], &text[..10]), None, "before the text");
    }

    #[test]
    fn scratch_text_is_what_was_written_or_the_slow_copy_or_none() {
        let write = |text: &'static str| {
            move |buf: &mut [u8]| {
                buf[..text.len()].copy_from_slice(text.as_bytes());
                text.len() as i32
            }
        };
        let owned = |t: Option<&str>| t.map(str::to_owned);
        let slow = || Some("slow".to_owned());
        assert_eq!(
            with_scratch_text(write("fast"), slow, owned).as_deref(),
            Some("fast")
        );
        assert_eq!(
            with_scratch_text(|_| -1, slow, owned).as_deref(),
            Some("slow")
        );
        assert_eq!(with_scratch_text(|_| -2, slow, owned), None);
        // The buffer is reused: a shorter text after a longer one is only the shorter.
        assert_eq!(
            with_scratch_text(write("ab"), slow, owned).as_deref(),
            Some("ab")
        );
    }

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
