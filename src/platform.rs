//! The shell's access to the runtime: binding and variable names, typed access to the stores,
//! configuration with defaults, and the clock. Everything that reads `Env` or the time goes
//! through here, so the core never does.

use worker::Env;

use crate::store::index::Index;
use crate::store::kv::Kv;
use crate::store::StoreError;
use crate::time::Timestamp;

/// Workers KV namespace: the source of truth.
pub const LINKS_BINDING: &str = "LINKS";
/// D1 database: the query index.
pub const DB_BINDING: &str = "DB";
/// Secret bearer token of the built-in admin.
pub const ADMIN_TOKEN_VAR: &str = "ADMIN_TOKEN";
const RECONCILE_MAX_PAGES_VAR: &str = "RECONCILE_MAX_PAGES";
const RECONCILE_PAGE_SIZE_VAR: &str = "RECONCILE_PAGE_SIZE";

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

/// A configured string, `None` when unset.
pub fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}

/// How much one reconcile invocation may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileBudget {
    /// KV list pages swept per invocation.
    pub max_pages: u32,
    /// Keys per KV list page (KV's maximum is 1000).
    pub page_size: u32,
    /// Pending markers drained per invocation.
    pub max_pending: u32,
    /// No new page starts after this much wall time.
    pub max_millis: u64,
}

impl ReconcileBudget {
    pub const DEFAULT: ReconcileBudget = ReconcileBudget {
        max_pages: 8,
        page_size: 1000,
        max_pending: 500,
        max_millis: 20_000,
    };

    pub fn from_env(env: &Env) -> Self {
        let d = Self::DEFAULT;
        let num = |name: &str, default: u32, max: u32| {
            var(env, name)
                .and_then(|v| v.trim().parse::<u32>().ok())
                .filter(|n| (1..=max).contains(n))
                .unwrap_or(default)
        };
        Self {
            max_pages: num(RECONCILE_MAX_PAGES_VAR, d.max_pages, 10_000),
            page_size: num(RECONCILE_PAGE_SIZE_VAR, d.page_size, 1000),
            ..d
        }
    }
}
