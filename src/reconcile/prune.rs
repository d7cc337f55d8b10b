//! The nightly pruning jobs: `link_history` rows past `HISTORY_RETENTION_DAYS`, single
//! `visits` past `VISITS_RETENTION_DAYS`, and counted click message ids past a week. Each is bounded per run, so a large backlog is worked off
//! over several nights rather than crowding out the sweep; neither touches a link.

use super::{Reconciler, Summary};
use crate::analytics::day_of;
use crate::claim::DAY_MILLIS;
use crate::store::rollup::Rollup;
use crate::store::StoreError;
use crate::time::Timestamp;

/// History rows pruned per statement, and statements per nightly run: 20,000 rows a night.
pub const HISTORY_PRUNE_BATCH: u32 = 1000;
pub const HISTORY_PRUNE_MAX_BATCHES: u32 = 20;
/// Single visits removed per nightly run.
pub const VISITS_PRUNE_MAX: u32 = 50_000;
/// Click message ids forgotten per nightly run.
pub const CLICK_MESSAGES_PRUNE_MAX: u32 = 50_000;

impl Reconciler<'_> {
    /// Nightly: removes history rows older than the retention, a bounded number of batches.
    pub(super) async fn prune_history(
        &self,
        cutoff: Option<Timestamp>,
        summary: &mut Summary,
    ) -> Result<(), StoreError> {
        let Some(cutoff) = cutoff else {
            return Ok(());
        };
        for _ in 0..HISTORY_PRUNE_MAX_BATCHES {
            self.spend(0, 1);
            let removed = self
                .index
                .prune_history(cutoff, HISTORY_PRUNE_BATCH)
                .await?;
            summary.history_pruned += removed;
            if removed < u64::from(HISTORY_PRUNE_BATCH) {
                break;
            }
        }
        Ok(())
    }
}

/// Nightly: forgets counted click message ids older than a week (a queue redelivers within
/// minutes), a bounded number of rows.
pub(super) async fn prune_click_messages(
    rollup: &Rollup,
    started: Timestamp,
    summary: &mut Summary,
) -> Result<(), StoreError> {
    let week_ago = Timestamp::from_millis(started.as_millis().saturating_sub(7 * DAY_MILLIS));
    summary.click_messages_pruned = rollup
        .prune_messages(&day_of(week_ago), CLICK_MESSAGES_PRUNE_MAX)
        .await?;
    Ok(())
}

/// Nightly: removes single visits from before `cutoff` (`None`: kept forever), a bounded
/// number of rows.
pub(super) async fn prune_visits(
    rollup: &Rollup,
    cutoff: Option<Timestamp>,
    summary: &mut Summary,
) -> Result<(), StoreError> {
    if let Some(cutoff) = cutoff {
        summary.visits_pruned = rollup
            .prune_visits(&cutoff.to_rfc3339(), VISITS_PRUNE_MAX)
            .await?;
    }
    Ok(())
}
