//! The HTTP shell: one module per resource, one function per endpoint, and the plumbing every
//! handler shares: authentication, bounded JSON bodies, query parameters, and turning a result
//! into a response (errors always as the JSON envelope from [`ApiError`]).
//!
//! Handler order: authenticate, parse into domain types, act, respond; background index work
//! only through `sync` inside `wait_until`.

pub mod admin;
pub mod bulk;
pub mod export;
pub mod health;
pub mod history;
pub mod home;
pub mod imports;
pub mod keys;
pub mod links;
pub mod list_query;
pub mod params;
pub mod password;
pub mod qr;
pub mod ratelimit;
pub mod redirect;
pub mod sessions;
pub mod shlink;
pub mod stats;
pub mod tags;
pub mod view;

use std::cell::RefCell;
use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::js_sys::{Promise, Uint8Array};
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_error, web_sys, Context, Request, Response};

use crate::account::{should_record_use, ApiKeyRecord, KeyHash, KeyId, Role, User};
use crate::app::App;
use crate::auth::{credential, Caller, Credential};
use crate::error::ApiError;
use crate::ratelimit::WINDOW_SECS;
use crate::store::http;
use crate::store::index::ListCursor;
use crate::time::Timestamp;
use crate::web_url::{self, WebUrl};

/// Request bodies above this are refused with 413 before parsing.
pub const MAX_BODY_BYTES: usize = 8 * 1024;

pub type ApiResult = Result<Response, ApiError>;

/// Who is calling: the built-in admin, or a user by API key (looked up in KV, never D1), from
/// the bearer token; without one, from the dashboard's session cookie ([`sessions`]), whose
/// state-changing requests must carry the CSRF header. A bearer token always wins, and a bad
/// one is 401 whatever cookie comes with it. A disabled user's keys fail like unknown ones.
pub async fn authenticate(req: &Request, app: &App, ctx: &Context) -> Result<Caller, ApiError> {
    let header = req.headers().get("Authorization").ok().flatten();
    if header.is_none() {
        if let Some(caller) = sessions::cookie_caller(req, app, ctx).await {
            return caller;
        }
    }
    let given = credential(header.as_deref(), app.config.admin_token.as_deref());
    caller_of(given, app, ctx).await
}

/// The caller a credential stands for (`None`: no usable credential, 401).
pub async fn caller_of(
    given: Option<Credential>,
    app: &App,
    ctx: &Context,
) -> Result<Caller, ApiError> {
    if let Some(credential) = &given {
        // Before the key's KV read: a flood of guessed keys costs KV nothing.
        let subject = crate::ratelimit::api_key(credential);
        ratelimit::count_api_request(&app.api_limiter, app.config.api_rate_limit, subject).await?;
    }
    match given {
        None => Err(ApiError::Unauthorized),
        Some(Credential::Admin) => Ok(Caller::admin()),
        Some(Credential::Key(key)) => {
            let (user, record) = key_holder(&key.hash(), app).await?;
            note_key_use(app, ctx, &record.id);
            Ok(Caller {
                id: user.id,
                role: user.role,
            })
        }
    }
}

/// The enabled user holding the key of this hash, and the key's record; 401 when the key is
/// unknown (or revoked) or its user is missing or disabled.
pub async fn key_holder(hash: &KeyHash, app: &App) -> Result<(User, ApiKeyRecord), ApiError> {
    let kv = &app.kv;
    let record = kv.api_key(hash).await?.ok_or(ApiError::Unauthorized)?;
    if !record.hash.matches(hash) {
        return Err(ApiError::Unauthorized);
    }
    let user = kv
        .user(&record.user_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if user.disabled {
        return Err(ApiError::Unauthorized);
    }
    Ok((user, record))
}

thread_local! {
    /// When this isolate last recorded each key's use: most requests then cost no KV write.
    static LAST_RECORDED: RefCell<HashMap<KeyId, Timestamp>> = RefCell::new(HashMap::new());
}

/// Records the key's use in the background, at most hourly per key and isolate.
pub fn note_key_use(app: &App, ctx: &Context, id: &KeyId) {
    let at = app.now();
    let due = LAST_RECORDED.with(|seen| {
        let mut seen = seen.borrow_mut();
        let due = should_record_use(seen.get(id).copied(), at);
        if due {
            seen.insert(id.clone(), at);
        }
        due
    });
    if !due {
        return;
    }
    let (app, id) = (app.clone(), id.clone());
    ctx.wait_until(async move {
        if let Err(e) = app.kv.record_key_use(&id, at).await {
            console_error!("recording use of key {id}: {e}");
        }
    });
}

pub fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    match caller.role {
        Role::Admin => Ok(()),
        Role::User => Err(ApiError::Forbidden),
    }
}

/// [`authenticate`], then 403 unless the caller is an admin.
pub async fn authenticate_admin(
    req: &Request,
    app: &App,
    ctx: &Context,
) -> Result<Caller, ApiError> {
    let caller = authenticate(req, app, ctx).await?;
    require_admin(&caller)?;
    Ok(caller)
}

/// Reads a JSON body of at most [`MAX_BODY_BYTES`] into `T` (which should deny unknown fields).
pub async fn json_body<T: DeserializeOwned>(req: &mut Request) -> Result<T, ApiError> {
    parse_json(&body_bytes(req).await?)
}

/// Like [`json_body`], but an empty body means `T::default()` (every field optional).
pub async fn json_body_or_default<T: DeserializeOwned + Default>(
    req: &mut Request,
) -> Result<T, ApiError> {
    let bytes = body_bytes(req).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_json(&bytes)
}

