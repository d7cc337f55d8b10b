//! Making D1 equal KV again: the `scheduled` handler's work.
//!
//! Pure parts: [`plan`], the merge-join of one KV list page against D1's `(slug, version)` rows
//! for the same slug range, and [`Budget`], what one invocation may spend and what a page can
//! cost at worst. The shell, [`run`], drains pending markers (failed background writes, soonest
//! due first), then always sweeps KV page by page from a checkpoint until the sweep ends or the
//! next page might not fit the budget, and logs one JSON summary line (at error level when it failed or
//! found more drift than `DRIFT_ALERT_THRESHOLD`). Rows of links whose KV keys expired away are
//! removed and counted as `expired`, not as drift. The nightly run also prunes `link_history`
//! past `HISTORY_RETENTION_DAYS`, in bounded batches.
//!
//! Markers are repaired all in one batch when they can be; when that batch fails, each slug or
//! user is repaired on its own, so one marker that cannot be repaired stops no other. Its
//! failure is counted on the marker, which is tried again after a backoff and, after
//! [`RetryPolicy::max_attempts`], parked (`sync:parked:`, see [`pending`]) until an admin
//! retries it (`POST /api/admin/reconcile?retry_parked=1`). A failure while D1 answers no query
//! at all is an outage, not the marker's fault: then no attempt is counted.
//!
//! It writes KV links only through their slugs' Durable Objects (metadata repairs), and never
//! deletes a D1 row that KV still has or that a write in flight may own, so running it again,
//! or twice at once, cannot lose a link.

pub mod pending;

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use worker::{console_error, console_log, Env};

use crate::account::UserId;
use crate::analytics::day_of;
use crate::auth::Caller;
use crate::claim::DAY_MILLIS;
use crate::claim::{Intent, SlugRequest, SlugResponse};
use crate::history::{in_version_order, retention_cutoff, HistoryEntry};
use crate::link::{Link, LinkMeta, Slug, Version};
use crate::platform::{claims, history_retention_days, index, kv, now, rollup, var};
use crate::store::claims::Claims;
use crate::store::index::{
    delete_exact_statements, delete_statements, upsert_statements, Index, IndexedVersion,
};
use crate::store::kv::{
    bulk_get_calls, DriftSamples, Kv, MarkerRetry, PendingMarker, PendingTarget, SweepCheckpoint,
};
use crate::store::StoreError;
use crate::time::Timestamp;
pub use pending::RetryPolicy;
use pending::{by_target, short_error, AfterFailure};

/// KV `list` may lag writes by up to 60 s: a D1 row younger than this is never called an orphan.
pub const ORPHAN_GRACE_MILLIS: u64 = 120_000;
/// Keys without metadata given theirs per run, each a request to the slug's Durable Object (a
/// subrequest): well inside the Paid plan's 1000; the rest are read again next sweep.
pub const METADATA_REFRESH_MAX: u64 = 100;
/// History rows pruned per statement, and statements per nightly run: 20,000 rows a night.
pub const HISTORY_PRUNE_BATCH: u32 = 1000;
pub const HISTORY_PRUNE_MAX_BATCHES: u32 = 20;
/// Sorts after every slug (slugs are ASCII): the lower bound of a range that holds no row.
const LAST_SLUG_BOUND: &str = "\u{10FFFF}";
/// Click message ids forgotten per nightly run.
pub const CLICK_MESSAGES_PRUNE_MAX: u32 = 50_000;

/// What one KV page and its D1 range disagree on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// In KV, not in D1.
    pub missing: Vec<String>,
    /// In both; D1's version is older than KV's metadata says.
    pub stale: Vec<String>,
    /// In KV without metadata (older writers): the value decides.
    pub unknown: Vec<String>,
    /// In D1, not in this KV page: deleted only after KV confirms and the grace window passes.
    pub orphans: Vec<IndexedVersion>,
}

