//! The link API: create, read, update, delete (KV first, D1 in the background) and the owner's
//! list (paged, filtered and sorted by the D1 index, the links read from KV). A link's history
//! is [`super::history`]'s.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use worker::{Context, Request};

use super::admin::blocklist::ensure_all_allowed;
use super::list_query::{first_page_total, owner_list_params, Total};
use super::params::{if_match, page, path_slug};
use super::password::hash_password;
use super::view::{link_response, listed, view, LinkView};
use super::{authenticate, body_bytes, json, json_body, no_content, origin, parse_json, ApiResult};
use crate::analytics::day_of;
use crate::app::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::lifecycle::{
    parse_max_clicks, parse_valid_since, ExpiryChange, OwnerState, RedirectType,
};
use crate::link::{
    present, Link, LinkOptions, LinkPatch, Password, PasswordHash, Preview, Slug, Tags, TargetUrl,
    Targets, Title, Variants,
};
use crate::service::links::{self as service, Written};
use crate::store::index::{owner_links_count, owner_links_query};
use crate::sync;
use crate::time::Timestamp;

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
    #[serde(default, deserialize_with = "raw")]
    tags: Option<Value>,
    #[serde(default, deserialize_with = "raw")]
    valid_since: Option<Value>,
    #[serde(default, deserialize_with = "raw")]
    targets: Option<Value>,
    #[serde(default, deserialize_with = "raw")]
    variants: Option<Value>,
    #[serde(default, deserialize_with = "raw")]
    preview: Option<Value>,
    #[serde(default, deserialize_with = "raw")]
    password: Option<Value>,
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

    /// `None` when absent; `null` and `[]` are the empty set (on update: clear them).
    fn tags(&self) -> Result<Option<Tags>, ApiError> {
        let items = match &self.tags {
            None => return Ok(None),
            Some(Value::Null) => return Ok(Some(Tags::default())),
            Some(Value::Array(items)) => items,
            Some(_) => {
                return Err(ApiError::InvalidTags(
                    "tags must be an array of strings".into(),
                ))
            }
        };
        let strings = items
            .iter()
            .map(|v| v.as_str())
            .collect::<Option<Vec<&str>>>()
            .ok_or_else(|| ApiError::InvalidTags("tags must be an array of strings".into()))?;
        Ok(Some(Tags::parse(&strings)?))
    }

    /// `None` when absent; `Some(None)` for `null` (no start).
    fn valid_since(&self) -> Result<Option<Option<Timestamp>>, ApiError> {
        Ok(self
            .valid_since
            .as_ref()
            .map(parse_valid_since)
            .transpose()?)
    }

    /// `None` when absent; `Some(None)` for `null` (none), as for variants and preview.
    fn targets(&self, own_host: &str) -> Result<Option<Option<Targets>>, ApiError> {
        Ok(nullable(&self.targets, |v| Targets::parse(v, own_host))?)
    }

    fn variants(&self, own_host: &str) -> Result<Option<Option<Variants>>, ApiError> {
        Ok(nullable(&self.variants, |v| Variants::parse(v, own_host))?)
    }

    fn preview(&self) -> Result<Option<Option<Preview>>, ApiError> {
        Ok(nullable(&self.preview, Preview::parse)?)
    }

    /// `None` when absent; `Some(None)` for `null` (unlimited).
    fn max_clicks(&self) -> Result<Option<Option<u64>>, ApiError> {
        Ok(self.max_clicks.as_ref().map(parse_max_clicks).transpose()?)
    }

    /// `None` when absent; `Some(None)` for `null` (no password).
    fn password(&self) -> Result<Option<Option<Password>>, ApiError> {
        match &self.password {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(p)) => Ok(Some(Some(Password::parse(p)?))),
            Some(_) => Err(ApiError::InvalidPassword(
                "password must be a string or null".into(),
            )),
        }
    }
}

/// A password as its hash: `Some(None)` stays "remove it". Hashed only after every other field
/// passed, so a refused body costs no PBKDF2 run.
async fn password_hash(
    password: Option<Option<Password>>,
) -> Result<Option<Option<PasswordHash>>, ApiError> {
    match password {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(p)) => Ok(Some(Some(hash_password(&p).await?))),
    }
}

/// A present field parsed by `parse`, `null` as `Some(None)`.
fn nullable<T, E>(
    raw: &Option<Value>,
    parse: impl FnOnce(&Value) -> Result<T, E>,
) -> Result<Option<Option<T>>, E> {
    match raw {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(v) => parse(v).map(|t| Some(Some(t))),
    }
}

