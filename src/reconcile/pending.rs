//! The pending markers: the drain that repairs what failed background writes left behind, and
//! what happens to a marker whose repair failed: retried later, with an exponential backoff, or,
//! after a bounded number of attempts, parked (kept in KV with its last error, listed in the
//! consistency report, retried only by an admin). Also the grouping of one run's markers by what
//! they repair, so that each slug or user succeeds or fails alone.
//!
//! The decisions ([`RetryPolicy`], [`by_target`], [`short_error`]) are pure: times and markers
//! come in as arguments. The drain never clears a marker before its repair reached D1, and never
//! counts an attempt against a marker while D1 answers no query at all.

use std::collections::HashMap;

use super::{Reconciler, Summary};
use crate::account::UserId;
pub use crate::config::RetryPolicy;
use crate::history::{in_version_order, HistoryEntry};
use crate::link::{Link, Slug, Version};
use crate::store::index::{link_upsert_statements, upsert_statements};
use crate::store::kv::{bulk_get_calls, MarkerRetry, PendingMarker, PendingTarget};
use crate::store::StoreError;
use crate::time::Timestamp;

/// Sorts after every slug (slugs are ASCII): the lower bound of a range that holds no row.
const LAST_SLUG_BOUND: &str = "\u{10FFFF}";

/// Longest error kept in a marker's metadata (KV allows 1024 bytes of metadata a key).
pub const ERROR_MAX_BYTES: usize = 300;

/// The next step for a marker whose repair just failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again once this time has come.
    RetryAt(Timestamp),
    /// Stop trying: park it.
    Park,
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failure (1-based): `base · 2^(attempts−1)`, capped.
    pub fn delay_after(&self, attempts: u32) -> u64 {
        let doublings = attempts.saturating_sub(1).min(63);
        self.base_millis
            .saturating_mul(1u64 << doublings)
            .min(self.max_delay_millis)
    }

    /// What follows the `attempts`-th failed repair (counting this one), at `now`.
    pub fn after_failure(&self, attempts: u32, now: Timestamp) -> AfterFailure {
        if attempts >= self.max_attempts {
            AfterFailure::Park
        } else {
            let at = now.as_millis().saturating_add(self.delay_after(attempts));
            AfterFailure::RetryAt(Timestamp::from_millis(at))
        }
    }
}

/// Markers grouped by what they repair, in the order each target first appears: the unit that
/// succeeds or fails alone.
pub fn by_target(markers: &[PendingMarker]) -> Vec<(PendingTarget, Vec<&PendingMarker>)> {
    let mut groups: Vec<(PendingTarget, Vec<&PendingMarker>)> = Vec::new();
    for m in markers {
        match groups.iter_mut().find(|(t, _)| *t == m.target) {
            Some((_, ms)) => ms.push(m),
            None => groups.push((m.target.clone(), vec![m])),
        }
    }
    groups
}

/// `error` shortened to at most [`ERROR_MAX_BYTES`] bytes, on a character boundary.
pub fn short_error(error: &str) -> String {
    if error.len() <= ERROR_MAX_BYTES {
        return error.to_owned();
    }
    let mut end = ERROR_MAX_BYTES - '…'.len_utf8();
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}

/// One slug's or user's markers, as one drain handles them.
type Group<'a> = (PendingTarget, Vec<&'a PendingMarker>);

