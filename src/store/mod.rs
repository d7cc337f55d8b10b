//! The stores, the Worker's clients of its Durable Objects, and their one error type. The
//! objects themselves are entry points and live in `objects`; only their clients are here.
//!
//! - [`kv::Kv`]: Workers KV, the source of truth for links, users, API keys, sync markers and
//!   the sweep checkpoint. Owns every key format.
//! - [`index::Index`]: D1, the query index rebuilt from KV at any time, and the change log. Owns
//!   their SQL.
//! - [`claims::Claims`]: the client of the per-slug Durable Object that makes slug claims
//!   atomic and counts clicks of limited links exactly.
//! - [`email_claims::EmailClaims`]: the client of the per-address Durable Object that makes user
//!   creation atomic per e-mail address.
//! - [`day_salt::ask`]: the client of the per-day Durable Object that makes the visitor salt.
//! - [`rollup::Rollup`]: D1's click roll-up, fed by the click queue. Owns its SQL.
//! - [`ae_sql::AeSql`]: the Analytics Engine SQL API, for stats when an account is configured.
//! - `http`: the POST requests the slug object and the SQL API are sent.
//! - `d1`: what both D1 stores share (errors, JSON row parameters, batches, reading rows).

pub mod ae_sql;
pub mod claims;
mod d1;
pub mod day_salt;
pub mod email_claims;
pub mod http;
pub mod index;
pub mod kv;
pub mod rollup;

/// A store failed. Which store matters: an index failure on a write is recorded and repaired
/// later, a KV failure fails the request.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("KV: {0}")]
    Kv(String),
    #[error("D1: {0}")]
    Index(String),
    #[error("slug claim: {0}")]
    Claim(String),
    #[error("e-mail claim: {0}")]
    EmailClaim(String),
    /// The Analytics Engine SQL API failed.
    #[error("analytics: {0}")]
    Analytics(String),
    #[error("corrupt value under {key}: {reason}")]
    Corrupt { key: String, reason: String },
}

impl From<worker::kv::KvError> for StoreError {
    fn from(e: worker::kv::KvError) -> Self {
        StoreError::Kv(e.to_string())
    }
}
