//! The link API: create, read, update, delete (KV first, D1 in the background) and the owner's
//! list (from the D1 index, keyset-paginated).

use serde::{Deserialize, Deserializer, Serialize};
use worker::{Context, Env, Request};

use super::admin::blocklist::ensure_allowed;
use super::{
    authenticate, json, json_body, list_cursor, no_content, origin, query_param, ApiResult,
};
use crate::auth::Caller;
use crate::claim::{SlugRequest, SlugResponse};
use crate::error::ApiError;
use crate::link::{Link, LinkPatch, Slug, TargetUrl, Title, ALPHANUMERIC, GENERATED_SLUG_LEN};
use crate::platform::{claims, index, kv, now};
use crate::store::claims::Claims;
use crate::store::index::{LinkRow, ListCursor};
use crate::store::kv::Kv;
use crate::sync::{self, IndexChange};

/// Generated slugs collide with probability ~n/3.5e12; a few retries make a failure negligible.
const GENERATE_ATTEMPTS: usize = 5;
pub const LIST_DEFAULT_LIMIT: u32 = 20;
pub const LIST_MAX_LIMIT: u32 = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateLinkBody {
    url: String,
    slug: Option<String>,
    title: Option<String>,
}

/// Absent fields stay as they are; `"title": null` clears the title.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateLinkBody {
    #[serde(default, deserialize_with = "present")]
    url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    title: Option<Option<String>>,
}

/// Tells an absent field (`None`, by `default`) from an explicit `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A link as the API shows it.
#[derive(Serialize)]
pub struct LinkView<'a> {
    #[serde(flatten)]
    link: &'a Link,
    short_url: String,
}

pub fn view<'a>(link: &'a Link, origin: &str) -> LinkView<'a> {
    LinkView {
        short_url: format!("{origin}/{}", link.slug),
        link,
    }
}

/// `POST /api/links` `{"url","slug"?,"title"?}` → 201 the link.
pub async fn create(mut req: Request, env: &Env, ctx: &Context) -> ApiResult {
    let kv = kv(env)?;
    let claims = claims(env)?;
    let caller = authenticate(&req, env, ctx, &kv).await?;
    let origin = origin(&req)?;
    let body: CreateLinkBody = json_body(&mut req).await?;
    let url = TargetUrl::parse_for(&body.url, &origin.host)?;
    ensure_allowed(&kv, &url).await?;
    let title = body.title.as_deref().map(Title::parse).transpose()?;
    let new_link = |slug| Link::new(slug, url.clone(), title.clone(), caller.id.clone(), now());
    let link = match body.slug.as_deref() {
        Some(raw) => claim(&kv, &claims, new_link(Slug::parse(raw)?))
            .await?
            .ok_or(ApiError::SlugTaken)?,
        None => claim_generated(&kv, &claims, new_link).await?,
    };

    let response = json(201, &view(&link, &origin.origin));
    ctx.wait_until(sync::apply(env.clone(), IndexChange::Upsert(link)));
    response
}

/// Claims the link's slug and stores the link (both in the slug's Durable Object): the stored
/// link, or `None` when the slug is taken. The KV check answers the common case without a
/// Durable Object round trip and covers links older than claims.
async fn claim(kv: &Kv, claims: &Claims, link: Link) -> Result<Option<Link>, ApiError> {
    if kv.link_exists(&link.slug).await? {
        return Ok(None);
    }
    let slug = link.slug.clone();
    match claims.send(&slug, &SlugRequest::Create { link }).await? {
        SlugResponse::Written { link } => Ok(Some(link)),
        SlugResponse::Taken => Ok(None),
        other => Err(ApiError::Internal(format!("create {slug}: {other:?}"))),
    }
}

async fn claim_generated(
    kv: &Kv,
    claims: &Claims,
    new_link: impl Fn(Slug) -> Link,
) -> Result<Link, ApiError> {
    for _ in 0..GENERATE_ATTEMPTS {
        let candidate = nanoid::nanoid!(GENERATED_SLUG_LEN, &ALPHANUMERIC);
        // A reserved word can come out of the generator too; skip it like a collision.
        let Ok(slug) = Slug::parse(&candidate) else {
            continue;
        };
        if let Some(link) = claim(kv, claims, new_link(slug)).await? {
            return Ok(link);
        }
    }
    Err(ApiError::Internal(
        "no free generated slug after retries".into(),
    ))
}

/// Stores a new state of an existing link through its slug's Durable Object, which gives it
/// the next version and writes KV in version order. 404 when the link was deleted meanwhile.
pub async fn write(env: &Env, link: Link) -> Result<Link, ApiError> {
    let slug = link.slug.clone();
    match claims(env)?
        .send(&slug, &SlugRequest::Write { link })
        .await?
    {
        SlugResponse::Written { link } => Ok(link),
        SlugResponse::NotHeld => Err(ApiError::NotFound),
        other => Err(ApiError::Internal(format!("write {slug}: {other:?}"))),
    }
}

/// The caller's link, or 404 when it does not exist or belongs to someone else.
async fn owned_link(kv: &Kv, caller: &Caller, raw_slug: &str) -> Result<Link, ApiError> {
    let slug = Slug::parse(raw_slug).map_err(|_| ApiError::NotFound)?;
    match kv.link(&slug).await? {
        Some(link) if caller.may_manage(&link.owner) => Ok(link),
        _ => Err(ApiError::NotFound),
    }
}

