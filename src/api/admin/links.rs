//! The admin's view of every link (the design's scenario 3) and moderation.
//! - `GET /api/admin/links?limit=&cursor=&q=&owner=&state=`: the list and each owner's email
//!   come from D1 (a JOIN with `users`); the state that lives in KV (is_active, flag_reason,
//!   title …) comes from KV in one bulk read per page, never one read per row.
//! - `POST /api/admin/links/{slug}/flag` `{"reason"}` and `DELETE …/flag`: ordinary versioned
//!   writes, KV first and D1 in the background; a flagged link answers 410 at once here.

use serde::{Deserialize, Serialize};
use worker::{Context, Env, Request};

use crate::api::links::{parse_limit, view, write, LinkView};
use crate::api::{
    authenticate, json, json_body, list_cursor, origin, query_param, require_admin, ApiResult,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::link::{Link, LinkState, Slug};
use crate::moderation::FlagReason;
use crate::platform::{index, kv, now};
use crate::store::index::{admin_links_query, AdminLinkFilter, ListCursor};
use crate::sync::{self, IndexChange};

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
}

/// Parses `state=`: absent → any; else one of the three states.
pub fn parse_state(raw: Option<&str>) -> Result<Option<LinkState>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some("active") => Ok(Some(LinkState::Active)),
        Some("disabled") => Ok(Some(LinkState::Disabled)),
        Some("flagged") => Ok(Some(LinkState::Flagged)),
        Some(_) => Err(ApiError::InvalidState(
            "state must be one of: active, disabled, flagged".into(),
        )),
    }
}

/// `GET /api/admin/links` → `{"links":[…, "owner_email"],"next_cursor"}`, newest first.
/// Rows whose KV value is gone (deleted, index not yet caught up) are left out of the page.
pub async fn list(req: Request, env: &Env, ctx: &Context) -> ApiResult {
    let kv = kv(env)?;
    require_admin(&authenticate(&req, env, ctx, &kv).await?)?;
    let limit = parse_limit(query_param(&req, "limit").as_deref())?;
    let cursor = list_cursor(&req)?;
    let text = |name: &str| {
        query_param(&req, name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let filter = AdminLinkFilter {
        q: text("q"),
        owner: text("owner"),
        state: parse_state(text("state").as_deref())?,
    };
    let origin = origin(&req)?;

    let query = admin_links_query(&filter, cursor.as_ref(), limit + 1);
    let mut rows = index(env)?.admin_links(&query).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last())
        .flatten()
        .and_then(|r| ListCursor::after_row(&r.created_at, &r.slug));

    let slugs: Vec<Slug> = rows
        .iter()
        .filter_map(|r| Slug::parse(&r.slug).ok())
        .collect();
    let mut values = kv.links_bulk(&slugs).await?;
    let mut links: Vec<(Link, Option<String>)> = Vec::with_capacity(rows.len());
    for row in rows {
        let Ok(slug) = Slug::parse(&row.slug) else {
            continue;
        };
        if let Some(Ok(Some(link))) = values.remove(&slug) {
            links.push((link, row.owner_email));
        }
    }
    let at = now();
    let links = links
        .iter()
        .map(|(link, email)| AdminLink {
            link: view(link, &origin.origin, at),
            owner_email: email.clone(),
        })
        .collect();
    json(200, &AdminLinkList { links, next_cursor })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagBody {
    reason: String,
}

/// `POST /api/admin/links/{slug}/flag` `{"reason"}` → 200 the flagged link.
pub async fn flag(mut req: Request, env: &Env, ctx: &Context, raw_slug: &str) -> ApiResult {
    let kv = kv(env)?;
    let admin = authenticate(&req, env, ctx, &kv).await?;
    require_admin(&admin)?;
    let body: FlagBody = json_body(&mut req).await?;
    let reason = FlagReason::parse(&body.reason).ok_or(ApiError::InvalidReason)?;
    rewrite(req, env, ctx, &kv, &admin, raw_slug, |l| {
        l.flagged(reason, now())
    })
    .await
}

/// `DELETE /api/admin/links/{slug}/flag` → 200 the link, redirecting again.
pub async fn unflag(req: Request, env: &Env, ctx: &Context, raw_slug: &str) -> ApiResult {
    let kv = kv(env)?;
    let admin = authenticate(&req, env, ctx, &kv).await?;
    require_admin(&admin)?;
    rewrite(req, env, ctx, &kv, &admin, raw_slug, |l| l.unflagged(now())).await
}

/// Reads the link, writes `change(link)` through the slug's writer, answers, and indexes it in
/// the background.
async fn rewrite(
    req: Request,
    env: &Env,
    ctx: &Context,
    kv: &crate::store::kv::Kv,
    admin: &Caller,
    raw_slug: &str,
    change: impl FnOnce(&Link) -> Link,
) -> ApiResult {
    let slug = Slug::parse(raw_slug).map_err(|_| ApiError::NotFound)?;
    let link = kv.link(&slug).await?.ok_or(ApiError::NotFound)?;
    let updated = write(env, change(&link)).await?;
    let response = json(200, &view(&updated, &origin(&req)?.origin, now()));
    ctx.wait_until(sync::apply(
        env.clone(),
        IndexChange::updated(updated, &admin.id),
    ));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_filter_accepts_the_three_states_only() {
        assert_eq!(parse_state(None).unwrap(), None);
        assert_eq!(parse_state(Some("")).unwrap(), None);
        assert_eq!(
            parse_state(Some("flagged")).unwrap(),
            Some(LinkState::Flagged)
        );
        assert!(parse_state(Some("archived")).is_err());
    }
}
