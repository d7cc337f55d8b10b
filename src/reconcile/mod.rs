//! Making D1 equal KV again: the `scheduled` handler's work, one concept a file.
//!
//! [`run`] (here) drains pending markers (failed background writes, soonest due first; see
//! [`pending`]), then always sweeps KV page by page from a checkpoint until the sweep ends or
//! the next page might not fit the [`budget`] ([`sweep`], deciding with the pure [`plan`]), and
//! logs one JSON summary line (at error level when it failed or found more drift than
//! `DRIFT_ALERT_THRESHOLD`). Rows of links whose KV keys expired away are removed and counted
//! as `expired`, not as drift. The nightly run also prunes `link_history` past
//! `HISTORY_RETENTION_DAYS` and old click message ids, in bounded batches ([`prune`]).
//!
//! Markers are repaired all in one batch when they can be; when that batch fails, each slug or
//! user is repaired on its own, so one marker that cannot be repaired stops no other. Its
//! failure is counted on the marker, which is tried again after a backoff and, after
//! [`RetryPolicy::max_attempts`], parked (`sync:parked:`, see [`pending`]) until an admin
//! retries it (`POST /api/admin/reconcile?retry_parked=1`). A failure while D1 answers no query
//! at all is an outage, not the marker's fault: then no attempt is counted.
//!
//! Sink links found in KV (a Sink namespace adopted in place) are converted by the sweep through
//! their slugs' objects and counted `adopted`; values that are neither are counted `unknown`.
//!
//! It writes KV links only through their slugs' Durable Objects (metadata repairs, adoptions), and never
//! deletes a D1 row that KV still has or that a write in flight may own, so running it again,
//! or twice at once, cannot lose a link. It never reads `Env`: the entry point opens the
//! [`App`] it works with.

pub mod budget;
pub mod pending;
pub mod plan;
pub mod prune;
pub mod sweep;

use std::cell::Cell;

use serde::{Deserialize, Serialize};
use worker::{console_error, console_log};

use crate::account::UserId;
use crate::app::{now, App};
use crate::history::retention_cutoff;
use crate::link::{Link, Slug, Version};
use crate::store::claims::Claims;
use crate::store::index::{delete_statements, link_upsert_statements, Index};
use crate::store::kv::{bulk_get_calls, DriftSamples, Kv};
use crate::store::StoreError;
use crate::time::Timestamp;
pub use budget::Budget;
pub use pending::RetryPolicy;
pub use plan::{plan, split_expired, Plan};
pub use prune::{CLICK_MESSAGES_PRUNE_MAX, HISTORY_PRUNE_BATCH, HISTORY_PRUNE_MAX_BATCHES};
pub use sweep::{METADATA_REFRESH_MAX, ORPHAN_GRACE_MILLIS};

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// Every few minutes: drain pending markers, continue an unfinished sweep.
    Frequent,
    /// Nightly: drain, then start a full sweep (or continue the unfinished one).
    Nightly,
    /// `POST /api/admin/reconcile`: like nightly, one bounded pass now.
    Manual,
}

impl Trigger {
    pub const NIGHTLY_CRON: &'static str = "0 3 * * *";

    pub fn from_cron(cron: &str) -> Self {
        if cron.trim() == Self::NIGHTLY_CRON {
            Trigger::Nightly
        } else {
            Trigger::Frequent
        }
    }

    fn starts_sweep(self) -> bool {
        matches!(self, Trigger::Nightly | Trigger::Manual)
    }
}

