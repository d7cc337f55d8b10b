//! The Shlink-compatible REST API under `/rest` (docs/shlink.md): Shlink's clients (the web
//! client, the JS SDK, CLI tools) work against edgelink unchanged. A thin layer: parameters
//! and bodies are parsed by [`crate::shlink`], every write goes through the link service (the
//! slug's Durable Object, KV first, the index in the background), and reads use the same KV
//! values and D1 index as edgelink's own API.
//!
//! This file is the shell every endpoint shares: routing, `X-Api-Key` authentication (an
//! edgelink API key, or `ADMIN_TOKEN` as Shlink's admin key), CORS on every answer, and
//! errors as `application/problem+json`.

mod short_urls;
mod stats;
mod tags;

use serde::Serialize;
use worker::{console_error, Context, Request, Response};

use super::caller_of;
use crate::app::App;
use crate::auth::{token_credential, Caller};
use crate::error::ApiError;
use crate::ratelimit::WINDOW_SECS;
use crate::shlink::problem::{Problem, PROBLEM_CONTENT_TYPE};
use crate::shlink::route::ShlinkRoute;
use crate::shlink::SHLINK_VERSION;

pub type ShlinkResult = Result<Response, Problem>;

const ALLOW_ORIGIN: (&str, &str) = ("Access-Control-Allow-Origin", "*");
const PREFLIGHT_HEADERS: &[(&str, &str)] = &[
    (
        "Access-Control-Allow-Methods",
        "GET, POST, PUT, PATCH, DELETE",
    ),
    (
        "Access-Control-Allow-Headers",
        "X-Api-Key, Content-Type, Accept",
    ),
    ("Access-Control-Max-Age", "3600"),
];

/// Answers any request under `/rest/`.
pub async fn serve(req: Request, app: &App, ctx: &Context) -> Response {
    let method = req.method().to_string();
    let path = req.path();
    let result = match ShlinkRoute::parse(&method, &path) {
        ShlinkRoute::Preflight => preflight(),
        ShlinkRoute::Health => health(),
        ShlinkRoute::NotFound => Err(Problem::NotFound),
        route => match authenticate(&req, app, ctx, route).await {
            Ok(caller) => dispatch(route, req, app, ctx, &caller).await,
            Err(problem) => Err(problem),
        },
    };
    result.unwrap_or_else(|p| problem_response(&p))
}

async fn dispatch(
    route: ShlinkRoute<'_>,
    req: Request,
    app: &App,
    ctx: &Context,
    caller: &Caller,
) -> ShlinkResult {
    match route {
        ShlinkRoute::ListShortUrls => short_urls::list(&req, app, caller).await,
        ShlinkRoute::CreateShortUrl => short_urls::create(req, app, ctx, caller).await,
        ShlinkRoute::Shorten => short_urls::shorten(&req, app, ctx, caller).await,
        ShlinkRoute::GetShortUrl(code) => short_urls::get(&req, app, caller, code).await,
        ShlinkRoute::EditShortUrl(code) => short_urls::edit(req, app, ctx, caller, code).await,
        ShlinkRoute::DeleteShortUrl(code) => short_urls::delete(app, ctx, caller, code).await,
        ShlinkRoute::ShortUrlVisits(code) => stats::link_visits(&req, app, caller, code).await,
        ShlinkRoute::VisitsOverview => stats::overview(app, caller).await,
        ShlinkRoute::Tags => stats::tags(app, caller, false).await,
        ShlinkRoute::TagStats => stats::tags(app, caller, true).await,
        ShlinkRoute::RenameTag => tags::rename(req, app, ctx, caller).await,
        ShlinkRoute::DeleteTags => tags::delete(&req, app, ctx, caller).await,
        ShlinkRoute::Domains => domains(&req),
        ShlinkRoute::MercureInfo => Err(Problem::MercureNotConfigured),
        ShlinkRoute::Preflight | ShlinkRoute::Health | ShlinkRoute::NotFound => {
            Err(Problem::NotFound)
        }
    }
}

