//! How the API shows a link: [`LinkView`], the stored fields with the short URL and what follows
//! from them now, answered with the link's `ETag`.

use serde::Serialize;

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
    #[serde(flatten)]
    link: &'a Link,
    short_url: String,
    state: &'static str,
    expired: bool,
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
        link,
    }
}

/// `status` with the link as JSON and its version as `ETag`, for `If-Match` on the next write.
pub fn link_response(status: u16, shown: &LinkView) -> ApiResult {
    Response::builder()
        .with_status(status)
        .with_header("ETag", &etag(shown.link.version))
        .and_then(|b| b.from_json(shown))
        .map_err(|e| ApiError::Internal(format!("serialising response: {e}")))
}