/// The JSON line each run logs (and `POST /api/admin/reconcile` returns).
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub event: &'static str,
    pub trigger: Option<Trigger>,
    pub pending_seen: u64,
    /// Slugs and users whose markers were repaired and cleared.
    pub pending_repaired: u64,
    /// Listed markers still waiting out their backoff.
    pub pending_waiting: u64,
    /// Markers whose repair failed this run and were moved to a later try.
    pub pending_failed: u64,
    /// Markers that failed their last allowed attempt and were parked.
    pub pending_parked: u64,
    /// Parked markers moved back to pending before this run (`retry_parked=1`).
    pub parked_retried: u64,
    pub sweep_active: bool,
    pub pages: u64,
    pub scanned: u64,
    pub missing: u64,
    pub stale: u64,
    pub unknown_meta: u64,
    pub metadata_added: u64,
    /// Sink links converted in place to edgelink's links (owner `ADOPT_OWNER`): not drift.
    pub adopted: u64,
    /// Sink links seen while `ADOPT_OWNER` is unset (or names no user): left as they are.
    pub adoptable: u64,
    /// Keys neither edgelink's nor a Sink link edgelink can hold: left untouched; samples in
    /// `samples.unknown`.
    pub unknown: u64,
    pub orphans: u64,
    /// Rows of expired links whose KV keys are gone: removed, not counted as drift.
    pub expired: u64,
    /// History entries from pending markers written to `link_history`.
    pub history_repaired: u64,
    /// History rows past retention removed (nightly).
    pub history_pruned: u64,
    /// Counted click message ids past a week removed (nightly).
    pub click_messages_pruned: u64,
    /// Single visits past `VISITS_RETENTION_DAYS` removed (nightly).
    pub visits_pruned: u64,
    pub samples: DriftSamples,
    pub sweep_complete: bool,
    /// The slug the sweep has compared up to, when it stopped before the end.
    pub checkpoint_after: Option<String>,
    pub kv_ops: u64,
    pub d1_queries: u64,
    /// Drift found by the whole sweep, when this run completed it.
    pub sweep_drift: Option<u64>,
    pub drift_alert: bool,
    pub errors: Vec<String>,
    pub duration_ms: u64,
}

impl Summary {
    pub fn drift(&self) -> u64 {
        self.missing + self.stale + self.orphans
    }
}

/// One reconcile invocation. Logs its summary and returns it.
pub async fn run(app: &App, trigger: Trigger) -> Summary {
    run_with(app, trigger, false).await
}

/// [`run`], first moving up to `RECONCILE_MAX_PENDING` parked markers back to pending (attempts
/// reset) when `retry_parked` is set.
pub async fn run_with(app: &App, trigger: Trigger, retry_parked: bool) -> Summary {
    let started = now();
    let mut summary = Summary {
        event: "reconcile",
        trigger: Some(trigger),
        ..Summary::default()
    };
    let budget = app.config.reconcile_budget;
    let r = Reconciler {
        kv: &app.kv,
        index: &app.index,
        budget,
        started,
        claims: &app.claims,
        retry: app.config.reconcile_retry,
        kv_ops: Cell::new(0),
        d1_queries: Cell::new(0),
        adopt_owner: app.config.adopt_owner.clone(),
        owner_exists: Cell::new(None),
        adoptions: Cell::new(0),
        fault_injection: app.config.fault_injection,
    };
    if retry_parked {
        if let Err(e) = r.unpark(&mut summary).await {
            summary.errors.push(format!("retry parked: {e}"));
        }
    }
    // Whatever the markers met, the sweep runs: it is what repairs drift no marker
    // names, and one bad marker must not stop it.
    if let Err(e) = r.drain_pending(&mut summary).await {
        summary.errors.push(format!("pending: {e}"));
    }
    if let Err(e) = r.sweep(trigger, &mut summary).await {
        summary.errors.push(format!("sweep: {e}"));
    }
    if trigger == Trigger::Nightly {
        let cutoff = retention_cutoff(app.config.history_retention_days, started);
        if let Err(e) = r.prune_history(cutoff, &mut summary).await {
            summary.errors.push(format!("history prune: {e}"));
        }
        if let Err(e) = prune::prune_click_messages(&app.rollup, started, &mut summary).await {
            summary.errors.push(format!("click message prune: {e}"));
        }
        let cutoff = retention_cutoff(app.config.visits_retention_days, started);
        if let Err(e) = prune::prune_visits(&app.rollup, cutoff, &mut summary).await {
            summary.errors.push(format!("visits prune: {e}"));
        }
    }
    summary.kv_ops = r.kv_ops.get();
    summary.d1_queries = r.d1_queries.get();
    finish(summary, &budget, started)
}

