//! Why a value from outside was refused ([`InvalidLink`], one API error code per case) and the
//! bound every number that enters is checked against. Below every domain type that parses
//! outside input, so `link`, `lifecycle` and `account` share it without importing one another.
//! Never imports `worker`, never does I/O.

use serde::{Deserialize, Serialize};

/// The largest integer every reader of a stored number holds exactly (the redirect's
/// `JSON.parse`, D1's binding through JS numbers): 2^53 − 1. Numbers that enter are bounded by it.
pub const SAFE_INTEGER_MAX: u64 = (1 << 53) - 1;

/// Why a value from outside was refused. Each maps to one API error code. Serializable: the
/// slug's Durable Object, which applies patches, sends a refusal back as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvalidLink {
    #[error("{0}")]
    Slug(String),
    #[error("{0}")]
    Url(String),
    #[error("{0}")]
    Title(String),
    #[error("{0}")]
    Tags(String),
    #[error("{0}")]
    Expiry(String),
    #[error("{0}")]
    RedirectType(String),
    #[error("{0}")]
    State(String),
    #[error("{0}")]
    MaxClicks(String),
    #[error("{0}")]
    Targets(String),
    #[error("{0}")]
    Variants(String),
    #[error("{0}")]
    Preview(String),
    #[error("{0}")]
    Password(String),
}
