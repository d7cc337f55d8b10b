//! The link API: create, read, update, delete (KV first, D1 in the background), the owner's
//! list (from the D1 index, keyset-paginated, filtered by state and archive) and a link's
//! change history (from D1 `link_history`).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use worker::{Context, Env, Request};

use super::admin::blocklist::ensure_allowed;
use super::admin::links::parse_state;
use super::{
    authenticate, json, json_body, list_cursor, no_content, origin, query_param, ApiResult,
};
use crate::analytics::day_of;
use crate::auth::Caller;
use crate::claim::{SlugRequest, SlugResponse};
use crate::error::ApiError;
use crate::history::{self, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT};
use crate::lifecycle::{is_expired, parse_max_clicks, ExpiryChange, OwnerState, RedirectType};
use crate::link::{
    Link, LinkOptions, LinkPatch, Slug, TargetUrl, Title, ALPHANUMERIC, GENERATED_SLUG_LEN,
};
use crate::platform::{claims, default_ttl_secs, index, kv, now, rollup};
use crate::random;
use crate::store::claims::Claims;
use crate::store::index::{history_query, owner_links_query, LinkRow, ListCursor, OwnerLinkFilter};
use crate::store::kv::Kv;
use crate::sync::{self, IndexChange};
use crate::time::Timestamp;

/// Generated slugs collide with probability ~n/3.5e12; a few retries make a failure negligible.
const GENERATE_ATTEMPTS: usize = 5;
pub const LIST_DEFAULT_LIMIT: u32 = 20;
pub const LIST_MAX_LIMIT: u32 = 100;

/// The body of create and of update, parsed by one derive: which fields each takes is checked
/// after (`url` is required to create, `slug` cannot change). One flat struct rather than a
/// shared part `#[serde(flatten)]`ed into two, because flatten buffers the whole body in
/// serde's `Content` tree first and costs a derive per body in the wasm. The lifecycle fields
/// arrive as raw JSON so that a wrong type gets their own error code, not a generic JSON one.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    #[serde(default, deserialize_with = "present")]
    url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    slug: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    title: Option<Option<String>>,
    #[serde(default, deserialize_with = "raw")]
    expires_at: Option<Value>,
    #[serde(default, deserialize_with = "raw")]
    ttl: Option<Value>,
    #[serde(default, deserialize_with = "raw")]
    redirect_type: Option<Value>,
    #[serde(default, deserialize_with = "raw")]
    forward_query: Option<Value>,
    #[serde(default, deserialize_with = "raw")]
    archived: Option<Value>,
    #[serde(default, deserialize_with = "raw")]
    state: Option<Value>,
    #[serde(default, deserialize_with = "raw")]
    max_clicks: Option<Value>,
}

/// A present boolean field; anything but `true`/`false` (`null` included: it would silently
/// change nothing) is refused.
fn flag(raw: &Option<Value>, name: &str) -> Result<Option<bool>, ApiError> {
    match raw {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::InvalidJson(format!(
            "{name} must be true or false"
        ))),
    }
}

impl LinkBody {
    /// Create's `url`: a JSON string, required.
    fn url_to_create(&self) -> Result<&str, ApiError> {
        match &self.url {
            Some(Some(url)) => Ok(url),
            Some(None) => Err(ApiError::InvalidJson("url must be a string".into())),
            None => Err(ApiError::InvalidJson("missing field `url`".into())),
        }
    }

    /// Update refuses a `slug`: a link keeps its slug for life.
    fn no_slug(&self) -> Result<(), ApiError> {
        match self.slug {
            None => Ok(()),
            Some(_) => Err(ApiError::InvalidJson(
                "unknown field `slug`: a link's slug cannot be changed".into(),
            )),
        }
    }

    fn expiry(&self, now: Timestamp) -> Result<ExpiryChange, ApiError> {
        Ok(ExpiryChange::parse(
            self.expires_at.as_ref(),
            self.ttl.as_ref(),
            now,
        )?)
    }

    fn redirect_type(&self) -> Result<Option<RedirectType>, ApiError> {
        Ok(self
            .redirect_type
            .as_ref()
            .map(RedirectType::parse)
            .transpose()?)
    }

