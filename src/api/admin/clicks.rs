//! `POST /api/admin/clicks/replay`: applies dead-lettered clicks (those the roll-up failed
//! `max_retries` times, kept in KV by the dead-letter queue's consumer) to the roll-up, at most
//! [`track::REPLAY_MAX`] a call, and answers `{"replayed","unreadable","remaining"}`. Applying
//! is idempotent by message id, as the queue consumer's is; a click is forgotten only once the
//! roll-up has it. `remaining: true` asks for another call.

use worker::{Context, Env, Request};

use crate::api::{authenticate, json, require_admin, ApiResult};
use crate::platform::kv;
use crate::track;

pub async fn replay(req: Request, env: &Env, ctx: &Context) -> ApiResult {
    let kv = kv(env)?;
    require_admin(&authenticate(&req, env, ctx, &kv).await?)?;
    let summary = track::replay_dead_clicks(env).await?;
    json(200, &summary)
}
