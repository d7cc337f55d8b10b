//! A link's history (D1 `link_history`): its versions, newest first, restoring one of them
//! (through the slug's Durable Object, as any write: KV first, the index in the background),
//! and the caller's deleted links, which a restore brings back.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{Context, Request};

use super::admin::blocklist::ensure_all_allowed;
use super::links::{answer_written, destinations};
use super::params::{if_match, page, parse_limit_within, path_slug};
use super::view::{link_response, shown_link_json, view};
use super::{authenticate, json, json_body, origin, query_param, ApiResult};
use crate::app::App;
use crate::error::ApiError;
use crate::history::{self, Restore, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT};
use crate::link::{Link, LinkPatch, Slug, Version};
use crate::service::links as service;
use crate::store::index::{deleted_links_query, history_query};

/// A history page's `limit` (1–100, default 20) and `cursor` (absent or empty: the first page),
/// read by `parse`.
fn page_params<C>(
    req: &Request,
    parse: impl Fn(&str) -> Option<C>,
) -> Result<(u32, Option<C>), ApiError> {
    let limit = parse_limit_within(
        query_param(req, "limit").as_deref(),
        HISTORY_DEFAULT_LIMIT,
        HISTORY_MAX_LIMIT,
    )?;
    let cursor = match query_param(req, "cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => Some(parse(&raw).ok_or(ApiError::InvalidCursor)?),
    };
    Ok((limit, cursor))
}

#[derive(Serialize)]
struct HistoryItem {
    version: u64,
    op: String,
    actor: String,
    at: String,
    link: Value,
}

#[derive(Serialize)]
struct HistoryPage {
    history: Vec<HistoryItem>,
    next_cursor: Option<String>,
}

/// `GET /api/links/{slug}/history?limit=&cursor=` → the link's versions, newest first. The
/// owner sees the versions they owned (also after a delete), an admin every version; anyone
/// else, or a slug with neither history nor a link the caller may manage, gets 404.
pub async fn history(req: Request, app: &App, ctx: &Context, raw_slug: &str) -> ApiResult {
    let kv = &app.kv;
    let caller = authenticate(&req, app, ctx).await?;
    let slug = path_slug(raw_slug)?;
    let (limit, before) = page_params(&req, history::parse_cursor)?;
    let owner = (!caller.is_admin()).then_some(&caller.id);
    let query = history_query(&slug, owner, before, limit + 1);
    let rows = app.index.history(&query).await?;
    if rows.is_empty() && before.is_none() {
        // Nothing recorded (history off, or not yet indexed): the link's manager still gets
        // an empty page; everyone else learns nothing.
        match kv.link(&slug).await? {
            Some(link) if caller.may_manage(&link.owner) => {}
            _ => return Err(ApiError::NotFound),
        }
    }
    let (rows, next_cursor) = page(rows, limit, |r| Some(r.version.to_string()));
    let history = rows
        .into_iter()
        .map(|r| HistoryItem {
            version: r.version,
            link: shown_link_json(serde_json::from_str(&r.link).unwrap_or(Value::Null)),
            op: r.op,
            actor: r.actor,
            at: r.at,
        })
        .collect();
    json(
        200,
        &HistoryPage {
            history,
            next_cursor,
        },
    )
}

/// The body of a restore.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestoreBody {
    version: u64,
}

