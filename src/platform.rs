//! The shell's access to the runtime: binding and variable names, typed access to the stores,
//! configuration with defaults, and the clock. Everything that reads `Env` or the time goes
//! through here, so the core never does.

use worker::Env;

use crate::analytics::AeDataset;
use crate::claim::{DAY_MILLIS, DEFAULT_QUARANTINE_DAYS};
use crate::history;
use crate::lifecycle::{
    kv_expiration_secs, DEFAULT_EXPIRED_GRACE_DAYS, DEFAULT_PERMANENT_MAX_AGE_SECS,
};
use crate::store::ae_sql::AeSql;
use crate::store::claims::Claims;
use crate::store::email_claims::EmailClaims;
use crate::store::index::Index;
use crate::store::kv::Kv;
use crate::store::rollup::Rollup;
use crate::store::StoreError;
use crate::time::Timestamp;

/// Workers KV namespace: the source of truth (the redirect's JS reads it by this name too).
pub const LINKS_BINDING: &str = "LINKS";
/// D1 database: the query index.
pub const DB_BINDING: &str = "DB";
/// Durable Object namespace of slug claims.
pub const SLUG_CLAIMS_BINDING: &str = "SLUG_CLAIMS";
/// Durable Object namespace of e-mail claims (user creation).
pub const EMAIL_CLAIMS_BINDING: &str = "EMAIL_CLAIMS";
/// Secret bearer token of the built-in admin.
pub const ADMIN_TOKEN_VAR: &str = "ADMIN_TOKEN";
/// Analytics Engine dataset: one data point per click (used by `track`'s JS).
pub const CLICKS_BINDING: &str = "CLICKS";
/// Queue (producer and consumer in this Worker) feeding the D1 click roll-up (sent to by
/// `track`'s JS).
pub const CLICK_QUEUE_BINDING: &str = "CLICK_QUEUE";
/// Durable Object namespace of the daily visitor salts (used when `ANALYTICS_SALT` is unset).
pub const DAY_SALTS_BINDING: &str = "DAY_SALTS";
/// Secret salt of visitor ids.
const ANALYTICS_SALT_VAR: &str = "ANALYTICS_SALT";
/// With `CF_API_TOKEN` (a secret): stats come from the Analytics Engine SQL API.
const CF_ACCOUNT_ID_VAR: &str = "CF_ACCOUNT_ID";
const CF_API_TOKEN_VAR: &str = "CF_API_TOKEN";
/// The SQL API endpoint; `{account_id}` is replaced. A var so tests can point it elsewhere.
const ANALYTICS_SQL_URL_VAR: &str = "ANALYTICS_SQL_URL";
const ANALYTICS_SQL_URL_DEFAULT: &str =
    "https://api.cloudflare.com/client/v4/accounts/{account_id}/analytics_engine/sql";
/// The dataset name queries read (the `CLICKS` binding's `dataset`).
const ANALYTICS_DATASET_VAR: &str = "ANALYTICS_DATASET";
/// `off`: no queue messages, no D1 roll-up (Analytics Engine only, for heavy traffic).
const CLICK_ROLLUP_VAR: &str = "CLICK_ROLLUP";
const SLUG_QUARANTINE_DAYS_VAR: &str = "SLUG_QUARANTINE_DAYS";
const HISTORY_VAR: &str = "HISTORY";
const HISTORY_RETENTION_DAYS_VAR: &str = "HISTORY_RETENTION_DAYS";
const DEFAULT_TTL_SECONDS_VAR: &str = "DEFAULT_TTL_SECONDS";
const EXPIRED_GRACE_DAYS_VAR: &str = "EXPIRED_GRACE_DAYS";
const PERMANENT_REDIRECT_MAX_AGE_VAR: &str = "PERMANENT_REDIRECT_MAX_AGE";

/// `on` arms the test-only fault switch of the slug object (`store::claims`). Never set in
/// the shipped wrangler.toml; the e2e suite that proves write ordering sets it.
const FAULT_INJECTION_VAR: &str = "FAULT_INJECTION";

/// Whether the test-only fault switch is on (`FAULT_INJECTION = "on"`).
pub fn fault_injection(env: &Env) -> bool {
    var(env, FAULT_INJECTION_VAR).is_some_and(|v| v.trim() == "on")
}