/// Every destination a create or patch sets (`url`, targets, variants), for the blocklist.
pub(super) fn destinations<'a>(
    url: Option<&'a TargetUrl>,
    targets: Option<&'a Targets>,
    variants: Option<&'a Variants>,
) -> impl Iterator<Item = &'a TargetUrl> {
    url.into_iter()
        .chain(targets.into_iter().flat_map(Targets::urls))
        .chain(variants.into_iter().flat_map(Variants::urls))
}

/// Keeps a present field's raw JSON, `null` included (`Some(Value::Null)`).
fn raw<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// `POST /api/links` `{"url","slug"?,"title"?,"expires_at"?|"ttl"?,"redirect_type"?,
/// "forward_query"?,"archived"?,"state"?,"max_clicks"?,"tags"?,"valid_since"?,"targets"?,
/// "variants"?,"preview"?}` → 201 the link.
pub async fn create(mut req: Request, app: &App, ctx: &Context) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let origin = origin(&req)?;
    let body = body_bytes(&mut req).await?;
    let written = create_one(&body, &caller, &origin.host, app).await?;
    answer_written(201, written, &origin.origin, app, ctx)
}

/// One create, from its JSON body to the link written (the index change still to make): the
/// single create and each item of a bulk create go through exactly this, so they answer the
/// same errors. Nothing is written unless every check passed.
pub(super) async fn create_one(
    body: &[u8],
    caller: &Caller,
    host: &str,
    app: &App,
) -> Result<Written, ApiError> {
    let kv = &app.kv;
    let fields: LinkBody = parse_json(body)?;
    let at = app.now();
    let url = TargetUrl::parse_for(fields.url_to_create()?, host)?;
    let options = LinkOptions {
        title: fields
            .title
            .as_ref()
            .and_then(Option::as_deref)
            .map(Title::parse)
            .transpose()?,
        expires_at: fields
            .expiry(at)?
            .on_create(app.config.default_ttl_secs, at),
        archived: fields.archived()?.unwrap_or(false),
        redirect_type: fields.redirect_type()?.unwrap_or_default(),
        forward_query: fields.forward_query()?.unwrap_or(true),
        state: fields.state()?.unwrap_or(OwnerState::Active),
        max_clicks: fields.max_clicks()?.flatten(),
        tags: fields.tags()?.unwrap_or_default(),
        valid_since: fields.valid_since()?.flatten(),
        targets: fields.targets(host)?.flatten(),
        variants: fields.variants(host)?.flatten(),
        preview: fields.preview()?.flatten(),
        password_hash: None,
    };
    let password = fields.password()?;
    let slug = fields
        .slug
        .as_ref()
        .and_then(Option::as_deref)
        .map(Slug::parse)
        .transpose()?;
    let all = destinations(
        Some(&url),
        options.targets.as_ref(),
        options.variants.as_ref(),
    );
    ensure_all_allowed(kv, all).await?;
    let options = LinkOptions {
        password_hash: password_hash(password).await?.flatten(),
        ..options
    };
    let new_link = |slug| Link::new(slug, url.clone(), caller.id.clone(), options.clone(), at);
    service::create(kv, &app.claims, caller, slug, new_link).await
}

/// Answers `status` with the written link and indexes the change in the background.
pub(super) fn answer_written(
    status: u16,
    written: Written,
    origin: &str,
    app: &App,
    ctx: &Context,
) -> ApiResult {
    let response = link_response(status, &view(&written.link, origin, app.now()));
    if let Some(change) = written.change {
        ctx.wait_until(sync::apply(app.clone(), change));
    }
    response
}

/// `GET /api/links/{slug}` → 200 the link, from KV, with its version as `ETag`.
pub async fn get(req: Request, app: &App, ctx: &Context, raw_slug: &str) -> ApiResult {
    let kv = &app.kv;
    let caller = authenticate(&req, app, ctx).await?;
    let slug = path_slug(raw_slug)?;
    let link = match kv.link(&slug).await? {
        Some(link) if caller.may_manage(&link.owner) => link,
        _ => return Err(ApiError::NotFound),
    };
    // The link is KV's; its click count is the roll-up's, and a roll-up outage only blanks it.
    let clicks = app
        .rollup
        // Counted from the link's creation: a re-created slug starts at zero.
        .clicks_since(&[(link.slug.as_str(), day_of(link.created_at))])
        .await
        .map(|m| m.get(link.slug.as_str()).copied().unwrap_or(0))
        .ok();
    let mut shown = view(&link, &origin(&req)?.origin, app.now());
    shown.clicks = Some(clicks);
    link_response(200, &shown)
}

