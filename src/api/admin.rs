//! Admin endpoints.
//! - `POST /api/admin/users`: a user and their first API key (returned once, stored hashed).
//! - `GET /api/admin/consistency`: how far D1 is from KV, as the sweeps saw it.
//! - `POST /api/admin/reconcile`: one bounded reconcile pass now.

use serde::{Deserialize, Serialize};
use worker::{Context, Env, Request};

use super::{authenticate, json, json_body, require_admin, ApiResult};
use crate::account::{ApiKey, ApiKeyRecord, Email, Role, User, UserId, API_KEY_RANDOM_LEN};
use crate::error::ApiError;
use crate::link::ALPHANUMERIC;
use crate::platform::{index, kv, now};
use crate::reconcile::{self, Trigger};
use crate::store::kv::SweepCheckpoint;
use crate::sync::{self, IndexChange};

const USER_ID_RANDOM_LEN: usize = 12;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUserBody {
    email: String,
}

#[derive(Serialize)]
struct CreatedUser<'a> {
    id: &'a UserId,
    email: &'a Email,
    role: Role,
    api_key: &'a str,
}

/// `POST /api/admin/users` `{"email"}` → 201 `{"id","email","role","api_key"}`.
pub async fn create_user(mut req: Request, env: &Env, ctx: &Context) -> ApiResult {
    let kv = kv(env)?;
    let caller = authenticate(&req, env, &kv).await?;
    require_admin(&caller)?;
    let body: CreateUserBody = json_body(&mut req).await?;
    let email = Email::parse(&body.email)?;

    // Admin-only and rare: a KV read-then-write is enough here (D1's UNIQUE(email) backs it).
    if kv.user_id_for_email(&email).await?.is_some() {
        return Err(ApiError::EmailTaken);
    }
    let at = now();
    let user = User {
        id: UserId::from_random(&nanoid::nanoid!(USER_ID_RANDOM_LEN, &ALPHANUMERIC)),
        email,
        role: Role::User,
        created_at: at,
    };
    let key = ApiKey::from_random(&nanoid::nanoid!(API_KEY_RANDOM_LEN, &ALPHANUMERIC));
    let record = ApiKeyRecord {
        hash: key.hash(),
        user_id: user.id.clone(),
        created_at: at,
    };
    kv.put_user(&user, &record).await?;

    let response = json(
        201,
        &CreatedUser {
            id: &user.id,
            email: &user.email,
            role: user.role,
            api_key: key.expose(),
        },
    );
    ctx.wait_until(sync::apply(env.clone(), IndexChange::User(user)));
    response
}

#[derive(Serialize)]
struct Consistency {
    /// Links in KV, as counted by the last finished sweep (KV has no cheap count).
    kv_total: Option<u64>,
    /// Rows in D1's `links`, now.
    d1_total: u64,
    /// When the last full sweep finished.
    last_full_sweep_at: Option<String>,
    /// What the last finished sweep found (and repaired), with samples of each kind.
    last_sweep: Option<SweepCheckpoint>,
    /// The sweep under way, if any: `after` is the slug it has compared up to.
    sweep_in_progress: Option<SweepCheckpoint>,
    pending_markers: u64,
    /// More markers wait than one KV list page counts.
    pending_markers_more: bool,
}

/// `GET /api/admin/consistency` → KV and D1 totals, the last sweep's drift, the checkpoint,
/// and the pending markers outstanding.
pub async fn consistency(req: Request, env: &Env) -> ApiResult {
    let kv = kv(env)?;
    require_admin(&authenticate(&req, env, &kv).await?)?;
    let last = kv.last_sweep().await?;
    let in_progress = kv.sweep_checkpoint().await?;
    let (pending, more) = kv.pending_count().await?;
    let d1_total = index(env)?.count_links().await?;
    json(
        200,
        &Consistency {
            kv_total: last.as_ref().map(|l| l.scanned),
            d1_total,
            last_full_sweep_at: last
                .as_ref()
                .and_then(|l| l.finished_at)
                .map(|t| t.to_rfc3339()),
            last_sweep: last,
            sweep_in_progress: in_progress,
            pending_markers: pending,
            pending_markers_more: more,
        },
    )
}

/// `POST /api/admin/reconcile` → 200 the summary of one bounded pass: pending markers, then
/// the sweep under way, or a new one.
pub async fn reconcile(req: Request, env: &Env) -> ApiResult {
    let kv = kv(env)?;
    require_admin(&authenticate(&req, env, &kv).await?)?;
    let summary = reconcile::run(env, Trigger::Manual).await;
    json(200, &summary)
}
