//! Shlink's short-URL endpoints: the list (`GET /short-urls`, paged by offset in any of
//! Shlink's orders, from the D1 index; the links themselves from KV), create (`POST
//! /short-urls`, `findIfExists` included) and `GET /short-urls/shorten`, and read, edit and
//! delete by short code. Every write is the link service's: the same rules and the same one
//! writer as `POST /api/links`.

use serde_json::{Map, Value};
use worker::{console_error, Context, Request};

use super::{json, no_content, problem_of, text, ShlinkResult};
use crate::analytics::day_of;
use crate::api::admin::blocklist::ensure_allowed;
use crate::api::list_query::parse_search;
use crate::api::params::parse_tag_filter;
use crate::api::{json_body, origin};
use crate::app::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::link::{Link, Slug};
use crate::service::links as service;
use crate::shlink::body::{parse_create, parse_edit, Create};
use crate::shlink::params::{
    left_out_filters, parse_tags_all, Paging, ShlinkOrder, LIST_DEFAULT_PER_PAGE, LIST_MAX_PER_PAGE,
};
use crate::shlink::problem::Problem;
use crate::shlink::shape::{Meta, ShortUrl, VisitsSummary};
use crate::store::index::shlink::{
    same_url_query, short_urls_count, short_urls_query, ShortUrlFilter,
};
use crate::store::StoreError;
use crate::sync;
use crate::web_url::{query_param, query_params};

/// Links with the same long URL `findIfExists` looks through.
const FIND_IF_EXISTS_CANDIDATES: u32 = 20;

fn store(e: StoreError) -> Problem {
    problem_of(ApiError::from(e))
}

/// The owner whose links the caller sees: `None` for the admin (every link).
pub(super) fn owner_in_view(caller: &Caller) -> Option<crate::account::UserId> {
    (!caller.is_admin()).then(|| caller.id.clone())
}

/// A link as Shlink shows it, short URL on `origin`.
pub(super) fn short_url(link: &Link, origin: &str, visits: VisitsSummary) -> ShortUrl {
    ShortUrl {
        short_code: link.slug.as_str().to_owned(),
        short_url: format!("{origin}/{}", link.slug),
        long_url: link.url.as_str().to_owned(),
        date_created: link.created_at.to_rfc3339(),
        title: link.title.as_ref().map(|t| t.as_str().to_owned()),
        tags: link.tags.as_slice().to_vec(),
        meta: Meta {
            valid_since: link.valid_since.map(|t| t.to_rfc3339()),
            valid_until: link.expires_at.map(|t| t.to_rfc3339()),
            max_visits: link.max_clicks,
        },
        visits_summary: visits,
        forward_query: link.forward_query,
        domain: None,
        crawlable: false,
        has_redirect_rules: false,
    }
}

/// The caller's link under `code` from KV; anything else (a code that cannot be a slug,
/// no link, another's) is `short-url-not-found`.
pub(super) async fn owned_link(app: &App, caller: &Caller, code: &str) -> Result<Link, Problem> {
    let not_found = || Problem::ShortUrlNotFound {
        short_code: code.to_owned(),
    };
    let slug = Slug::parse(code).map_err(|_| not_found())?;
    match app.kv.link(&slug).await.map_err(store)? {
        Some(link) if caller.may_manage(&link.owner) => Ok(link),
        _ => Err(not_found()),
    }
}

/// A link's visit counts since its creation; zeros (logged) when the roll-up is down, as
/// edgelink's own read blanks its count.
async fn summary_of(app: &App, link: &Link) -> VisitsSummary {
    let pair = [(link.slug.as_str(), day_of(link.created_at))];
    match app.index.click_splits(&pair).await {
        Ok(rows) => rows.first().map_or_else(VisitsSummary::default, |r| {
            VisitsSummary::of(r.people, r.bots)
        }),
        Err(e) => {
            console_error!("shlink visits summary of {}: {e}", link.slug);
            VisitsSummary::default()
        }
    }
}

