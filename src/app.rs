//! [`App`]: what one request, cron run or queue batch works with, opened from `Env` once at the
//! entry point: the stores, the slug objects' client, the clock and the parsed [`Config`].
//! Below the entry points nothing reads `Env`, so a request's path reads top to bottom:
//! handler → service → claims / stores → domain.
//!
//! Also the one place that names the bindings.

use std::rc::Rc;

use worker::Env;

use crate::config::Config;
use crate::lifecycle::kv_expiration_secs;
use crate::store::claims::Claims;
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
/// Analytics Engine dataset: one data point per click (used by `track`'s JS).
pub const CLICKS_BINDING: &str = "CLICKS";
/// Queue (producer and consumer in this Worker) feeding the D1 click roll-up.
pub const CLICK_QUEUE_BINDING: &str = "CLICK_QUEUE";

/// The typed handles of one invocation. Shared by `Rc` with the background work it starts
/// (`wait_until` futures need no `Send`).
pub struct App {
    pub kv: Kv,
    pub index: Index,
    pub rollup: Rollup,
    pub claims: Claims,
    pub config: Config,
}

impl App {
    /// Opens every binding and parses the configuration. Fails only when a binding is missing
    /// (a deployment error, logged by the caller).
    pub fn open(env: &Env) -> Result<Rc<App>, StoreError> {
        Ok(Rc::new(App {
            kv: kv(env)?,
            index: Index::new(
                env.d1(DB_BINDING)
                    .map_err(|e| StoreError::Index(format!("binding {DB_BINDING}: {e}")))?,
            ),
            rollup: Rollup::new(
                env.d1(DB_BINDING)
                    .map_err(|e| StoreError::Index(format!("binding {DB_BINDING}: {e}")))?,
            ),
            claims: Claims::new(
                env.durable_object(SLUG_CLAIMS_BINDING).map_err(|e| {
                    StoreError::Claim(format!("binding {SLUG_CLAIMS_BINDING}: {e}"))
                })?,
            ),
            config: config(env),
        }))
    }

    /// The time now.
    pub fn now(&self) -> Timestamp {
        now()
    }

    /// The KV `expiration` of a link expiring at `expires_at` (see [`kv_expiration_secs`]).
    pub fn link_kv_expiration(&self, expires_at: Option<Timestamp>) -> Option<u64> {
        expires_at
            .and_then(|at| kv_expiration_secs(at, self.config.expired_grace_millis, self.now()))
    }
}

/// The configuration, secrets first, then vars.
pub fn config(env: &Env) -> Config {
    Config::from_vars(|name| {
        env.secret(name)
            .ok()
            .map(|s| s.to_string())
            .or_else(|| env.var(name).ok().map(|v| v.to_string()))
    })
}

/// The `LINKS` namespace alone (the slug object needs no more).
pub fn kv(env: &Env) -> Result<Kv, StoreError> {
    env.kv(LINKS_BINDING)
        .map(Kv::new)
        .map_err(|e| StoreError::Kv(format!("binding {LINKS_BINDING}: {e}")))
}

pub fn now() -> Timestamp {
    // `Date.now()`, one call; `worker::Date::now()` builds a `Date` and then reads it (two).
    // Milliseconds since 1970 are a whole, positive f64 well inside u64.
    Timestamp::from_millis(worker::js_sys::Date::now() as u64)
}

/// Whether the Worker has a binding (or var) of this name.
pub fn has_binding(env: &Env, name: &str) -> bool {
    worker::js_sys::Reflect::has(env, &name.into()).unwrap_or(false)
}