/// `PATCH /api/links/{slug}` with any of the create fields but `slug` → 200 the updated link.
/// With `If-Match: "<version>"`, 412 `version_mismatch` when the link has moved on.
pub async fn update(mut req: Request, app: &App, ctx: &Context, raw_slug: &str) -> ApiResult {
    let kv = &app.kv;
    let caller = authenticate(&req, app, ctx).await?;
    let origin = origin(&req)?;
    let if_match = if_match(&req)?;
    let body: LinkBody = json_body(&mut req).await?;
    body.no_slug()?;
    let slug = path_slug(raw_slug)?;
    let at = app.now();
    let fields = &body;
    let patch = LinkPatch {
        expires_at: fields.expiry(at)?.on_update(),
        archived: fields.archived()?,
        redirect_type: fields.redirect_type()?,
        forward_query: fields.forward_query()?,
        state: fields.state()?,
        max_clicks: fields.max_clicks()?,
        tags: fields.tags()?,
        valid_since: fields.valid_since()?,
        password_hash: None,
        url: match &body.url {
            None => None,
            Some(None) => return Err(ApiError::InvalidUrl("url cannot be null".into())),
            Some(Some(raw)) => Some(TargetUrl::parse_for(raw, &origin.host)?),
        },
        title: body
            .title
            .as_ref()
            .map(|t| t.as_deref().map(Title::parse).transpose())
            .transpose()?,
        targets: fields.targets(&origin.host)?,
        variants: fields.variants(&origin.host)?,
        preview: fields.preview()?,
        tag_edit: None,
    };
    let all = destinations(
        patch.url.as_ref(),
        patch.targets.as_ref().and_then(Option::as_ref),
        patch.variants.as_ref().and_then(Option::as_ref),
    );
    ensure_all_allowed(kv, all).await?;
    let password = body.password()?;
    let patch = LinkPatch {
        password_hash: password_hash(password).await?,
        ..patch
    };
    let written = service::update(&app.claims, &caller, &slug, patch, if_match).await?;
    answer_written(200, written, &origin.origin, app, ctx)
}

/// `DELETE /api/links/{slug}` → 204. With `If-Match`, 412 when the link has moved on.
pub async fn delete(req: Request, app: &App, ctx: &Context, raw_slug: &str) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let if_match = if_match(&req)?;
    let slug = path_slug(raw_slug)?;
    let change = service::delete(&app.claims, &caller, &slug, if_match).await?;
    ctx.wait_until(sync::apply(app.clone(), change));
    no_content()
}

#[derive(Serialize)]
struct LinkList<'a> {
    links: Vec<LinkView<'a>>,
    next_cursor: Option<String>,
    /// How many links match, on the first page only (a count costs a pass over the matches).
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
}

/// `GET /api/links?q=&tag=&tag_mode=&state=&archived=&sort=&order=&limit=&cursor=` → the
/// caller's links, newest first unless `sort`/`order` say otherwise (see
/// [`owner_list_params`]), with `total` on the first page. Archived links are listed only with
/// `archived=true`; `tag` (repeatable) keeps links carrying any (`tag_mode=any`, the default)
/// or all of the tags; `q` keeps links whose slug, url, title or a tag contains it. The D1
/// index picks the page and counts the clicks; each link is shown from KV as a read of it
/// shows it (one bulk read a page), so a list never shows less, or older, than the link's page.
pub async fn list(req: Request, app: &App, ctx: &Context) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let params = owner_list_params(&req.inner().url())?;
    let origin = origin(&req)?;
    // One extra row says whether another page exists.
    let query = owner_links_query(
        &caller.id,
        &params.filter,
        params.order,
        params.cursor.as_ref(),
        params.limit + 1,
    );
    let rows = app.index.links_by_owner(&query).await?;
    let total = match first_page_total(params.cursor.is_none(), rows.len(), params.limit) {
        Total::Known(n) => Some(n),
        Total::Count => Some(
            app.index
                .count(&owner_links_count(&caller.id, &params.filter))
                .await?,
        ),
        Total::None => None,
    };
    let (rows, next_cursor) = page(rows, params.limit, |r| {
        r.cursor(params.order).map(|c| c.encode())
    });
    let slugs: Vec<&str> = rows.iter().map(|r| r.slug.as_str()).collect();
    let found = app.kv.links_in_order(&slugs, Some(&caller.id)).await?;
    let at = app.now();
    // `clicks` is the row's: the roll-up keeps it (see store::rollup), so no second query.
    let links = rows
        .iter()
        .zip(&found)
        .filter_map(|(row, link)| Some(listed(link.as_ref()?, row.clicks, &origin.origin, at)))
        .collect();
    json(
        200,
        &LinkList {
            links,
            next_cursor,
            total,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
