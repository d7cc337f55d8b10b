//! The sweep: KV page by page from a checkpoint, each page compared with its D1 range
//! ([`plan`]) and repaired: missing and stale rows upserted, quiet keys given their metadata
//! through their slugs' Durable Objects, confirmed orphans and expired rows removed. Values
//! that are not edgelink's are told apart (`exchange::sink::Stored`): Sink links are adopted in
//! place through their slugs' objects (owner `ADOPT_OWNER`, a bounded number a run, a page
//! swept again until its last one is adopted), anything else is counted `unknown` and left.
//!
//! Never deletes a D1 row that KV still has, or one younger than [`ORPHAN_GRACE_MILLIS`] that a
//! write in flight may own; never writes a KV link itself (only its slug's object does).

use std::collections::{HashMap, HashSet};

use futures::future::join_all;

use super::plan::{plan, split_expired, Plan};
use super::{Reconciler, Summary, Trigger};
use crate::account::UserId;
use crate::app::now;
use crate::auth::Caller;
use crate::claim::{Intent, SlugRequest, SlugResponse};
use crate::exchange::sink::Stored;
use crate::link::{Link, Slug, Version};
use crate::store::index::{delete_exact_statements, IndexedVersion};
use crate::store::kv::{DriftSamples, SweepCheckpoint};
use crate::store::StoreError;