/// `X-Api-Key` (or, for `/short-urls/shorten` only, `apiKey` in the query): no or an empty
/// key is `missing-authentication`, any other failure `invalid-api-key`.
async fn authenticate(
    req: &Request,
    app: &App,
    ctx: &Context,
    route: ShlinkRoute<'_>,
) -> Result<Caller, Problem> {
    let header = req.headers().get("X-Api-Key").ok().flatten();
    let key = match (header, route) {
        (Some(key), _) => Some(key),
        (None, ShlinkRoute::Shorten) => super::query_param(req, "apiKey"),
        (None, _) => None,
    };
    let key = key.filter(|k| !k.trim().is_empty());
    let Some(key) = key else {
        return Err(Problem::MissingAuthentication);
    };
    let given = token_credential(&key, app.config.admin_token.as_deref());
    caller_of(given, app, ctx).await.map_err(|e| match e {
        ApiError::Unauthorized => Problem::InvalidApiKey,
        other => problem_of(other),
    })
}

/// An edgelink error as a Shlink problem, for errors no field or short code explains (those
/// are mapped where the handler knows them).
pub fn problem_of(e: ApiError) -> Problem {
    if e.is_server_error() {
        console_error!("shlink api: {} {}: {e}", e.status(), e.code());
    }
    problem_for(&e)
}

/// [`problem_of`] without the log line.
fn problem_for(e: &ApiError) -> Problem {
    if e.is_server_error() {
        return Problem::Internal { status: e.status() };
    }
    let field = |name: &str| Problem::invalid(&[name], e.public_message());
    match e {
        ApiError::Unauthorized => Problem::InvalidApiKey,
        ApiError::InvalidUrl(_) | ApiError::BlockedDestination => field("longUrl"),
        ApiError::InvalidSlug(_) => field("customSlug"),
        ApiError::InvalidTitle(_) => field("title"),
        ApiError::InvalidTags(_) => field("tags"),
        ApiError::InvalidExpiry(_) => field("validUntil"),
        ApiError::InvalidMaxClicks(_) => field("maxVisits"),
        ApiError::InvalidJson(_) => Problem::invalid(&[], e.public_message()),
        ApiError::NotFound => Problem::NotFound,
        ApiError::RateLimited { .. } => Problem::Other {
            status: 429,
            code: "rate-limited",
            detail: e.public_message(),
        },
        ApiError::PayloadTooLarge { .. } => Problem::Other {
            status: 413,
            code: "payload-too-large",
            detail: e.public_message(),
        },
        _ => Problem::Other {
            status: e.status(),
            code: "invalid-request",
            detail: e.public_message(),
        },
    }
}

/// `status` with `body` as JSON, CORS-readable.
pub fn json<T: Serialize>(status: u16, body: &T) -> ShlinkResult {
    Response::builder()
        .with_status(status)
        .with_header(ALLOW_ORIGIN.0, ALLOW_ORIGIN.1)
        .and_then(|b| b.from_json(body))
        .map_err(|e| problem_of(ApiError::Internal(format!("serialising response: {e}"))))
}

pub fn text(body: String) -> ShlinkResult {
    Response::builder()
        .with_status(200)
        .with_header(ALLOW_ORIGIN.0, ALLOW_ORIGIN.1)
        .and_then(|b| b.with_header("Content-Type", "text/plain; charset=utf-8"))
        .map(|b| b.fixed(body.into_bytes()))
        .map_err(|e| problem_of(ApiError::Internal(format!("text response: {e}"))))
}

pub fn no_content() -> ShlinkResult {
    Response::builder()
        .with_status(204)
        .with_header(ALLOW_ORIGIN.0, ALLOW_ORIGIN.1)
        .map(|b| b.empty())
        .map_err(|e| problem_of(ApiError::Internal(format!("empty response: {e}"))))
}

