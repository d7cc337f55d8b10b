//! [`Config`]: every var and secret the Worker reads, parsed once (per request, cron run or
//! queue batch) with its default, so that nothing below the entry points reads `Env`.
//!
//! Pure: [`Config::from_vars`] takes a lookup of names to values; the shell passes one that
//! reads secrets first, then vars (`app::App::open`).

use crate::claim::{DAY_MILLIS, DEFAULT_QUARANTINE_DAYS};
use crate::history;
use crate::lifecycle::{DEFAULT_EXPIRED_GRACE_DAYS, DEFAULT_PERMANENT_MAX_AGE_SECS};

/// Secret bearer token of the built-in admin.
pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";
/// Secret salt of visitor ids.
pub const ANALYTICS_SALT: &str = "ANALYTICS_SALT";
/// With `CF_API_TOKEN` (a secret): stats come from the Analytics Engine SQL API.
pub const CF_ACCOUNT_ID: &str = "CF_ACCOUNT_ID";
pub const CF_API_TOKEN: &str = "CF_API_TOKEN";
/// The SQL API endpoint; `{account_id}` is replaced. A var so tests can point it elsewhere.
pub const ANALYTICS_SQL_URL: &str = "ANALYTICS_SQL_URL";
pub const ANALYTICS_SQL_URL_DEFAULT: &str =
    "https://api.cloudflare.com/client/v4/accounts/{account_id}/analytics_engine/sql";
/// The dataset name queries read (the `CLICKS` binding's `dataset`).
pub const ANALYTICS_DATASET: &str = "ANALYTICS_DATASET";
/// `off`: no queue messages, no D1 roll-up (Analytics Engine only, for heavy traffic).
pub const CLICK_ROLLUP: &str = "CLICK_ROLLUP";
pub const SLUG_QUARANTINE_DAYS: &str = "SLUG_QUARANTINE_DAYS";
pub const HISTORY: &str = "HISTORY";
pub const HISTORY_RETENTION_DAYS: &str = "HISTORY_RETENTION_DAYS";
pub const DEFAULT_TTL_SECONDS: &str = "DEFAULT_TTL_SECONDS";
pub const EXPIRED_GRACE_DAYS: &str = "EXPIRED_GRACE_DAYS";
pub const PERMANENT_REDIRECT_MAX_AGE: &str = "PERMANENT_REDIRECT_MAX_AGE";
/// `on` arms the test-only fault switch of the slug object (`store::claims`). Never set in
/// the shipped wrangler.toml; the e2e suite that proves write ordering sets it.
pub const FAULT_INJECTION: &str = "FAULT_INJECTION";

/// Where the Analytics Engine SQL API is, when an account and a token are configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AeSqlConfig {
    pub url: String,
    pub token: String,
    pub dataset: Option<String>,
}

/// The parsed configuration. A missing or unparsable value keeps its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `None` (unset or empty) disables the built-in admin.
    pub admin_token: Option<String>,
    /// How long a deleted slug stays reserved for its previous owner.
    pub slug_quarantine_millis: u64,
    /// Expiry given to links created without one (0 = none).
    pub default_ttl_secs: u64,
    /// How long KV keeps an expired link's key, so its owner can still extend it.
    pub expired_grace_millis: u64,
    /// Whether link changes are logged to `link_history`.
    pub history: bool,
    /// Days history rows are kept (0 = forever).
    pub history_retention_days: u64,
    /// `Cache-Control` max-age of permanent (301/308) redirects.
    pub permanent_redirect_max_age: u64,
    /// Whether clicks feed the D1 roll-up through the queue.
    pub click_rollup: bool,
    /// The configured visitor-id salt, if any.
    pub analytics_salt: Option<String>,
    pub ae_sql: Option<AeSqlConfig>,
    pub fault_injection: bool,
}

