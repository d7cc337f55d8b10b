//! Click statistics: `GET /api/links/{slug}/stats` (owner or admin), `GET /api/stats` (all the
//! caller's links together) and `GET /api/stats/top` (the caller's most clicked links). From
//! the Analytics Engine SQL API when an account is configured, else from the D1 roll-up; both
//! answer the same shape. `unique_visitors` is `null` where it cannot be known (clicks counted,
//! none with a visitor id), never a false 0.

use serde::Serialize;
use worker::{Context, Request};

use super::{authenticate, json, query_param, ApiResult};
use crate::account::UserId;
use crate::analytics::{parse_include_bots, unique_visitors, DateRange, Group};
use crate::api::params::parse_limit_within;
use crate::app::App;
use crate::error::ApiError;
use crate::link::Slug;
use crate::store::ae_sql::{ae_groups_sql, ae_top_sql, ae_visitors_sql};
use crate::store::ae_sql::{count, text};
use crate::store::rollup::{ClicksOf, GroupCount, TopLink};
use crate::time::Timestamp;

pub const TOP_DEFAULT_LIMIT: u32 = 10;
pub const TOP_MAX_LIMIT: u32 = 100;

#[derive(Serialize)]
struct Stats {
    /// The link's; absent from the account's stats.
    #[serde(skip_serializing_if = "Option::is_none")]
    slug: Option<String>,
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

/// The query's `group` and `include_bots`.
fn grouping(req: &Request) -> Result<(Group, bool), ApiError> {
    let group =
        Group::parse(query_param(req, "group").as_deref()).map_err(ApiError::InvalidQuery)?;
    Ok((group, bots(req)?))
}

/// The query's `include_bots`.
fn bots(req: &Request) -> Result<bool, ApiError> {
    parse_include_bots(query_param(req, "include_bots").as_deref()).map_err(ApiError::InvalidQuery)
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
    let (group, include_bots) = grouping(&req)?;
    let counts = match range.since(link.created_at) {
        Some(counted) => {
            let of = Of::Link(&link.slug, &link.owner);
            counts(app, of, &counted, group, include_bots).await?
        }
        None => (0, 0, Vec::new()),
    };
    stats(Some(slug.to_string()), range, group, counts)
}

/// `GET /api/stats?from=&to=&group=&include_bots=`: the clicks of all the caller's links
/// together, each counted from its creation day. No `group=variant`: variants are a link's.
pub async fn account_stats(req: Request, app: &App, ctx: &Context) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let range = range(&req, app.now())?;
    let (group, include_bots) = grouping(&req)?;
    if group == Group::Variant {
        return Err(ApiError::InvalidQuery(
            "group=variant is a link's stats: each link has its own variants".into(),
        ));
    }
    let counts = counts(app, Of::Owner(&caller.id), &range, group, include_bots).await?;
    stats(None, range, group, counts)
}

/// `(total, unique visitors, groups)`.
type Counts = (u64, u64, Vec<GroupCount>);

fn stats(slug: Option<String>, range: DateRange, group: Group, counts: Counts) -> ApiResult {
    let (total, visitors, mut groups) = counts;
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
            slug,
            from: range.from,
            to: range.to,
            total,
            unique_visitors: unique_visitors(total, visitors),
            groups,
        },
    )
}

/// Whose clicks the stats count.
#[derive(Clone, Copy)]
enum Of<'a> {
    /// One link's (its owner's, for Analytics Engine, which keeps a slug's lives apart).
    Link(&'a Slug, &'a UserId),
    /// All of the owner's links'.
    Owner(&'a UserId),
}

/// The counts over `counted`, from the Analytics Engine SQL API when configured, else the D1
/// roll-up.
async fn counts(
    app: &App,
    of: Of<'_>,
    counted: &DateRange,
    group: Group,
    include_bots: bool,
) -> Result<Counts, ApiError> {
    let (slug, owner) = match of {
        Of::Link(slug, owner) => (Some(slug), owner),
        Of::Owner(owner) => (None, owner),
    };
    let Some(api) = app.ae_sql() else {
        let of = match slug {
            Some(slug) => ClicksOf::Link(slug.as_str()),
            None => ClicksOf::Owner(owner),
        };
        return Ok(app.rollup.stats(of, counted, group, include_bots).await?);
    };
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

/// `GET /api/stats/top?from=&to=&limit=&include_bots=`: the caller's most clicked links (people
/// only unless `include_bots`, as the stats count them).
pub async fn top(req: Request, app: &App, ctx: &Context) -> ApiResult {
    let kv = &app.kv;
    let caller = authenticate(&req, app, ctx).await?;
    let range = range(&req, app.now())?;
    let limit = parse_limit_within(
        query_param(&req, "limit").as_deref(),
        TOP_DEFAULT_LIMIT,
        TOP_MAX_LIMIT,
    )?;
    let include_bots = bots(&req)?;
    let links = match app.ae_sql() {
        Some(api) => {
            let rows = api
                .query(&ae_top_sql(
                    &api.dataset,
                    &caller.id,
                    &range,
                    limit,
                    include_bots,
                ))
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
        None => {
            app.rollup
                .top(&caller.id, &range, limit, include_bots)
                .await?
        }
    };
    json(200, &Top { links })
}
