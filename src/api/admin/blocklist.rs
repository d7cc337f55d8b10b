//! The destination blocklist: `GET /api/admin/blocklist` → `{"hosts":[…]}`,
//! `POST /api/admin/blocklist` `{"host"}` → 201, `DELETE /api/admin/blocklist/{host}` → 204.
//! A blocked host also blocks its subdomains; link creates and updates check it
//! ([`ensure_allowed`]) with one bulk KV read per 100 labels of the destination's host.

use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use worker::{Context, Request};

use crate::api::{authenticate_admin, json, json_body, no_content, ApiResult};
use crate::app::App;
use crate::error::ApiError;
use crate::link::TargetUrl;
use crate::moderation::{blocking_candidates, BlockedHost, InvalidHost};
use crate::store::kv::Kv;

/// 400 `blocked_destination` when the URL's host, or any parent domain of it, is blocked;
/// 400 `invalid_url` when the host is longer than DNS allows (the URL Standard accepts such
/// hosts; no resolver could reach one, and it would make the candidate list unbounded).
pub async fn ensure_allowed(kv: &Kv, url: &TargetUrl) -> Result<(), ApiError> {
    ensure_all_allowed(kv, [url]).await
}

/// [`ensure_allowed`] for every destination of a link at once (its `url`, targets and
/// variants): one bulk check of all their candidates, so 50 country targets are a read or two,
/// not fifty.
pub async fn ensure_all_allowed<'a>(
    kv: &Kv,
    urls: impl IntoIterator<Item = &'a TargetUrl>,
) -> Result<(), ApiError> {
    let mut candidates = Vec::new();
    for url in urls {
        candidates.extend(
            blocking_candidates(&url.host())
                .map_err(|InvalidHost(why)| ApiError::InvalidUrl(why))?,
        );
    }
    candidates.sort();
    candidates.dedup();
    if !candidates.is_empty() && kv.any_blocked(&candidates).await? {
        return Err(ApiError::BlockedDestination);
    }
    Ok(())
}

#[derive(Serialize)]
struct HostList {
    hosts: Vec<String>,
}

pub async fn list(req: Request, app: &App, ctx: &Context) -> ApiResult {
    authenticate_admin(&req, app, ctx).await?;
    let hosts = app.kv.blocked_hosts().await?;
    json(200, &HostList { hosts })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddBody {
    host: String,
}

#[derive(Serialize)]
struct Added<'a> {
    host: &'a BlockedHost,
}

/// Adding a host already on the list answers 201 too: the list then holds it, as asked.
pub async fn add(mut req: Request, app: &App, ctx: &Context) -> ApiResult {
    authenticate_admin(&req, app, ctx).await?;
    let body: AddBody = json_body(&mut req).await?;
    let host = BlockedHost::parse(&body.host)?;
    app.kv.block_host(host.as_str()).await?;
    json(201, &Added { host: &host })
}

/// Removing a host that is not on the list answers 204 too.
pub async fn remove(req: Request, app: &App, ctx: &Context, raw_host: &str) -> ApiResult {
    authenticate_admin(&req, app, ctx).await?;
    // An IPv6 host's brackets and colons may come percent-encoded (`encodeURIComponent` does).
    let raw_host = percent_decode_str(raw_host)
        .decode_utf8()
        .map_err(|_| InvalidHost("host must be UTF-8".into()))?;
    let host = BlockedHost::parse(&raw_host)?;
    app.kv.unblock_host(host.as_str()).await?;
    no_content()
}
