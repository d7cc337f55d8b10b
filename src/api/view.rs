//! How the API shows a link: [`LinkView`], the stored fields with the short URL and what follows
//! from them now, answered with the link's `ETag`. A password's hash is never shown: only
//! `has_password` (the export is the one place the hash leaves the Worker).

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use super::params::etag;
use super::ApiResult;
use crate::error::ApiError;
use crate::link::Link;
use crate::time::Timestamp;
use worker::Response;

/// A link as the API shows it: the stored fields, its short URL, and what follows from them
/// at `now` (`state`, `expired`).
#[derive(Serialize)]
pub struct LinkView<'a> {
    /// The link without its password hash (a copy only for a link that has one).
    #[serde(flatten)]
    link: Cow<'a, Link>,
    short_url: String,
    state: &'static str,
    expired: bool,
    has_password: bool,
    /// People's clicks (the D1 roll-up) on reads; `null` when the roll-up is unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clicks: Option<Option<u64>>,
}

pub fn view<'a>(link: &'a Link, origin: &str, now: Timestamp) -> LinkView<'a> {
    LinkView {
        short_url: format!("{origin}/{}", link.slug),
        state: link.state().as_str(),
        expired: link.is_expired(now),
        clicks: None,
        has_password: link.password_hash.is_some(),
        link: match link.password_hash {
            None => Cow::Borrowed(link),
            Some(_) => Cow::Owned(Link {
                password_hash: None,
                ..link.clone()
            }),
        },
    }
}

/// A link as the lists show it: its [`view`] with the clicks the D1 index counted.
pub fn listed<'a>(link: &'a Link, clicks: u64, origin: &str, now: Timestamp) -> LinkView<'a> {
    LinkView {
        clicks: Some(Some(clicks)),
        ..view(link, origin, now)
    }
}

/// A stored link's JSON (a history entry's) as the API may show it: the hash out, and
/// `has_password` in, as [`view`] does.
pub fn shown_link_json(mut link: Value) -> Value {
    if let Value::Object(fields) = &mut link {
        let had = fields.remove("password_hash").is_some_and(|h| !h.is_null());
        fields.insert("has_password".into(), Value::Bool(had));
    }
    link
}

/// `status` with the link as JSON and its version as `ETag`, for `If-Match` on the next write.
pub fn link_response(status: u16, shown: &LinkView) -> ApiResult {
    Response::builder()
        .with_status(status)
        .with_header("ETag", &etag(shown.link.version))
        .and_then(|b| b.from_json(shown))
        .map_err(|e| ApiError::Internal(format!("serialising response: {e}")))
}
