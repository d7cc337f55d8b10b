//! Click statistics: `GET /api/links/{slug}/stats` (owner or admin) and `GET /api/stats/top`
//! (the caller's most clicked links). From the Analytics Engine SQL API when an account is
//! configured, else from the D1 roll-up; both answer the same shape. `unique_visitors` is
//! `null` where it cannot be known (clicks counted, none with a visitor id), never a false 0.

use serde::Serialize;
use worker::{Context, Request};

use super::{authenticate, json, query_param, ApiResult};
use crate::analytics::{parse_include_bots, unique_visitors, DateRange, Group};
use crate::api::params::parse_limit_within;
use crate::app::App;
use crate::error::ApiError;
use crate::link::{Link, Slug};
use crate::store::ae_sql::{ae_groups_sql, ae_top_sql, ae_visitors_sql};
use crate::store::ae_sql::{count, text};
use crate::store::rollup::{GroupCount, TopLink};
use crate::time::Timestamp;

pub const TOP_DEFAULT_LIMIT: u32 = 10;
pub const TOP_MAX_LIMIT: u32 = 100;

#[derive(Serialize)]
struct Stats {
    slug: String,
    from: String,
    to: String,
    total: u64,
    /// `null` when clicks were counted but none carried a visitor id (unknown, not zero).
    unique_visitors: Option<u64>,
    groups: Vec<GroupCount>,
}

#[derive(Serialize)]
struct Top {
    links: Vec<TopLink>,
}

fn range(req: &Request, now: Timestamp) -> Result<DateRange, ApiError> {
    DateRange::parse(
        query_param(req, "from").as_deref(),
        query_param(req, "to").as_deref(),
        now,
    )
    .map_err(ApiError::InvalidQuery)
}

/// `GET /api/links/{slug}/stats?from=&to=&group=&include_bots=`: the link's clicks from its
/// creation day on (as the lists count them), over the range asked for.
pub async fn link_stats(req: Request, app: &App, ctx: &Context, raw_slug: &str) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let slug = Slug::parse(raw_slug).map_err(|_| ApiError::NotFound)?;
    let link = match app.kv.link(&slug).await? {
        Some(link) if caller.may_manage(&link.owner) => link,
        _ => return Err(ApiError::NotFound),
    };
    let range = range(&req, app.now())?;
    let group =
        Group::parse(query_param(&req, "group").as_deref()).map_err(ApiError::InvalidQuery)?;
    let include_bots = parse_include_bots(query_param(&req, "include_bots").as_deref())
        .map_err(ApiError::InvalidQuery)?;
    let (total, visitors, mut groups) = match range.since(link.created_at) {
        Some(counted) => counts(app, &link, &counted, group, include_bots).await?,
        None => (0, 0, Vec::new()),
    };
    if group == Group::Day {
        // Analytics Engine answers "2026-11-25 00:00:00"; both backends list days in order.
        for g in &mut groups {
            g.key.truncate(10);
        }
        groups.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    }
    json(
        200,
        &Stats {
            slug: slug.to_string(),
            from: range.from,
            to: range.to,
            total,
            unique_visitors: unique_visitors(total, visitors),
            groups,
        },
    )
}

/// `(total, unique visitors, groups)` of the link's clicks over `counted`.
async fn counts(
    app: &App,
    link: &Link,
    counted: &DateRange,
    group: Group,
    include_bots: bool,
) -> Result<(u64, u64, Vec<GroupCount>), ApiError> {
    let Some(api) = app.ae_sql() else {
        let slug = link.slug.as_str();
        return Ok(app.rollup.stats(slug, counted, group, include_bots).await?);
    };
    let (slug, owner) = (&link.slug, &link.owner);
    let rows = api
        .query(&ae_groups_sql(
            &api.dataset,
            slug,
            owner,
            counted,
            group,
            include_bots,
        ))
        .await?;
    let groups: Vec<GroupCount> = rows
        .iter()
        .map(|r| GroupCount {
            key: text(r, "key"),
            clicks: count(r, "clicks"),
        })
        .collect();
    let visitors = api
        .query(&ae_visitors_sql(
            &api.dataset,
            slug,
            owner,
            counted,
            include_bots,
        ))
        .await?;
    let unique = visitors.first().map_or(0, |r| count(r, "visitors"));
    Ok((groups.iter().map(|g| g.clicks).sum(), unique, groups))
}

/// `GET /api/stats/top?from=&to=&limit=`: the caller's most clicked links (people only).
pub async fn top(req: Request, app: &App, ctx: &Context) -> ApiResult {
    let kv = &app.kv;
    let caller = authenticate(&req, app, ctx).await?;
    let range = range(&req, app.now())?;
    let limit = parse_limit_within(
        query_param(&req, "limit").as_deref(),
        TOP_DEFAULT_LIMIT,
        TOP_MAX_LIMIT,
    )?;
    let links = match app.ae_sql() {
        Some(api) => {
            let rows = api
                .query(&ae_top_sql(&api.dataset, &caller.id, &range, limit))
                .await?;
            let slugs: Vec<Slug> = rows
                .iter()
                .filter_map(|r| Slug::parse(&text(r, "slug")).ok())
                .collect();
            let mut values = kv.links_bulk(&slugs).await?;
            rows.iter()
                .filter_map(|r| {
                    let slug = Slug::parse(&text(r, "slug")).ok()?;
                    // Links deleted since are left out: their URL is gone.
                    let link = values.remove(&slug)?.ok()??;
                    Some(TopLink {
                        slug: slug.to_string(),
                        url: link.url.as_str().to_owned(),
                        clicks: count(r, "clicks"),
                    })
                })
                .collect()
        }
        None => app.rollup.top(&caller.id, &range, limit).await?,
    };
    json(200, &Top { links })
}
