//! [`Config`]: every var and secret the Worker reads, parsed once (per request, cron run or
//! queue batch) with its default, so that nothing below the entry points reads `Env`.
//!
//! Pure: [`Config::from_vars`] takes a lookup of names to values; the shell passes one that
//! reads secrets first, then vars (`app::App::open`).

use std::ops::RangeInclusive;

use crate::account::UserId;
use crate::claim::{DAY_MILLIS, DEFAULT_QUARANTINE_DAYS};
use crate::history;
use crate::lifecycle::{DEFAULT_EXPIRED_GRACE_DAYS, DEFAULT_PERMANENT_MAX_AGE_SECS};
use crate::ratelimit::ApiLimit;
use crate::session::session_days;

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
/// Days single visits (the Shlink API's) are kept; 0 keeps them forever.
pub const VISITS_RETENTION_DAYS: &str = "VISITS_RETENTION_DAYS";
pub const DEFAULT_VISITS_RETENTION_DAYS: u64 = 90;
pub const DEFAULT_TTL_SECONDS: &str = "DEFAULT_TTL_SECONDS";
pub const EXPIRED_GRACE_DAYS: &str = "EXPIRED_GRACE_DAYS";
pub const PERMANENT_REDIRECT_MAX_AGE: &str = "PERMANENT_REDIRECT_MAX_AGE";
/// `on` arms the test-only fault switch of the slug object (`store::claims`). Never set in
/// the shipped wrangler.toml; the e2e suite that proves write ordering sets it.
pub const FAULT_INJECTION: &str = "FAULT_INJECTION";
/// The user id (`u_…`, or `admin`) that links adopted from a Sink namespace are given to
/// (docs/import-export.md, "Switching from Sink"). Unset: Sink links still redirect, but the
/// sweep only counts them (`adoptable`) and leaves them as they are.
pub const ADOPT_OWNER: &str = "ADOPT_OWNER";
/// API requests a minute per key or admin token (`ratelimit::ApiLimit`); the binding enforces.
pub const API_RATE_LIMIT: &str = "API_RATE_LIMIT";
/// Days a dashboard sign-in lasts (`session::session_days` bounds it).
pub const SESSION_DAYS: &str = "SESSION_DAYS";
/// Where `GET /` sends visitors; unset: the dashboard (`/dashboard/`).
pub const HOME_URL: &str = "HOME_URL";
/// `GET /`'s target when `HOME_URL` is unset.
pub const DEFAULT_HOME: &str = "/dashboard/";

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
    /// Days `visits` rows are kept (0 = forever).
    pub visits_retention_days: u64,
    /// `Cache-Control` max-age of permanent (301/308) redirects.
    pub permanent_redirect_max_age: u64,
    /// Whether clicks feed the D1 roll-up through the queue.
    pub click_rollup: bool,
    /// The configured visitor-id salt, if any.
    pub analytics_salt: Option<String>,
    pub ae_sql: Option<AeSqlConfig>,
    pub fault_injection: bool,
    /// What one reconcile run may spend (`RECONCILE_*`, `DRIFT_ALERT_THRESHOLD`).
    pub reconcile_budget: Budget,
    /// How failed pending-marker repairs are retried (`RECONCILE_PENDING_*`).
    pub reconcile_retry: RetryPolicy,
    /// Who adopted Sink links belong to (`ADOPT_OWNER`); `None` leaves them unadopted.
    pub adopt_owner: Option<UserId>,
    /// The API's rate limit (`API_RATE_LIMIT`; see `ratelimit`).
    pub api_rate_limit: ApiLimit,
    /// How long a dashboard session lasts (`SESSION_DAYS`).
    pub session_days: u64,
    /// Where `GET /` redirects (`HOME_URL`, else [`DEFAULT_HOME`]).
    pub home_url: String,
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
            visits_retention_days: number(VISITS_RETENTION_DAYS)
                .unwrap_or(DEFAULT_VISITS_RETENTION_DAYS),
            permanent_redirect_max_age: number(PERMANENT_REDIRECT_MAX_AGE)
                .unwrap_or(DEFAULT_PERMANENT_MAX_AGE_SECS),
            click_rollup: !get(CLICK_ROLLUP).is_some_and(|v| v.trim().eq_ignore_ascii_case("off")),
            analytics_salt: text(ANALYTICS_SALT),
            ae_sql,
            fault_injection: get(FAULT_INJECTION).is_some_and(|v| v.trim() == "on"),
            reconcile_budget: Budget::from_vars(&get),
            reconcile_retry: RetryPolicy::from_vars(&get),
            adopt_owner: text(ADOPT_OWNER).and_then(|v| user_id(&v)),
            api_rate_limit: ApiLimit::parse(get(API_RATE_LIMIT).as_deref()),
            session_days: session_days(get(SESSION_DAYS).as_deref()),
            home_url: text(HOME_URL)
                .and_then(|v| home_url(&v))
                .unwrap_or_else(|| DEFAULT_HOME.to_owned()),
        }
    }
}