impl Reconciler<'_> {
    /// Repairs every slug and user a failed background write left a due marker for. Markers
    /// are cleared only after their repair reached D1. All targets go in one batch first; when
    /// that fails, each target alone, so that one that cannot be repaired stops no other, and
    /// its markers are moved to a later try or parked.
    pub(super) async fn drain_pending(&self, summary: &mut Summary) -> Result<(), StoreError> {
        self.spend(1, 0);
        let listed = self.kv.pending(self.budget.max_pending).await?;
        summary.pending_seen = listed.len() as u64;
        let due: Vec<PendingMarker> = listed
            .into_iter()
            .filter(|m| m.due_at <= self.started)
            .collect();
        summary.pending_waiting = summary.pending_seen - due.len() as u64;
        if due.is_empty() {
            return Ok(());
        }
        // Link markers carry their write's history entry; user markers carry nothing.
        let keys: Vec<&str> = due
            .iter()
            .filter(|m| matches!(m.target, PendingTarget::Link(_)))
            .map(|m| m.key.as_str())
            .collect();
        self.spend(bulk_get_calls(keys.len()), 0);
        let values = self.kv.marker_values(&keys).await?;
        let groups = by_target(&due);
        let slugs: Vec<Slug> = groups
            .iter()
            .filter_map(|(t, _)| match t {
                PendingTarget::Link(s) => Some(s.clone()),
                PendingTarget::User(_) => None,
            })
            .collect();
        let links = self.read_links(&slugs).await?;

        let outcomes: Vec<(&Group, Result<u64, StoreError>)> =
            match self.repair_targets(&groups, &values, &links).await {
                Ok(history) => {
                    summary.history_repaired += history;
                    groups.iter().map(|g| (g, Ok(0))).collect()
                }
                Err(e) => {
                    if !self.index_answers().await {
                        // D1 is down: no marker is to blame; every one waits for the next run.
                        summary.errors.push(format!("pending: D1 unavailable: {e}"));
                        return Ok(());
                    }
                    let mut outcomes = Vec::with_capacity(groups.len());
                    for g in &groups {
                        // Leave the rest for the next run rather than crowd out the sweep.
                        if !self.group_fits(g) {
                            break;
                        }
                        let one = std::slice::from_ref(g);
                        outcomes.push((g, self.repair_targets(one, &values, &links).await));
                    }
                    outcomes
                }
            };
        for (group, outcome) in outcomes {
            match outcome {
                Ok(history) => {
                    summary.history_repaired += history;
                    for m in &group.1 {
                        self.spend(1, 0);
                        self.kv.clear_pending(m).await?;
                    }
                    summary.pending_repaired += 1;
                }
                Err(e) => {
                    let error = short_error(&e.to_string());
                    for m in &group.1 {
                        let value = values.get(&m.key).map_or("", String::as_str);
                        self.fail_marker(m, &error, value, summary).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes the index rows and history entries of `groups` (all in one batch where D1
    /// allows); returns how many history entries it wrote.
    async fn repair_targets(
        &self,
        groups: &[Group<'_>],
        values: &HashMap<String, String>,
        links: &HashMap<Slug, Result<Option<Link>, StoreError>>,
    ) -> Result<u64, StoreError> {
        // Every version's history entry first, in version order; replays are no-ops.
        let mut entries: Vec<HistoryEntry> = groups
            .iter()
            .flat_map(|(_, ms)| ms.iter())
            .filter_map(|m| values.get(&m.key))
            .filter_map(|v| serde_json::from_str::<HistoryEntry>(v).ok())
            .collect();
        in_version_order(&mut entries);
        if !entries.is_empty() {
            self.spend(0, upsert_statements(entries.len()));
            self.index.insert_history(&entries).await?;
        }
        let mut upserts: Vec<Link> = Vec::new();
        let mut deleted: Vec<String> = Vec::new();
        let mut users: Vec<&UserId> = Vec::new();
        for (target, _) in groups {
            match target {
                PendingTarget::Link(slug) => match links.get(slug) {
                    Some(Ok(Some(link))) => upserts.push(link.clone()),
                    Some(Ok(None)) | None => deleted.push(slug.to_string()),
                    // An unreadable KV value cannot be indexed: that slug's repair fails.
                    Some(Err(e)) => return Err(StoreError::Kv(format!("{slug}: {e}"))),
                },
                PendingTarget::User(id) => users.push(id),
            }
        }
        // Gone from KV: every write that started after this run began carries a higher
        // version, so removing rows below it cannot undo a re-create.
        if !deleted.is_empty() {
            self.delete_older_than(&deleted, Version::new(self.started.as_millis()))
                .await?;
        }
        if !upserts.is_empty() {
            self.upsert(&upserts).await?;
        }
        for id in users {
            self.spend(1, 1);
            if let Some(user) = self.kv.user(id).await? {
                self.index.upsert_user(&user).await?;
            }
        }
        Ok(entries.len() as u64)
    }

    /// Whether one target's repair, clearing or failing its markers, still leaves room for a
    /// sweep page.
    fn group_fits(&self, (_, markers): &Group<'_>) -> bool {
        let n = markers.len() as u64;
        let kv = 1 + 2 * n;
        let d1 = 2 + link_upsert_statements(markers.len());
        self.budget
            .page_fits(self.kv_ops.get() + kv, self.d1_queries.get() + d1)
    }

    /// Whether D1 answers a query at all: tells an outage (nobody's fault, nothing counted)
    /// from a marker that cannot be repaired. The query reads no row (no slug sorts after
    /// U+10FFFF), through the primary key.
    async fn index_answers(&self) -> bool {
        self.spend(0, 1);
        self.index
            .versions_in_range(LAST_SLUG_BOUND, None)
            .await
            .is_ok()
    }

    /// Counts a failed repair on `marker`: moved to its next try, or parked after the last.
    async fn fail_marker(
        &self,
        marker: &PendingMarker,
        error: &str,
        value: &str,
        summary: &mut Summary,
    ) -> Result<(), StoreError> {
        let retry = MarkerRetry {
            attempts: marker.retry.attempts.saturating_add(1),
            error: Some(error.to_owned()),
        };
        summary.errors.push(format!(
            "{}: attempt {}: {error}",
            marker.key, retry.attempts
        ));
        self.spend(2, 0);
        match self.retry.after_failure(retry.attempts, self.started) {
            AfterFailure::RetryAt(at) => {
                self.kv
                    .reschedule_pending(marker, at, &retry, value)
                    .await?;
                summary.pending_failed += 1;
            }
            AfterFailure::Park => {
                self.kv
                    .park_pending(marker, self.started, &retry, value)
                    .await?;
                summary.pending_parked += 1;
            }
        }
        Ok(())
    }

    /// Moves parked markers back to pending, due now and with no attempts counted.
    pub(super) async fn unpark(&self, summary: &mut Summary) -> Result<(), StoreError> {
        self.spend(1, 0);
        let (parked, _) = self.kv.parked(self.budget.max_pending).await?;
        let keys: Vec<&str> = parked.iter().map(|m| m.key.as_str()).collect();
        self.spend(bulk_get_calls(keys.len()), 0);
        let values = self.kv.marker_values(&keys).await?;
        for m in &parked {
            self.spend(2, 0);
            let value = values.get(&m.key).map_or("", String::as_str);
            self.kv.unpark(m, self.started, value).await?;
            summary.parked_retried += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::UserId;
    use crate::link::{Slug, Version};

    const MIN: u64 = 60_000;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let p = RetryPolicy::DEFAULT;
        let delays: Vec<u64> = (1..=8).map(|n| p.delay_after(n) / MIN).collect();
        assert_eq!(delays, vec![5, 10, 20, 40, 80, 160, 320, 360]);
        // Far past the cap, and at absurd counts, it neither overflows nor shrinks.
        assert_eq!(p.delay_after(64), p.max_delay_millis);
        assert_eq!(p.delay_after(u32::MAX), p.max_delay_millis);
        // The attempt that has not failed yet waits nothing extra.
        assert_eq!(p.delay_after(0), p.base_millis);
    }

    #[test]
    fn a_marker_is_retried_until_the_last_attempt_and_then_parked() {
        let p = RetryPolicy {
            max_attempts: 3,
            base_millis: 1000,
            max_delay_millis: 60_000,
        };
        let now = Timestamp::from_millis(10_000);
        assert_eq!(
            p.after_failure(1, now),
            AfterFailure::RetryAt(Timestamp::from_millis(11_000))
        );
        assert_eq!(
            p.after_failure(2, now),
            AfterFailure::RetryAt(Timestamp::from_millis(12_000))
        );
        assert_eq!(p.after_failure(3, now), AfterFailure::Park);
        assert_eq!(p.after_failure(4, now), AfterFailure::Park);
    }

    #[test]
    fn default_tries_for_hours_before_parking() {
        let p = RetryPolicy::DEFAULT;
        let waited: u64 = (1..p.max_attempts).map(|n| p.delay_after(n)).sum();
        assert!(waited >= 6 * 60 * MIN, "{waited}");
        assert!(waited <= 24 * 60 * MIN, "{waited}");
    }

    #[test]
    fn markers_are_grouped_by_target_in_first_seen_order() {
        let link = |s: &str, v: u64, at: u64| {
            PendingMarker::new(
                PendingTarget::Link(Slug::parse(s).unwrap()),
                Some(Version::new(v)),
                Timestamp::from_millis(at),
            )
        };
        let user = PendingMarker::new(
            PendingTarget::User(UserId::from_random("u1")),
            None,
            Timestamp::from_millis(2),
        );
        let ms = vec![
            link("bbb", 1, 1),
            user.clone(),
            link("aaa", 1, 3),
            link("bbb", 2, 4),
        ];
        let groups = by_target(&ms);
        let shape: Vec<(PendingTarget, usize)> =
            groups.iter().map(|(t, m)| (t.clone(), m.len())).collect();
        assert_eq!(
            shape,
            vec![
                (PendingTarget::Link(Slug::parse("bbb").unwrap()), 2),
                (user.target.clone(), 1),
                (PendingTarget::Link(Slug::parse("aaa").unwrap()), 1),
            ]
        );
    }

    #[test]
    fn long_errors_are_shortened_on_a_character_boundary() {
        assert_eq!(short_error("D1: boom"), "D1: boom");
        let long = "é".repeat(400);
        let short = short_error(&long);
        assert!(short.len() <= ERROR_MAX_BYTES);
        assert!(short.ends_with('…'));
    }
}
