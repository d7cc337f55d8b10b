//! `GET|HEAD /<slug>`: the hot path. One KV read (edge-cached), a decision that looks only at the
//! fields a redirect needs (`url`, `slug`, `is_active`, `flag_reason`, `expires_at`, `valid_since`,
//! `redirect_type`, `forward_query`, `owner`, `created_at`, `max_clicks`, `password_hash`, and
//! for a smart link `targets`, `variants` and `preview`), and the response. Never D1; the slug's
//! Durable Object only for a link with `max_clicks` (a GET takes one click there). A password
//! link (its hash is in the same value) answers its form instead, and `POST /<slug>` (the form)
//! or `X-Link-Password` the redirect for the right password: the guess is counted by the
//! `PASSWORD_LIMITER` binding and checked by WebCrypto, both in `redirect.js`
//! (`password_check`); the redirect is then `private, no-store`, and 303 for a POST. The click
//! is recorded without awaiting (an Analytics Engine write and a queue message
//! in `waitUntil`; without `ANALYTICS_SALT`, an isolate's first clicks of a UTC day first read
//! the day's visitor salt from KV, also in `waitUntil`: see `track`). An expired link is
//! answered 410 here and left alone: KV drops its key after the grace period, the cron its D1
//! row.
//!
//! Every redirect carries `Location`, `Cache-Control` (short and private for temporary
//! redirects, so an update reaches visitors within 90 s; public and configurable for permanent
//! ones) and `X-Robots-Tag: noindex` (search engines should index the destination, not us).
//!
//! A smart link (targets, variants or a preview, docs/api.md "Smart links") goes where
//! [`choose_destination`] says, from the request's user agent, IP and country (read once, the
//! click reuses them) and the options the JS side hands over as one JSON string (`link_options`:
//! only the visitor's country's target, not the whole map); its answer is never publicly
//! cacheable, and a social crawler gets the link's preview page instead of the redirect.
//!
//! Why it is written against the raw runtime objects rather than workers-rs' `Request`,
//! `KvStore` and `Response`: those wrappers cross the wasm↔JS boundary 40–130 times per
//! redirect (binding lookups, option objects and headers built field by field, an async
//! executor scheduling every wake-up), which made the redirect slower than a JS Worker doing
//! the same read (BENCHMARKS.md). Here the KV promise's `then` calls one long-lived wasm
//! function ([`DECIDE`]) that decides and answers: no Rust future, no per-request closure, and
//! one JS call each for the request's method and URL, the read (which also parses the value), the
//! response and the click. The ASCII request line is copied into one buffer per isolate, and
//! every response's headers are copied from one `Headers` (for redirects, or for pages) made
//! once per isolate.
//!
//! Why the stored value is parsed by the runtime's `JSON.parse` and not by serde in the wasm:
//! on the edge, other Workers run between two requests of one isolate, so this isolate's own
//! code (the wasm, its glue) is cold in the CPU's caches on every request, while V8's
//! `JSON.parse` is shared by every isolate in the process and stays warm. Measured with a KV
//! read between calls, serde's parse made a hit cost ~10 µs more than the JS peer's; hot, ~1 µs
//! (BENCHMARKS.md, "cold"). So JS checks the JSON types of the few fields a redirect reads
//! (`link_shape`), [`Redirect::decide`] checks their values and decides, texts are copied in
//! only when a decision needs them, and a plain redirect's `Location` is the parsed `url`
//! itself, never copied.

use std::cell::OnceCell;

use worker::js_sys::{Function, Promise};
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::{future_to_promise, JsFuture};
use worker::{console_error, web_sys, worker_sys, Env};

use super::error_response;
use crate::analytics::{
    classify_user_agent, click_of, day_of, is_social_crawler, RequestFacts, SaltChoice,
};
use crate::app::{self, claims, has_binding, now, CLICKS_BINDING, CLICK_QUEUE_BINDING};
use crate::error::ApiError;
use crate::lifecycle::{merge_query, query_of, RedirectType, TEMPORARY_CACHE_CONTROL};
use crate::link::{
    choose_destination, variant_bucket, Destination, Device, Hop, Redirect, Slug, StoredOptions,
    StoredPreview, StoredRedirect, Unavailable, SLUG_MAX_LEN,
};
use crate::store::kv::{LINK_PREFIX, REDIRECT_CACHE_TTL_SECS};
use crate::track;

mod pages;
mod request_line;

use pages::{page, Ask, Page};

/// The visitor's "Link not found" page, for a path outside the API that names no short link
/// (`/promo/more`): a person following a mangled link gets a page, not a JSON error.
pub fn not_found_page() -> web_sys::Response {
    page(Page::NotFound)
}
pub use request_line::with_request_line;