/// `POST /api/links/{slug}/restore` `{"version"}` → the link as that version of its history had
/// it (every setting: destination, title, tags, options, password): 200 with a new version when
/// the link is there, 201 when it was gone (deleted, or dropped after it expired) and is created
/// again for the version's owner. The caller sees the versions `GET …/history` shows them (their
/// own; the admin every one); another is 404. The version's destinations meet today's
/// blocklist. With `If-Match`, 412 when the link has moved on (or is gone).
pub async fn restore(mut req: Request, app: &App, ctx: &Context, raw_slug: &str) -> ApiResult {
    let kv = &app.kv;
    let caller = authenticate(&req, app, ctx).await?;
    let origin = origin(&req)?;
    let if_match = if_match(&req)?;
    let body: RestoreBody = json_body(&mut req).await?;
    let slug = path_slug(raw_slug)?;
    let version = history::parse_version(body.version).ok_or_else(|| {
        ApiError::InvalidJson("version must be a version number from the link's history".into())
    })?;
    // The newest of the caller's versions up to `version`: that one, if it is theirs to see.
    let owner = (!caller.is_admin()).then_some(&caller.id);
    let below = Version::new(version.get() + 1);
    let rows = app
        .index
        .history(&history_query(&slug, owner, Some(below), 1))
        .await?;
    let row = rows
        .into_iter()
        .find(|r| r.version == version.get())
        .ok_or(ApiError::NotFound)?;
    let then: Link = serde_json::from_str(&row.link)
        .map_err(|e| ApiError::Internal(format!("history of {slug} at {version:?}: {e}")))?;
    ensure_all_allowed(
        kv,
        destinations(
            Some(&then.url),
            then.targets.as_ref(),
            then.variants.as_ref(),
        ),
    )
    .await?;
    let current = kv.link(&slug).await?;
    let (status, written) = match history::restoring(&then, current.as_ref()) {
        // The link read is KV's; one that moved on since is the Durable Object's to see, so
        // "unchanged" answers only from a link the caller may manage, at the version asked.
        Restore::Unchanged => match current {
            Some(link)
                if caller.may_manage(&link.owner) && if_match.is_none_or(|v| v == link.version) =>
            {
                return link_response(200, &view(&link, &origin.origin, app.now()));
            }
            _ => (
                200,
                service::update(
                    &app.claims,
                    &caller,
                    &slug,
                    LinkPatch::setting(then.url.clone(), then.options()),
                    if_match,
                )
                .await?,
            ),
        },
        Restore::Update(patch) => (
            200,
            service::update(&app.claims, &caller, &slug, patch, if_match).await?,
        ),
        Restore::Create { .. } if if_match.is_some() => {
            return Err(ApiError::PreconditionFailed(
                "the link is gone: it has no version to match".into(),
            ))
        }
        Restore::Create {
            url,
            owner,
            options,
        } => {
            let at = app.now();
            let new_link = |slug| Link::new(slug, url.clone(), owner.clone(), options.clone(), at);
            (
                201,
                service::create(kv, &app.claims, &caller, Some(slug), new_link).await?,
            )
        }
    };
    answer_written(status, written, &origin.origin, app, ctx)
}

#[derive(Serialize)]
struct DeletedItem {
    slug: String,
    /// The version to restore (`POST /api/links/{slug}/restore`): the link as it was last.
    version: u64,
    deleted_at: String,
    deleted_by: String,
    link: Value,
}

#[derive(Serialize)]
struct DeletedPage {
    deleted: Vec<DeletedItem>,
    next_cursor: Option<String>,
}

/// `GET /api/deleted-links?limit=&cursor=` → the caller's links whose last change was their
/// delete (the slug not taken again since), newest first, each as it was last with the
/// `version` a restore takes. Read from the history: a delete shows once its index write
/// lands, until `HISTORY_RETENTION_DAYS` prunes it.
pub async fn deleted(req: Request, app: &App, ctx: &Context) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let (limit, after) = page_params(&req, history::parse_deleted_cursor)?;
    let after = after.as_ref().map(|(at, slug)| (at.as_str(), slug));
    let rows = app
        .index
        .deleted_links(&deleted_links_query(&caller.id, after, limit + 1))
        .await?;
    let (rows, next_cursor) = page(rows, limit, |r| {
        Some(history::deleted_cursor(&r.at, &r.slug))
    });
    // The index can lag a create of the slug again: KV, the truth, leaves those out.
    let slugs: Vec<Slug> = rows
        .iter()
        .filter_map(|r| Slug::parse(&r.slug).ok())
        .collect();
    let live = app.kv.links_bulk(&slugs).await?;
    let deleted = rows
        .into_iter()
        .filter(|r| {
            Slug::parse(&r.slug)
                .ok()
                .and_then(|s| live.get(&s))
                .is_some_and(|v| matches!(v, Ok(None)))
        })
        .map(|r| DeletedItem {
            link: shown_link_json(serde_json::from_str(&r.link).unwrap_or(Value::Null)),
            slug: r.slug,
            version: r.version,
            deleted_at: r.at,
            deleted_by: r.actor,
        })
        .collect();
    json(
        200,
        &DeletedPage {
            deleted,
            next_cursor,
        },
    )
}