/// `GET /short-urls?page=&itemsPerPage=&searchTerm=&tags[]=&tagsMode=&orderBy=`.
pub async fn list(req: &Request, app: &App, caller: &Caller) -> ShlinkResult {
    let url = req.inner().url();
    let param = |name: &str| query_param(&url, name);
    let left_out = left_out_filters(|name| param(name).is_some());
    if !left_out.is_empty() {
        return Err(Problem::invalid(
            &left_out,
            format!("edgelink does not filter by: {}", left_out.join(", ")),
        ));
    }
    let mut invalid: Vec<&str> = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    let mut note = |name: &'static str, why: String| {
        invalid.push(name);
        reasons.push(why);
    };
    let paging = Paging::parse(
        param("page").as_deref(),
        param("itemsPerPage").as_deref(),
        LIST_DEFAULT_PER_PAGE,
        LIST_MAX_PER_PAGE,
    )
    .map_err(|name| {
        note(
            name,
            format!("{name} must be a positive whole number (itemsPerPage also -1)"),
        )
    })
    .ok();
    let order = ShlinkOrder::parse(param("orderBy").as_deref())
        .map_err(|name| {
            note(
                name,
                "orderBy must be {dateCreated|shortCode|longUrl|title|visits|nonBotVisits}-{ASC|DESC}"
                    .into(),
            )
        })
        .ok();
    let mode = parse_tags_all(param("tagsMode").as_deref())
        .map_err(|name| note(name, "tagsMode must be any or all".into()))
        .ok();
    let mut tags = query_params(&url, "tags[]");
    tags.extend(query_params(&url, "tags"));
    let tags = parse_tag_filter(&tags, Some(if mode == Some(true) { "all" } else { "any" }))
        .map_err(|e| note("tags", e.public_message()))
        .ok();
    let q = parse_search(param("searchTerm").as_deref())
        .map_err(|e| {
            note(
                "searchTerm",
                e.public_message().replacen("q ", "searchTerm ", 1),
            )
        })
        .ok();
    let (Some(paging), Some(order), Some(tags), Some(q)) = (paging, order, tags, q) else {
        return Err(Problem::invalid(&invalid, reasons.join("; ")));
    };
    let filter = ShortUrlFilter {
        owner: owner_in_view(caller),
        tags,
        q,
    };
    let query = short_urls_query(&filter, order, paging.per_page, paging.offset());
    let rows = app.index.short_urls(&query).await.map_err(store)?;
    let total = app
        .index
        .count(&short_urls_count(&filter))
        .await
        .map_err(store)?;
    let slugs: Vec<Slug> = rows
        .iter()
        .filter_map(|r| Slug::parse(&r.slug).ok())
        .collect();
    let links = app.kv.links_bulk(&slugs).await.map_err(store)?;
    let origin = origin(req).map_err(problem_of)?.origin;
    // KV is the truth: a row whose link is gone (the index lags a delete) is left out.
    let data: Vec<ShortUrl> = rows
        .iter()
        .filter_map(|row| {
            let slug = Slug::parse(&row.slug).ok()?;
            let link = links.get(&slug)?.as_ref().ok()?.as_ref()?;
            Some(short_url(
                link,
                &origin,
                VisitsSummary::of(row.clicks, row.bot_clicks),
            ))
        })
        .collect();
    let pagination = paging.pagination(data.len(), total);
    json(
        200,
        &serde_json::json!({ "shortUrls": { "data": data, "pagination": pagination } }),
    )
}

/// `POST /short-urls` → 200 the short URL (Shlink answers creates with 200).
pub async fn create(mut req: Request, app: &App, ctx: &Context, caller: &Caller) -> ShlinkResult {
    let body: Map<String, Value> = json_body(&mut req).await.map_err(problem_of)?;
    create_from(&req, &body, app, ctx, caller)
        .await
        .and_then(|s| json(200, &s))
}

/// `GET /short-urls/shorten?apiKey=&longUrl=[&format=txt]` → the short URL, or its
/// `shortUrl` as plain text.
pub async fn shorten(req: &Request, app: &App, ctx: &Context, caller: &Caller) -> ShlinkResult {
    let mut body = Map::new();
    if let Some(long_url) = crate::api::query_param(req, "longUrl") {
        body.insert("longUrl".into(), Value::String(long_url));
    }
    let created = create_from(req, &body, app, ctx, caller).await?;
    match crate::api::query_param(req, "format").as_deref() {
        Some("txt") => text(created.short_url),
        _ => json(200, &created),
    }
}

