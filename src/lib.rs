//! edgelink: an edge-native URL shortener, one wasm Worker.
//!
//! Workers KV is the source of truth; D1 is a query index kept in step in the background and
//! repaired by the cron. The map, top to bottom: each layer imports only from the layers below
//! it (`tests/layers.rs` checks this, and that no module imports itself through a cycle).
//!
//! 1. **Entry** (this file): `fetch`, `queue`, `scheduled`; opens `Env` once into an
//!    [`app::App`] and dispatches the [`route::Route`].
//! 2. **HTTP** ([`api`]): one function per endpoint (parse, call a service, render);
//!    [`api::redirect`] is the hot path (one KV read, its JS in `redirect.js`).
//! 3. **Work**: [`service`] (the write rules the handlers share: link writes as intents to
//!    the slug's object), [`sync`] (the `wait_until` index write after each API write, with a
//!    pending marker on failure), [`reconcile`] (the cron's repair: drain markers, sweep KV
//!    against D1), [`track`] (recording clicks, rolling the click queue up into D1),
//!    [`objects`] (the Durable Object classes: slug claims, e-mail claims, day salts).
//! 4. **Shell**: [`app`] (the typed handles of one invocation, binding names, the clock),
//!    [`error`] (every failure, mapped to HTTP once).
//! 5. **Stores** ([`store`]): KV ([`store::kv`], owns every key format), D1 ([`store::index`]
//!    by table, [`store::rollup`]), the objects' clients, the Analytics Engine SQL API.
//! 6. **Domain**, pure (no `worker`, no clock): [`link`] (slug, URL, title, the record, the
//!    patch, the redirect's decision, the smart options and which destination a visit gets), [`version`], [`invalid`], [`claim`] (who may change a
//!    link and how: the one writer's decision), [`account`], [`auth`], [`lifecycle`],
//!    [`moderation`], [`session`] (dashboard sign-ins: the cookie, expiry, the CSRF rule),
//!    [`qr`] (QR codes of short URLs), [`png`] (their PNG encoding), [`history`],
//!    [`analytics`], [`exchange`] (import and export formats),
//!    [`shlink`] (the Shlink API's parameters, errors and shapes),
//!    [`config`], [`route`], [`time`], [`ratelimit`] (what the rate limits count),
//!    [`random`], and [`web_url`] (URLs parsed by the runtime's own `URL`).
//!
//! This file holds only the event entry points and the dispatch.

pub mod account;
pub mod analytics;
pub mod api;
pub mod app;
pub mod auth;
pub mod claim;
pub mod config;
pub mod error;
pub mod exchange;
pub mod history;
pub mod invalid;
pub mod lifecycle;
pub mod link;
pub mod moderation;
pub mod objects;
#[cfg(test)]
mod openapi;
pub mod png;
pub mod qr;
pub mod random;
pub mod ratelimit;
pub mod reconcile;
pub mod route;
pub mod service;
pub mod session;
pub mod shlink;
pub mod store;
pub mod sync;
pub mod time;
pub mod track;
pub mod version;
pub mod web_url;

use worker::js_sys::Promise;
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen_futures::future_to_promise;
use worker::{
    event, web_sys, worker_sys, Context, Env, MessageBatch, Request, Response, ScheduleContext,
    ScheduledEvent,
};

use crate::api::{
    admin, bulk, error_response, export, health, home, imports, keys, links, redirect, respond,
    sessions, stats, tags,
};
use crate::app::App;
use crate::error::ApiError;
use crate::lifecycle::query_of;
use crate::reconcile::Trigger;
use crate::route::{path_of, split_request_line, Method, Route};

/// The fetch entry point, written out instead of `#[event(fetch)]` so that a redirect runs no
/// Rust future at all (see `api::redirect`): it is routed from the raw request's method and
/// URL, before any `worker::Request` is built. Every other route runs as `#[event(fetch)]`
/// would run it.
#[wasm_bindgen(js_name = fetch)]
pub fn fetch(req: web_sys::Request, env: Env, ctx: worker_sys::Context) -> Promise {
    let served = redirect::with_request_line(&req, |line| {
        let (method, url) = split_request_line(line);
        let Route::Redirect(slug) = Route::parse(method, path_of(url)) else {
            return None;
        };
        let visit = redirect::Visit {
            is_get: method == Method::Get,
            is_post: method == Method::Post,
            has_query: !query_of(url).is_empty(),
        };
        Some(redirect::serve(&req, &env, &ctx, slug, visit))
    });
    if let Some(response) = served {
        return response;
    }
    future_to_promise(async move {
        let response = api(Request::from(req), env, Context::new(ctx)).await;
        Ok(web_sys::Response::from(response).into())
    })
}