    fn state(&self) -> Result<Option<OwnerState>, ApiError> {
        match &self.state {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(OwnerState::parse(s)?)),
            Some(_) => Err(ApiError::InvalidState(
                "state must be \"active\" or \"disabled\"".into(),
            )),
        }
    }

    fn forward_query(&self) -> Result<Option<bool>, ApiError> {
        flag(&self.forward_query, "forward_query")
    }

    fn archived(&self) -> Result<Option<bool>, ApiError> {
        flag(&self.archived, "archived")
    }

    /// `None` when absent; `Some(None)` for `null` (unlimited).
    fn max_clicks(&self) -> Result<Option<Option<u64>>, ApiError> {
        Ok(self.max_clicks.as_ref().map(parse_max_clicks).transpose()?)
    }
}

/// Tells an absent field (`None`, by `default`) from an explicit `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Keeps a present field's raw JSON, `null` included (`Some(Value::Null)`).
fn raw<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A link as the API shows it: the stored fields, its short URL, and what follows from them
/// at `now` (`state`, `expired`).
#[derive(Serialize)]
pub struct LinkView<'a> {
    #[serde(flatten)]
    link: &'a Link,
    short_url: String,
    state: &'static str,
    expired: bool,
    /// People's clicks (the D1 roll-up) on reads; `null` when the roll-up is unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    clicks: Option<Option<u64>>,
}

pub fn view<'a>(link: &'a Link, origin: &str, now: Timestamp) -> LinkView<'a> {
    LinkView {
        short_url: format!("{origin}/{}", link.slug),
        state: link.state().as_str(),
        expired: link.is_expired(now),
        clicks: None,
        link,
    }
}

/// `POST /api/links` `{"url","slug"?,"title"?,"expires_at"?|"ttl"?,"redirect_type"?,
/// "forward_query"?,"archived"?,"state"?}` → 201 the link.
pub async fn create(mut req: Request, env: &Env, ctx: &Context) -> ApiResult {
    let kv = kv(env)?;
    let claims = claims(env)?;
    let caller = authenticate(&req, env, ctx, &kv).await?;
    let origin = origin(&req)?;
    let fields: LinkBody = json_body(&mut req).await?;
    let at = now();
    let url = TargetUrl::parse_for(fields.url_to_create()?, &origin.host)?;
    let options = LinkOptions {
        title: fields
            .title
            .as_ref()
            .and_then(Option::as_deref)
            .map(Title::parse)
            .transpose()?,
        expires_at: fields.expiry(at)?.on_create(default_ttl_secs(env), at),
        archived: fields.archived()?.unwrap_or(false),
        redirect_type: fields.redirect_type()?.unwrap_or_default(),
        forward_query: fields.forward_query()?.unwrap_or(true),
        state: fields.state()?.unwrap_or(OwnerState::Active),
        max_clicks: fields.max_clicks()?.flatten(),
    };
    let slug = fields
        .slug
        .as_ref()
        .and_then(Option::as_deref)
        .map(Slug::parse)
        .transpose()?;
    ensure_allowed(&kv, &url).await?;
    let new_link = |slug| Link::new(slug, url.clone(), caller.id.clone(), options.clone(), at);
    let link = match slug {
        Some(slug) => claim(&kv, &claims, new_link(slug))
            .await?
            .ok_or(ApiError::SlugTaken)?,
        None => claim_generated(&kv, &claims, new_link).await?,
    };

    let response = json(201, &view(&link, &origin.origin, now()));
    ctx.wait_until(sync::apply(
        env.clone(),
        IndexChange::created(link, &caller.id),
    ));
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
        other => Err(ApiError::Internal(format!(
            "create {slug}: {}",
            other.outcome()
        ))),
    }
}

