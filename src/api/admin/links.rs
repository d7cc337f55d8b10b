//! The admin's view of every link (the design's scenario 3) and moderation.
//! - `GET /api/admin/links?limit=&cursor=&q=&owner=&state=&tag=&tag_mode=&sort=&order=`: the
//!   list (searched, filtered and sorted as [`admin_list_params`] reads it) and each owner's email
//!   come from D1 (a JOIN with `users`), with each link's clicks; the link itself comes from
//!   KV in one bulk read per page, never one read per row.
//! - `POST /api/admin/links/{slug}/flag` `{"reason"}` and `DELETE …/flag`: ordinary versioned
//!   writes through the slug's Durable Object (applied to the link's newest state), KV first
//!   and D1 in the background; a flagged link answers 410 at once here. Unflagging a slug whose
//!   flagged link was deleted frees the slug again (204).

use serde::{Deserialize, Serialize};
use worker::{Context, Request};

use crate::api::list_query::{admin_list_params, first_page_total, Total};
use crate::api::params::{page, path_slug};
use crate::api::view::{link_response, listed, view, LinkView};
use crate::api::{authenticate_admin, json, json_body, no_content, origin, ApiResult};
use crate::app::App;
use crate::error::ApiError;
use crate::moderation::FlagReason;
use crate::service::links::{self as service, Unflagged, Written};
use crate::store::index::{admin_links_count, admin_links_query};
use crate::sync;

#[derive(Serialize)]
struct AdminLink<'a> {
    #[serde(flatten)]
    link: LinkView<'a>,
    owner_email: Option<String>,
}

#[derive(Serialize)]
struct AdminLinkList<'a> {
    links: Vec<AdminLink<'a>>,
    next_cursor: Option<String>,
    /// How many links match, on the first page only.
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
}

/// `GET /api/admin/links` → `{"links":[…, "owner_email"],"next_cursor","total"?}`, newest first
/// unless `sort`/`order` say otherwise; `total` (the count of matches) on the first page only.
/// Rows whose KV value is gone (deleted, index not yet caught up) are left out of the page.
pub async fn list(req: Request, app: &App, ctx: &Context) -> ApiResult {
    authenticate_admin(&req, app, ctx).await?;
    let params = admin_list_params(&req.inner().url())?;
    let origin = origin(&req)?;

    let query = admin_links_query(
        &params.filter,
        params.order,
        params.cursor.as_ref(),
        params.limit + 1,
    );
    let rows = app.index.admin_links(&query).await?;
    let total = match first_page_total(params.cursor.is_none(), rows.len(), params.limit) {
        Total::Known(n) => Some(n),
        Total::Count => Some(app.index.count(&admin_links_count(&params.filter)).await?),
        Total::None => None,
    };
    let (rows, next_cursor) = page(rows, params.limit, |r| {
        r.cursor(params.order).map(|c| c.encode())
    });

    let slugs: Vec<&str> = rows.iter().map(|r| r.slug.as_str()).collect();
    let found = app.kv.links_in_order(&slugs, None).await?;
    let at = app.now();
    let links = rows
        .iter()
        .zip(&found)
        .filter_map(|(row, link)| {
            Some(AdminLink {
                link: listed(link.as_ref()?, row.clicks, &origin.origin, at),
                owner_email: row.owner_email.clone(),
            })
        })
        .collect();
    json(
        200,
        &AdminLinkList {
            links,
            next_cursor,
            total,
        },
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagBody {
    reason: String,
}

/// `POST /api/admin/links/{slug}/flag` `{"reason"}` → 200 the flagged link.
pub async fn flag(mut req: Request, app: &App, ctx: &Context, raw_slug: &str) -> ApiResult {
    let admin = authenticate_admin(&req, app, ctx).await?;
    let body: FlagBody = json_body(&mut req).await?;
    let reason = FlagReason::parse(&body.reason).ok_or(ApiError::InvalidReason)?;
    let slug = path_slug(raw_slug)?;
    let written = service::flag(&app.claims, &admin, &slug, reason).await?;
    answer(&req, app, ctx, written)
}

/// `DELETE /api/admin/links/{slug}/flag` → 200 the link, redirecting again; 204 when the
/// flagged link had been deleted and only its slug was held.
pub async fn unflag(req: Request, app: &App, ctx: &Context, raw_slug: &str) -> ApiResult {
    let admin = authenticate_admin(&req, app, ctx).await?;
    let slug = path_slug(raw_slug)?;
    match service::unflag(&app.claims, &admin, &slug).await? {
        Unflagged::Link(written) => answer(&req, app, ctx, *written),
        Unflagged::SlugCleared => no_content(),
    }
}

/// 200 the written link; its index change in the background.
fn answer(req: &Request, app: &App, ctx: &Context, written: Written) -> ApiResult {
    let response = link_response(200, &view(&written.link, &origin(req)?.origin, app.now()));
    if let Some(change) = written.change {
        ctx.wait_until(sync::apply(app.clone(), change));
    }
    response
}
