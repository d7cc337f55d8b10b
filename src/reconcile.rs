//! Making D1 equal KV again: the `scheduled` handler's work.
//!
//! Two parts. [`plan`] is the pure merge-join of one KV list page against D1's `(slug, version)`
//! rows for the same slug range. [`run`] is the shell: it drains pending markers (failed
//! background writes, oldest first), then sweeps KV page by page from a checkpoint, within a
//! [`ReconcileBudget`], and logs one JSON summary line.
//!
//! It never writes KV links and never deletes a D1 row that KV still has or that a write in
//! flight may own, so running it again, or twice at once, cannot lose a link.

use std::collections::HashSet;

use serde::Serialize;
use worker::{console_error, console_log, Env};

use crate::account::UserId;
use crate::link::{Link, LinkMeta, Slug, Version};
use crate::platform::{index, kv, now, ReconcileBudget};
use crate::store::index::{Index, IndexedVersion};
use crate::store::kv::{Kv, PendingTarget, SweepCheckpoint};
use crate::store::StoreError;
use crate::time::Timestamp;

/// KV `list` may lag writes by up to 60 s: a D1 row younger than this is never called an orphan.
pub const ORPHAN_GRACE_MILLIS: u64 = 120_000;

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

/// Which cron fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// Every few minutes: drain pending markers, continue an unfinished sweep.
    Frequent,
    /// Nightly: drain, then start a full sweep (or continue the unfinished one).
    Nightly,
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
}

/// The JSON line each run logs.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub event: &'static str,
    pub trigger: Option<Trigger>,
    pub pending_seen: u64,
    pub pending_repaired: u64,
    pub sweep_active: bool,
    pub pages: u64,
    pub scanned: u64,
    pub missing: u64,
    pub stale: u64,
    pub unknown_meta: u64,
    pub orphans: u64,
    pub sweep_complete: bool,
    pub errors: Vec<String>,
    pub duration_ms: u64,
}

/// One reconcile invocation. Logs its summary and returns it.
pub async fn run(env: &Env, trigger: Trigger) -> Summary {
    let started = now();
    let mut summary = Summary {
        event: "reconcile",
        trigger: Some(trigger),
        ..Summary::default()
    };
    let budget = ReconcileBudget::from_env(env);
    match (kv(env), index(env)) {
        (Ok(kv), Ok(index)) => {
            let r = Reconciler {
                kv,
                index,
                budget,
                started,
            };
            if let Err(e) = r.drain_pending(&mut summary).await {
                summary.errors.push(format!("pending: {e}"));
            } else if let Err(e) = r.sweep(trigger, &mut summary).await {
                summary.errors.push(format!("sweep: {e}"));
            }
        }
        (Err(e), _) | (_, Err(e)) => summary.errors.push(e.to_string()),
    }
    summary.duration_ms = now().as_millis().saturating_sub(started.as_millis());
    let line = serde_json::to_string(&summary).unwrap_or_default();
    if summary.errors.is_empty() {
        console_log!("{line}");
    } else {
        console_error!("{line}");
    }
    summary
}

struct Reconciler {
    kv: Kv,
    index: Index,
    budget: ReconcileBudget,
    started: Timestamp,
}

impl Reconciler {
    /// Repairs every slug and user a failed background write left a marker for. Markers are
    /// cleared only after their repair reached D1.
    async fn drain_pending(&self, summary: &mut Summary) -> Result<(), StoreError> {
        let markers = self.kv.pending(u64::from(self.budget.max_pending)).await?;
        summary.pending_seen = markers.len() as u64;
        if markers.is_empty() {
            return Ok(());
        }
        let mut slugs: Vec<Slug> = Vec::new();
        let mut users: Vec<UserId> = Vec::new();
        let mut seen = HashSet::new();
        for m in &markers {
            if seen.insert(m.target.clone()) {
                match &m.target {
                    PendingTarget::Link(s) => slugs.push(s.clone()),
                    PendingTarget::User(u) => users.push(u.clone()),
                }
            }
        }
        let values = self.kv.links_bulk(&slugs).await?;
        let mut upserts: Vec<Link> = Vec::new();
        let mut deleted: Vec<String> = Vec::new();
        for slug in &slugs {
            match values.get(slug) {
                Some(Ok(Some(link))) => upserts.push(link.clone()),
                Some(Ok(None)) | None => deleted.push(slug.to_string()),
                Some(Err(e)) => summary.errors.push(e.to_string()),
            }
        }
        // Gone from KV: every write that started after this run began carries a higher
        // version, so removing rows below it cannot undo a re-create.
        self.index
            .delete_links_older_than(&deleted, Version::new(self.started.as_millis()))
            .await?;
        self.index.upsert_links(&upserts).await?;
        for id in &users {
            if let Some(user) = self.kv.user(id).await? {
                self.index.upsert_user(&user).await?;
            }
        }
        for m in &markers {
            self.kv.clear_pending(m).await?;
        }
        summary.pending_repaired = seen.len() as u64;
        Ok(())
    }