impl Config {
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let text = |name: &str| get(name).filter(|v| !v.is_empty());
        let number = |name: &str| get(name).and_then(|v| v.trim().parse::<u64>().ok());
        let ae_sql = text(CF_ACCOUNT_ID)
            .zip(text(CF_API_TOKEN))
            .map(|(account, token)| AeSqlConfig {
                url: text(ANALYTICS_SQL_URL)
                    .unwrap_or_else(|| ANALYTICS_SQL_URL_DEFAULT.to_owned())
                    .replace("{account_id}", &account),
                token,
                dataset: text(ANALYTICS_DATASET),
            });
        Self {
            admin_token: text(ADMIN_TOKEN),
            slug_quarantine_millis: number(SLUG_QUARANTINE_DAYS)
                .unwrap_or(DEFAULT_QUARANTINE_DAYS)
                .saturating_mul(DAY_MILLIS),
            default_ttl_secs: number(DEFAULT_TTL_SECONDS).unwrap_or(0),
            expired_grace_millis: number(EXPIRED_GRACE_DAYS)
                .unwrap_or(DEFAULT_EXPIRED_GRACE_DAYS)
                .saturating_mul(DAY_MILLIS),
            history: history::enabled(get(HISTORY).as_deref()),
            history_retention_days: number(HISTORY_RETENTION_DAYS).unwrap_or(0),
            permanent_redirect_max_age: number(PERMANENT_REDIRECT_MAX_AGE)
                .unwrap_or(DEFAULT_PERMANENT_MAX_AGE_SECS),
            click_rollup: !get(CLICK_ROLLUP).is_some_and(|v| v.trim().eq_ignore_ascii_case("off")),
            analytics_salt: text(ANALYTICS_SALT),
            ae_sql,
            fault_injection: get(FAULT_INJECTION).is_some_and(|v| v.trim() == "on"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_vars(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let c = config(&[]);
        assert_eq!(c.admin_token, None);
        assert_eq!(c.slug_quarantine_millis, 30 * DAY_MILLIS);
        assert_eq!(c.default_ttl_secs, 0);
        assert_eq!(c.expired_grace_millis, 30 * DAY_MILLIS);
        assert!(c.history && c.click_rollup && !c.fault_injection);
        assert_eq!(c.permanent_redirect_max_age, 3600);
        assert_eq!((c.analytics_salt, c.ae_sql), (None, None));
    }

    #[test]
    fn set_values_are_parsed_and_bad_ones_keep_their_defaults() {
        let c = config(&[
            (ADMIN_TOKEN, "t0k"),
            (SLUG_QUARANTINE_DAYS, "0"),
            (DEFAULT_TTL_SECONDS, " 60 "),
            (EXPIRED_GRACE_DAYS, "soon"),
            (HISTORY, "off"),
            (CLICK_ROLLUP, "OFF"),
            (FAULT_INJECTION, "on"),
            (ANALYTICS_SALT, ""),
        ]);
        assert_eq!(c.admin_token.as_deref(), Some("t0k"));
        assert_eq!(c.slug_quarantine_millis, 0);
        assert_eq!(c.default_ttl_secs, 60);
        assert_eq!(c.expired_grace_millis, 30 * DAY_MILLIS);
        assert!(!c.history && !c.click_rollup && c.fault_injection);
        assert_eq!(c.analytics_salt, None, "an empty secret is no secret");
    }

    #[test]
    fn the_sql_api_needs_both_an_account_and_a_token() {
        assert_eq!(config(&[(CF_ACCOUNT_ID, "acc")]).ae_sql, None);
        let c = config(&[(CF_ACCOUNT_ID, "acc"), (CF_API_TOKEN, "tok")]);
        let sql = c.ae_sql.expect("configured");
        assert_eq!(
            sql.url,
            "https://api.cloudflare.com/client/v4/accounts/acc/analytics_engine/sql"
        );
        let c = config(&[
            (CF_ACCOUNT_ID, "acc"),
            (CF_API_TOKEN, "tok"),
            (ANALYTICS_SQL_URL, "http://127.0.0.1:9/{account_id}"),
        ]);
        assert_eq!(c.ae_sql.expect("configured").url, "http://127.0.0.1:9/acc");
    }
}
