//! The Shlink REST API (v3) as edgelink speaks it, pure: what its parameters mean
//! ([`params`]: `orderBy`, paging, ISO-8601 dates (the forms besides RFC 3339 read by
//! [`iso8601`]), the list filters edgelink leaves out),
//! its error bodies ([`problem`]: `application/problem+json`), and the shapes it answers
//! ([`shape`]: short URLs, visits, pagination, the stand-in user agent). The handlers in
//! `api::shlink` parse with this, call the link service, and render with this. Never touches
//! a store or the clock.

pub mod body;
pub mod iso8601;
pub mod params;
pub mod problem;
pub mod route;
pub mod shape;

/// The Shlink version `/rest/health` reports. Shlink's web client switches features on by
/// it (shlink-web-component's `supportedFeatures`), so it is the highest version whose
/// version-gated features edgelink all serves: 3.4.0 turns on `filterDisabledUrls` (the list
/// filters `excludeMaxVisitsReached` and `excludePastValidUntil`, refused here), and with it
/// `excludeBotsOnShortUrls`; 3.5.0 device long URLs, 3.6.0/3.7.0 visit deletion, 4.0.0
/// redirect rules. What 3.3 clients use (API v3, `tags[]`/`tagsMode`, `orderBy`,
/// `forwardQuery`, `visitsSummary`, single visits) is all served (docs/shlink.md).
pub const SHLINK_VERSION: &str = "3.3.0";