    /// Sweeps KV pages from the checkpoint until the sweep completes or the budget is spent.
    async fn sweep(&self, trigger: Trigger, summary: &mut Summary) -> Result<(), StoreError> {
        let mut checkpoint = match self.kv.sweep_checkpoint().await? {
            Some(c) => c,
            None if trigger == Trigger::Nightly => SweepCheckpoint {
                started_at: Some(self.started),
                ..SweepCheckpoint::default()
            },
            None => return Ok(()),
        };
        summary.sweep_active = true;
        for _ in 0..self.budget.max_pages {
            if now().as_millis() >= self.started.as_millis() + self.budget.max_millis {
                break;
            }
            let page = self
                .kv
                .list_link_keys(checkpoint.cursor.clone(), u64::from(self.budget.page_size))
                .await?;
            let after = checkpoint.after.clone().unwrap_or_default();
            let last = page.keys.last().map(|(slug, _)| slug.clone());
            if last.is_some() || page.complete {
                let upto = if page.complete { None } else { last.as_deref() };
                let rows = self.index.versions_in_range(&after, upto).await?;
                let plan = plan(&page.keys, &rows);
                self.repair(&plan, summary).await?;
                summary.scanned += page.keys.len() as u64;
                checkpoint.scanned += page.keys.len() as u64;
                checkpoint.missing += plan.missing.len() as u64;
                checkpoint.stale += plan.stale.len() as u64;
            }
            summary.pages += 1;
            checkpoint.pages += 1;
            if page.complete {
                checkpoint.orphans += summary.orphans;
                self.kv.finish_sweep(&checkpoint).await?;
                summary.sweep_complete = true;
                return Ok(());
            }
            checkpoint.cursor = page.cursor;
            if let Some(last) = last {
                checkpoint.after = Some(last);
            }
            self.kv.save_sweep_checkpoint(&checkpoint).await?;
        }
        checkpoint.orphans += summary.orphans;
        self.kv.save_sweep_checkpoint(&checkpoint).await
    }

    async fn repair(&self, plan: &Plan, summary: &mut Summary) -> Result<(), StoreError> {
        summary.missing += plan.missing.len() as u64;
        summary.stale += plan.stale.len() as u64;
        summary.unknown_meta += plan.unknown.len() as u64;
        let to_read: Vec<Slug> = plan.to_read().filter_map(|s| Slug::parse(s).ok()).collect();
        if !to_read.is_empty() {
            let values = self.kv.links_bulk(&to_read).await?;
            let mut upserts = Vec::with_capacity(values.len());
            for (slug, value) in values {
                match value {
                    Ok(Some(link)) => upserts.push(link),
                    // Deleted since the list: the delete's own index write handles the row.
                    Ok(None) => {}
                    Err(e) => summary.errors.push(format!("{slug}: {e}")),
                }
            }
            self.index.upsert_links(&upserts).await?;
        }
        self.remove_orphans(&plan.orphans, summary).await
    }

    /// Deletes D1 rows whose slugs KV confirms are gone and that are older than the grace window.
    async fn remove_orphans(
        &self,
        candidates: &[IndexedVersion],
        summary: &mut Summary,
    ) -> Result<(), StoreError> {
        let grace_edge = self.started.as_millis().saturating_sub(ORPHAN_GRACE_MILLIS);
        let old: Vec<&IndexedVersion> = candidates
            .iter()
            .filter(|r| r.version < grace_edge)
            .collect();
        if old.is_empty() {
            return Ok(());
        }
        // A row whose slug is not a valid slug can never be in KV: gone without asking.
        let mut gone: Vec<String> = Vec::new();
        let mut to_check: Vec<Slug> = Vec::new();
        for row in old {
            match Slug::parse(&row.slug) {
                Ok(slug) => to_check.push(slug),
                Err(_) => gone.push(row.slug.clone()),
            }
        }
        let values = self.kv.links_bulk(&to_check).await?;
        gone.extend(
            to_check
                .iter()
                .filter(|s| matches!(values.get(*s), Some(Ok(None))))
                .map(|s| s.to_string()),
        );
        summary.orphans += gone.len() as u64;
        self.index
            .delete_links_older_than(&gone, Version::new(grace_edge))
            .await
    }
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
    fn nightly_cron_is_recognised() {
        assert_eq!(Trigger::from_cron("0 3 * * *"), Trigger::Nightly);
        assert_eq!(Trigger::from_cron("*/5 * * * *"), Trigger::Frequent);
    }
}
