//! edgelink: an edge-native URL shortener, one wasm Worker.
//!
//! Workers KV is the source of truth; D1 is a query index kept in step in the background and
//! repaired by the cron. The map:
//!
//! - [`link`], [`account`], [`time`]: the domain, as types whose constructors reject bad input.
//! - [`claim`]: who holds a slug; made atomic by a Durable Object per slug.
//! - [`auth`]: bearer tokens and who may do what. [`error`]: every failure, mapped to HTTP once.
//! - [`route`]: method + path → [`route::Route`], pure.
//! - [`store`]: KV ([`store::kv`], owns key formats) and D1 ([`store::index`], owns SQL).
//! - [`sync`]: the `wait_until` index write after each API write, with a pending marker on failure.
//! - [`reconcile`]: the cron's repair: drain markers, sweep KV against D1 from a checkpoint.
//! - [`api`]: the HTTP handlers, one function per endpoint. [`platform`]: bindings, vars, clock.
//!
//! This file holds only the event entry points and the dispatch.

pub mod account;
pub mod api;
pub mod auth;
pub mod claim;
pub mod error;
pub mod link;
pub mod platform;
pub mod reconcile;
pub mod route;
pub mod store;
pub mod sync;
pub mod time;

use worker::{event, Context, Env, Request, Response, ScheduleContext, ScheduledEvent};

use crate::api::{admin, error_response, health, links, redirect, respond};
use crate::error::ApiError;
use crate::reconcile::Trigger;
use crate::route::{Method, Route};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let method = Method::from_name(req.method().as_ref());
    let path = req.path();
    let response = match Route::parse(method, &path) {
        Route::Redirect(slug) => redirect::serve(&env, slug).await,
        Route::Health => respond(health::get()),
        Route::CreateUser => respond(admin::create_user(req, &env, &ctx).await),
        Route::Consistency => respond(admin::consistency(req, &env).await),
        Route::Reconcile => respond(admin::reconcile(req, &env).await),
        Route::CreateLink => respond(links::create(req, &env, &ctx).await),
        Route::ListLinks => respond(links::list(req, &env).await),
        Route::GetLink(slug) => respond(links::get(req, &env, slug).await),
        Route::UpdateLink(slug) => respond(links::update(req, &env, &ctx, slug).await),
        Route::DeleteLink(slug) => respond(links::delete(req, &env, &ctx, slug).await),
        Route::NotFound => error_response(&ApiError::NotFound),
        Route::MethodNotAllowed => error_response(&ApiError::MethodNotAllowed),
    };
    Ok(response)
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    // `run` logs its own summary line and errors: a scheduled handler has no caller to tell.
    reconcile::run(&env, Trigger::from_cron(&event.cron())).await;
}
