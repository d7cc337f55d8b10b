//! `GET /api/links/{slug}/qr`: the link's short URL as a QR code, drawn in the Worker
//! ([`crate::qr`]). Only the owner or an admin gets it; anyone else is told the link does not
//! exist, as on every link route.

use worker::{Context, Request, Response};

use super::params::path_slug;
use super::{authenticate, origin, query_param, ApiResult};
use crate::app::App;
use crate::error::ApiError;
use crate::qr::{etag, if_none_match_hits, png, svg, Format, Modules, QrParams};

/// `?format=svg|png&size=&margin=&ecc=` → 200 the image, `Cache-Control: private` (it is the
/// owner's), with an `ETag`; 304 when `If-None-Match` has it; 400 `invalid_query` for a
/// parameter out of bounds.
pub async fn link_qr(req: Request, app: &App, ctx: &Context, raw_slug: &str) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let q = |name: &str| query_param(&req, name);
    let params = QrParams::parse(
        q("format").as_deref(),
        q("size").as_deref(),
        q("margin").as_deref(),
        q("ecc").as_deref(),
    )
    .map_err(|e| ApiError::InvalidQuery(e.0))?;
    let slug = path_slug(raw_slug)?;
    match app.kv.link(&slug).await? {
        Some(link) if caller.may_manage(&link.owner) => {}
        _ => return Err(ApiError::NotFound),
    }
    let url = format!("{}/{slug}", origin(&req)?.origin);
    let tag = etag(&url, &params);
    let internal = |e: worker::Error| ApiError::Internal(format!("qr response: {e}"));
    let builder = Response::builder()
        .with_header("Cache-Control", "private, max-age=0, must-revalidate")
        .and_then(|b| b.with_header("ETag", &tag))
        .map_err(internal)?;
    let if_none_match = req.headers().get("If-None-Match").ok().flatten();
    if if_none_match_hits(if_none_match.as_deref(), &tag) {
        return Ok(builder.with_status(304).empty());
    }
    let modules = Modules::encode(&url, params.ecc)
        .ok_or_else(|| ApiError::Internal(format!("{url} does not fit a QR code")))?;
    let body = match params.format {
        Format::Svg => svg(&modules, params.size, params.margin).into_bytes(),
        Format::Png => png(&modules, params.size, params.margin)
            .map_err(|e| ApiError::Internal(format!("qr png: {e}")))?,
    };
    builder
        .with_status(200)
        .with_header("Content-Type", params.format.content_type())
        .map(|b| b.fixed(body))
        .map_err(internal)
}