fn problem_response(p: &Problem) -> Response {
    let built = Response::builder()
        .with_status(p.status())
        .with_header(ALLOW_ORIGIN.0, ALLOW_ORIGIN.1)
        .and_then(|b| b.with_header("Content-Type", PROBLEM_CONTENT_TYPE))
        .and_then(|b| match p.status() {
            429 => b.with_header("Retry-After", &WINDOW_SECS.to_string()),
            _ => Ok(b),
        });
    match built {
        Ok(b) => b.fixed(p.body().into_bytes()),
        Err(_) => Response::builder().with_status(p.status()).empty(),
    }
}

/// `OPTIONS` on any `/rest` path: 204 allowing Shlink's headers and methods, without a key.
fn preflight() -> ShlinkResult {
    let mut builder = Response::builder().with_status(204);
    for (name, value) in std::iter::once(&ALLOW_ORIGIN).chain(PREFLIGHT_HEADERS) {
        builder = builder
            .with_header(name, value)
            .map_err(|e| problem_of(ApiError::Internal(format!("preflight: {e}"))))?;
    }
    Ok(builder.empty())
}

/// `GET /rest/health` and `/rest/v3/health`, with any key or none.
fn health() -> ShlinkResult {
    json(
        200,
        &serde_json::json!({
            "status": "pass",
            "version": SHLINK_VERSION,
            "links": {
                "about": "https://shlink.io",
                "project": "https://github.com/shlinkio/shlink",
            },
        }),
    )
}

/// `GET /domains`: the host (and port) the request came in on, as the one default domain.
fn domains(req: &Request) -> ShlinkResult {
    // The authority short URLs are made on, port included, as Shlink names domains.
    let origin = super::origin(req).map_err(problem_of)?.origin;
    let host = origin.split_once("://").map_or(origin.as_str(), |(_, a)| a);
    let none = serde_json::json!({
        "baseUrlRedirect": null,
        "regular404Redirect": null,
        "invalidShortUrlRedirect": null,
    });
    json(
        200,
        &serde_json::json!({
            "domains": {
                "data": [{ "domain": host, "isDefault": true, "redirects": none }],
                "defaultRedirects": none,
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    fn elements(p: Problem) -> Vec<String> {
        match p {
            Problem::InvalidData {
                invalid_elements, ..
            } => invalid_elements,
            other => panic!("not invalid-data: {other:?}"),
        }
    }

    #[test]
    fn edgelink_errors_become_shlink_problems_naming_the_field() {
        for (e, field) in [
            (ApiError::InvalidUrl("x".into()), "longUrl"),
            (ApiError::BlockedDestination, "longUrl"),
            (ApiError::InvalidSlug("x".into()), "customSlug"),
            (ApiError::InvalidTitle("x".into()), "title"),
            (ApiError::InvalidTags("x".into()), "tags"),
            (ApiError::InvalidExpiry("x".into()), "validUntil"),
            (ApiError::InvalidMaxClicks("x".into()), "maxVisits"),
        ] {
            assert_eq!(elements(problem_for(&e)), vec![field]);
        }
        assert_eq!(problem_for(&ApiError::Unauthorized), Problem::InvalidApiKey);
        assert_eq!(problem_for(&ApiError::NotFound), Problem::NotFound);
        let big = problem_for(&ApiError::PayloadTooLarge { limit: 8192 });
        assert_eq!((big.status(), big.code()), (413, "payload-too-large"));
    }

    #[test]
    fn server_failures_are_generic_problems() {
        let p = problem_for(&ApiError::from(StoreError::Index("no such table".into())));
        assert_eq!(p, Problem::Internal { status: 503 });
        assert!(!p.body().contains("no such table"));
        let p = problem_for(&ApiError::Internal("secret".into()));
        assert_eq!((p.status(), p.code()), (500, "internal-server-error"));
    }
}
