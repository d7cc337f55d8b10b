//! [`ApiError`]: every way a request can fail, mapped to an HTTP status and a stable error code
//! in one place, and rendered as the one JSON envelope `{"error":{"code":…,"message":…}}`.
//!
//! Client errors carry a message meant for the caller. Server errors carry detail for the log
//! only; their bodies stay generic.

use serde::Serialize;

use crate::account::{InvalidEmail, InvalidKeyName};
use crate::link::InvalidLink;
use crate::moderation::InvalidHost;
use crate::random::RandomUnavailable;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or invalid API token")]
    Unauthorized,
    #[error("this needs the admin role")]
    Forbidden,
    /// A state-changing request signed in by the session cookie without `X-Edgelink-Csrf: 1`.
    #[error("requests signed in by the session cookie must send the header X-Edgelink-Csrf: 1")]
    CsrfRequired,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    InvalidJson(String),
    #[error("{0}")]
    InvalidUrl(String),
    #[error("{0}")]
    InvalidSlug(String),
    #[error("{0}")]
    InvalidTitle(String),
    #[error("{0}")]
    InvalidTags(String),
    #[error("{0}")]
    InvalidEmail(String),
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    InvalidHost(String),
    #[error("reason must be one of: spam, phishing, malware, abuse, illegal, other")]
    InvalidReason,
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    InvalidExpiry(String),
    #[error("{0}")]
    InvalidRedirectType(String),
    #[error("{0}")]
    InvalidMaxClicks(String),
    #[error("{0}")]
    InvalidTargets(String),
    #[error("{0}")]
    InvalidVariants(String),
    #[error("{0}")]
    InvalidPreview(String),
    #[error("{0}")]
    InvalidPassword(String),
    /// An import file that is not of any format (or not of the one named): nothing stored.
    #[error("{0}")]
    InvalidImport(String),
    /// A query-string parameter the endpoint does not accept.
    #[error("{0}")]
    InvalidQuery(String),
    /// A list's `sort` or `order` is not one it offers.
    #[error("{0}")]
    InvalidSort(String),
    /// A list's search text `q` is too long or holds control characters.
    #[error("{0}")]
    InvalidSearch(String),
    #[error("links to this destination are not allowed")]
    BlockedDestination,
    #[error("limit must be an integer from 1 to {max}")]
    InvalidLimit { max: u32 },
    #[error("cursor is not one this API returned")]
    InvalidCursor,
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("slug is already in use")]
    SlugTaken,
    #[error("a user with this email already exists")]
    EmailTaken,
    /// `If-Match` named another version than the link's current one.
    #[error(
        "the link has changed since that version (it is now at version {current}); read it again"
    )]
    VersionMismatch { current: u64 },
    /// An `If-Match` that can match no link.
    #[error("{0}")]
    PreconditionFailed(String),
    /// D1 failed on a read that only D1 can answer (a list). Writes never surface this.
    #[error("index unavailable: {0}")]
    IndexUnavailable(String),
    /// The Analytics Engine SQL API failed on a stats read.
    #[error("analytics unavailable: {0}")]
    AnalyticsUnavailable(String),
    /// Over a rate limit (`ratelimit`): 429 with `Retry-After`.
    #[error("too many requests: at most {limit} a minute per {per}; try again in a minute")]
    RateLimited { limit: u32, per: &'static str },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Unauthorized => 401,
            ApiError::Forbidden | ApiError::CsrfRequired => 403,
            ApiError::NotFound => 404,
            ApiError::MethodNotAllowed => 405,
            ApiError::InvalidJson(_)
            | ApiError::InvalidUrl(_)
            | ApiError::InvalidSlug(_)
            | ApiError::InvalidTitle(_)
            | ApiError::InvalidTags(_)
            | ApiError::InvalidEmail(_)
            | ApiError::InvalidName(_)
            | ApiError::InvalidHost(_)
            | ApiError::InvalidReason
            | ApiError::InvalidState(_)
            | ApiError::InvalidExpiry(_)
            | ApiError::InvalidRedirectType(_)
            | ApiError::InvalidMaxClicks(_)
            | ApiError::InvalidTargets(_)
            | ApiError::InvalidVariants(_)
            | ApiError::InvalidPreview(_)
            | ApiError::InvalidPassword(_)
            | ApiError::InvalidQuery(_)
            | ApiError::InvalidSort(_)
            | ApiError::InvalidSearch(_)
            | ApiError::InvalidImport(_)
            | ApiError::BlockedDestination
            | ApiError::InvalidLimit { .. }
            | ApiError::InvalidCursor => 400,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::SlugTaken | ApiError::EmailTaken => 409,
            ApiError::VersionMismatch { .. } | ApiError::PreconditionFailed(_) => 412,
            ApiError::RateLimited { .. } => 429,
            ApiError::IndexUnavailable(_) | ApiError::AnalyticsUnavailable(_) => 503,
            ApiError::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::CsrfRequired => "csrf_required",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::InvalidUrl(_) => "invalid_url",
            ApiError::InvalidSlug(_) => "invalid_slug",
            ApiError::InvalidTitle(_) => "invalid_title",
            ApiError::InvalidTags(_) => "invalid_tags",
            ApiError::InvalidEmail(_) => "invalid_email",
            ApiError::InvalidName(_) => "invalid_name",
            ApiError::InvalidHost(_) => "invalid_host",
            ApiError::InvalidReason => "invalid_reason",
            ApiError::InvalidState(_) => "invalid_state",
            ApiError::InvalidExpiry(_) => "invalid_expiry",
            ApiError::InvalidRedirectType(_) => "invalid_redirect_type",
            ApiError::InvalidMaxClicks(_) => "invalid_max_clicks",
            ApiError::InvalidTargets(_) => "invalid_targets",
            ApiError::InvalidVariants(_) => "invalid_variants",
            ApiError::InvalidPreview(_) => "invalid_preview",
            ApiError::InvalidPassword(_) => "invalid_password",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::InvalidSort(_) => "invalid_sort",
            ApiError::InvalidSearch(_) => "invalid_search",
            ApiError::InvalidImport(_) => "invalid_import",
            ApiError::BlockedDestination => "blocked_destination",
            ApiError::InvalidLimit { .. } => "invalid_limit",
            ApiError::InvalidCursor => "invalid_cursor",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::SlugTaken => "slug_taken",
            ApiError::EmailTaken => "email_taken",
            ApiError::VersionMismatch { .. } | ApiError::PreconditionFailed(_) => {
                "version_mismatch"
            }
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::IndexUnavailable(_) => "index_unavailable",
            ApiError::AnalyticsUnavailable(_) => "analytics_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn is_server_error(&self) -> bool {
        self.status() >= 500
    }

    /// The message the caller sees: the error's own text for client errors, a generic
    /// sentence for server errors (their detail goes to the log).
    pub fn public_message(&self) -> String {
        match self {
            ApiError::IndexUnavailable(_) => {
                "the link index is temporarily unavailable; links still redirect, try again soon"
                    .into()
            }
            ApiError::AnalyticsUnavailable(_) => {
                "click statistics are temporarily unavailable; try again soon".into()
            }
            ApiError::Internal(_) => "internal error".into(),
            other => other.to_string(),
        }
    }

    /// The JSON envelope every error response carries.
    pub fn body(&self) -> String {
        #[derive(Serialize)]
        struct Envelope<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'a str,
            message: String,
        }
        let envelope = Envelope {
            error: Inner {
                code: self.code(),
                message: self.public_message(),
            },
        };
        serde_json::to_string(&envelope).unwrap_or_else(|_| {
            r#"{"error":{"code":"internal","message":"internal error"}}"#.into()
        })
    }
}

