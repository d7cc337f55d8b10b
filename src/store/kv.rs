//! [`Kv`]: every read and write edgelink makes to Workers KV (binding `LINKS`), and the only
//! place that knows the key formats:
//!
//! | key | value | metadata |
//! |---|---|---|
//! | `link:<slug>` | [`Link`] JSON | [`LinkMeta`] (`version`, `updated_at`) |
//! | `user:<id>` | [`User`] JSON | |
//! | `email:<email>` | user id | |
//! | `apikey:<sha256 hex>` | [`ApiKeyRecord`] JSON | |
//! | `sync:pending:<ms>:<kind>:<id>` | empty | a failed D1 write waiting for the cron |
//! | `sync:sweep` | [`SweepCheckpoint`] JSON | |
//! | `sync:sweep:last` | the last finished sweep's summary JSON | |
//!
//! Writes here are the ones that count: a 2xx answer means this store has the change.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use worker::kv::KvStore;

use super::StoreError;
use crate::account::{ApiKeyRecord, Email, KeyHash, User, UserId};
use crate::link::{Link, LinkMeta, Slug};
use crate::time::Timestamp;

pub const LINK_PREFIX: &str = "link:";
const USER_PREFIX: &str = "user:";
const EMAIL_PREFIX: &str = "email:";
const API_KEY_PREFIX: &str = "apikey:";
pub const PENDING_PREFIX: &str = "sync:pending:";
const SWEEP_CHECKPOINT_KEY: &str = "sync:sweep";
const SWEEP_LAST_KEY: &str = "sync:sweep:last";
/// KV's cap on keys per bulk read.
pub const BULK_GET_MAX: usize = 100;
/// Redirect reads may be served from the edge cache for this long (KV's minimum, and default).
const REDIRECT_CACHE_TTL_SECS: u64 = 60;

/// KV operations a bulk read of `n` keys costs.
pub fn bulk_get_calls(n: usize) -> u64 {
    n.div_ceil(BULK_GET_MAX) as u64
}

pub fn link_key(slug: &Slug) -> String {
    format!("{LINK_PREFIX}{slug}")
}

/// A D1 write that failed and waits for the frequent cron pass.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PendingTarget {
    Link(Slug),
    User(UserId),
}

/// A marker as listed: its key (to clear it) and what it asks to repair.
/// The failure time leads the key so that `list` returns markers oldest first, and so a new
/// failure never shares a key with a marker the cron is clearing (no lost markers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMarker {
    pub key: String,
    pub target: PendingTarget,
}

impl PendingMarker {
    pub fn new(target: PendingTarget, at: Timestamp) -> Self {
        let (kind, id) = match &target {
            PendingTarget::Link(slug) => ("link", slug.as_str()),
            PendingTarget::User(id) => ("user", id.as_str()),
        };
        let key = format!("{PENDING_PREFIX}{:013}:{kind}:{id}", at.as_millis());
        Self { key, target }
    }

    /// `None` for a key this version does not understand (it is left alone).
    pub fn parse(key: &str) -> Option<Self> {
        let rest = key.strip_prefix(PENDING_PREFIX)?;
        let mut parts = rest.splitn(3, ':');
        let (_at, kind, id) = (parts.next()?, parts.next()?, parts.next()?);
        let target = match kind {
            "link" => PendingTarget::Link(Slug::parse(id).ok()?),
            "user" => PendingTarget::User(serde_json::from_value(id.into()).ok()?),
            _ => return None,
        };
        Some(Self {
            key: key.to_owned(),
            target,
        })
    }
}

/// Up to [`DRIFT_SAMPLE_MAX`] slugs of each drift kind, for the consistency report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftSamples {
    pub missing: Vec<String>,
    pub stale: Vec<String>,
    pub orphans: Vec<String>,
}

pub const DRIFT_SAMPLE_MAX: usize = 10;

impl DriftSamples {
    pub fn add(into: &mut Vec<String>, slugs: impl IntoIterator<Item = String>) {
        let room = DRIFT_SAMPLE_MAX.saturating_sub(into.len());
        into.extend(slugs.into_iter().take(room));
    }
}

