//! The shell's access to the runtime: binding and variable names, typed access to the stores,
//! configuration with defaults, and the clock. Everything that reads `Env` or the time goes
//! through here, so the core never does.

use worker::Env;

use crate::claim::{DAY_MILLIS, DEFAULT_QUARANTINE_DAYS};
use crate::store::claims::Claims;
use crate::store::index::Index;
use crate::store::kv::Kv;
use crate::store::StoreError;
use crate::time::Timestamp;

/// Workers KV namespace: the source of truth.
pub const LINKS_BINDING: &str = "LINKS";
/// D1 database: the query index.
pub const DB_BINDING: &str = "DB";
/// Durable Object namespace of slug claims.
pub const SLUG_CLAIMS_BINDING: &str = "SLUG_CLAIMS";
/// Secret bearer token of the built-in admin.
pub const ADMIN_TOKEN_VAR: &str = "ADMIN_TOKEN";
const SLUG_QUARANTINE_DAYS_VAR: &str = "SLUG_QUARANTINE_DAYS";

pub fn now() -> Timestamp {
    Timestamp::from_millis(worker::Date::now().as_millis())
}

pub fn kv(env: &Env) -> Result<Kv, StoreError> {
    env.kv(LINKS_BINDING)
        .map(Kv::new)
        .map_err(|e| StoreError::Kv(format!("binding {LINKS_BINDING}: {e}")))
}

pub fn index(env: &Env) -> Result<Index, StoreError> {
    env.d1(DB_BINDING)
        .map(Index::new)
        .map_err(|e| StoreError::Index(format!("binding {DB_BINDING}: {e}")))
}

pub fn claims(env: &Env) -> Result<Claims, StoreError> {
    env.durable_object(SLUG_CLAIMS_BINDING)
        .map(Claims::new)
        .map_err(|e| StoreError::Claim(format!("binding {SLUG_CLAIMS_BINDING}: {e}")))
}

/// How long a deleted slug stays reserved for its previous owner.
pub fn slug_quarantine_millis(env: &Env) -> u64 {
    let days = var(env, SLUG_QUARANTINE_DAYS_VAR)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_QUARANTINE_DAYS);
    days.saturating_mul(DAY_MILLIS)
}

/// A configured string, `None` when unset.
pub fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}
