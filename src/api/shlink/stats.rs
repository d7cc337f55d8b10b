//! Shlink's counting endpoints over the links in view: a link's single visits
//! (`GET /short-urls/{shortCode}/visits`, from the `visits` table), the visits overview
//! (`GET /visits`) and the tags (`GET /tags`, `GET /tags/stats`), counts from the click
//! roll-up.

use worker::Request;

use super::short_urls::{owned_link, owner_in_view};
use super::{json, problem_of, ShlinkResult};
use crate::app::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::shlink::params::{parse_date, parse_flag, Paging, VISITS_PER_PAGE};
use crate::shlink::problem::Problem;
use crate::shlink::shape::{RecordedVisit, Visit, VisitsSummary};
use crate::store::index::shlink::{
    overview_query, tag_stats_query, visits_count, visits_query, VisitFilter,
};
use crate::store::index::OWNER_TAGS_MAX;
use crate::store::StoreError;
use crate::web_url::query_param;

fn store(e: StoreError) -> Problem {
    problem_of(ApiError::from(e))
}

/// `GET /short-urls/{shortCode}/visits?page=&itemsPerPage=&startDate=&endDate=&excludeBots=`
/// → the link's visits, newest first, 5000 a page by default and at most.
pub async fn link_visits(req: &Request, app: &App, caller: &Caller, code: &str) -> ShlinkResult {
    let url = req.inner().url();
    let param = |name: &str| query_param(&url, name).filter(|v| !v.trim().is_empty());
    let mut invalid = Vec::new();
    let paging = Paging::parse(
        param("page").as_deref(),
        param("itemsPerPage").as_deref(),
        VISITS_PER_PAGE,
        VISITS_PER_PAGE,
    )
    .map_err(|name| invalid.push(name))
    .ok();
    let mut date = |name: &'static str| match param(name) {
        None => None,
        Some(raw) => parse_date(&raw).map(Some).unwrap_or_else(|| {
            invalid.push(name);
            None
        }),
    };
    let (start, end) = (date("startDate"), date("endDate"));
    let Some(paging) = paging.filter(|_| invalid.is_empty()) else {
        return Err(Problem::invalid(
            &invalid,
            "page and itemsPerPage must be positive whole numbers, dates ISO-8601",
        ));
    };
    let link = owned_link(app, caller, code).await?;
    // A re-created slug starts without its earlier life's visits.
    let since = start.map_or(link.created_at, |s| s.max(link.created_at));
    let filter = VisitFilter {
        slug: link.slug.as_str().to_owned(),
        since: since.to_rfc3339(),
        until: end.map(|t| t.to_rfc3339()),
        exclude_bots: parse_flag(param("excludeBots").as_deref()),
    };
    let rows = app
        .index
        .visits(&visits_query(&filter, paging.per_page, paging.offset()))
        .await
        .map_err(store)?;
    let total = app
        .index
        .count(&visits_count(&filter))
        .await
        .map_err(store)?;
    let data: Vec<Visit> = rows
        .iter()
        .map(|r| {
            Visit::from_recorded(&RecordedVisit {
                at: &r.at,
                country: &r.country,
                referrer: &r.referrer,
                browser: &r.browser,
                os: &r.os,
                bot: r.bot != 0,
            })
        })
        .collect();
    let pagination = paging.pagination(data.len(), total);
    json(
        200,
        &serde_json::json!({ "visits": { "data": data, "pagination": pagination } }),
    )
}

/// `GET /visits` → the visits of the links in view; edgelink records no orphan visits.
pub async fn overview(app: &App, caller: &Caller) -> ShlinkResult {
    let owner = owner_in_view(caller);
    let split = app
        .index
        .click_split(&overview_query(owner.as_ref()))
        .await
        .map_err(store)?;
    let visits = VisitsSummary::of(split.people, split.bots);
    json(
        200,
        &serde_json::json!({ "visits": {
            "nonOrphanVisits": visits,
            "orphanVisits": VisitsSummary::default(),
            "visitsCount": visits.total,
            "orphanVisitsCount": 0,
        }}),
    )
}

/// `GET /tags` (`stats` false: the names, sorted) and `GET /tags/stats` (each tag with its
/// short URLs and their visits).
pub async fn tags(app: &App, caller: &Caller, stats: bool) -> ShlinkResult {
    let owner = owner_in_view(caller);
    let rows = app
        .index
        .tag_stats(&tag_stats_query(owner.as_ref(), OWNER_TAGS_MAX))
        .await
        .map_err(store)?;
    if !stats {
        let names: Vec<&str> = rows.iter().map(|r| r.tag.as_str()).collect();
        return json(200, &serde_json::json!({ "tags": { "data": names } }));
    }
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let visits = VisitsSummary::of(r.people, r.bots);
            serde_json::json!({
                "tag": r.tag,
                "shortUrlsCount": r.links,
                "visitsSummary": visits,
                "visitsCount": visits.total,
            })
        })
        .collect();
    json(200, &serde_json::json!({ "tags": { "data": data } }))
}
