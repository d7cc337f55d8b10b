//! [`App`]: what one request, cron run or queue batch works with, opened from `Env` once at the
//! entry point: the stores, the slug objects' client, the clock and the parsed [`Config`].
//! Below the entry points nothing reads `Env`, so a request's path reads top to bottom:
//! handler → service → claims / stores → domain.
//!
//! Also the one place that names the bindings.

use std::ops::Deref;
use std::rc::Rc;

use worker::Env;

use crate::analytics::AeDataset;
use crate::config::Config;
use crate::lifecycle::kv_expiration_secs;
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
/// Durable Object namespace of e-mail claims (atomic user creation).
pub const EMAIL_CLAIMS_BINDING: &str = "EMAIL_CLAIMS";
/// Durable Object namespace of the daily visitor salts (when `ANALYTICS_SALT` is unset).
pub const DAY_SALTS_BINDING: &str = "DAY_SALTS";
/// Analytics Engine dataset: one data point per click (used by `track`'s JS).
pub const CLICKS_BINDING: &str = "CLICKS";
/// Queue (producer and consumer in this Worker) feeding the D1 click roll-up.
pub const CLICK_QUEUE_BINDING: &str = "CLICK_QUEUE";
/// Queue (producer and consumer in this Worker) of import chunks (`service::imports`).
pub const IMPORT_QUEUE_BINDING: &str = "IMPORT_QUEUE";
/// Rate limiting binding of API requests per key (`api::ratelimit`; its JS reads it by name).
pub const API_LIMITER_BINDING: &str = "API_LIMITER";
/// Rate limiting binding of password guesses per client and link (read by `redirect.js`).
pub const PASSWORD_LIMITER_BINDING: &str = "PASSWORD_LIMITER";
/// The import queue's name (wrangler.toml): the `queue` entry point dispatches on it.
pub const IMPORT_QUEUE_NAME: &str = "edgelink-imports";

/// The typed handles of one invocation, cheap to clone: background work (`wait_until`) takes
/// its own copy (its futures need no `Send`, so an `Rc` does).
#[derive(Clone)]
pub struct App(Rc<Handles>);

pub struct Handles {
    pub kv: Kv,
    pub index: Index,
    pub rollup: Rollup,
    pub claims: Claims,
    pub email_claims: EmailClaims,
    pub config: Config,
    /// `None` in a deployment without the binding: imports then answer 500, nothing else cares.
    pub import_queue: Option<worker::Queue>,
    /// The `API_LIMITER` binding (undefined when missing: nothing is limited).
    pub api_limiter: worker::wasm_bindgen::JsValue,
}

impl Deref for App {
    type Target = Handles;
    fn deref(&self) -> &Handles {
        &self.0
    }
}

impl App {
    /// Opens every binding and parses the configuration. Fails only when a binding is missing
    /// (a deployment error, logged by the caller).
    pub fn open(env: &Env) -> Result<App, StoreError> {
        let d1 = |env: &Env| {
            env.d1(DB_BINDING)
                .map_err(|e| StoreError::Index(format!("binding {DB_BINDING}: {e}")))
        };
        let object = |name: &str| {
            env.durable_object(name)
                .map_err(|e| StoreError::Claim(format!("binding {name}: {e}")))
        };
        Ok(App(Rc::new(Handles {
            kv: kv(env)?,
            index: Index::new(d1(env)?),
            rollup: Rollup::new(d1(env)?),
            claims: Claims::new(object(SLUG_CLAIMS_BINDING)?),
            email_claims: EmailClaims::new(object(EMAIL_CLAIMS_BINDING)?),
            config: config(env),
            import_queue: env.queue(IMPORT_QUEUE_BINDING).ok(),
            api_limiter: worker::js_sys::Reflect::get(env, &API_LIMITER_BINDING.into())
                .unwrap_or(worker::wasm_bindgen::JsValue::UNDEFINED),
        })))
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

    /// The Analytics Engine SQL API, when an account and a token are configured.
    pub fn ae_sql(&self) -> Option<AeSql> {
        let c = self.config.ae_sql.as_ref()?;
        let dataset = c
            .dataset
            .as_deref()
            .and_then(AeDataset::parse)
            .or_else(|| AeDataset::parse(AeDataset::DEFAULT))?;
        Some(AeSql::new(c.url.clone(), c.token.clone(), dataset))
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

/// The slug objects alone (the redirect of a limited link needs no more).
pub fn claims(env: &Env) -> Result<Claims, StoreError> {
    env.durable_object(SLUG_CLAIMS_BINDING)
        .map(Claims::new)
        .map_err(|e| StoreError::Claim(format!("binding {SLUG_CLAIMS_BINDING}: {e}")))
}

/// The daily visitor-salt objects (`DAY_SALTS`).
pub fn day_salts(env: &Env) -> Result<worker::ObjectNamespace, StoreError> {
    env.durable_object(DAY_SALTS_BINDING)
        .map_err(|e| StoreError::Claim(format!("binding {DAY_SALTS_BINDING}: {e}")))
}

/// Whether the Worker has a binding (or var) of this name.
pub fn has_binding(env: &Env, name: &str) -> bool {
    worker::js_sys::Reflect::has(env, &name.into()).unwrap_or(false)
}