/// KV `list` may lag writes by up to 60 s: a D1 row younger than this is never called an orphan.
pub const ORPHAN_GRACE_MILLIS: u64 = 120_000;
/// Keys without metadata given theirs per run, each a request to the slug's Durable Object (a
/// subrequest): well inside the Paid plan's 1000; the rest are read again next sweep.
pub const METADATA_REFRESH_MAX: u64 = 100;
/// Adoptions sent to slug objects at once: a few in flight, without flooding the objects.
pub const ADOPT_CONCURRENCY: usize = 10;

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
                let adopted_after = checkpoint.adopted_upto.clone();
                let done = self
                    .repair(&plan, &no_metadata, adopted_after.as_deref(), summary)
                    .await?;
                summary.scanned += page.keys.len() as u64;
                checkpoint.missing += done.missing.len() as u64;
                checkpoint.stale += done.stale.len() as u64;
                checkpoint.unknown_meta += done.unknown_meta;
                checkpoint.orphans += done.removed.orphans.len() as u64;
                checkpoint.expired += done.removed.expired;
                checkpoint.adopted += done.adopted;
                DriftSamples::add(&mut checkpoint.samples.missing, done.missing);
                DriftSamples::add(&mut checkpoint.samples.stale, done.stale);
                DriftSamples::add(&mut checkpoint.samples.orphans, done.removed.orphans);
                if let Some(upto) = done.adopted_upto {
                    // More Sink links on this page than the run may adopt: the next run sweeps
                    // the page again (what is repaired stays repaired), adopting after `upto`.
                    // Its keys and foreign values are counted once, by that run.
                    checkpoint.adopted_upto = Some(upto);
                    break;
                }
                checkpoint.adopted_upto = None;
                checkpoint.scanned += page.keys.len() as u64;
                checkpoint.adoptable += done.adoptable;
                checkpoint.unknown += done.unknown.len() as u64;
                DriftSamples::add(&mut checkpoint.samples.unknown, done.unknown);
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

    /// Upserts what is missing or stale, adds metadata to quiet keys listed without it, adopts
    /// Sink links (up to the run's [`Budget::max_adoptions`], after `adopted_after` on a page
    /// swept again), and removes confirmed orphans and expired rows. Values that are not
    /// edgelink's are not drift: Sink links are adopted (or counted `adoptable` without an
    /// `ADOPT_OWNER`), anything else is counted `unknown` and left as it is.
    async fn repair(
        &self,
        plan: &Plan,
        no_metadata: &HashSet<&str>,
        adopted_after: Option<&str>,
        summary: &mut Summary,
    ) -> Result<Repaired, StoreError> {
        let mut done = Repaired::default();
        let mut to_read: Vec<Slug> = Vec::new();
        for raw in plan.to_read() {
            match Slug::parse(raw) {
                Ok(slug) => to_read.push(slug),
                // A key edgelink could never have written: Sink's rules for slugs are not ours.
                Err(_) => done.unknown.push(raw.clone()),
            }
        }
        let mut upserts = Vec::with_capacity(to_read.len());
        let mut to_adopt: Vec<(Slug, String)> = Vec::new();
        if !to_read.is_empty() {
            let mut values = self.read_raw(&to_read).await?;
            for slug in to_read {
                // Gone since the list: the delete's own index write handles the row.
                let Some(raw) = values.remove(&slug).flatten() else {
                    continue;
                };
                match Stored::classify(&raw) {
                    Stored::Edgelink(link) => {
                        if no_metadata.contains(slug.as_str()) {
                            self.add_metadata(&link, summary).await?;
                        }
                        upserts.push(link);
                    }
                    Stored::Sink(sink) if sink.target().is_err() => {
                        done.unknown.push(slug.to_string())
                    }
                    Stored::Sink(_) => to_adopt.push((slug, raw)),
                    Stored::Unknown => done.unknown.push(slug.to_string()),
                }
            }
        }
        let mut foreign: HashSet<String> = done.unknown.iter().cloned().collect();
        foreign.extend(to_adopt.iter().map(|(slug, _)| slug.to_string()));
        if !to_adopt.is_empty() {
            if self.adopt_owner(summary).await?.is_some() {
                to_adopt.retain(|(slug, _)| adopted_after.is_none_or(|a| slug.as_str() > a));
                self.adopt(to_adopt, &mut upserts, &mut done, summary)
                    .await?;
            } else {
                done.adoptable = to_adopt.len() as u64;
            }
        }
        if !upserts.is_empty() {
            self.upsert(&upserts).await?;
        }
        let not_foreign = |s: &&String| !foreign.contains(s.as_str());
        done.missing = plan.missing.iter().filter(not_foreign).cloned().collect();
        done.stale = plan.stale.iter().filter(not_foreign).cloned().collect();
        done.unknown_meta = plan.unknown.iter().filter(not_foreign).count() as u64;
        summary.missing += done.missing.len() as u64;
        summary.stale += done.stale.len() as u64;
        summary.unknown_meta += done.unknown_meta;
        summary.adopted += done.adopted;
        summary.adoptable += done.adoptable;
        summary.unknown += done.unknown.len() as u64;
        DriftSamples::add(&mut summary.samples.missing, done.missing.iter().cloned());
        DriftSamples::add(&mut summary.samples.stale, done.stale.iter().cloned());
        DriftSamples::add(&mut summary.samples.unknown, done.unknown.iter().cloned());
        done.removed = self.remove_orphans(&plan.orphans).await?;
        summary.orphans += done.removed.orphans.len() as u64;
        summary.expired += done.removed.expired;
        DriftSamples::add(
            &mut summary.samples.orphans,
            done.removed.orphans.iter().cloned(),
        );
        Ok(done)
    }

    /// `ADOPT_OWNER`, once it is known to name a user (one KV read a run, only when a Sink
    /// link turns up): links are never given to an id nobody holds.
    async fn adopt_owner(&self, summary: &mut Summary) -> Result<Option<&UserId>, StoreError> {
        let Some(owner) = self.adopt_owner.as_ref() else {
            return Ok(None);
        };
        if self.owner_exists.get().is_none() {
            self.spend(1, 0);
            let exists = self.kv.user(owner).await?.is_some();
            if !exists {
                summary.errors.push(format!(
                    "ADOPT_OWNER {owner} is no user: Sink links left as they are"
                ));
            }
            self.owner_exists.set(Some(exists));
        }
        Ok(self.owner_exists.get().filter(|e| *e).map(|_| owner))
    }

    /// Sends each Sink link (with the raw value read) to its slug's Durable Object as an
    /// [`Intent::Adopt`], a few at a time, while the run's adoptions last; pushes what was
    /// written to `upserts`. A link the object refuses (KV changed since the read, or the
    /// object wrote the slug itself) is left to the next sweep. Sets
    /// [`Repaired::adopted_upto`] when some had to wait for the next run.
    async fn adopt(
        &self,
        mut to_adopt: Vec<(Slug, String)>,
        upserts: &mut Vec<Link>,
        done: &mut Repaired,
        summary: &mut Summary,
    ) -> Result<(), StoreError> {
        let room = self
            .budget
            .max_adoptions
            .saturating_sub(self.adoptions.get()) as usize;
        if to_adopt.len() > room {
            to_adopt.truncate(room);
            // Even with no room left, the page is swept again rather than skipped.
            done.adopted_upto = Some(
                to_adopt
                    .last()
                    .map(|(slug, _)| slug.to_string())
                    .unwrap_or_default(),
            );
        }
        self.adoptions
            .set(self.adoptions.get() + to_adopt.len() as u64);
        let races = self.adopt_race_fault().await;
        for chunk in to_adopt.chunks(ADOPT_CONCURRENCY) {
            let sends = chunk.iter().map(|(slug, raw)| {
                let race = races.as_ref().and_then(|r| r.get(slug.as_str()).cloned());
                self.adopt_one(slug, raw, race)
            });
            for (answer, (slug, _)) in join_all(sends).await.into_iter().zip(chunk) {
                match answer {
                    Ok(SlugResponse::Written { link }) => {
                        done.adopted += 1;
                        upserts.push(link);
                    }
                    Ok(_) => {}
                    Err(e) => summary.errors.push(format!("adopt {slug}: {e}")),
                }
            }
        }
        Ok(())
    }

    async fn adopt_one(
        &self,
        slug: &Slug,
        raw: &str,
        race: Option<String>,
    ) -> Result<SlugResponse, StoreError> {
        if let Some(value) = race {
            // Test-only: another writer (Sink, still running) changes the key between this
            // sweep's read and its adoption.
            self.kv.put_raw_link(slug, &value).await?;
        }
        let request = SlugRequest {
            slug: slug.clone(),
            caller: Caller::admin(),
            intent: Intent::Adopt {
                seen: raw.to_owned(),
            },
        };
        self.claims.send(&request).await
    }

    /// The test-only race (`Kv::adopt_race_fault`): slug → the value written under its key
    /// between the sweep's read and its adoption. Read only with `FAULT_INJECTION` on.
    async fn adopt_race_fault(&self) -> Option<HashMap<String, String>> {
        if !self.fault_injection {
            return None;
        }
        self.kv.adopt_race_fault().await
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

/// What a page's repair found and did, for the checkpoint.
#[derive(Default)]
struct Repaired {
    /// Slugs missing from D1 (edgelink's links only: adopted or foreign values are not drift).
    missing: Vec<String>,
    stale: Vec<String>,
    unknown_meta: u64,
    removed: Removed,
    adopted: u64,
    adoptable: u64,
    /// Keys (slugs) neither edgelink's nor a Sink link edgelink can hold.
    unknown: Vec<String>,
    /// Set when Sink links of the page were left for the next run: the last slug adopted.
    adopted_upto: Option<String>,
}

/// What a page's repair removed from D1.
#[derive(Default)]
struct Removed {
    /// Slugs of orphan rows: drift.
    orphans: Vec<String>,
    /// Rows of links that expired and left KV: not drift.
    expired: u64,
}