impl Plan {
    /// Slugs whose KV values must be read and upserted.
    pub fn to_read(&self) -> impl Iterator<Item = &String> {
        self.missing.iter().chain(&self.stale).chain(&self.unknown)
    }
}

/// Merge-joins KV keys (with metadata) against D1 rows. Both inputs are in byte order of slug,
/// as KV `list` and D1's `ORDER BY slug` (BINARY collation) return them.
pub fn plan(kv: &[(String, Option<LinkMeta>)], d1: &[IndexedVersion]) -> Plan {
    let mut out = Plan::default();
    let (mut i, mut j) = (0, 0);
    while i < kv.len() || j < d1.len() {
        match (kv.get(i), d1.get(j)) {
            (Some((slug, _)), Some(row)) if slug.as_str() < row.slug.as_str() => {
                out.missing.push(slug.clone());
                i += 1;
            }
            (Some((slug, meta)), Some(row)) if slug.as_str() == row.slug.as_str() => {
                match meta {
                    None => out.unknown.push(slug.clone()),
                    Some(m) if m.version.get() > row.version => out.stale.push(slug.clone()),
                    Some(_) => {}
                }
                i += 1;
                j += 1;
            }
            (_, Some(row)) => {
                out.orphans.push(row.clone());
                j += 1;
            }
            (Some((slug, _)), None) => {
                out.missing.push(slug.clone());
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// What one invocation may spend. Defaults stay well inside the Paid plan's 1000 KV operations
/// and 1000 D1 queries per invocation; README gives the Free plan's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// KV list pages swept per invocation.
    pub max_pages: u64,
    /// Keys per KV list page (KV's maximum is 1000).
    pub page_size: u64,
    /// Pending markers drained per invocation (each costs a KV delete).
    pub max_pending: u64,
    pub max_kv_ops: u64,
    pub max_d1_queries: u64,
    /// No new page starts after this much wall time.
    pub max_millis: u64,
    /// Drift (missing + stale + orphans) in one run above this logs at error level.
    pub drift_alert: u64,
}

impl Budget {
    pub const DEFAULT: Budget = Budget {
        max_pages: 8,
        page_size: 1000,
        max_pending: 200,
        max_kv_ops: 800,
        max_d1_queries: 800,
        max_millis: 20_000,
        drift_alert: 100,
    };

    /// Reads `RECONCILE_*` and `DRIFT_ALERT_THRESHOLD`; a missing or invalid value keeps the default.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let d = Self::DEFAULT;
        let num = |name: &str, default: u64, range: std::ops::RangeInclusive<u64>| {
            get(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| range.contains(n))
                .unwrap_or(default)
        };
        Self {
            max_pages: num("RECONCILE_MAX_PAGES", d.max_pages, 1..=100_000),
            page_size: num("RECONCILE_PAGE_SIZE", d.page_size, 1..=1000),
            max_pending: num("RECONCILE_MAX_PENDING", d.max_pending, 1..=1000),
            max_kv_ops: num("RECONCILE_MAX_KV_OPS", d.max_kv_ops, 10..=100_000),
            max_d1_queries: num("RECONCILE_MAX_D1_QUERIES", d.max_d1_queries, 10..=100_000),
            max_millis: num("RECONCILE_MAX_MILLIS", d.max_millis, 1_000..=900_000),
            drift_alert: num("DRIFT_ALERT_THRESHOLD", d.drift_alert, 0..=u64::MAX),
        }
    }

    /// KV operations one page can cost at worst: the list, bulk reads for repairs and for
    /// orphan confirmation (orphans bounded like keys), metadata upgrades, the checkpoint.
    pub fn page_kv_ops(&self) -> u64 {
        1 + 2 * bulk_get_calls(self.page_size as usize) + 1
    }

    /// D1 queries one page can cost at worst: the range read, every key upserted, the orphan
    /// and the expired deletes.
    pub fn page_d1_queries(&self) -> u64 {
        let n = self.page_size as usize;
        1 + upsert_statements(n) + delete_statements(n) + delete_exact_statements(n)
    }

    /// Whether another page fits after `kv_used` and `d1_used`.
    pub fn page_fits(&self, kv_used: u64, d1_used: u64) -> bool {
        kv_used + self.page_kv_ops() <= self.max_kv_ops
            && d1_used + self.page_d1_queries() <= self.max_d1_queries
    }

    /// Invocations a full sweep of `links` keys needs when each gets its full page allowance.
    pub fn invocations_for(&self, links: u64) -> u64 {
        let by_ops = (self.max_kv_ops / self.page_kv_ops())
            .min(self.max_d1_queries / self.page_d1_queries())
            .max(1);
        let pages_per_run = self.max_pages.min(by_ops);
        links
            .div_ceil(self.page_size)
            .max(1)
            .div_ceil(pages_per_run)
    }
}

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
    pub orphans: u64,
    /// Rows of expired links whose KV keys are gone: removed, not counted as drift.
    pub expired: u64,
    /// History entries from pending markers written to `link_history`.
    pub history_repaired: u64,
    /// History rows past retention removed (nightly).
    pub history_pruned: u64,
    /// Counted click message ids past a week removed (nightly).
    pub click_messages_pruned: u64,
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
pub async fn run(env: &Env, trigger: Trigger) -> Summary {
    run_with(env, trigger, false).await
}

/// [`run`], first moving up to `RECONCILE_MAX_PENDING` parked markers back to pending (attempts
/// reset) when `retry_parked` is set.
pub async fn run_with(env: &Env, trigger: Trigger, retry_parked: bool) -> Summary {
    let started = now();
    let mut summary = Summary {
        event: "reconcile",
        trigger: Some(trigger),
        ..Summary::default()
    };
    let budget = Budget::from_vars(|name| var(env, name));
    match (kv(env), index(env)) {
        (Ok(kv), Ok(index)) => {
            let r = Reconciler {
                kv,
                index,
                budget,
                started,
                claims: claims(env).ok(),
                retry: RetryPolicy::from_vars(|name| var(env, name)),
                kv_ops: Cell::new(0),
                d1_queries: Cell::new(0),
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
                let cutoff = retention_cutoff(history_retention_days(env), started);
                if let Err(e) = r.prune_history(cutoff, &mut summary).await {
                    summary.errors.push(format!("history prune: {e}"));
                }
                if let Err(e) = prune_click_messages(env, started, &mut summary).await {
                    summary.errors.push(format!("click message prune: {e}"));
                }
            }
            summary.kv_ops = r.kv_ops.get();
            summary.d1_queries = r.d1_queries.get();
        }
        (Err(e), _) | (_, Err(e)) => summary.errors.push(e.to_string()),
    }
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

struct Reconciler {
    kv: Kv,
    index: Index,
    budget: Budget,
    started: Timestamp,
    /// The slug objects, for metadata repairs (skipped without the binding).
    claims: Option<Claims>,
    retry: RetryPolicy,
    kv_ops: Cell<u64>,
    d1_queries: Cell<u64>,
}

/// One slug's or user's markers, as one drain handles them.
type Group<'a> = (PendingTarget, Vec<&'a PendingMarker>);

impl Reconciler {
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

    async fn upsert(&self, links: &[Link]) -> Result<(), StoreError> {
        self.spend(0, upsert_statements(links.len()));
        self.index.upsert_links(links).await
    }

    async fn delete_older_than(&self, slugs: &[String], v: Version) -> Result<(), StoreError> {
        self.spend(0, delete_statements(slugs.len()));
        self.index.delete_links_older_than(slugs, v).await
    }

    /// Repairs every slug and user a failed background write left a due marker for. Markers
    /// are cleared only after their repair reached D1. All targets go in one batch first; when
    /// that fails, each target alone, so that one that cannot be repaired stops no other, and
    /// its markers are moved to a later try or parked.
    async fn drain_pending(&self, summary: &mut Summary) -> Result<(), StoreError> {
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
        let d1 = 2 + upsert_statements(markers.len());
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
    async fn unpark(&self, summary: &mut Summary) -> Result<(), StoreError> {
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

    /// Sweeps KV pages from the checkpoint until the sweep completes or the budget is spent.
    async fn sweep(&self, trigger: Trigger, summary: &mut Summary) -> Result<(), StoreError> {
        self.spend(1, 0);
        let mut checkpoint = match self.kv.sweep_checkpoint().await? {
            Some(c) => c,
            None if trigger.starts_sweep() => SweepCheckpoint {
                started_at: Some(self.started),
                ..SweepCheckpoint::default()
            },
            None => return Ok(()),
        };
        summary.sweep_active = true;
        checkpoint.invocations += 1;
        while summary.pages < self.budget.max_pages
            && self
                .budget
                .page_fits(self.kv_ops.get(), self.d1_queries.get())
            && now().as_millis() < self.started.as_millis() + self.budget.max_millis
        {
            self.spend(1, 0);
            let page = self
                .kv
                .list_link_keys(checkpoint.cursor.clone(), self.budget.page_size)
                .await?;
            let after = checkpoint.after.clone().unwrap_or_default();
            let last = page.keys.last().map(|(slug, _)| slug.clone());
            // A page with no keys that is not the last says nothing about any slug range.
            if last.is_some() || page.complete {
                let upto = if page.complete { None } else { last.as_deref() };
                self.spend(0, 1);
                let rows = self.index.versions_in_range(&after, upto).await?;
                let plan = plan(&page.keys, &rows);
                let no_metadata: HashSet<&str> = page
                    .keys
                    .iter()
                    .filter(|(_, meta)| meta.is_none())
                    .map(|(slug, _)| slug.as_str())
                    .collect();
                let gone = self.repair(&plan, &no_metadata, summary).await?;
                summary.scanned += page.keys.len() as u64;
                checkpoint.scanned += page.keys.len() as u64;
                checkpoint.missing += plan.missing.len() as u64;
                checkpoint.stale += plan.stale.len() as u64;
                checkpoint.unknown_meta += plan.unknown.len() as u64;
                checkpoint.orphans += gone.orphans.len() as u64;
                checkpoint.expired += gone.expired;
                let orphans = gone.orphans;
                DriftSamples::add(&mut checkpoint.samples.missing, plan.missing);
                DriftSamples::add(&mut checkpoint.samples.stale, plan.stale);
                DriftSamples::add(&mut checkpoint.samples.orphans, orphans);
            }
            summary.pages += 1;
            checkpoint.pages += 1;
            if page.complete {
                summary.sweep_drift =
                    Some(checkpoint.missing + checkpoint.stale + checkpoint.orphans);
                checkpoint.finished_at = Some(now());
                checkpoint.cursor = None;
                self.spend(2, 0);
                self.kv.finish_sweep(&checkpoint).await?;
                summary.sweep_complete = true;
                return Ok(());
            }
            checkpoint.cursor = page.cursor;
            if let Some(last) = last {
                checkpoint.after = Some(last);
            }
            self.spend(1, 0);
            self.kv.save_sweep_checkpoint(&checkpoint).await?;
        }
        summary.checkpoint_after = checkpoint.after.clone();
        self.spend(1, 0);
        self.kv.save_sweep_checkpoint(&checkpoint).await
    }

    /// Upserts what is missing or stale, adds metadata to quiet keys listed without it, and
    /// removes confirmed orphans and expired rows. Returns what it removed.
    async fn repair(
        &self,
        plan: &Plan,
        no_metadata: &HashSet<&str>,
        summary: &mut Summary,
    ) -> Result<Removed, StoreError> {
        summary.missing += plan.missing.len() as u64;
        summary.stale += plan.stale.len() as u64;
        summary.unknown_meta += plan.unknown.len() as u64;
        DriftSamples::add(&mut summary.samples.missing, plan.missing.iter().cloned());
        DriftSamples::add(&mut summary.samples.stale, plan.stale.iter().cloned());
        let to_read: Vec<Slug> = plan.to_read().filter_map(|s| Slug::parse(s).ok()).collect();
        if !to_read.is_empty() {
            let values = self.read_links(&to_read).await?;
            let mut upserts = Vec::with_capacity(values.len());
            for (slug, value) in values {
                match value {
                    Ok(Some(link)) => {
                        if no_metadata.contains(slug.as_str()) {
                            self.add_metadata(&link, summary).await?;
                        }
                        upserts.push(link);
                    }
                    // Deleted since the list: the delete's own index write handles the row.
                    Ok(None) => {}
                    Err(e) => summary.errors.push(format!("{slug}: {e}")),
                }
            }
            self.upsert(&upserts).await?;
        }
        let removed = self.remove_orphans(&plan.orphans).await?;
        summary.orphans += removed.orphans.len() as u64;
        summary.expired += removed.expired;
        DriftSamples::add(
            &mut summary.samples.orphans,
            removed.orphans.iter().cloned(),
        );
        Ok(removed)
    }

    /// Has a key written without metadata (by older code) written again with its metadata,
    /// so later sweeps compare it without reading its value. Through the slug's Durable Object,
    /// the one writer of the key: it writes its newest state, so a concurrent update is never
    /// overwritten by the value read here.
    async fn add_metadata(&self, link: &Link, summary: &mut Summary) -> Result<(), StoreError> {
        let Some(claims) = &self.claims else {
            return Ok(());
        };
        if summary.metadata_added >= METADATA_REFRESH_MAX {
            return Ok(());
        }
        let request = SlugRequest {
            slug: link.slug.clone(),
            caller: Caller::admin(),
            intent: Intent::Refresh { seen: link.version },
        };
        if let SlugResponse::Written { .. } = claims.send(&request).await? {
            summary.metadata_added += 1;
        }
        Ok(())
    }

    /// Deletes D1 rows whose slugs KV confirms are gone: rows of expired links at once (KV
    /// dropped them after their expiry), other rows only when older than the grace window.
    async fn remove_orphans(&self, candidates: &[IndexedVersion]) -> Result<Removed, StoreError> {
        let grace_edge = self.started.as_millis().saturating_sub(ORPHAN_GRACE_MILLIS);
        let (expired, others) = split_expired(candidates, self.started);
        let mut gone: Vec<String> = Vec::new();
        let mut to_check: Vec<Slug> = Vec::new();
        for row in others.iter().filter(|r| r.version < grace_edge) {
            match Slug::parse(&row.slug) {
                Ok(slug) => to_check.push(slug),
                // Not a valid slug: it can never be in KV.
                Err(_) => gone.push(row.slug.clone()),
            }
        }
        to_check.extend(expired.iter().filter_map(|r| Slug::parse(&r.slug).ok()));
        let values = if to_check.is_empty() {
            Default::default()
        } else {
            self.read_links(&to_check).await?
        };
        let confirmed_gone =
            |slug: &str| Slug::parse(slug).is_ok_and(|s| matches!(values.get(&s), Some(Ok(None))));
        let expired_gone: Vec<(String, u64)> = expired
            .iter()
            .filter(|r| confirmed_gone(&r.slug))
            .map(|r| (r.slug.clone(), r.version))
            .collect();
        gone.extend(
            others
                .iter()
                .filter(|r| r.version < grace_edge && confirmed_gone(&r.slug))
                .map(|r| r.slug.clone()),
        );
        if !gone.is_empty() {
            self.delete_older_than(&gone, Version::new(grace_edge))
                .await?;
        }
        if !expired_gone.is_empty() {
            self.spend(0, delete_exact_statements(expired_gone.len()));
            self.index.delete_exact(&expired_gone).await?;
        }
        Ok(Removed {
            orphans: gone,
            expired: expired_gone.len() as u64,
        })
    }

    /// Nightly: removes history rows older than the retention, a bounded number of batches.
    async fn prune_history(
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
async fn prune_click_messages(
    env: &Env,
    started: Timestamp,
    summary: &mut Summary,
) -> Result<(), StoreError> {
    let week_ago = Timestamp::from_millis(started.as_millis().saturating_sub(7 * DAY_MILLIS));
    summary.click_messages_pruned = rollup(env)?
        .prune_messages(&day_of(week_ago), CLICK_MESSAGES_PRUNE_MAX)
        .await?;
    Ok(())
}

/// What a page's repair removed from D1.
struct Removed {
    /// Slugs of orphan rows: drift.
    orphans: Vec<String>,
    /// Rows of links that expired and left KV: not drift.
    expired: u64,
}

/// Splits D1 rows missing from KV into those of links past their expiry (KV dropped them on
/// purpose) and the rest.
pub fn split_expired(
    rows: &[IndexedVersion],
    now: Timestamp,
) -> (Vec<IndexedVersion>, Vec<IndexedVersion>) {
    rows.iter().cloned().partition(|r| {
        r.expires_at
            .as_deref()
            .and_then(Timestamp::parse)
            .is_some_and(|at| at <= now)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(entries: &[(&str, Option<u64>)]) -> Vec<(String, Option<LinkMeta>)> {
        entries
            .iter()
            .map(|(s, v)| {
                (
                    s.to_string(),
                    v.map(|v| LinkMeta {
                        version: Version::new(v),
                        updated_at: Timestamp::from_millis(v),
                    }),
                )
            })
            .collect()
    }

    fn d1(rows: &[(&str, u64)]) -> Vec<IndexedVersion> {
        rows.iter()
            .map(|(s, v)| IndexedVersion {
                slug: s.to_string(),
                version: *v,
                expires_at: None,
            })
            .collect()
    }

    #[test]
    fn equal_stores_need_nothing() {
        let p = plan(
            &kv(&[("a", Some(1)), ("b", Some(2))]),
            &d1(&[("a", 1), ("b", 2)]),
        );
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn finds_missing_stale_and_orphans_in_one_pass() {
        let p = plan(
            &kv(&[
                ("b", Some(5)),
                ("c", Some(7)),
                ("e", Some(1)),
                ("g", Some(3)),
            ]),
            &d1(&[("a", 9), ("c", 6), ("d", 2), ("e", 1), ("h", 4)]),
        );
        assert_eq!(p.missing, vec!["b", "g"]);
        assert_eq!(p.stale, vec!["c"]);
        assert_eq!(
            p.orphans
                .iter()
                .map(|r| r.slug.as_str())
                .collect::<Vec<_>>(),
            vec!["a", "d", "h"]
        );
        assert!(p.unknown.is_empty());
    }

    #[test]
    fn a_newer_d1_row_is_not_rolled_back() {
        // KV list metadata can lag a write; the index already has the newer version.
        let p = plan(&kv(&[("a", Some(3))]), &d1(&[("a", 4)]));
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn keys_without_metadata_are_decided_by_their_value() {
        let p = plan(&kv(&[("a", None), ("b", None)]), &d1(&[("a", 1)]));
        assert_eq!(p.unknown, vec!["a"]);
        assert_eq!(p.missing, vec!["b"]);
    }

    #[test]
    fn byte_order_is_case_sensitive_like_kv() {
        // 'Z' (0x5a) sorts before 'a' (0x61): a merge in another order would invent drift.
        let p = plan(
            &kv(&[("Zed", Some(1)), ("abc", Some(1))]),
            &d1(&[("Zed", 1), ("abc", 1)]),
        );
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn empty_sides() {
        assert_eq!(plan(&[], &[]), Plan::default());
        assert_eq!(plan(&kv(&[("a", Some(1))]), &[]).missing, vec!["a"]);
        assert_eq!(plan(&[], &d1(&[("a", 1)])).orphans.len(), 1);
    }

    #[test]
    fn to_read_lists_every_slug_that_needs_its_value() {
        let p = plan(
            &kv(&[("a", Some(2)), ("b", Some(1)), ("c", None)]),
            &d1(&[("a", 1), ("c", 1)]),
        );
        assert_eq!(p.to_read().collect::<Vec<_>>(), vec!["b", "a", "c"]);
    }

    #[test]
    fn budget_reads_vars_and_keeps_defaults_for_bad_values() {
        let b = Budget::from_vars(|name| match name {
            "RECONCILE_MAX_PAGES" => Some("2".into()),
            "RECONCILE_PAGE_SIZE" => Some("5000".into()),
            "RECONCILE_MAX_KV_OPS" => Some("nope".into()),
            _ => None,
        });
        assert_eq!(b.max_pages, 2);
        assert_eq!(b.page_size, Budget::DEFAULT.page_size);
        assert_eq!(b.max_kv_ops, Budget::DEFAULT.max_kv_ops);
    }

    #[test]
    fn default_budget_fits_the_paid_plan_with_every_row_drifted() {
        let b = Budget::DEFAULT;
        // Worst case per 1000-key page: 22 KV operations, 32 D1 queries (100 rows a statement).
        assert_eq!(b.page_kv_ops(), 22);
        assert_eq!(b.page_d1_queries(), 1 + 10 + 11 + 10);
        let pages = b.max_d1_queries / b.page_d1_queries();
        assert!(pages >= 1);
        assert!(pages.min(b.max_pages) * b.page_kv_ops() + b.max_pending * 3 < 1000);
        assert!(b.page_fits(0, 0));
        assert!(!b.page_fits(0, b.max_d1_queries - 10));
    }

    #[test]
    fn a_million_links_is_a_bounded_sequence_of_invocations() {
        // 1000 pages at 8 pages per invocation (RECONCILE_MAX_PAGES): 125 invocations.
        assert_eq!(Budget::DEFAULT.invocations_for(1_000_000), 125);
        let free = Budget::from_vars(|name| match name {
            "RECONCILE_MAX_PAGES" => Some("1".into()),
            "RECONCILE_PAGE_SIZE" => Some("100".into()),
            "RECONCILE_MAX_KV_OPS" => Some("40".into()),
            "RECONCILE_MAX_D1_QUERIES" => Some("40".into()),
            _ => None,
        });
        assert!(free.page_fits(0, 0));
        assert_eq!(free.invocations_for(1_000_000), 10_000);
    }

    #[test]
    fn rows_past_their_expiry_are_told_from_orphans() {
        let now = Timestamp::from_millis(10_000);
        let row = |slug: &str, expires: Option<u64>| IndexedVersion {
            slug: slug.into(),
            version: 1,
            expires_at: expires.map(|ms| Timestamp::from_millis(ms).to_rfc3339()),
        };
        let rows = vec![
            row("a", Some(9_999)),
            row("b", None),
            row("c", Some(10_001)),
            row("d", Some(10_000)),
        ];
        let (expired, others) = split_expired(&rows, now);
        let names = |v: &[IndexedVersion]| v.iter().map(|r| r.slug.clone()).collect::<Vec<_>>();
        assert_eq!(names(&expired), vec!["a", "d"]);
        assert_eq!(names(&others), vec!["b", "c"]);
    }

    #[test]
    fn nightly_cron_is_recognised() {
        assert_eq!(Trigger::from_cron("0 3 * * *"), Trigger::Nightly);
        assert_eq!(Trigger::from_cron("*/5 * * * *"), Trigger::Frequent);
    }
}