/// `HOME_URL` when it can be a `Location`: an absolute http(s) URL or a path on this host,
/// without spaces or control characters (a header value must not hold them). Anything else
/// keeps the default, so a typo cannot break `/`.
fn home_url(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let shaped = raw.starts_with("https://")
        || raw.starts_with("http://")
        || (raw.starts_with('/') && !raw.starts_with("//"));
    let clean = raw.bytes().all(|b| b.is_ascii_graphic());
    (shaped && clean).then(|| raw.to_owned())
}

/// A user id as edgelink makes them (`u_` and letters or digits, or `admin`); anything else is
/// no owner, so a mistyped var adopts nothing rather than giving links to a stranger's id.
fn user_id(raw: &str) -> Option<UserId> {
    let raw = raw.trim();
    if raw == UserId::admin().as_str() {
        return Some(UserId::admin());
    }
    let random = raw.strip_prefix("u_")?;
    let valid =
        (1..=64).contains(&random.len()) && random.bytes().all(|b| b.is_ascii_alphanumeric());
    valid.then(|| UserId::from_random(random))
}

/// What one invocation may spend. Defaults stay well inside the Paid plan's 1000 KV operations
/// and 1000 D1 queries per invocation; docs/operations.md gives the Free plan's settings. What a
/// page costs against these limits is `reconcile::budget`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// KV list pages swept per invocation.
    pub max_pages: u64,
    /// Keys per KV list page (KV's maximum is 1000).
    pub page_size: u64,
    /// Pending markers drained per invocation (each costs a KV delete).
    pub max_pending: u64,
    pub max_kv_ops: u64,
    pub max_d1_queries: u64,
    /// No new page starts after this much wall time.
    pub max_millis: u64,
    /// Drift (missing + stale + orphans) in one run above this logs at error level.
    pub drift_alert: u64,
    /// Sink links adopted per invocation, each a request to its slug's Durable Object (a
    /// subrequest): a page with more left over is swept again by the next run.
    pub max_adoptions: u64,
}

impl Budget {
    pub const DEFAULT: Budget = Budget {
        max_pages: 8,
        page_size: 1000,
        max_pending: 200,
        max_kv_ops: 800,
        max_d1_queries: 800,
        max_millis: 20_000,
        drift_alert: 100,
        max_adoptions: 200,
    };

    /// Reads `RECONCILE_*` and `DRIFT_ALERT_THRESHOLD`; a missing or invalid value keeps the default.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let d = Self::DEFAULT;
        let num = |name: &str, default: u64, range: std::ops::RangeInclusive<u64>| {
            get(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| range.contains(n))
                .unwrap_or(default)
        };
        Self {
            max_pages: num("RECONCILE_MAX_PAGES", d.max_pages, 1..=100_000),
            page_size: num("RECONCILE_PAGE_SIZE", d.page_size, 1..=1000),
            max_pending: num("RECONCILE_MAX_PENDING", d.max_pending, 1..=1000),
            max_kv_ops: num("RECONCILE_MAX_KV_OPS", d.max_kv_ops, 10..=100_000),
            max_d1_queries: num("RECONCILE_MAX_D1_QUERIES", d.max_d1_queries, 10..=100_000),
            max_millis: num("RECONCILE_MAX_MILLIS", d.max_millis, 1_000..=900_000),
            drift_alert: num("DRIFT_ALERT_THRESHOLD", d.drift_alert, 0..=u64::MAX),
            max_adoptions: num("RECONCILE_MAX_ADOPTIONS", d.max_adoptions, 1..=10_000),
        }
    }
}

/// How failed repairs are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Failed attempts after which a marker is parked.
    pub max_attempts: u32,
    /// Wait after the first failure; each further failure doubles it.
    pub base_millis: u64,
    /// The longest wait between two attempts.
    pub max_delay_millis: u64,
}