/// `GET /api/links/{slug}` → 200 the link, from KV.
pub async fn get(req: Request, env: &Env, ctx: &Context, raw_slug: &str) -> ApiResult {
    let kv = kv(env)?;
    let caller = authenticate(&req, env, ctx, &kv).await?;
    let link = owned_link(&kv, &caller, raw_slug).await?;
    json(200, &view(&link, &origin(&req)?.origin))
}

/// `PATCH /api/links/{slug}` `{"url"?,"title"?}` → 200 the updated link.
pub async fn update(mut req: Request, env: &Env, ctx: &Context, raw_slug: &str) -> ApiResult {
    let kv = kv(env)?;
    let caller = authenticate(&req, env, ctx, &kv).await?;
    let origin = origin(&req)?;
    let body: UpdateLinkBody = json_body(&mut req).await?;
    let patch = LinkPatch {
        url: match body.url {
            None => None,
            Some(None) => return Err(ApiError::InvalidUrl("url cannot be null".into())),
            Some(Some(raw)) => {
                let url = TargetUrl::parse_for(&raw, &origin.host)?;
                ensure_allowed(&kv, &url).await?;
                Some(url)
            }
        },
        title: body
            .title
            .map(|t| t.as_deref().map(Title::parse).transpose())
            .transpose()?,
    };
    let link = owned_link(&kv, &caller, raw_slug).await?;
    let Some(updated) = link.patched(patch, now()) else {
        return json(200, &view(&link, &origin.origin));
    };
    let updated = write(env, updated).await?;

    let response = json(200, &view(&updated, &origin.origin));
    ctx.wait_until(sync::apply(env.clone(), IndexChange::Upsert(updated)));
    response
}

/// `DELETE /api/links/{slug}` → 204.
pub async fn delete(req: Request, env: &Env, ctx: &Context, raw_slug: &str) -> ApiResult {
    let kv = kv(env)?;
    let caller = authenticate(&req, env, ctx, &kv).await?;
    let link = owned_link(&kv, &caller, raw_slug).await?;
    let request = SlugRequest::Delete {
        slug: link.slug.clone(),
        owner: link.owner.clone(),
    };
    let version = match claims(env)?.send(&link.slug, &request).await? {
        SlugResponse::Deleted { version } => version,
        SlugResponse::NotHeld => return Err(ApiError::NotFound),
        other => {
            return Err(ApiError::Internal(format!(
                "delete {}: {other:?}",
                link.slug
            )))
        }
    };
    let change = IndexChange::Delete {
        version,
        slug: link.slug,
    };
    ctx.wait_until(sync::apply(env.clone(), change));
    no_content()
}

#[derive(Serialize)]
struct ListedLink {
    slug: String,
    url: String,
    short_url: String,
    title: Option<String>,
    owner: String,
    is_active: bool,
    flag_reason: Option<String>,
    created_at: String,
    updated_at: String,
    version: u64,
}

impl ListedLink {
    fn from_row(row: LinkRow, origin: &str) -> Self {
        Self {
            short_url: format!("{origin}/{}", row.slug),
            is_active: row.state == "active",
            slug: row.slug,
            url: row.url,
            title: row.title,
            owner: row.user_id,
            flag_reason: row.flag_reason,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        }
    }
}

#[derive(Serialize)]
struct LinkList {
    links: Vec<ListedLink>,
    next_cursor: Option<String>,
}

/// Parses `limit`: absent → the default; otherwise an integer in `1..=LIST_MAX_LIMIT`.
pub fn parse_limit(raw: Option<&str>) -> Result<u32, ApiError> {
    let Some(raw) = raw else {
        return Ok(LIST_DEFAULT_LIMIT);
    };
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=LIST_MAX_LIMIT).contains(n))
        .ok_or(ApiError::InvalidLimit {
            max: LIST_MAX_LIMIT,
        })
}

/// `GET /api/links?limit=&cursor=` → the caller's links, newest first, from D1.
pub async fn list(req: Request, env: &Env, ctx: &Context) -> ApiResult {
    let kv = kv(env)?;
    let caller = authenticate(&req, env, ctx, &kv).await?;
    let limit = parse_limit(query_param(&req, "limit")?.as_deref())?;
    let cursor = list_cursor(&req)?;
    let origin = origin(&req)?;
    // One extra row says whether another page exists.
    let mut rows = index(env)?
        .links_by_owner(&caller.id, cursor.as_ref(), limit + 1)
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last()
            .and_then(|r| ListCursor::after_row(&r.created_at, &r.slug))
    } else {
        None
    };
    let links = rows
        .into_iter()
        .map(|r| ListedLink::from_row(r, &origin.origin))
        .collect();
    json(200, &LinkList { links, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(parse_limit(None).unwrap(), 20);
        assert_eq!(parse_limit(Some("1")).unwrap(), 1);
        assert_eq!(parse_limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-1", "x", "", "1.5"] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn update_body_tells_absent_from_null() {
        let b: UpdateLinkBody = serde_json::from_str(r#"{"title":null}"#).unwrap();
        assert_eq!(b.title, Some(None));
        assert_eq!(b.url, None);
        let b: UpdateLinkBody = serde_json::from_str("{}").unwrap();
        assert_eq!((b.url, b.title), (None, None));
        assert!(serde_json::from_str::<UpdateLinkBody>(r#"{"slug":"x"}"#).is_err());
    }
}