impl From<InvalidLink> for ApiError {
    fn from(e: InvalidLink) -> Self {
        match e {
            InvalidLink::Slug(m) => ApiError::InvalidSlug(m),
            InvalidLink::Url(m) => ApiError::InvalidUrl(m),
            InvalidLink::Title(m) => ApiError::InvalidTitle(m),
            InvalidLink::Tags(m) => ApiError::InvalidTags(m),
            InvalidLink::Expiry(m) => ApiError::InvalidExpiry(m),
            InvalidLink::RedirectType(m) => ApiError::InvalidRedirectType(m),
            InvalidLink::State(m) => ApiError::InvalidState(m),
            InvalidLink::MaxClicks(m) => ApiError::InvalidMaxClicks(m),
            InvalidLink::Targets(m) => ApiError::InvalidTargets(m),
            InvalidLink::Variants(m) => ApiError::InvalidVariants(m),
            InvalidLink::Preview(m) => ApiError::InvalidPreview(m),
            InvalidLink::Password(m) => ApiError::InvalidPassword(m),
        }
    }
}

impl From<InvalidEmail> for ApiError {
    fn from(e: InvalidEmail) -> Self {
        ApiError::InvalidEmail(e.0)
    }
}

impl From<InvalidKeyName> for ApiError {
    fn from(e: InvalidKeyName) -> Self {
        ApiError::InvalidName(e.0)
    }
}

impl From<InvalidHost> for ApiError {
    fn from(e: InvalidHost) -> Self {
        ApiError::InvalidHost(e.0)
    }
}

impl From<RandomUnavailable> for ApiError {
    fn from(e: RandomUnavailable) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Index(m) => ApiError::IndexUnavailable(m),
            StoreError::Analytics(m) => ApiError::AnalyticsUnavailable(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_explain_themselves_in_the_envelope() {
        let e = ApiError::InvalidSlug("slug must be 3 to 64 characters long".into());
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(e.status(), 400);
        assert_eq!(v["error"]["code"], "invalid_slug");
        assert_eq!(
            v["error"]["message"],
            "slug must be 3 to 64 characters long"
        );
    }

    #[test]
    fn server_errors_hide_their_detail() {
        let e = ApiError::from(StoreError::Kv("secret detail".into()));
        assert_eq!(e.status(), 500);
        assert!(!e.body().contains("secret detail"));
        let e = ApiError::from(StoreError::Analytics("status 500: secret".into()));
        assert_eq!((e.status(), e.code()), (503, "analytics_unavailable"));
        assert!(!e.body().contains("secret"));
        let e = ApiError::from(StoreError::Index("no such table: links".into()));
        assert_eq!((e.status(), e.code()), (503, "index_unavailable"));
        assert!(!e.body().contains("no such table"));
    }

    #[test]
    fn domain_errors_map_to_their_codes() {
        assert_eq!(
            ApiError::from(InvalidLink::Url("x".into())).code(),
            "invalid_url"
        );
        assert_eq!(
            ApiError::from(InvalidLink::Title("x".into())).code(),
            "invalid_title"
        );
        assert_eq!(
            ApiError::from(InvalidLink::Expiry("x".into())).code(),
            "invalid_expiry"
        );
        assert_eq!(
            ApiError::from(InvalidLink::RedirectType("x".into())).code(),
            "invalid_redirect_type"
        );
        assert_eq!(ApiError::from(InvalidLink::State("x".into())).status(), 400);
        assert_eq!(
            ApiError::from(InvalidEmail("x".into())).code(),
            "invalid_email"
        );
        assert_eq!(ApiError::PayloadTooLarge { limit: 8192 }.status(), 413);
        assert_eq!(ApiError::SlugTaken.status(), 409);
    }
}