async fn api(req: Request, env: Env, ctx: Context) -> Response {
    let method = Method::from_name(req.method().as_ref());
    let path = req.path();
    let route = Route::parse(method, &path);
    if let Route::Health = route {
        return respond(health::get());
    }
    // Env is opened here, once; below this line nothing reads it.
    let app = match App::open(&env) {
        Ok(app) => app,
        Err(e) => return error_response(&ApiError::from(e)),
    };
    let (app, ctx) = (&app, &ctx);
    match route {
        // Answered in `fetch`; the route table cannot produce it twice.
        Route::Redirect(_) => error_response(&ApiError::NotFound),
        Route::Health => respond(health::get()),
        Route::Home => respond(home::get(app)),
        Route::CreateSession => respond(sessions::create(req, app, ctx).await),
        Route::GetSession => respond(sessions::get(req, app, ctx).await),
        Route::DeleteSession => respond(sessions::delete(req, app, ctx).await),
        Route::CreateUser => respond(admin::users::create(req, app, ctx).await),
        Route::ListUsers => respond(admin::users::list(req, app, ctx).await),
        Route::UpdateUser(id) => respond(admin::users::update(req, app, ctx, id).await),
        Route::UserKeys(id) => respond(admin::user_keys::list(req, app, ctx, id).await),
        Route::CreateUserKey(id) => respond(admin::user_keys::create(req, app, ctx, id).await),
        Route::RevokeUserKey(id, key) => {
            respond(admin::user_keys::revoke(req, app, ctx, id, key).await)
        }
        Route::AdminLinks => respond(admin::links::list(req, app, ctx).await),
        Route::FlagLink(slug) => respond(admin::links::flag(req, app, ctx, slug).await),
        Route::UnflagLink(slug) => respond(admin::links::unflag(req, app, ctx, slug).await),
        Route::Blocklist => respond(admin::blocklist::list(req, app, ctx).await),
        Route::BlockHost => respond(admin::blocklist::add(req, app, ctx).await),
        Route::UnblockHost(host) => respond(admin::blocklist::remove(req, app, ctx, host).await),
        Route::Consistency => respond(admin::consistency::consistency(req, app, ctx).await),
        Route::Reconcile => respond(admin::consistency::reconcile(req, app, ctx).await),
        Route::ReplayClicks => respond(admin::clicks::replay(req, app, ctx).await),
        Route::CreateKey => respond(keys::create(req, app, ctx).await),
        Route::ListKeys => respond(keys::list(req, app, ctx).await),
        Route::RevokeKey(id) => respond(keys::revoke(req, app, ctx, id).await),
        Route::CreateLink => respond(links::create(req, app, ctx).await),
        Route::BulkCreateLinks => respond(bulk::create(req, app, ctx).await),
        Route::ListLinks => respond(links::list(req, app, ctx).await),
        Route::ExportLinks => respond(export::export(req, app, ctx).await),
        Route::GetLink(slug) => respond(links::get(req, app, ctx, slug).await),
        Route::UpdateLink(slug) => respond(links::update(req, app, ctx, slug).await),
        Route::DeleteLink(slug) => respond(links::delete(req, app, ctx, slug).await),
        Route::LinkHistory(slug) => respond(api::history::history(req, app, ctx, slug).await),
        Route::RestoreLink(slug) => respond(api::history::restore(req, app, ctx, slug).await),
        Route::DeletedLinks => respond(api::history::deleted(req, app, ctx).await),
        Route::LinkStats(slug) => respond(stats::link_stats(req, app, ctx, slug).await),
        Route::LinkQr(slug) => respond(api::qr::link_qr(req, app, ctx, slug).await),
        Route::TopLinks => respond(stats::top(req, app, ctx).await),
        Route::AccountStats => respond(stats::account_stats(req, app, ctx).await),
        Route::Tags => respond(tags::list(req, app, ctx).await),
        Route::DeleteTags => respond(tags::delete(req, app, ctx).await),
        Route::RenameTag => respond(tags::rename(req, app, ctx).await),
        Route::CreateImport => respond(imports::create(req, app, ctx).await),
        Route::GetImport(id) => respond(imports::get(req, app, ctx, id).await),
        Route::ImportReport(id) => respond(imports::report(req, app, ctx, id).await),
        Route::Shlink => api::shlink::serve(req, app, ctx).await,
        Route::NotFound
            if !(path == "/api" || path.starts_with("/api/") || path.starts_with("/rest/")) =>
        {
            Response::from(redirect::not_found_page())
        }
        Route::NotFound => error_response(&ApiError::NotFound),
        Route::MethodNotAllowed => error_response(&ApiError::MethodNotAllowed),
    }
}

/// The queues' consumer, by queue name: import chunks ([`service::imports::consume`]); else
/// the click queue, whose batches go to the D1 roll-up, and its dead-letter queue, whose
/// clicks it keeps in KV for the admin's replay.
#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> worker::Result<()> {
    match app::App::open(&env) {
        Ok(app) if batch.queue() == app::IMPORT_QUEUE_NAME => {
            service::imports::consume(batch, &app).await
        }
        Ok(app) => track::consume(batch, &app).await,
        // A deployment without its bindings: the batch waits for one that has them.
        Err(e) => {
            worker::console_error!("click batch: {e}");
            batch.retry_all();
        }
    }
    Ok(())
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    // `run` logs its own summary line and errors: a scheduled handler has no caller to tell.
    let trigger = Trigger::from_cron(&event.cron());
    match app::App::open(&env) {
        Ok(app) => reconcile::run(&app, trigger).await,
        Err(e) => reconcile::unopened(trigger, &e),
    };
}
