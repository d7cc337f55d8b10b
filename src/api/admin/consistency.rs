//! `GET /api/admin/consistency`: how far D1 is from KV, as the sweeps saw it, and
//! `POST /api/admin/reconcile`: one bounded reconcile pass now.

use serde::Serialize;
use worker::{Context, Env, Request};

use crate::api::{authenticate, json, require_admin, ApiResult};
use crate::platform::{index, kv};
use crate::reconcile::{self, Trigger};
use crate::store::kv::SweepCheckpoint;

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
    /// Clicks the roll-up failed `max_retries` times, kept for `POST /api/admin/clicks/replay`.
    dead_letter_clicks: u64,
    /// More dead-lettered clicks wait than one KV list page counts.
    dead_letter_clicks_more: bool,
}

/// `GET /api/admin/consistency` → KV and D1 totals, the last sweep's drift, the checkpoint,
/// the pending markers outstanding and the dead-lettered clicks kept.
pub async fn consistency(req: Request, env: &Env, ctx: &Context) -> ApiResult {
    let kv = kv(env)?;
    require_admin(&authenticate(&req, env, ctx, &kv).await?)?;
    let last = kv.last_sweep().await?;
    let in_progress = kv.sweep_checkpoint().await?;
    let (pending, more) = kv.pending_count().await?;
    let (dead_clicks, dead_more) = kv.dead_click_count().await?;
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
            dead_letter_clicks: dead_clicks,
            dead_letter_clicks_more: dead_more,
        },
    )
}

/// `POST /api/admin/reconcile` → 200 the summary of one bounded pass: pending markers, then
/// the sweep under way, or a new one.
pub async fn reconcile(req: Request, env: &Env, ctx: &Context) -> ApiResult {
    let kv = kv(env)?;
    require_admin(&authenticate(&req, env, ctx, &kv).await?)?;
    let summary = reconcile::run(env, Trigger::Manual).await;
    json(200, &summary)
}