async fn claim_generated(
    kv: &Kv,
    claims: &Claims,
    new_link: impl Fn(Slug) -> Link,
) -> Result<Link, ApiError> {
    for _ in 0..GENERATE_ATTEMPTS {
        let candidate = random::token(GENERATED_SLUG_LEN, &ALPHANUMERIC)?;
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
        other => Err(ApiError::Internal(format!(
            "write {slug}: {}",
            other.outcome()
        ))),
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
    // The link is KV's; its click count is the roll-up's, and a roll-up outage only blanks it.
    let clicks = match rollup(env) {
        Ok(r) => r
            // Counted from the link's creation: a re-created slug starts at zero.
            .clicks_since(&[(link.slug.as_str(), day_of(link.created_at))])
            .await
            .map(|m| m.get(link.slug.as_str()).copied().unwrap_or(0))
            .ok(),
        Err(_) => None,
    };
    let mut shown = view(&link, &origin(&req)?.origin, now());
    shown.clicks = Some(clicks);
    json(200, &shown)
}

/// `PATCH /api/links/{slug}` with any of the create fields but `slug` → 200 the updated link.
pub async fn update(mut req: Request, env: &Env, ctx: &Context, raw_slug: &str) -> ApiResult {
    let kv = kv(env)?;
    let caller = authenticate(&req, env, ctx, &kv).await?;
    let origin = origin(&req)?;
    let body: LinkBody = json_body(&mut req).await?;
    body.no_slug()?;
    let at = now();
    let fields = &body;
    let patch = LinkPatch {
        expires_at: fields.expiry(at)?.on_update(),
        archived: fields.archived()?,
        redirect_type: fields.redirect_type()?,
        forward_query: fields.forward_query()?,
        state: fields.state()?,
        max_clicks: fields.max_clicks()?,
        url: match &body.url {
            None => None,
            Some(None) => return Err(ApiError::InvalidUrl("url cannot be null".into())),
            Some(Some(raw)) => {
                let url = TargetUrl::parse_for(raw, &origin.host)?;
                ensure_allowed(&kv, &url).await?;
                Some(url)
            }
        },
        title: body
            .title
            .as_ref()
            .map(|t| t.as_deref().map(Title::parse).transpose())
            .transpose()?,
    };
    let link = owned_link(&kv, &caller, raw_slug).await?;
    let Some(updated) = link.patched(patch, at)? else {
        return json(200, &view(&link, &origin.origin, at));
    };
    let updated = write(env, updated).await?;

    let response = json(200, &view(&updated, &origin.origin, now()));
    ctx.wait_until(sync::apply(
        env.clone(),
        IndexChange::updated(updated, &caller.id),
    ));
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
                "delete {}: {}",
                link.slug,
                other.outcome()
            )))
        }
    };
    let change = IndexChange::Delete {
        last: link,
        version,
        actor: caller.id,
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
    expires_at: Option<String>,
    archived: bool,
    redirect_type: u16,
    forward_query: bool,
    state: String,
    expired: bool,
    max_clicks: Option<u64>,
    clicks: u64,
}

