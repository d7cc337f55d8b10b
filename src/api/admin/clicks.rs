//! `POST /api/admin/clicks/replay`: applies dead-lettered clicks (those the roll-up failed
//! `max_retries` times, kept in KV by the dead-letter queue's consumer) to the roll-up, at most
//! [`track::REPLAY_MAX`] a call, and answers `{"replayed","unreadable","remaining"}`. Applying
//! is idempotent by message id, as the queue consumer's is; a click is forgotten only once the
//! roll-up has it. `remaining: true` asks for another call.

use worker::{Context, Request};

use crate::api::{authenticate_admin, json, ApiResult};
use crate::app::App;
use crate::track;

pub async fn replay(req: Request, app: &App, ctx: &Context) -> ApiResult {
    authenticate_admin(&req, app, ctx).await?;
    let summary = track::replay_dead_clicks(app).await?;
    json(200, &summary)
}