// The redirect's JS side, in redirect.js; `LINKS` there is `app::LINKS_BINDING` (src/bindings.js).
#[wasm_bindgen(module = "/src/api/redirect.js")]
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
    /// [`redirect_response`] to the stored link's own `url`.
    #[wasm_bindgen(catch)]
    fn link_redirect(
        status: u16,
        link: &JsValue,
        cache_control: &JsValue,
    ) -> Result<web_sys::Response, JsValue>;
    /// A text field of a stored link, by [`StoredText`]: there when its [`Shape`] says so.
    fn link_text(link: &JsValue, field: u8) -> Option<String>;
    /// The `max_clicks` number of a stored link whose [`Shape`] says it has one.
    fn link_max_clicks(link: &JsValue) -> f64;
    /// The smart options of a stored link whose [`Shape`] says it has them, as JSON for
    /// [`StoredOptions`], with only `country`'s country target.
    fn link_options(link: &JsValue, country: &str) -> String;
    fn request_facts(req: &web_sys::Request) -> String;
    /// A password link's check of the request's guess: a promise of 0 (no guess), 1 (right),
    /// 2 (wrong) or 3 (over the guess limit). See `redirect.js`.
    #[wasm_bindgen(catch)]
    fn password_check(
        req: &web_sys::Request,
        env: &Env,
        link: &JsValue,
        is_post: bool,
    ) -> Result<Promise, JsValue>;
}

/// The text fields of a stored link, by their place in the JS side's `TEXT_FIELDS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum StoredText {
    Url = 0,
    Slug = 1,
    Owner = 2,
    CreatedAt = 3,
    FlagReason = 4,
    ExpiresAt = 5,
    ValidSince = 6,
}

/// A text field of the parsed stored link (copied in: only where a decision needs it).
fn stored_text(link: &JsValue, field: StoredText) -> String {
    // `link_shape` checked that the required texts are strings; an optional one is asked for
    // only when its bit is set, so `None` means nothing stored.
    link_text(link, field as u8).unwrap_or_default()
}

/// What `link_shape` found in a stored value: which fields it has, which flags are set, and the
/// redirect type stored (in the bits above the first eight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape(u32);

impl Shape {
    const LINK: u32 = 1;
    const ACTIVE: u32 = 2;
    const FORWARD_QUERY: u32 = 4;
    const FLAG_REASON: u32 = 8;
    const EXPIRES_AT: u32 = 16;
    const MAX_CLICKS: u32 = 32;
    const VALID_SINCE: u32 = 64;
    /// Targets, variants or a preview (bit 24, above the redirect type).
    const SMART: u32 = 1 << 24;
    /// A password link: the form first (bit 7).
    const PASSWORD: u32 = 128;

    fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }

    fn redirect_type(self) -> u16 {
        // At most 16 bits above the flags: `link_shape` refuses larger numbers.
        ((self.0 >> 8) & 0xffff) as u16
    }
}

type Decide = dyn Fn(JsValue, u32, bool, web_sys::Request, Env, worker_sys::Context, u8) -> JsValue;

/// What the visitor's request was, carried through the KV read's `then` as one small number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visit {
    /// A GET, which is a click; a HEAD is not.
    pub is_get: bool,
    /// A POST: a password form sent to a password link (a click when the password is right).
    pub is_post: bool,
    /// The request URL has a query, so a link that forwards it reads the URL again.
    pub has_query: bool,
}

impl Visit {
    fn to_bits(self) -> u8 {
        u8::from(self.is_get) | u8::from(self.has_query) << 1 | u8::from(self.is_post) << 2
    }

    fn from_bits(bits: u8) -> Self {
        Visit {
            is_get: bits & 1 != 0,
            has_query: bits & 2 != 0,
            is_post: bits & 4 != 0,
        }
    }

