//! The sweep: KV page by page from a checkpoint, each page compared with its D1 range
//! ([`plan`]) and repaired: missing and stale rows upserted, quiet keys given their metadata
//! through their slugs' Durable Objects, confirmed orphans and expired rows removed.
//!
//! Never deletes a D1 row that KV still has, or one younger than [`ORPHAN_GRACE_MILLIS`] that a
//! write in flight may own; never writes a KV link itself (only its slug's object does).

use std::collections::HashSet;

use super::plan::{plan, split_expired, Plan};
use super::{Reconciler, Summary, Trigger};
use crate::app::now;
use crate::auth::Caller;
use crate::claim::{Intent, SlugRequest, SlugResponse};
use crate::link::{Link, Slug, Version};
use crate::store::index::{delete_exact_statements, IndexedVersion};
use crate::store::kv::{DriftSamples, SweepCheckpoint};
use crate::store::StoreError;

/// KV `list` may lag writes by up to 60 s: a D1 row younger than this is never called an orphan.
pub const ORPHAN_GRACE_MILLIS: u64 = 120_000;
/// Keys without metadata given theirs per run, each a request to the slug's Durable Object (a
/// subrequest): well inside the Paid plan's 1000; the rest are read again next sweep.
pub const METADATA_REFRESH_MAX: u64 = 100;

impl Reconciler<'_> {
    /// Sweeps KV pages from the checkpoint until the sweep completes or the budget is spent.
    pub(super) async fn sweep(
        &self,
        trigger: Trigger,
        summary: &mut Summary,
    ) -> Result<(), StoreError> {
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
        if summary.metadata_added >= METADATA_REFRESH_MAX {
            return Ok(());
        }
        let request = SlugRequest {
            slug: link.slug.clone(),
            caller: Caller::admin(),
            intent: Intent::Refresh { seen: link.version },
        };
        if let SlugResponse::Written { .. } = self.claims.send(&request).await? {
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
}

/// What a page's repair removed from D1.
struct Removed {
    /// Slugs of orphan rows: drift.
    orphans: Vec<String>,
    /// Rows of links that expired and left KV: not drift.
    expired: u64,
}