// The body is read by the runtime's own stream reader, within the limit (`body.js` says how and
// why it drains what comes past it).
#[wasm_bindgen(module = "/src/api/body.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn read_body_within(request: &web_sys::Request, limit: u32) -> Result<Promise, JsValue>;
}

/// Reads the body as a stream, refusing it (413) as soon as it passes [`MAX_BODY_BYTES`]:
/// a `Content-Length` over the limit is refused before any byte is read, and a body without
/// one (chunked) at the chunk that crosses the limit: nothing past it is kept or parsed, and
/// the answer comes within a second whatever the sender does (see `read_body_within`).
async fn body_bytes(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    body_bytes_within(req, MAX_BODY_BYTES).await
}

/// [`body_bytes`] with another limit, for the endpoints whose bodies are bigger by design (a
/// bulk create, an import's file): 413 past `limit`, nothing past it kept.
pub async fn body_bytes_within(req: &mut Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::PayloadTooLarge { limit };
    let unreadable =
        |e: JsValue| ApiError::InvalidJson(format!("could not read the request body: {e:?}"));
    let declared = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let bound = u32::try_from(limit).unwrap_or(u32::MAX);
    let read = read_body_within(req.inner(), bound).map_err(unreadable)?;
    let body = JsFuture::from(read).await.map_err(unreadable)?;
    if body.is_null() {
        return Err(too_large());
    }
    let bytes = Uint8Array::new(&body).to_vec();
    // The reader counted; this holds whatever it answered.
    if bytes.len() > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Parses a JSON body; every failure is 400 `invalid_json` with serde's explanation.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_str(object_text(bytes)?).map_err(invalid_json)
}

/// The checks of [`parse_json`] that do not depend on `T`, kept out of its per-type copies.
fn object_text(bytes: &[u8]) -> Result<&str, ApiError> {
    // serde's derived structs also accept arrays (fields by position): only objects count.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::InvalidJson(
            "request body must be a JSON object".into(),
        ));
    }
    // Read as `str`, like every other JSON edgelink parses: `from_slice` would be a second
    // copy of serde_json's parser in the wasm.
    std::str::from_utf8(bytes)
        .map_err(|_| ApiError::InvalidJson("request body is not UTF-8".into()))
}

fn invalid_json(e: serde_json::Error) -> ApiError {
    ApiError::InvalidJson(format!("invalid JSON body: {e}"))
}

/// The scheme and host the request came in on, e.g. `https://sho.rt`: short URLs are built
/// on it, and links may not point back at it.
pub struct Origin {
    pub origin: String,
    pub host: String,
}

pub fn origin(req: &Request) -> Result<Origin, ApiError> {
    let raw = req.inner().url();
    let url =
        WebUrl::parse(&raw).ok_or_else(|| ApiError::Internal(format!("request url: {raw}")))?;
    Ok(Origin {
        origin: url.origin,
        host: url.host,
    })
}

pub fn json<T: Serialize>(status: u16, body: &T) -> ApiResult {
    let text = serde_json::to_string(body).map_err(|_| unserialisable(http::unencodable()))?;
    json_text(status, text)
}

/// The response part of [`json`], kept out of its per-type copies.
fn json_text(status: u16, text: String) -> ApiResult {
    http::json_response(status, text).map_err(unserialisable)
}

fn unserialisable(e: worker::Error) -> ApiError {
    ApiError::Internal(format!("serialising response: {e}"))
}

pub fn no_content() -> ApiResult {
    Ok(Response::builder().with_status(204).empty())
}

/// The one place an [`ApiError`] becomes a response. Server errors are logged with detail.
pub fn error_response(e: &ApiError) -> Response {
    if e.is_server_error() {
        console_error!("{} {}: {e}", e.status(), e.code());
    }
    let built = Response::builder()
        .with_status(e.status())
        .with_header("Content-Type", "application/json; charset=utf-8")
        .and_then(|b| match e {
            ApiError::RateLimited { .. } => b.with_header("Retry-After", &WINDOW_SECS.to_string()),
            _ => Ok(b),
        });
    match built {
        Ok(b) => b.fixed(e.body().into_bytes()),
        Err(_) => Response::builder().with_status(e.status()).empty(),
    }
}

pub fn respond(result: ApiResult) -> Response {
    result.unwrap_or_else(|e| error_response(&e))
}

/// A query parameter's value, `None` when absent.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    web_url::query_param(&req.inner().url(), name)
}

/// The `cursor` parameter: absent or empty is the first page; anything else must be a cursor
/// this API issued.
pub fn list_cursor(req: &Request) -> Result<Option<ListCursor>, ApiError> {
    match query_param(req, "cursor").filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(raw) => ListCursor::decode(&raw)
            .map(Some)
            .ok_or(ApiError::InvalidCursor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        url: String,
        slug: Option<String>,
    }

    #[test]
    fn only_json_objects_are_bodies() {
        assert!(parse_json::<Body>(br#" {"url":"https://example.com"}"#).is_ok());
        for bad in [
            &b""[..],
            b"   ",
            br#"["https://example.com", null]"#,
            b"\"https://example.com\"",
            b"null",
            b"{",
            br#"{"url":"x","extra":1}"#,
            b"{\"url\":\"https://example.com/\xff\"}",
        ] {
            let err = parse_json::<Body>(bad).unwrap_err();
            assert_eq!(err.code(), "invalid_json", "{bad:?}");
        }
    }
}
