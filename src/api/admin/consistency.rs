//! `GET /api/admin/consistency`: how far D1 is from KV, as the sweeps saw it, with the pending
//! and parked markers, and `POST /api/admin/reconcile[?retry_parked=1]`: one bounded reconcile
//! pass now, optionally after moving parked markers back to pending.

use serde::Serialize;
use worker::{Context, Request};

use crate::api::params::parse_flag;
use crate::api::{authenticate_admin, json, query_param, ApiResult};
use crate::app::App;
use crate::reconcile::{self, Trigger};
use crate::store::kv::{ParkedMarker, PendingTarget, SweepCheckpoint};

/// Parked markers the report lists in full (all are counted, up to one KV list page).
pub const PARKED_SHOWN_MAX: usize = 20;
/// One KV list page: what the parked count reads at most.
const PARKED_COUNT_PAGE: u64 = 1000;

/// A parked marker as the report shows it.
#[derive(Serialize)]
struct ParkedView {
    key: String,
    /// `link:<slug>` or `user:<id>`.
    target: String,
    error: Option<String>,
    attempts: u32,
    parked_at: String,
}

impl From<ParkedMarker> for ParkedView {
    fn from(m: ParkedMarker) -> Self {
        let target = match &m.target {
            PendingTarget::Link(slug) => format!("link:{slug}"),
            PendingTarget::User(id) => format!("user:{id}"),
        };
        Self {
            target,
            error: m.retry.error,
            attempts: m.retry.attempts,
            parked_at: m.parked_at.to_rfc3339(),
            key: m.key,
        }
    }
}

#[derive(Serialize)]
struct Consistency {
    /// Links in KV, as counted by the last finished sweep (KV has no cheap count).
    kv_total: Option<u64>,
    /// Rows in D1's `links`, now.
    d1_total: u64,
    /// When the last full sweep finished.
    last_full_sweep_at: Option<String>,
    /// What the last finished sweep found (and repaired), with samples of each kind; with the
    /// Sink links it `adopted` (or found `adoptable` without `ADOPT_OWNER`) and the `unknown`
    /// values it left alone.
    last_sweep: Option<SweepCheckpoint>,
    /// The sweep under way, if any: `after` is the slug it has compared up to.
    sweep_in_progress: Option<SweepCheckpoint>,
    pending_markers: u64,
    /// More markers wait than one KV list page counts.
    pending_markers_more: bool,
    /// Markers the cron gave up on, each with its last error (the oldest
    /// [`PARKED_SHOWN_MAX`]); `POST /api/admin/reconcile?retry_parked=1` retries them.
    parked_markers: Vec<ParkedView>,
    parked_count: u64,
    /// More are parked than one KV list page counts.
    parked_more: bool,
    /// Clicks the roll-up failed `max_retries` times, kept for `POST /api/admin/clicks/replay`.
    dead_letter_clicks: u64,
    /// More dead-lettered clicks wait than one KV list page counts.
    dead_letter_clicks_more: bool,
}

/// `GET /api/admin/consistency` → KV and D1 totals, the last sweep's drift, the checkpoint,
/// the pending markers outstanding and the dead-lettered clicks kept.
pub async fn consistency(req: Request, app: &App, ctx: &Context) -> ApiResult {
    authenticate_admin(&req, app, ctx).await?;
    let last = app.kv.last_sweep().await?;
    let in_progress = app.kv.sweep_checkpoint().await?;
    let (pending, more) = app.kv.pending_count().await?;
    let (parked, parked_more) = app.kv.parked(PARKED_COUNT_PAGE).await?;
    let parked_count = parked.len() as u64;
    let (dead_clicks, dead_more) = app.kv.dead_click_count().await?;
    let d1_total = app.index.count_links().await?;
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
            parked_markers: parked
                .into_iter()
                .take(PARKED_SHOWN_MAX)
                .map(ParkedView::from)
                .collect(),
            parked_count,
            parked_more,
            dead_letter_clicks: dead_clicks,
            dead_letter_clicks_more: dead_more,
        },
    )
}

/// `POST /api/admin/reconcile[?retry_parked=1]` → 200 the summary of one bounded pass: parked
/// markers back to pending (when asked, attempts reset), pending markers, then the sweep under
/// way, or a new one.
pub async fn reconcile(req: Request, app: &App, ctx: &Context) -> ApiResult {
    authenticate_admin(&req, app, ctx).await?;
    let retry_parked = parse_flag(query_param(&req, "retry_parked").as_deref(), "retry_parked")?;
    let summary = reconcile::run_with(app, Trigger::Manual, retry_parked).await;
    json(200, &summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    #[test]
    fn retry_parked_is_a_flag() {
        let flag = |raw| parse_flag(raw, "retry_parked");
        assert!(!flag(None).unwrap());
        assert!(!flag(Some("0")).unwrap());
        assert!(flag(Some("1")).unwrap());
        assert!(flag(Some("true")).unwrap());
        assert!(matches!(flag(Some("yes")), Err(ApiError::InvalidQuery(_))));
    }
}