impl RetryPolicy {
    /// 8 attempts, 5 minutes doubling up to 6 hours: about 10 hours of tries (a D1 outage,
    /// which the cron tells apart and does not count, is not what this waits out).
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        max_attempts: 8,
        base_millis: 5 * 60 * 1000,
        max_delay_millis: 6 * 60 * 60 * 1000,
    };

    /// Reads `RECONCILE_PENDING_MAX_ATTEMPTS`, `RECONCILE_PENDING_BACKOFF_MS` and
    /// `RECONCILE_PENDING_MAX_BACKOFF_MS`; a missing or out-of-range value keeps the default.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let d = Self::DEFAULT;
        let num = |name: &str, default: u64, range: RangeInclusive<u64>| {
            get(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| range.contains(n))
                .unwrap_or(default)
        };
        const DAY: u64 = 24 * 60 * 60 * 1000;
        let attempts = num(
            "RECONCILE_PENDING_MAX_ATTEMPTS",
            u64::from(d.max_attempts),
            1..=100,
        );
        Self {
            max_attempts: u32::try_from(attempts).unwrap_or(d.max_attempts),
            base_millis: num("RECONCILE_PENDING_BACKOFF_MS", d.base_millis, 0..=DAY),
            max_delay_millis: num(
                "RECONCILE_PENDING_MAX_BACKOFF_MS",
                d.max_delay_millis,
                0..=7 * DAY,
            ),
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
        assert_eq!(c.reconcile_budget, Budget::DEFAULT);
        assert_eq!(c.reconcile_retry, RetryPolicy::DEFAULT);
        assert_eq!(c.adopt_owner, None);
        assert_eq!(c.session_days, 14);
        assert_eq!(c.home_url, "/dashboard/");
    }

    #[test]
    fn sessions_and_home() {
        assert_eq!(config(&[(SESSION_DAYS, "3")]).session_days, 3);
        assert_eq!(config(&[(SESSION_DAYS, "0")]).session_days, 14);
        let home = |v: &str| config(&[(HOME_URL, v)]).home_url;
        assert_eq!(home("https://example.com/"), "https://example.com/");
        assert_eq!(home(" /welcome "), "/welcome");
        for bad in [
            "",
            "example.com",
            "//evil.example",
            "https://a b",
            "javascript:x",
        ] {
            assert_eq!(home(bad), "/dashboard/", "{bad:?}");
        }
    }

    #[test]
    fn adopt_owner_is_a_user_id_or_nobody() {
        let owner = |v: &str| config(&[(ADOPT_OWNER, v)]).adopt_owner;
        assert_eq!(
            owner(" u_abc123XYZ "),
            Some(UserId::from_random("abc123XYZ"))
        );
        assert_eq!(owner("admin"), Some(UserId::admin()));
        for bad in [
            "",
            "  ",
            "u_",
            "bob",
            "u_a b",
            "u_é",
            "admin2",
            &format!("u_{}", "a".repeat(65)),
        ] {
            assert_eq!(owner(bad), None, "{bad:?}");
        }
        let b = Budget::from_vars(|n| (n == "RECONCILE_MAX_ADOPTIONS").then(|| "7".into()));
        assert_eq!(b.max_adoptions, 7);
    }

    #[test]
    fn budget_reads_vars_and_keeps_defaults_for_bad_values() {
        let b = Budget::from_vars(|name| match name {
            "RECONCILE_MAX_PAGES" => Some("2".into()),
            "RECONCILE_PAGE_SIZE" => Some("5000".into()),
            "RECONCILE_MAX_KV_OPS" => Some("nope".into()),
            _ => None,
        });
        assert_eq!(b.max_pages, 2);
        assert_eq!(b.page_size, Budget::DEFAULT.page_size);
        assert_eq!(b.max_kv_ops, Budget::DEFAULT.max_kv_ops);
    }

    #[test]
    fn policy_reads_vars_and_keeps_defaults_for_bad_values() {
        let p = RetryPolicy::from_vars(|name| match name {
            "RECONCILE_PENDING_MAX_ATTEMPTS" => Some("3".into()),
            "RECONCILE_PENDING_BACKOFF_MS" => Some("0".into()),
            "RECONCILE_PENDING_MAX_BACKOFF_MS" => Some("-1".into()),
            _ => None,
        });
        assert_eq!(p.max_attempts, 3);
        assert_eq!(p.base_millis, 0);
        assert_eq!(p.max_delay_millis, RetryPolicy::DEFAULT.max_delay_millis);
        let zero = RetryPolicy::from_vars(|name| {
            (name == "RECONCILE_PENDING_MAX_ATTEMPTS").then(|| "0".into())
        });
        assert_eq!(zero.max_attempts, RetryPolicy::DEFAULT.max_attempts);
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