pub fn now() -> Timestamp {
    // `Date.now()`, one call; `worker::Date::now()` builds a `Date` and then reads it (two).
    // Milliseconds since 1970 are a whole, positive f64 well inside u64.
    Timestamp::from_millis(worker::js_sys::Date::now() as u64)
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

pub fn rollup(env: &Env) -> Result<Rollup, StoreError> {
    env.d1(DB_BINDING)
        .map(Rollup::new)
        .map_err(|e| StoreError::Index(format!("binding {DB_BINDING}: {e}")))
}

/// Whether clicks feed the D1 roll-up through the queue (`CLICK_ROLLUP`, on unless `off`).
pub fn click_rollup_enabled(env: &Env) -> bool {
    !matches!(var(env, CLICK_ROLLUP_VAR), Some(v) if v.trim().eq_ignore_ascii_case("off"))
}

/// The operator's visitor-id salt. Without one the Worker uses a random salt of its own per
/// UTC day (`track`), never none: a bare hash of IP and user agent could be reversed by trying
/// every IPv4 address.
pub fn analytics_salt(env: &Env) -> Option<String> {
    env.secret(ANALYTICS_SALT_VAR)
        .ok()
        .map(|s| s.to_string())
        .or_else(|| var(env, ANALYTICS_SALT_VAR))
        .filter(|s| !s.is_empty())
}

/// The Analytics Engine SQL API, when an account and token are configured.
pub fn ae_sql(env: &Env) -> Option<AeSql> {
    let account = var(env, CF_ACCOUNT_ID_VAR).filter(|a| !a.is_empty())?;
    let token = env
        .secret(CF_API_TOKEN_VAR)
        .ok()
        .map(|s| s.to_string())
        .or_else(|| var(env, CF_API_TOKEN_VAR))
        .filter(|t| !t.is_empty())?;
    let url = var(env, ANALYTICS_SQL_URL_VAR)
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| ANALYTICS_SQL_URL_DEFAULT.to_owned())
        .replace("{account_id}", &account);
    let dataset = var(env, ANALYTICS_DATASET_VAR)
        .and_then(|d| AeDataset::parse(&d))
        .or_else(|| AeDataset::parse(AeDataset::DEFAULT))?;
    Some(AeSql::new(url, token, dataset))
}

pub fn claims(env: &Env) -> Result<Claims, StoreError> {
    env.durable_object(SLUG_CLAIMS_BINDING)
        .map(Claims::new)
        .map_err(|e| StoreError::Claim(format!("binding {SLUG_CLAIMS_BINDING}: {e}")))
}

pub fn email_claims(env: &Env) -> Result<EmailClaims, StoreError> {
    env.durable_object(EMAIL_CLAIMS_BINDING)
        .map(EmailClaims::new)
        .map_err(|e| StoreError::EmailClaim(format!("binding {EMAIL_CLAIMS_BINDING}: {e}")))
}

/// How long a deleted slug stays reserved for its previous owner.
pub fn slug_quarantine_millis(env: &Env) -> u64 {
    let days = number(env, SLUG_QUARANTINE_DAYS_VAR).unwrap_or(DEFAULT_QUARANTINE_DAYS);
    days.saturating_mul(DAY_MILLIS)
}

/// Whether link changes are logged to `link_history` (`HISTORY`, on unless `off`).
pub fn history_enabled(env: &Env) -> bool {
    history::enabled(var(env, HISTORY_VAR).as_deref())
}

/// Days history rows are kept (`HISTORY_RETENTION_DAYS`, 0 = forever).
pub fn history_retention_days(env: &Env) -> u64 {
    number(env, HISTORY_RETENTION_DAYS_VAR).unwrap_or(0)
}

/// Expiry given to links created without one (`DEFAULT_TTL_SECONDS`, 0 = none).
pub fn default_ttl_secs(env: &Env) -> u64 {
    number(env, DEFAULT_TTL_SECONDS_VAR).unwrap_or(0)
}

/// How long KV keeps an expired link's key, so its owner can still extend it.
pub fn expired_grace_millis(env: &Env) -> u64 {
    number(env, EXPIRED_GRACE_DAYS_VAR)
        .unwrap_or(DEFAULT_EXPIRED_GRACE_DAYS)
        .saturating_mul(DAY_MILLIS)
}

/// The KV `expiration` of a link expiring at `expires_at` (see [`kv_expiration_secs`]).
pub fn link_kv_expiration(env: &Env, expires_at: Option<Timestamp>) -> Option<u64> {
    expires_at.and_then(|at| kv_expiration_secs(at, expired_grace_millis(env), now()))
}

/// `Cache-Control` max-age of permanent (301/308) redirects.
pub fn permanent_redirect_max_age(env: &Env) -> u64 {
    number(env, PERMANENT_REDIRECT_MAX_AGE_VAR).unwrap_or(DEFAULT_PERMANENT_MAX_AGE_SECS)
}

fn number(env: &Env, name: &str) -> Option<u64> {
    var(env, name).and_then(|v| v.trim().parse::<u64>().ok())
}

/// Whether the Worker has a binding (or var) of this name.
pub fn has_binding(env: &Env, name: &str) -> bool {
    worker::js_sys::Reflect::has(env, &name.into()).unwrap_or(false)
}

/// A configured string, `None` when unset.
pub fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}