/// A run that could not open its bindings (a deployment error): logs the summary with the
/// error, as a run that failed does.
pub fn unopened(trigger: Trigger, error: &StoreError) -> Summary {
    let started = now();
    let mut summary = Summary {
        event: "reconcile",
        trigger: Some(trigger),
        ..Summary::default()
    };
    summary.errors.push(error.to_string());
    finish(summary, &Budget::DEFAULT, started)
}

/// Sets the alert and the duration, and logs the summary line.
fn finish(mut summary: Summary, budget: &Budget, started: Timestamp) -> Summary {
    // A run alerts on its own drift; the run that completes a sweep also on the sweep's, so
    // drift spread thinly over many bounded runs still raises the alarm once.
    summary.drift_alert = summary.drift() > budget.drift_alert
        || summary.sweep_drift.is_some_and(|d| d > budget.drift_alert);
    summary.duration_ms = now().as_millis().saturating_sub(started.as_millis());
    let line = serde_json::to_string(&summary).unwrap_or_default();
    if summary.errors.is_empty() && !summary.drift_alert {
        console_log!("{line}");
    } else {
        console_error!("{line}");
    }
    summary
}

/// One run's handles, limits and spending, shared by the drain, the sweep and the pruning.
struct Reconciler<'a> {
    kv: &'a Kv,
    index: &'a Index,
    budget: Budget,
    started: Timestamp,
    /// The slug objects, for metadata repairs.
    claims: &'a Claims,
    retry: RetryPolicy,
    kv_ops: Cell<u64>,
    d1_queries: Cell<u64>,
    /// Who adopted Sink links belong to, and whether that user exists (read once a run).
    adopt_owner: Option<UserId>,
    owner_exists: Cell<Option<bool>>,
    /// Adoptions sent this run (each a subrequest), against `budget.max_adoptions`.
    adoptions: Cell<u64>,
    fault_injection: bool,
}

impl Reconciler<'_> {
    fn spend(&self, kv_ops: u64, d1_queries: u64) {
        self.kv_ops.set(self.kv_ops.get() + kv_ops);
        self.d1_queries.set(self.d1_queries.get() + d1_queries);
    }

    async fn read_links(
        &self,
        slugs: &[Slug],
    ) -> Result<std::collections::HashMap<Slug, Result<Option<Link>, StoreError>>, StoreError> {
        self.spend(bulk_get_calls(slugs.len()), 0);
        self.kv.links_bulk(slugs).await
    }

    /// Raw values, for the sweep's telling apart of edgelink's links from Sink's.
    async fn read_raw(
        &self,
        slugs: &[Slug],
    ) -> Result<std::collections::HashMap<Slug, Option<String>>, StoreError> {
        self.spend(bulk_get_calls(slugs.len()), 0);
        self.kv.links_raw_bulk(slugs).await
    }

    async fn upsert(&self, links: &[Link]) -> Result<(), StoreError> {
        self.spend(0, link_upsert_statements(links.len()));
        self.index.upsert_links(links).await
    }

    async fn delete_older_than(&self, slugs: &[String], v: Version) -> Result<(), StoreError> {
        self.spend(0, delete_statements(slugs.len()));
        self.index.delete_links_older_than(slugs, v).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nightly_cron_is_recognised() {
        assert_eq!(Trigger::from_cron("0 3 * * *"), Trigger::Nightly);
        assert_eq!(Trigger::from_cron("*/5 * * * *"), Trigger::Frequent);
    }
}