    /// Whether a redirect it is answered with counts as a click.
    fn is_click(self) -> bool {
        self.is_get || self.is_post
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
    /// A password link's redirect: answered to one visitor who gave the password, so no cache
    /// (a browser's or a shared one) may keep it for the next.
    guarded_cache_control: JsValue,
    salt: Option<String>,
    /// Whether a click goes anywhere: the Analytics Engine dataset, or the roll-up's queue.
    /// Without either, the redirect does not even read the request's click facts.
    records_clicks: bool,
    /// Whether clicks are sent to the roll-up's queue.
    rollup: bool,
}

impl Config {
    fn from_env(env: &Env) -> Self {
        let config = app::config(env);
        let rollup = config.click_rollup && has_binding(env, CLICK_QUEUE_BINDING);
        Config {
            temporary_cache_control: JsValue::from_str(TEMPORARY_CACHE_CONTROL),
            permanent_cache_control: JsValue::from(format!(
                "public, max-age={}",
                config.permanent_redirect_max_age
            )),
            guarded_cache_control: JsValue::from_str(GUARDED_CACHE_CONTROL),
            salt: config.analytics_salt,
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

/// `Cache-Control` of a password link's redirect.
const GUARDED_CACHE_CONTROL: &str = "private, no-store";

/// A correct password sent by form POST is answered 303 See Other, whatever the link's type:
/// a 307 or 308 would have the browser POST the password on to the destination.
const SEE_OTHER: u16 = 303;

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
    // `link:<slug>` on the stack (a valid slug is at most `SLUG_MAX_LEN` bytes): the hot path
    // allocates nothing for its key.
    let mut buf = [0u8; LINK_PREFIX.len() + SLUG_MAX_LEN];
    let (prefix, rest) = buf.split_at_mut(LINK_PREFIX.len());
    prefix.copy_from_slice(LINK_PREFIX.as_bytes());
    let Some(slug_bytes) = rest.get_mut(..raw_slug.len()) else {
        return Promise::resolve(&JsValue::from(page(Page::NotFound)));
    };
    slug_bytes.copy_from_slice(raw_slug.as_bytes());
    let key = &buf[..LINK_PREFIX.len() + raw_slug.len()];
    let read = DECIDE.with(|decide| {
        read_then(
            env,
            key,
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

/// The KV read's outcome to a response (or, for a limited link, a promise of one). `link` is
/// the stored value as `JSON.parse` read it (`null` when there is none), `shape` what the JS
/// side's `link_shape` found in it.
fn decide(
    link: JsValue,
    shape: u32,
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
    let shape = Shape(shape);
    let active = shape.has(Shape::ACTIVE);
    // Texts are copied in only for what decides: a flag's reason for a stopped link, an expiry.
    let flag_reason = (!active && shape.has(Shape::FLAG_REASON))
        .then(|| stored_text(&link, StoredText::FlagReason));
    let expires_at = shape
        .has(Shape::EXPIRES_AT)
        .then(|| stored_text(&link, StoredText::ExpiresAt));
    let valid_since = shape
        .has(Shape::VALID_SINCE)
        .then(|| stored_text(&link, StoredText::ValidSince));
    let stored = shape.has(Shape::LINK).then(|| StoredRedirect {
        is_active: active,
        flag_reason: flag_reason.as_deref(),
        expires_at: expires_at.as_deref(),
        valid_since: valid_since.as_deref(),
        redirect_type: shape.redirect_type(),
        forward_query: shape.has(Shape::FORWARD_QUERY),
        max_clicks: shape.has(Shape::MAX_CLICKS).then(|| link_max_clicks(&link)),
    });
    let kind = Kind {
        smart: shape.has(Shape::SMART),
        guarded: shape.has(Shape::PASSWORD),
    };
    match Redirect::decide(stored, now) {
        // Only a password link takes a form; a POST to any other stays what it always was.
        Redirect::To(_) if visit.is_post && !kind.guarded => {
            web_sys::Response::from(error_response(&ApiError::MethodNotAllowed)).into()
        }
        Redirect::To(hop) if kind.guarded => {
            password_gate(hop, kind, link, req, env, ctx, visit).into()
        }
        Redirect::To(hop) if hop.max_clicks.is_some() => {
            limited(hop, kind, link, req, env, ctx, visit).into()
        }
        Redirect::To(hop) => follow(hop, kind, &link, &req, &env, &ctx, visit).into(),
        Redirect::NotFound => page(Page::NotFound).into(),
        Redirect::Unavailable(why) => page(Page::Unavailable(why)).into(),
    }
}

/// What a link's shape says about the way on from the decision.
#[derive(Debug, Clone, Copy)]
struct Kind {
    /// Targets, variants or a preview: the destination is chosen per visit.
    smart: bool,
    /// A password link: the form first, the redirect only for the right password.
    guarded: bool,
}

/// A link with `max_clicks`: its slug's Durable Object counts exactly, so this one awaits.
fn limited(
    hop: Hop,
    kind: Kind,
    link: JsValue,
    req: web_sys::Request,
    env: Env,
    ctx: worker_sys::Context,
    visit: Visit,
) -> Promise {
    future_to_promise(async move {
        Ok(counted(hop, kind, &link, &req, &env, &ctx, visit)
            .await
            .into())
    })
}

/// [`limited`]'s answer: a GET (or a password POST) uses a click up; a HEAD only asks whether
/// one is left.
async fn counted(
    hop: Hop,
    kind: Kind,
    link: &JsValue,
    req: &web_sys::Request,
    env: &Env,
    ctx: &worker_sys::Context,
    visit: Visit,
) -> web_sys::Response {
    let limit = hop.max_clicks.unwrap_or(0);
    let slug = stored_text(link, StoredText::Slug);
    // `created_at` tells this life of the slug from an earlier one's leftover count.
    let life = stored_text(link, StoredText::CreatedAt);
    let taken = match claims(env) {
        Ok(c) => c.take_click(&slug, &life, limit, visit.is_click()).await,
        Err(e) => Err(e),
    };
    match taken {
        Ok(true) => follow(hop, kind, link, req, env, ctx, visit),
        Ok(false) => page(Page::Unavailable(Unavailable::LimitReached)),
        Err(e) => {
            console_error!("click limit {slug}: {e}");
            page(Page::TryAgain)
        }
    }
}

/// A password link (its hash is in the value already read: no second KV read): the form, or,
/// for the right password, the redirect (see `password_check` in redirect.js for the guess and
/// its limit).
fn password_gate(
    hop: Hop,
    kind: Kind,
    link: JsValue,
    req: web_sys::Request,
    env: Env,
    ctx: worker_sys::Context,
    visit: Visit,
) -> Promise {
    future_to_promise(async move {
        let checked = match password_check(&req, &env, &link, visit.is_post) {
            Ok(promise) => JsFuture::from(promise).await,
            Err(e) => Err(e),
        };
        let response = match checked.map(|v| v.as_f64()) {
            Ok(Some(0.0)) => page(Page::Password(Ask::First)),
            Ok(Some(1.0)) => {
                if hop.max_clicks.is_some() {
                    counted(hop, kind, &link, &req, &env, &ctx, visit).await
                } else {
                    follow(hop, kind, &link, &req, &env, &ctx, visit)
                }
            }
            Ok(Some(2.0)) => page(Page::Password(Ask::Wrong)),
            Ok(Some(3.0)) => page(Page::Password(Ask::TooMany)),
            other => {
                let slug = stored_text(&link, StoredText::Slug);
                console_error!("password check {slug}: {other:?}");
                page(Page::TryAgain)
            }
        };
        Ok(response.into())
    })
}

/// Where a visit of a link with smart options goes, decided by [`choose_destination`].
struct SmartVisit {
    /// `None`: the link's own `url`.
    destination: Option<String>,
    /// The variant the click records (`1`–`5`), or empty.
    variant: &'static str,
    /// The link's preview, for a social crawler only.
    preview: Option<StoredPreview>,
}

/// Reads a smart link's options (one JS call, only the visitor's country's target) and
/// decides; `None` when they are not of the types `Link` writes (the link is then treated as
/// missing, like any value it could not have written).
fn smart_visit(link: &JsValue, packed_facts: &str) -> Option<SmartVisit> {
    let facts = RequestFacts::parse(packed_facts);
    let options: StoredOptions = serde_json::from_str(&link_options(link, facts.country)).ok()?;
    let agent = classify_user_agent(facts.user_agent);
    let chosen = choose_destination(&options, Device::of(agent.device, agent.os), || {
        let slug = stored_text(link, StoredText::Slug);
        variant_bucket(facts.ip, facts.user_agent, &day_of(now()), &slug)
    });
    let (destination, variant) = match chosen {
        Destination::Url => (None, ""),
        Destination::Target(url) | Destination::Variant(_, url) => {
            (Some(url.to_owned()), chosen.variant_label())
        }
    };
    let preview = if is_social_crawler(facts.user_agent) {
        options.preview
    } else {
        None
    };
    Some(SmartVisit {
        destination,
        variant,
        preview,
    })
}

/// The redirect itself, to the stored link's `url` (or, for a smart link, the destination
/// [`choose_destination`] picks; for a social crawler, the link's preview page), and the click
/// it records (GET, or a password link's POST: a HEAD is not a visit). A password link's
/// (reached only after the right password) is never cached, and 303 for a POST.
fn follow(
    hop: Hop,
    kind: Kind,
    link: &JsValue,
    req: &web_sys::Request,
    env: &Env,
    ctx: &worker_sys::Context,
    visit: Visit,
) -> web_sys::Response {
    let Kind { smart, guarded } = kind;
    let records_clicks = visit.is_click() && with_config(env, |config| config.records_clicks);
    // The request's facts, read once: a smart link's choice needs them, as does the click.
    let facts = (smart || records_clicks).then(|| request_facts(req));
    let chosen = match (smart, facts.as_deref()) {
        (true, Some(packed)) => match smart_visit(link, packed) {
            Some(chosen) => Some(chosen),
            None => return page(Page::NotFound),
        },
        _ => None,
    };
    let destination = chosen.as_ref().and_then(|c| c.destination.as_deref());
    let location = if hop.forward_query && visit.has_query {
        let url = destination
            .map(str::to_owned)
            .unwrap_or_else(|| stored_text(link, StoredText::Url));
        let request_url = req.url();
        Some(merge_query(&url, query_of(&request_url)).into_owned())
    } else {
        destination.map(str::to_owned)
    };
    let response = match chosen.as_ref().and_then(|c| c.preview.as_ref()) {
        Some(p) => {
            let to = location
                .clone()
                .unwrap_or_else(|| stored_text(link, StoredText::Url));
            Ok(pages::preview(p, &to))
        }
        None => with_config(env, |config| {
            let (status, cache_control) = match (guarded, visit.is_post) {
                // A smart link's answer differs by visitor: never public, whatever its type.
                (false, _) => (
                    hop.redirect_type.status(),
                    config.cache_control(if smart {
                        RedirectType::Found
                    } else {
                        hop.redirect_type
                    }),
                ),
                (true, false) => (hop.redirect_type.status(), &config.guarded_cache_control),
                (true, true) => (SEE_OTHER, &config.guarded_cache_control),
            };
            match &location {
                Some(location) => redirect_response(status, location, cache_control),
                None => link_redirect(status, link, cache_control),
            }
        }),
    };
    let Ok(response) = response else {
        let (slug, url) = (
            stored_text(link, StoredText::Slug),
            location.unwrap_or_else(|| stored_text(link, StoredText::Url)),
        );
        console_error!("redirect {slug}: unusable Location {url}");
        return page(Page::BadDestination);
    };
    if let (true, Some(facts)) = (records_clicks, facts) {
        let variant = chosen.as_ref().map_or("", |c| c.variant);
        record_click(env, ctx, link, facts, variant);
    }
    response
}

/// Records the click of a redirect (after the response: see `track`).
fn record_click(
    env: &Env,
    ctx: &worker_sys::Context,
    link: &JsValue,
    facts: String,
    variant: &'static str,
) {
    with_config(env, |config| {
        let (slug, owner) = (
            stored_text(link, StoredText::Slug),
            stored_text(link, StoredText::Owner),
        );
        let at = now();
        let fetch_salt = track::with_salt(config.salt.as_deref(), at, |choice| match choice {
            SaltChoice::Use(salt) => {
                let mut click =
                    click_of(&RequestFacts::parse(&facts), &slug, &owner, Some(salt), at);
                click.variant = variant.to_owned();
                track::record(env, ctx, &click, config.rollup);
                false
            }
            SaltChoice::FetchDaySalt => true,
        });
        if fetch_salt {
            // No salt configured and today's not known in this isolate yet: the click is
            // recorded in `waitUntil` once it is (one KV read, after the response).
            let click = track::Pending {
                facts,
                slug,
                owner,
                variant,
                at,
            };
            track::record_after_day_salt(env, ctx, click, config.rollup);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shape_reads_back_its_flags_and_redirect_type() {
        let smart = Shape(1 | (301 << 8) | Shape::SMART);
        assert!(smart.has(Shape::SMART) && smart.redirect_type() == 301);
        assert!(!Shape(1 | (0xffff << 8)).has(Shape::SMART));
        // As `link_shape` builds it: a link, active, forwarding, with an expiry, 308.
        let shape = Shape(1 | 2 | 4 | 16 | (308 << 8));
        assert!(shape.has(Shape::LINK) && shape.has(Shape::ACTIVE));
        assert!(shape.has(Shape::FORWARD_QUERY) && shape.has(Shape::EXPIRES_AT));
        assert!(!shape.has(Shape::FLAG_REASON) && !shape.has(Shape::MAX_CLICKS));
        assert!(!shape.has(Shape::PASSWORD) && Shape(1 | 128).has(Shape::PASSWORD));
        assert_eq!(shape.redirect_type(), 308);
        assert_eq!(Shape(1 | (0xffff << 8)).redirect_type(), 0xffff);
        assert!(!Shape(0).has(Shape::LINK));
    }

    #[test]
    fn a_visit_round_trips_through_its_bits() {
        for is_get in [false, true] {
            for has_query in [false, true] {
                for is_post in [false, true] {
                    let visit = Visit {
                        is_get,
                        has_query,
                        is_post,
                    };
                    assert_eq!(Visit::from_bits(visit.to_bits()), visit);
                }
            }
        }
    }
}