impl ListedLink {
    fn from_row(row: LinkRow, origin: &str, now: Timestamp) -> Self {
        let expires_at = row.expires_at.as_deref().and_then(Timestamp::parse);
        Self {
            short_url: format!("{origin}/{}", row.slug),
            is_active: row.state == "active",
            expired: is_expired(expires_at, now),
            expires_at: row.expires_at,
            archived: row.archived != 0,
            redirect_type: row.redirect_type,
            forward_query: row.forward_query != 0,
            max_clicks: row.max_clicks,
            clicks: 0,
            state: row.state,
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

/// Parses `archived=`: absent → unarchived links; `true` → archived ones only.
pub fn parse_archived(raw: Option<&str>) -> Result<bool, ApiError> {
    match raw.map(str::trim) {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::InvalidQuery(
            "archived must be true or false".into(),
        )),
    }
}

/// `GET /api/links?limit=&cursor=&state=&archived=` → the caller's links, newest first, from
/// D1. Archived links are listed only with `archived=true`.
pub async fn list(req: Request, env: &Env, ctx: &Context) -> ApiResult {
    let kv = kv(env)?;
    let caller = authenticate(&req, env, ctx, &kv).await?;
    let limit = parse_limit(query_param(&req, "limit").as_deref())?;
    let cursor = list_cursor(&req)?;
    let filter = OwnerLinkFilter {
        archived: parse_archived(query_param(&req, "archived").as_deref())?,
        state: parse_state(query_param(&req, "state").as_deref())?,
    };
    let origin = origin(&req)?;
    // One extra row says whether another page exists.
    let query = owner_links_query(&caller.id, filter, cursor.as_ref(), limit + 1);
    let mut rows = index(env)?.links_by_owner(&query).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last()
            .and_then(|r| ListCursor::after_row(&r.created_at, &r.slug))
    } else {
        None
    };
    let firsts: Vec<(&str, String)> = rows
        .iter()
        .map(|r| {
            (
                r.slug.as_str(),
                r.created_at.get(..10).unwrap_or("").to_owned(),
            )
        })
        .collect();
    let clicks = rollup(env)?.clicks_since(&firsts).await?;
    let at = now();
    let links = rows
        .into_iter()
        .map(|r| {
            let n = clicks.get(&r.slug).copied().unwrap_or(0);
            let mut listed = ListedLink::from_row(r, &origin.origin, at);
            listed.clicks = n;
            listed
        })
        .collect();
    json(200, &LinkList { links, next_cursor })
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
pub async fn history(req: Request, env: &Env, ctx: &Context, raw_slug: &str) -> ApiResult {
    let kv = kv(env)?;
    let caller = authenticate(&req, env, ctx, &kv).await?;
    let slug = Slug::parse(raw_slug).map_err(|_| ApiError::NotFound)?;
    let limit = match query_param(&req, "limit") {
        None => HISTORY_DEFAULT_LIMIT,
        Some(raw) => raw
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=HISTORY_MAX_LIMIT).contains(n))
            .ok_or(ApiError::InvalidLimit {
                max: HISTORY_MAX_LIMIT,
            })?,
    };
    let before = match query_param(&req, "cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => Some(history::parse_cursor(&raw).ok_or(ApiError::InvalidCursor)?),
    };
    let owner = (!caller.is_admin()).then_some(&caller.id);
    let query = history_query(&slug, owner, before, limit + 1);
    let mut rows = index(env)?.history(&query).await?;
    if rows.is_empty() && before.is_none() {
        // Nothing recorded (history off, or not yet indexed): the link's manager still gets
        // an empty page; everyone else learns nothing.
        match kv.link(&slug).await? {
            Some(link) if caller.may_manage(&link.owner) => {}
            _ => return Err(ApiError::NotFound),
        }
    }
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last())
        .flatten()
        .map(|r| r.version.to_string());
    let history = rows
        .into_iter()
        .map(|r| HistoryItem {
            version: r.version,
            link: serde_json::from_str(&r.link).unwrap_or(Value::Null),
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
        let b: LinkBody = serde_json::from_str(r#"{"title":null}"#).unwrap();
        assert_eq!(b.title, Some(None));
        assert_eq!(b.url, None);
        assert!(b.url_to_create().is_err());
        let b: LinkBody = serde_json::from_str("{}").unwrap();
        assert_eq!((b.url, b.title), (None, None));
        for slug in [r#"{"slug":"x"}"#, r#"{"slug":null}"#] {
            let b: LinkBody = serde_json::from_str(slug).unwrap();
            assert!(b.no_slug().is_err(), "{slug}");
        }
        let b: LinkBody = serde_json::from_str(r#"{"url":null}"#).unwrap();
        assert!(b.url_to_create().is_err());
    }

    #[test]
    fn lifecycle_fields_keep_null_apart_from_absent() {
        let b: LinkBody = serde_json::from_str(r#"{"expires_at":null}"#).unwrap();
        assert_eq!(b.expires_at, Some(Value::Null));
        assert_eq!(b.ttl, None);
        let b: LinkBody =
            serde_json::from_str(r#"{"url":"https://e.com","redirect_type":"302"}"#).unwrap();
        assert!(b.redirect_type().is_err());
        assert_eq!(b.url_to_create().unwrap(), "https://e.com");
        assert!(serde_json::from_str::<LinkBody>(r#"{"url":"x","bogus":1}"#).is_err());
        for bad in [
            r#"{"archived":"yes"}"#,
            r#"{"archived":null}"#,
            r#"{"forward_query":1}"#,
        ] {
            let b: LinkBody = serde_json::from_str(bad).unwrap();
            let refused = b.archived().is_err() || b.forward_query().is_err();
            assert!(refused, "{bad}");
        }
        let b: LinkBody = serde_json::from_str(r#"{"state":null}"#).unwrap();
        assert!(b.state().is_err());
    }

    #[test]
    fn archived_filter_defaults_to_unarchived() {
        assert!(!parse_archived(None).unwrap());
        assert!(!parse_archived(Some("false")).unwrap());
        assert!(parse_archived(Some("true")).unwrap());
        assert!(parse_archived(Some("yes")).is_err());
    }
}
