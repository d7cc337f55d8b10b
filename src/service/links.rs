//! Link writes, as every handler (the owner's API, the admin's moderation) makes them: each is
//! one [`Intent`] sent to the slug's Durable Object, which applies it to the newest state of
//! the link and writes KV; this module turns its answer into the link written, or the
//! [`ApiError`] the caller gets, and into the [`IndexChange`] the handler hands to `sync` in
//! the background. No rule about who may do what lives here: that is [`crate::claim::decide`].

use crate::auth::Caller;
use crate::claim::{Intent, SlugRequest, SlugResponse};
use crate::error::ApiError;
use crate::link::{Link, LinkPatch, Slug, Version, ALPHANUMERIC, GENERATED_SLUG_LEN};
use crate::moderation::FlagReason;
use crate::random;
use crate::store::claims::Claims;
use crate::store::kv::Kv;
use crate::sync::IndexChange;

/// Link writes one invocation keeps in flight (a bulk create, a tag edit): each is a few KV
/// reads and one Durable Object round trip, and the runtime allows an invocation six
/// simultaneous open connections.
pub const WRITES_IN_FLIGHT: usize = 6;

/// Generated slugs collide with probability ~n/3.5e12; a few retries make a failure negligible.
const GENERATE_ATTEMPTS: usize = 5;

/// A link after a write, and the index change to make in the background (`None` when nothing
/// changed).
pub struct Written {
    pub link: Link,
    pub change: Option<IndexChange>,
}

/// What an admin's unflag did.
pub enum Unflagged {
    /// The link redirects again.
    Link(Box<Written>),
    /// The slug of a link deleted while flagged can be claimed again.
    SlugCleared,
}

/// Creates a link under `slug`, or under a generated slug when `None`. `new_link` builds the
/// link for a slug. 409 when the slug is taken.
pub async fn create(
    kv: &Kv,
    claims: &Claims,
    caller: &Caller,
    slug: Option<Slug>,
    new_link: impl Fn(Slug) -> Link,
) -> Result<Written, ApiError> {
    let link = match slug {
        Some(slug) => claim(kv, claims, caller, new_link(slug))
            .await?
            .ok_or(ApiError::SlugTaken)?,
        None => claim_generated(kv, claims, caller, new_link).await?,
    };
    Ok(Written {
        change: Some(IndexChange::created(link.clone(), &caller.id)),
        link,
    })
}

/// Claims the link's slug and stores the link: the stored link, or `None` when the slug is
/// taken. The KV check answers the common case without a Durable Object round trip.
async fn claim(
    kv: &Kv,
    claims: &Claims,
    caller: &Caller,
    link: Link,
) -> Result<Option<Link>, ApiError> {
    if kv.link_exists(&link.slug).await? {
        return Ok(None);
    }
    let slug = link.slug.clone();
    match send(claims, caller, &slug, Intent::Create { link }).await? {
        SlugResponse::Written { link } => Ok(Some(link)),
        SlugResponse::Taken => Ok(None),
        other => Err(unexpected("create", &slug, &other)),
    }
}

async fn claim_generated(
    kv: &Kv,
    claims: &Claims,
    caller: &Caller,
    new_link: impl Fn(Slug) -> Link,
) -> Result<Link, ApiError> {
    for _ in 0..GENERATE_ATTEMPTS {
        let candidate = random::token(GENERATED_SLUG_LEN, &ALPHANUMERIC)?;
        // A reserved word can come out of the generator too; skip it like a collision.
        let Ok(slug) = Slug::parse(&candidate) else {
            continue;
        };
        if let Some(link) = claim(kv, claims, caller, new_link(slug)).await? {
            return Ok(link);
        }
    }
    Err(ApiError::Internal(
        "no free generated slug after retries".into(),
    ))
}

/// Applies `patch` to the newest state of the link (only at version `if_match`, when given).
pub async fn update(
    claims: &Claims,
    caller: &Caller,
    slug: &Slug,
    patch: LinkPatch,
    if_match: Option<Version>,
) -> Result<Written, ApiError> {
    let intent = Intent::Update { patch, if_match };
    written(
        caller,
        slug,
        "update",
        send(claims, caller, slug, intent).await?,
    )
}

/// Deletes the link (only at version `if_match`, when given): the index change to make.
pub async fn delete(
    claims: &Claims,
    caller: &Caller,
    slug: &Slug,
    if_match: Option<Version>,
) -> Result<IndexChange, ApiError> {
    match send(claims, caller, slug, Intent::Delete { if_match }).await? {
        SlugResponse::Deleted { version, last } => Ok(IndexChange::Delete {
            last,
            version,
            actor: caller.id.clone(),
        }),
        other => Err(refusal(slug, "delete", other)),
    }
}

/// An admin flags the link: it answers 410 to visitors at once.
pub async fn flag(
    claims: &Claims,
    admin: &Caller,
    slug: &Slug,
    reason: FlagReason,
) -> Result<Written, ApiError> {
    let answer = send(claims, admin, slug, Intent::Flag { reason }).await?;
    written(admin, slug, "flag", answer)
}

/// An admin clears the flag of a link, or of a slug whose flagged link was deleted.
pub async fn unflag(claims: &Claims, admin: &Caller, slug: &Slug) -> Result<Unflagged, ApiError> {
    match send(claims, admin, slug, Intent::Unflag).await? {
        SlugResponse::Cleared => Ok(Unflagged::SlugCleared),
        other => written(admin, slug, "unflag", other).map(|w| Unflagged::Link(Box::new(w))),
    }
}

async fn send(
    claims: &Claims,
    caller: &Caller,
    slug: &Slug,
    intent: Intent,
) -> Result<SlugResponse, ApiError> {
    let request = SlugRequest {
        slug: slug.clone(),
        caller: caller.clone(),
        intent,
    };
    Ok(claims.send(&request).await?)
}

/// The link of a `Written` or `Unchanged` answer; any other answer as its error.
fn written(
    caller: &Caller,
    slug: &Slug,
    what: &str,
    answer: SlugResponse,
) -> Result<Written, ApiError> {
    match answer {
        SlugResponse::Written { link } => Ok(Written {
            change: Some(IndexChange::updated(link.clone(), &caller.id)),
            link,
        }),
        SlugResponse::Unchanged { link } => Ok(Written { link, change: None }),
        other => Err(refusal(slug, what, other)),
    }
}

/// The error a refused intent answers.
fn refusal(slug: &Slug, what: &str, answer: SlugResponse) -> ApiError {
    match answer {
        SlugResponse::NotFound => ApiError::NotFound,
        SlugResponse::VersionMismatch { current } => ApiError::VersionMismatch {
            current: current.get(),
        },
        SlugResponse::Invalid { error } => error.into(),
        other => unexpected(what, slug, &other),
    }
}

fn unexpected(what: &str, slug: &Slug, answer: &SlugResponse) -> ApiError {
    ApiError::Internal(format!("{what} {slug}: {}", answer.outcome()))
}