async fn create_from(
    req: &Request,
    body: &Map<String, Value>,
    app: &App,
    ctx: &Context,
    caller: &Caller,
) -> Result<ShortUrl, Problem> {
    let origin = origin(req).map_err(problem_of)?;
    let at = app.now();
    let create = parse_create(body, &origin.host, at)?;
    ensure_allowed(&app.kv, &create.url)
        .await
        .map_err(problem_of)?;
    if create.find_if_exists {
        if let Some(link) = existing(app, caller, &create).await? {
            let visits = summary_of(app, &link).await;
            return Ok(short_url(&link, &origin.origin, visits));
        }
    }
    let options = create.options(app.config.default_ttl_secs, at);
    let new_link = |slug| {
        Link::new(
            slug,
            create.url.clone(),
            caller.id.clone(),
            options.clone(),
            at,
        )
    };
    let written = service::create(&app.kv, &app.claims, caller, create.slug.clone(), new_link)
        .await
        .map_err(|e| match (e, &create.slug) {
            (ApiError::SlugTaken, Some(slug)) => Problem::NonUniqueSlug {
                custom_slug: slug.as_str().to_owned(),
            },
            (other, _) => problem_of(other),
        })?;
    if let Some(change) = written.change {
        ctx.wait_until(sync::apply(app.clone(), change));
    }
    Ok(short_url(
        &written.link,
        &origin.origin,
        VisitsSummary::default(),
    ))
}

/// `findIfExists`: the caller's newest link with the long URL and every given field.
async fn existing(app: &App, caller: &Caller, create: &Create) -> Result<Option<Link>, Problem> {
    let owner = owner_in_view(caller);
    let query = same_url_query(
        owner.as_ref(),
        create.url.as_str(),
        FIND_IF_EXISTS_CANDIDATES,
    );
    let rows = app.index.slugs(&query).await.map_err(store)?;
    let slugs: Vec<Slug> = rows
        .iter()
        .filter_map(|r| Slug::parse(&r.slug).ok())
        .collect();
    let links = app.kv.links_bulk(&slugs).await.map_err(store)?;
    Ok(slugs.iter().find_map(|slug| {
        let link = links.get(slug)?.as_ref().ok()?.as_ref()?;
        (caller.may_manage(&link.owner) && create.found_in(link)).then(|| link.clone())
    }))
}

/// `GET /short-urls/{shortCode}`.
pub async fn get(req: &Request, app: &App, caller: &Caller, code: &str) -> ShlinkResult {
    let link = owned_link(app, caller, code).await?;
    let visits = summary_of(app, &link).await;
    let origin = origin(req).map_err(problem_of)?.origin;
    json(200, &short_url(&link, &origin, visits))
}

fn not_found_as(code: &str) -> impl Fn(ApiError) -> Problem + '_ {
    move |e| match e {
        ApiError::NotFound => Problem::ShortUrlNotFound {
            short_code: code.to_owned(),
        },
        other => problem_of(other),
    }
}

/// `PATCH /short-urls/{shortCode}`: the given fields, `null` clearing one → 200.
pub async fn edit(
    mut req: Request,
    app: &App,
    ctx: &Context,
    caller: &Caller,
    code: &str,
) -> ShlinkResult {
    let origin = origin(&req).map_err(problem_of)?;
    let body: Map<String, Value> = json_body(&mut req).await.map_err(problem_of)?;
    let patch = parse_edit(&body, &origin.host, app.now())?;
    let slug = Slug::parse(code).map_err(|_| Problem::ShortUrlNotFound {
        short_code: code.to_owned(),
    })?;
    if let Some(url) = &patch.url {
        ensure_allowed(&app.kv, url).await.map_err(problem_of)?;
    }
    let written = service::update(&app.claims, caller, &slug, patch, None)
        .await
        .map_err(not_found_as(code))?;
    if let Some(change) = written.change {
        ctx.wait_until(sync::apply(app.clone(), change));
    }
    let visits = summary_of(app, &written.link).await;
    json(200, &short_url(&written.link, &origin.origin, visits))
}

/// `DELETE /short-urls/{shortCode}` → 204.
pub async fn delete(app: &App, ctx: &Context, caller: &Caller, code: &str) -> ShlinkResult {
    let slug = Slug::parse(code).map_err(|_| Problem::ShortUrlNotFound {
        short_code: code.to_owned(),
    })?;
    let change = service::delete(&app.claims, caller, &slug, None)
        .await
        .map_err(not_found_as(code))?;
    ctx.wait_until(sync::apply(app.clone(), change));
    no_content()
}