/// Where a sweep stands: saved after every page while it runs (`sync:sweep`), and kept with
/// `finished_at` set as the last finished sweep (`sync:sweep:last`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SweepCheckpoint {
    /// KV's list cursor for the next page.
    pub cursor: Option<String>,
    /// The last slug already compared: the next page's D1 range starts after it.
    pub after: Option<String>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub invocations: u64,
    pub pages: u64,
    pub scanned: u64,
    pub missing: u64,
    pub stale: u64,
    pub orphans: u64,
    pub unknown_meta: u64,
    pub samples: DriftSamples,
}

/// One page of `link:` keys, in byte order, with their metadata when present.
#[derive(Debug)]
pub struct LinkKeyPage {
    pub keys: Vec<(String, Option<LinkMeta>)>,
    pub cursor: Option<String>,
    pub complete: bool,
}

/// Workers KV, typed.
pub struct Kv {
    kv: KvStore,
}

impl Kv {
    pub fn new(kv: KvStore) -> Self {
        Self { kv }
    }

    /// The JSON value under `key`, `None` when absent; a value that does not parse is
    /// [`StoreError::Corrupt`], never a panic.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.kv.get(key).text().await? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| corrupt(key, e)),
        }
    }

    // --- links -------------------------------------------------------------------------------

    /// The raw value of `link:<slug>` for the redirect: one read, edge-cached, no parsing here.
    pub async fn redirect_value(&self, slug: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .kv
            .get(&format!("{LINK_PREFIX}{slug}"))
            .cache_ttl(REDIRECT_CACHE_TTL_SECS)
            .text()
            .await?)
    }

    pub async fn link(&self, slug: &Slug) -> Result<Option<Link>, StoreError> {
        let key = link_key(slug);
        self.get_json(&key).await
    }

    pub async fn link_exists(&self, slug: &Slug) -> Result<bool, StoreError> {
        Ok(self.kv.get(&link_key(slug)).text().await?.is_some())
    }

    pub async fn put_link(&self, link: &Link) -> Result<(), StoreError> {
        self.kv
            .put(&link_key(&link.slug), link)?
            .metadata(link.meta())?
            .execute()
            .await?;
        Ok(())
    }

    pub async fn delete_link(&self, slug: &Slug) -> Result<(), StoreError> {
        Ok(self.kv.delete(&link_key(slug)).await?)
    }

    /// Reads many links, [`BULK_GET_MAX`] keys per KV call. A missing key maps to `None`.
    /// A corrupt value is an error for that slug alone.
    pub async fn links_bulk(
        &self,
        slugs: &[Slug],
    ) -> Result<HashMap<Slug, Result<Option<Link>, StoreError>>, StoreError> {
        let mut out = HashMap::with_capacity(slugs.len());
        for chunk in slugs.chunks(BULK_GET_MAX) {
            let keys: Vec<String> = chunk.iter().map(link_key).collect();
            let mut values = self.kv.get_bulk(&keys).text().await?;
            for (slug, key) in chunk.iter().zip(&keys) {
                let parsed = match values.remove(key).flatten() {
                    None => Ok(None),
                    Some(text) => serde_json::from_str(&text)
                        .map(Some)
                        .map_err(|e| corrupt(key, e)),
                };
                out.insert(slug.clone(), parsed);
            }
        }
        Ok(out)
    }

    pub async fn list_link_keys(
        &self,
        cursor: Option<String>,
        limit: u64,
    ) -> Result<LinkKeyPage, StoreError> {
        let mut list = self.kv.list().prefix(LINK_PREFIX.into()).limit(limit);
        if let Some(c) = cursor {
            list = list.cursor(c);
        }
        let page = list.execute().await?;
        let keys = page
            .keys
            .into_iter()
            .filter_map(|k| {
                let slug = k.name.strip_prefix(LINK_PREFIX)?.to_owned();
                let meta = k.metadata.and_then(|m| serde_json::from_value(m).ok());
                Some((slug, meta))
            })
            .collect();
        Ok(LinkKeyPage {
            keys,
            cursor: page.cursor.filter(|c| !c.is_empty()),
            complete: page.list_complete,
        })
    }

    // --- users and keys ----------------------------------------------------------------------

    pub async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let key = format!("{USER_PREFIX}{id}");
        self.get_json(&key).await
    }

    pub async fn user_id_for_email(&self, email: &Email) -> Result<Option<UserId>, StoreError> {
        let key = format!("{EMAIL_PREFIX}{}", email.as_str());
        self.kv
            .get(&key)
            .text()
            .await?
            .map(|id| serde_json::from_value(id.into()))
            .transpose()
            .map_err(|e| corrupt(&key, e))
    }

    /// Writes the user, its email claim and its first key. The key record goes last, so a key
    /// never authenticates a user that is not there.
    pub async fn put_user(&self, user: &User, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.kv
            .put(&format!("{USER_PREFIX}{}", user.id), user)?
            .execute()
            .await?;
        self.kv
            .put(
                &format!("{EMAIL_PREFIX}{}", user.email.as_str()),
                user.id.as_str(),
            )?
            .execute()
            .await?;
        self.kv
            .put(&format!("{API_KEY_PREFIX}{}", key.hash.as_str()), key)?
            .execute()
            .await?;
        Ok(())
    }

    pub async fn api_key(&self, hash: &KeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        let key = format!("{API_KEY_PREFIX}{}", hash.as_str());
        self.get_json(&key).await
    }

    // --- sync markers and the sweep checkpoint -------------------------------------------------

    pub async fn mark_pending(&self, marker: &PendingMarker) -> Result<(), StoreError> {
        self.kv.put(&marker.key, "")?.execute().await?;
        Ok(())
    }

    /// Up to `limit` markers, oldest first. Keys this version cannot parse are skipped.
    pub async fn pending(&self, limit: u64) -> Result<Vec<PendingMarker>, StoreError> {
        let page = self
            .kv
            .list()
            .prefix(PENDING_PREFIX.into())
            .limit(limit)
            .execute()
            .await?;
        Ok(page
            .keys
            .iter()
            .filter_map(|k| PendingMarker::parse(&k.name))
            .collect())
    }

    /// How many markers wait, counting at most one list page; `true` when there are more.
    pub async fn pending_count(&self) -> Result<(u64, bool), StoreError> {
        let page = self
            .kv
            .list()
            .prefix(PENDING_PREFIX.into())
            .execute()
            .await?;
        Ok((page.keys.len() as u64, !page.list_complete))
    }

    pub async fn clear_pending(&self, marker: &PendingMarker) -> Result<(), StoreError> {
        Ok(self.kv.delete(&marker.key).await?)
    }

    pub async fn sweep_checkpoint(&self) -> Result<Option<SweepCheckpoint>, StoreError> {
        self.get_json(SWEEP_CHECKPOINT_KEY).await
    }

    pub async fn save_sweep_checkpoint(&self, c: &SweepCheckpoint) -> Result<(), StoreError> {
        self.kv.put(SWEEP_CHECKPOINT_KEY, c)?.execute().await?;
        Ok(())
    }

    pub async fn last_sweep(&self) -> Result<Option<SweepCheckpoint>, StoreError> {
        self.get_json(SWEEP_LAST_KEY).await
    }

    /// Ends a sweep: the checkpoint goes, its totals stay as the last finished sweep.
    pub async fn finish_sweep(&self, done: &SweepCheckpoint) -> Result<(), StoreError> {
        self.kv.put(SWEEP_LAST_KEY, done)?.execute().await?;
        Ok(self.kv.delete(SWEEP_CHECKPOINT_KEY).await?)
    }
}

fn corrupt(key: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_markers_sort_oldest_first_and_round_trip() {
        let slug = Slug::parse("abc").unwrap();
        let old = PendingMarker::new(
            PendingTarget::Link(slug.clone()),
            Timestamp::from_millis(999),
        );
        let new = PendingMarker::new(
            PendingTarget::Link(slug),
            Timestamp::from_millis(1_700_000_000_000),
        );
        assert!(old.key < new.key);
        assert_eq!(PendingMarker::parse(&old.key), Some(old));
        let user = PendingMarker::new(
            PendingTarget::User(UserId::from_random("x1")),
            Timestamp::from_millis(5),
        );
        assert_eq!(PendingMarker::parse(&user.key), Some(user));
    }

    #[test]
    fn unknown_pending_keys_are_ignored() {
        assert_eq!(PendingMarker::parse("sync:pending:1:thing:x"), None);
        assert_eq!(PendingMarker::parse("sync:pending:1:link:a b"), None);
        assert_eq!(PendingMarker::parse("link:abc"), None);
    }
}
