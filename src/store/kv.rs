//! [`Kv`]: every read and write edgelink makes to Workers KV (binding `LINKS`), and the only
//! place that knows the key formats:
//!
//! | key | value | metadata |
//! |---|---|---|
//! | `link:<slug>` | [`Link`] JSON (expires after `expires_at` + grace) | [`LinkMeta`] (`version`, `updated_at`) |
//! | `user:<id>` | [`User`] JSON | |
//! | `email:<email>` | user id | |
//! | `apikey:<sha256 hex>` | [`ApiKeyRecord`] JSON | |
//! | `keys:<user id>:<key id>` | empty | [`KeyListing`]: one user's keys, listed with one call |
//! | `keyused:<key id>` | time of last use (hourly) | |
//! | `session:<sha256 hex of id>` | [`SessionRecord`] JSON (expires with the session) | |
//! | `block:<host>` | empty | a blocked destination host |
//! | `sync:pending:<ms>:link:<slug>:<version>` | the write's [`HistoryEntry`] JSON, or empty | a failed D1 write waiting for the cron, due at `<ms>`; [`MarkerRetry`] once a repair failed |
//! | `sync:pending:<ms>:user:<id>` | empty | as above |
//! | `sync:parked:<ms>:link:…` / `…:user:<id>` | the marker's value, kept | a marker that failed too often, parked at `<ms>`; [`MarkerRetry`] (attempts, last error) |
//! | `sync:sweep` | [`SweepCheckpoint`] JSON | |
//! | `sync:sweep:last` | the last finished sweep's summary JSON | |
//! | `fault:<point>:<slug>` | any | test-only: arms a fault of the slug object, read only when `FAULT_INJECTION` is on |
//! | `clicks:dead:<message id>` | a dead-lettered click's JSON, until replayed | |
//! | `import:<id>:rows:<n>` | page `n` of import `<id>`: its [`ImportRow`]s as a JSON array, four queue chunks a page (expires after [`IMPORT_PAGE_TTL_SECS`]) | |
//! | `analytics:salt:<YYYY-MM-DD>` | the day's visitor salt, written only by its `DaySalt` object (expires two days after the day began) | |
//!
//! Writes here are the ones that count: a 2xx answer means this store has the change.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use worker::kv::{KvStore, PutOptionsBuilder};

use super::StoreError;
use crate::account::{ApiKeyRecord, Email, KeyHash, KeyId, KeyName, KeySummary, User, UserId};
use crate::exchange::import::ImportRow;
use crate::history::HistoryEntry;
use crate::link::{Link, LinkMeta, Slug, Version};
use crate::session::SessionRecord;
use crate::time::Timestamp;

pub const LINK_PREFIX: &str = "link:";
const USER_PREFIX: &str = "user:";
const EMAIL_PREFIX: &str = "email:";
const API_KEY_PREFIX: &str = "apikey:";
const KEYS_PREFIX: &str = "keys:";
const KEY_USED_PREFIX: &str = "keyused:";
const SESSION_PREFIX: &str = "session:";
const BLOCK_PREFIX: &str = "block:";
pub const PENDING_PREFIX: &str = "sync:pending:";
pub const PARKED_PREFIX: &str = "sync:parked:";
const SWEEP_CHECKPOINT_KEY: &str = "sync:sweep";
const SWEEP_LAST_KEY: &str = "sync:sweep:last";
const FAULT_PREFIX: &str = "fault:";
/// The test-only adoption race ([`Kv::adopt_race_fault`]).
pub const ADOPT_RACE_FAULT_KEY: &str = "fault:adopt-race";
/// Clicks the roll-up failed `max_retries` times (from the click queue's dead-letter queue),
/// under their queue message id, until the admin replays them.
const DEAD_CLICK_PREFIX: &str = "clicks:dead:";
/// The visitor-id salt of one UTC day, when `ANALYTICS_SALT` is not set (`track::salt`).
const DAY_SALT_PREFIX: &str = "analytics:salt:";
/// An import's rows, a page a key, between the upload and the queue consumer.
const IMPORT_PREFIX: &str = "import:";
/// How long an import's pages wait for the consumer: long enough for a backed-up queue and
/// its retries, short enough that an abandoned upload cleans itself up.
pub const IMPORT_PAGE_TTL_SECS: u64 = 7 * 24 * 60 * 60;
/// KV's cap on keys per bulk read.
pub const BULK_GET_MAX: usize = 100;
/// Redirect reads may be served from the edge cache for this long (KV's minimum, and default).
pub const REDIRECT_CACHE_TTL_SECS: u32 = 60;

/// KV operations a bulk read of `n` keys costs.
pub fn bulk_get_calls(n: usize) -> u64 {
    n.div_ceil(BULK_GET_MAX) as u64
}

fn import_page_key(id: &str, page: u64) -> String {
    format!("{IMPORT_PREFIX}{id}:rows:{page}")
}

pub fn link_key(slug: &Slug) -> String {
    format!("{LINK_PREFIX}{slug}")
}

fn keys_key(user: &UserId, id: &KeyId) -> String {
    format!("{KEYS_PREFIX}{user}:{id}")
}

/// The metadata of `keys:<user>:<key>`: what the owner's key list shows, plus the hash that
/// revocation needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyListing {
    pub name: Option<KeyName>,
    pub created_at: Timestamp,
    pub hash: KeyHash,
}

/// A step of the slug object's write that the e2e suites can make fail (test-only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The KV write (or delete) of the link fails.
    KvWrite,
    /// The object's record is not committed after KV took the write.
    RecordCommit,
}

impl Fault {
    fn key(self, slug: &Slug) -> String {
        let point = match self {
            Fault::KvWrite => "kv-write",
            Fault::RecordCommit => "record-commit",
        };
        format!("{FAULT_PREFIX}{point}:{slug}")
    }
}

/// A D1 write that failed and waits for the frequent cron pass.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PendingTarget {
    Link(Slug),
    User(UserId),
}

/// A marker as listed: its key (to clear it) and what it asks to repair.
/// The time that leads the key is when the marker is due: first the failure time, later the
/// next try after a failed repair (the marker is moved to a new key), so that `list` returns
/// markers in the order they are due and markers waiting out a backoff never hide due ones.
/// A link's key also names the failed write's version, so two failures never share a key and a
/// new failure never overwrites a marker the cron is clearing (no lost markers, no lost history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMarker {
    pub key: String,
    pub target: PendingTarget,
    /// When the cron may next try it.
    pub due_at: Timestamp,
    /// The failed repairs so far (the key's metadata).
    pub retry: MarkerRetry,
}

/// The metadata of a marker whose repair failed: how often, and the last error (shortened).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MarkerRetry {
    pub attempts: u32,
    pub error: Option<String>,
}

fn marker_key(prefix: &str, at: Timestamp, tail: &str) -> String {
    format!("{prefix}{:013}:{tail}", at.as_millis())
}

/// `(time, target)` of a key's rest after its prefix: `<ms>:link:<slug>[:<version>]` or
/// `<ms>:user:<id>`; `None` for a shape this version does not understand.
fn parse_marker_rest(rest: &str) -> Option<(Timestamp, PendingTarget)> {
    let mut parts = rest.splitn(3, ':');
    let (at, kind, id) = (parts.next()?, parts.next()?, parts.next()?);
    let target = match kind {
        "link" => {
            let slug = match id.split_once(':') {
                Some((slug, version)) => {
                    version.parse::<u64>().ok()?;
                    slug
                }
                None => id,
            };
            PendingTarget::Link(Slug::parse(slug).ok()?)
        }
        "user" => PendingTarget::User(serde_json::from_value(id.into()).ok()?),
        _ => return None,
    };
    // An unreadable time is due now rather than never.
    let at = Timestamp::from_millis(at.parse::<u64>().unwrap_or(0));
    Some((at, target))
}

/// The part of a marker key after its prefix and time: what it repairs.
fn marker_tail<'a>(key: &'a str, prefix: &str) -> &'a str {
    key.strip_prefix(prefix)
        .and_then(|rest| rest.split_once(':'))
        .map_or("", |(_, tail)| tail)
}

impl PendingMarker {
    /// `version` is the failed write's (links only).
    pub fn new(target: PendingTarget, version: Option<Version>, at: Timestamp) -> Self {
        let tail = match (&target, version) {
            (PendingTarget::Link(slug), Some(v)) => format!("link:{slug}:{}", v.get()),
            (PendingTarget::Link(slug), None) => format!("link:{slug}"),
            (PendingTarget::User(id), _) => format!("user:{id}"),
        };
        Self {
            key: marker_key(PENDING_PREFIX, at, &tail),
            target,
            due_at: at,
            retry: MarkerRetry::default(),
        }
    }

    /// `None` for a key this version does not understand (it is left alone).
    pub fn parse(key: &str) -> Option<Self> {
        let (due_at, target) = parse_marker_rest(key.strip_prefix(PENDING_PREFIX)?)?;
        Some(Self {
            key: key.to_owned(),
            target,
            due_at,
            retry: MarkerRetry::default(),
        })
    }

    /// What it repairs: its key without prefix and time.
    pub fn tail(&self) -> &str {
        marker_tail(&self.key, PENDING_PREFIX)
    }
}

/// A marker the cron stopped trying (`sync:parked:<ms>:…`): kept with its value until an
/// admin retries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedMarker {
    pub key: String,
    pub target: PendingTarget,
    pub parked_at: Timestamp,
    pub retry: MarkerRetry,
}

impl ParkedMarker {
    pub fn parse(key: &str) -> Option<Self> {
        let (parked_at, target) = parse_marker_rest(key.strip_prefix(PARKED_PREFIX)?)?;
        Some(Self {
            key: key.to_owned(),
            target,
            parked_at,
            retry: MarkerRetry::default(),
        })
    }

    /// What it repairs: `link:<slug>:<version>` or `user:<id>`.
    pub fn tail(&self) -> &str {
        marker_tail(&self.key, PARKED_PREFIX)
    }
}

/// Up to [`DRIFT_SAMPLE_MAX`] slugs of each drift kind, for the consistency report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftSamples {
    pub missing: Vec<String>,
    pub stale: Vec<String>,
    pub orphans: Vec<String>,
    /// `link:` keys (their slugs) whose values are neither edgelink's nor a Sink link it can
    /// adopt, left untouched. Left out of the JSON when empty (most deployments never have
    /// any), so the report reads as it did before Sink adoption existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
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
    /// Rows of links KV dropped after their expiry: removed, but not drift.
    pub expired: u64,
    pub unknown_meta: u64,
    /// Sink links converted in place (owner `ADOPT_OWNER`), not drift.
    pub adopted: u64,
    /// Sink links found while `ADOPT_OWNER` is unset: they redirect but stay Sink's.
    pub adoptable: u64,
    /// Keys that are neither edgelink's nor a Sink link edgelink can hold, left untouched.
    pub unknown: u64,
    /// Set while the page at `cursor` is swept again because it held more Sink links than one
    /// run adopts: the slug adopted up to.
    pub adopted_upto: Option<String>,
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
        match self.get_text(key).await? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| corrupt(key, e)),
        }
    }

    /// The read itself, apart from [`Kv::get_json`]'s parse: one copy of the KV future in the
    /// wasm rather than one per type read.
    async fn get_text(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.kv.get(key).text().await?)
    }

    /// A write of `value` as it is. Through `put_bytes`, because workers-rs's `put` converts
    /// any value, even a string, through serde-wasm-bindgen and back, which costs bundle size
    /// for every type stored (and core's float formatter) and does nothing a string needs.
    fn put_text(&self, key: &str, value: &str) -> Result<PutOptionsBuilder, StoreError> {
        Ok(self.kv.put_bytes(key, value.as_bytes())?)
    }

    /// A write of `value` as JSON, by the same serializer every read parses with.
    fn put_json<T: Serialize>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<PutOptionsBuilder, StoreError> {
        let json = serde_json::to_string(value).map_err(|e| corrupt(key, e))?;
        self.put_text(key, &json)
    }

    // --- links -------------------------------------------------------------------------------

    pub async fn link(&self, slug: &Slug) -> Result<Option<Link>, StoreError> {
        let key = link_key(slug);
        self.get_json(&key).await
    }

    /// Writes a raw value under `link:<slug>`, bypassing the slug's object: only for the
    /// test-only adoption race (`reconcile::sweep`), which plays another writer.
    pub async fn put_raw_link(&self, slug: &Slug, value: &str) -> Result<(), StoreError> {
        self.put_text(&link_key(slug), value)?.execute().await?;
        Ok(())
    }

    /// The test-only adoption race, when a test armed it: `fault:adopt-race` holds a JSON
    /// object of slug → the value another writer puts under its key between the sweep's read
    /// and its adoption. One-shot: read, then removed, so the test need not write the store
    /// again. Absent or unreadable: no race.
    pub async fn adopt_race_fault(&self) -> Option<HashMap<String, String>> {
        let text = self.kv.get(ADOPT_RACE_FAULT_KEY).text().await.ok()??;
        if let Err(e) = self.kv.delete(ADOPT_RACE_FAULT_KEY).await {
            worker::console_error!("disarming {ADOPT_RACE_FAULT_KEY}: {e}");
        }
        serde_json::from_str(&text).ok()
    }

    /// Whether a test armed `fault` for `slug` (a read error counts as not armed).
    pub async fn fault_armed(&self, fault: Fault, slug: &Slug) -> bool {
        matches!(self.kv.get(&fault.key(slug)).text().await, Ok(Some(_)))
    }

    pub async fn link_exists(&self, slug: &Slug) -> Result<bool, StoreError> {
        Ok(self.kv.get(&link_key(slug)).text().await?.is_some())
    }

    /// Stores the link; `expiration` (Unix seconds) lets KV drop an expired link's key.
    pub async fn put_link(&self, link: &Link, expiration: Option<u64>) -> Result<(), StoreError> {
        let mut put = self
            .put_json(&link_key(&link.slug), link)?
            .metadata(link.meta())?;
        if let Some(at) = expiration {
            put = put.expiration(at);
        }
        put.execute().await?;
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

    /// The links of `slugs`, in their order, for a list or an export whose slugs, order and
    /// page the D1 index chose: `None` where KV no longer has the link (deleted while the
    /// index lags), cannot read it, or, with `owner`, now holds someone else's (the slug
    /// re-created by another user after its quarantine, the index not yet caught up).
    pub async fn links_in_order(
        &self,
        slugs: &[&str],
        owner: Option<&UserId>,
    ) -> Result<Vec<Option<Link>>, StoreError> {
        let parsed: Vec<Slug> = slugs.iter().filter_map(|s| Slug::parse(s).ok()).collect();
        let mut values = self.links_bulk(&parsed).await?;
        Ok(slugs
            .iter()
            .map(|s| {
                let link = values.remove(&Slug::parse(s).ok()?)?.ok()??;
                owner.is_none_or(|o| &link.owner == o).then_some(link)
            })
            .collect())
    }

    /// The raw value of `link:<slug>`, for callers that tell edgelink's links from Sink's
    /// (`exchange::sink::Stored`).
    pub async fn link_raw(&self, slug: &Slug) -> Result<Option<String>, StoreError> {
        Ok(self.kv.get(&link_key(slug)).text().await?)
    }

    /// [`Kv::link_raw`] of many slugs, in bulk reads of up to [`BULK_GET_MAX`].
    pub async fn links_raw_bulk(
        &self,
        slugs: &[Slug],
    ) -> Result<HashMap<Slug, Option<String>>, StoreError> {
        let mut out = HashMap::with_capacity(slugs.len());
        for chunk in slugs.chunks(BULK_GET_MAX) {
            let keys: Vec<String> = chunk.iter().map(link_key).collect();
            let mut values = self.kv.get_bulk(&keys).text().await?;
            for (slug, key) in chunk.iter().zip(&keys) {
                out.insert(slug.clone(), values.remove(key).flatten());
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

    /// Writes the user and claims its email.
    pub async fn put_user(&self, user: &User) -> Result<(), StoreError> {
        self.put_json(&format!("{USER_PREFIX}{}", user.id), user)?
            .execute()
            .await?;
        self.put_text(
            &format!("{EMAIL_PREFIX}{}", user.email.as_str()),
            user.id.as_str(),
        )?
        .execute()
        .await?;
        Ok(())
    }

    pub async fn api_key(&self, hash: &KeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        let key = format!("{API_KEY_PREFIX}{}", hash.as_str());
        self.get_json(&key).await
    }

    /// Stores a new key. The listing goes first: a key that authenticates is always one its
    /// owner can see and revoke.
    pub async fn put_api_key(&self, record: &ApiKeyRecord) -> Result<(), StoreError> {
        let listing = KeyListing {
            name: record.name.clone(),
            created_at: record.created_at,
            hash: record.hash.clone(),
        };
        self.put_text(&keys_key(&record.user_id, &record.id), "")?
            .metadata(listing)?
            .execute()
            .await?;
        self.put_json(&format!("{API_KEY_PREFIX}{}", record.hash.as_str()), record)?
            .execute()
            .await?;
        Ok(())
    }

    /// The user's keys, oldest first, with when each was last used.
    pub async fn user_keys(&self, user: &UserId) -> Result<Vec<KeySummary>, StoreError> {
        let prefix = format!("{KEYS_PREFIX}{user}:");
        let mut listed: Vec<(KeyId, KeyListing)> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut list = self.kv.list().prefix(prefix.clone());
            if let Some(c) = cursor.take() {
                list = list.cursor(c);
            }
            let page = list.execute().await?;
            for k in page.keys {
                let id = k.name.strip_prefix(&prefix).and_then(KeyId::parse);
                let meta = k.metadata.and_then(|m| serde_json::from_value(m).ok());
                if let (Some(id), Some(meta)) = (id, meta) {
                    listed.push((id, meta));
                }
            }
            match page.cursor.filter(|c| !c.is_empty() && !page.list_complete) {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let mut used = HashMap::new();
        for chunk in listed.chunks(BULK_GET_MAX) {
            let keys: Vec<String> = chunk
                .iter()
                .map(|(id, _)| format!("{KEY_USED_PREFIX}{id}"))
                .collect();
            used.extend(self.kv.get_bulk(&keys).text().await?);
        }
        listed.sort_unstable_by(|a, b| {
            (a.1.created_at, a.0.as_str()).cmp(&(b.1.created_at, b.0.as_str()))
        });
        Ok(listed
            .into_iter()
            .map(|(id, meta)| KeySummary {
                last_used_at: used
                    .get(&format!("{KEY_USED_PREFIX}{id}"))
                    .and_then(|v| v.as_deref())
                    .and_then(Timestamp::parse),
                id,
                name: meta.name,
                created_at: meta.created_at,
            })
            .collect())
    }

    /// The hash of one of the user's keys; `None` when the user has no such key.
    pub async fn user_key_hash(
        &self,
        user: &UserId,
        id: &KeyId,
    ) -> Result<Option<KeyHash>, StoreError> {
        let (value, meta) = self
            .kv
            .get(&keys_key(user, id))
            .text_with_metadata::<KeyListing>()
            .await?;
        Ok(value.and(meta).map(|m| m.hash))
    }

    /// Revokes a key: the credential goes first, so it stops working before anything else.
    pub async fn revoke_api_key(
        &self,
        user: &UserId,
        id: &KeyId,
        hash: &KeyHash,
    ) -> Result<(), StoreError> {
        self.kv
            .delete(&format!("{API_KEY_PREFIX}{}", hash.as_str()))
            .await?;
        self.kv.delete(&keys_key(user, id)).await?;
        self.kv.delete(&format!("{KEY_USED_PREFIX}{id}")).await?;
        Ok(())
    }

    // --- dashboard sessions ------------------------------------------------------------------

    /// The session stored under `hash` (the SHA-256 of its id).
    pub async fn session(&self, hash: &KeyHash) -> Result<Option<SessionRecord>, StoreError> {
        let key = format!("{SESSION_PREFIX}{}", hash.as_str());
        self.get_json(&key).await
    }

    /// Stores a session; KV drops it by itself when it expires.
    pub async fn put_session(
        &self,
        hash: &KeyHash,
        record: &SessionRecord,
    ) -> Result<(), StoreError> {
        self.put_json(&format!("{SESSION_PREFIX}{}", hash.as_str()), record)?
            .expiration(record.kv_expiration())
            .execute()
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, hash: &KeyHash) -> Result<(), StoreError> {
        self.kv
            .delete(&format!("{SESSION_PREFIX}{}", hash.as_str()))
            .await?;
        Ok(())
    }

    pub async fn record_key_use(&self, id: &KeyId, at: Timestamp) -> Result<(), StoreError> {
        self.put_text(&format!("{KEY_USED_PREFIX}{id}"), &at.to_rfc3339())?
            .execute()
            .await?;
        Ok(())
    }

    // --- the destination blocklist -------------------------------------------------------------

    pub async fn block_host(&self, host: &str) -> Result<(), StoreError> {
        self.put_text(&format!("{BLOCK_PREFIX}{host}"), "")?
            .execute()
            .await?;
        Ok(())
    }

    pub async fn unblock_host(&self, host: &str) -> Result<(), StoreError> {
        Ok(self.kv.delete(&format!("{BLOCK_PREFIX}{host}")).await?)
    }

    /// Every blocked host, in byte order.
    pub async fn blocked_hosts(&self) -> Result<Vec<String>, StoreError> {
        let mut hosts = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut list = self.kv.list().prefix(BLOCK_PREFIX.into());
            if let Some(c) = cursor.take() {
                list = list.cursor(c);
            }
            let page = list.execute().await?;
            hosts.extend(
                page.keys
                    .iter()
                    .filter_map(|k| k.name.strip_prefix(BLOCK_PREFIX).map(str::to_owned)),
            );
            match page.cursor.filter(|c| !c.is_empty() && !page.list_complete) {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(hosts)
    }

    /// Whether any of `hosts` is blocked: one bulk read per 100 hosts, however long the
    /// blocklist is.
    pub async fn any_blocked(&self, hosts: &[String]) -> Result<bool, StoreError> {
        // Every candidate, in bulk reads of at most 100 keys: a host of 127 labels is two
        // reads. Shortest first (the registered domain, the usual entry, is in the first
        // read), and a hit ends the check.
        let keys: Vec<String> = hosts
            .iter()
            .rev()
            .map(|h| format!("{BLOCK_PREFIX}{h}"))
            .collect();
        for chunk in keys.chunks(BULK_GET_MAX) {
            let found = self.kv.get_bulk(chunk).text().await?;
            if found.values().any(Option::is_some) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The blocked hosts among `hosts` (each checked once, [`BULK_GET_MAX`] a read): what an
    /// import checks a whole chunk's destinations against at once.
    pub async fn blocked_among(
        &self,
        hosts: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut blocked = std::collections::HashSet::new();
        for chunk in hosts.chunks(BULK_GET_MAX) {
            let keys: Vec<String> = chunk.iter().map(|h| format!("{BLOCK_PREFIX}{h}")).collect();
            let found = self.kv.get_bulk(&keys).text().await?;
            for (host, key) in chunk.iter().zip(&keys) {
                if matches!(found.get(key), Some(Some(_))) {
                    blocked.insert(host.clone());
                }
            }
        }
        Ok(blocked)
    }

    // --- import pages --------------------------------------------------------------------------

    pub async fn put_import_page(
        &self,
        id: &str,
        page: u64,
        rows: &[ImportRow],
    ) -> Result<(), StoreError> {
        self.put_json(&import_page_key(id, page), &rows)?
            .expiration_ttl(IMPORT_PAGE_TTL_SECS)
            .execute()
            .await?;
        Ok(())
    }

    /// A page's rows; `None` once it expired.
    pub async fn import_page(
        &self,
        id: &str,
        page: u64,
    ) -> Result<Option<Vec<ImportRow>>, StoreError> {
        self.get_json(&import_page_key(id, page)).await
    }

    // --- sync markers and the sweep checkpoint -------------------------------------------------

    /// Leaves a marker; `entry` is the failed write's history entry (when history is on).
    pub async fn mark_pending(
        &self,
        marker: &PendingMarker,
        entry: Option<&HistoryEntry>,
    ) -> Result<(), StoreError> {
        match entry {
            Some(e) => self.put_json(&marker.key, e)?,
            None => self.put_text(&marker.key, "")?,
        }
        .execute()
        .await?;
        Ok(())
    }

    /// The non-empty values of marker keys (a link marker's history entry), read in bulk.
    pub async fn marker_values(
        &self,
        keys: &[&str],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut out = HashMap::new();
        for chunk in keys.chunks(BULK_GET_MAX) {
            let values = self.kv.get_bulk(chunk).text().await?;
            out.extend(
                values
                    .into_iter()
                    .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v))),
            );
        }
        Ok(out)
    }

    /// Up to `limit` markers, soonest due first, with their retry metadata. Keys this version
    /// cannot parse are skipped.
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
            .into_iter()
            .filter_map(|k| {
                let mut marker = PendingMarker::parse(&k.name)?;
                marker.retry = retry_of(k.metadata);
                Some(marker)
            })
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

    /// Moves a marker whose repair failed to its next due time, with `retry` as metadata and
    /// its value kept. The new key goes first: a failure in between leaves two markers of one
    /// write, whose repairs are the same no-op, never none.
    pub async fn reschedule_pending(
        &self,
        marker: &PendingMarker,
        due_at: Timestamp,
        retry: &MarkerRetry,
        value: &str,
    ) -> Result<(), StoreError> {
        let key = marker_key(PENDING_PREFIX, due_at, marker.tail());
        self.put_text(&key, value)?
            .metadata(retry)?
            .execute()
            .await?;
        if key != marker.key {
            self.kv.delete(&marker.key).await?;
        }
        Ok(())
    }

    /// Parks a marker the cron has given up on, keeping its value and `retry`.
    pub async fn park_pending(
        &self,
        marker: &PendingMarker,
        at: Timestamp,
        retry: &MarkerRetry,
        value: &str,
    ) -> Result<(), StoreError> {
        let key = marker_key(PARKED_PREFIX, at, marker.tail());
        self.put_text(&key, value)?
            .metadata(retry)?
            .execute()
            .await?;
        Ok(self.kv.delete(&marker.key).await?)
    }

    /// Up to `limit` parked markers, oldest parked first; `true` when there are more.
    pub async fn parked(&self, limit: u64) -> Result<(Vec<ParkedMarker>, bool), StoreError> {
        let page = self
            .kv
            .list()
            .prefix(PARKED_PREFIX.into())
            .limit(limit)
            .execute()
            .await?;
        let more = !page.list_complete;
        let parked = page
            .keys
            .into_iter()
            .filter_map(|k| {
                let mut marker = ParkedMarker::parse(&k.name)?;
                marker.retry = retry_of(k.metadata);
                Some(marker)
            })
            .collect();
        Ok((parked, more))
    }

    /// Moves a parked marker back to pending, due at `at`, with its attempts reset.
    pub async fn unpark(
        &self,
        parked: &ParkedMarker,
        at: Timestamp,
        value: &str,
    ) -> Result<(), StoreError> {
        let key = marker_key(PENDING_PREFIX, at, parked.tail());
        self.put_text(&key, value)?.execute().await?;
        Ok(self.kv.delete(&parked.key).await?)
    }

    pub async fn clear_pending(&self, marker: &PendingMarker) -> Result<(), StoreError> {
        Ok(self.kv.delete(&marker.key).await?)
    }

    pub async fn sweep_checkpoint(&self) -> Result<Option<SweepCheckpoint>, StoreError> {
        self.get_json(SWEEP_CHECKPOINT_KEY).await
    }

    pub async fn save_sweep_checkpoint(&self, c: &SweepCheckpoint) -> Result<(), StoreError> {
        self.put_json(SWEEP_CHECKPOINT_KEY, c)?.execute().await?;
        Ok(())
    }

    pub async fn last_sweep(&self) -> Result<Option<SweepCheckpoint>, StoreError> {
        self.get_json(SWEEP_LAST_KEY).await
    }

    /// Ends a sweep: the checkpoint goes, its totals stay as the last finished sweep.
    pub async fn finish_sweep(&self, done: &SweepCheckpoint) -> Result<(), StoreError> {
        self.put_json(SWEEP_LAST_KEY, done)?.execute().await?;
        Ok(self.kv.delete(SWEEP_CHECKPOINT_KEY).await?)
    }
}

/// A marker's retry metadata; none (or unreadable) is a marker never tried.
fn retry_of(metadata: Option<serde_json::Value>) -> MarkerRetry {
    metadata
        .and_then(|m| serde_json::from_value(m).ok())
        .unwrap_or_default()
}

/// A dead-lettered click as kept: its queue message id and the message body (a click's JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadClick {
    pub id: String,
    pub body: String,
}

impl Kv {
    // --- dead-lettered clicks -------------------------------------------------------------------

    /// Keeps a dead-lettered click. Idempotent: a redelivered message rewrites its own key.
    pub async fn keep_dead_click(&self, click: &DeadClick) -> Result<(), StoreError> {
        self.put_text(&format!("{DEAD_CLICK_PREFIX}{}", click.id), &click.body)?
            .execute()
            .await?;
        Ok(())
    }

    /// How many dead-lettered clicks wait (one KV list page, ≤ 1000), and whether more do.
    pub async fn dead_click_count(&self) -> Result<(u64, bool), StoreError> {
        let page = self
            .kv
            .list()
            .prefix(DEAD_CLICK_PREFIX.into())
            .execute()
            .await?;
        Ok((page.keys.len() as u64, !page.list_complete))
    }

    /// Up to `limit` (≤ 1000) dead-lettered clicks, oldest key first, read in bulk; and
    /// whether more wait. A key whose value is gone by the time it is read is left out.
    pub async fn dead_clicks(&self, limit: u64) -> Result<(Vec<DeadClick>, bool), StoreError> {
        let page = self
            .kv
            .list()
            .prefix(DEAD_CLICK_PREFIX.into())
            .limit(limit)
            .execute()
            .await?;
        let mut out = Vec::new();
        let names: Vec<String> = page.keys.into_iter().map(|k| k.name).collect();
        for chunk in names.chunks(BULK_GET_MAX) {
            let mut values = self.kv.get_bulk(chunk).text().await?;
            for name in chunk {
                if let (Some(id), Some(Some(body))) =
                    (name.strip_prefix(DEAD_CLICK_PREFIX), values.remove(name))
                {
                    out.push(DeadClick {
                        id: id.to_owned(),
                        body,
                    });
                }
            }
        }
        Ok((out, !page.list_complete))
    }

    pub async fn forget_dead_click(&self, id: &str) -> Result<(), StoreError> {
        Ok(self.kv.delete(&format!("{DEAD_CLICK_PREFIX}{id}")).await?)
    }

    // --- the daily visitor-id salt ------------------------------------------------------------

    /// The salt kept for `day` (`YYYY-MM-DD`), if KV has it (here).
    pub async fn day_salt(&self, day: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .kv
            .get(&format!("{DAY_SALT_PREFIX}{day}"))
            .text()
            .await?)
    }

    /// Stores the salt of `day`, gone from KV at `expires_at` (seconds since the epoch).
    pub async fn put_day_salt_until(
        &self,
        day: &str,
        salt: &str,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        self.put_text(&format!("{DAY_SALT_PREFIX}{day}"), salt)?
            .expiration(expires_at)
            .execute()
            .await?;
        Ok(())
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
            Some(Version::new(999)),
            Timestamp::from_millis(999),
        );
        let new = PendingMarker::new(
            PendingTarget::Link(slug.clone()),
            Some(Version::new(1_700_000_000_000)),
            Timestamp::from_millis(1_700_000_000_000),
        );
        assert!(old.key < new.key);
        assert!(old.key.ends_with(":link:abc:999"));
        assert_eq!(PendingMarker::parse(&old.key), Some(old));
        // Two failed writes in one millisecond keep two markers.
        let same_ms = PendingMarker::new(
            PendingTarget::Link(slug.clone()),
            Some(Version::new(1_700_000_000_001)),
            Timestamp::from_millis(1_700_000_000_000),
        );
        assert_ne!(same_ms.key, new.key);
        // Markers written before versions were in the key still parse.
        let legacy = format!("{PENDING_PREFIX}0000000000005:link:abc");
        assert_eq!(
            PendingMarker::parse(&legacy).map(|m| m.target),
            Some(PendingTarget::Link(slug))
        );
        let user = PendingMarker::new(
            PendingTarget::User(UserId::from_random("x1")),
            None,
            Timestamp::from_millis(5),
        );
        assert_eq!(PendingMarker::parse(&user.key), Some(user));
    }

    #[test]
    fn markers_keep_what_they_repair_when_rescheduled_and_parked() {
        let m = PendingMarker::new(
            PendingTarget::Link(Slug::parse("abc").unwrap()),
            Some(Version::new(7)),
            Timestamp::from_millis(5),
        );
        assert_eq!(m.due_at, Timestamp::from_millis(5));
        assert_eq!(m.tail(), "link:abc:7");
        let later = marker_key(PENDING_PREFIX, Timestamp::from_millis(9_000), m.tail());
        assert_eq!(later, "sync:pending:0000000009000:link:abc:7");
        assert_eq!(
            PendingMarker::parse(&later).map(|p| (p.target, p.due_at)),
            Some((m.target.clone(), Timestamp::from_millis(9_000)))
        );
        let parked_key = marker_key(PARKED_PREFIX, Timestamp::from_millis(42), m.tail());
        let parked = ParkedMarker::parse(&parked_key).unwrap();
        assert_eq!(parked.target, m.target);
        assert_eq!(parked.parked_at, Timestamp::from_millis(42));
        assert_eq!(parked.tail(), "link:abc:7");
        assert_eq!(PendingMarker::parse(&parked_key), None);
        let user = ParkedMarker::parse("sync:parked:0000000000042:user:u_x1").unwrap();
        assert_eq!(user.target, PendingTarget::User(UserId::from_random("x1")));
    }

    #[test]
    fn marker_retry_metadata_defaults_when_absent_or_unreadable() {
        assert_eq!(retry_of(None), MarkerRetry::default());
        assert_eq!(
            retry_of(Some(serde_json::json!("junk"))),
            MarkerRetry::default()
        );
        assert_eq!(
            retry_of(Some(
                serde_json::json!({"attempts": 2, "error": "D1: boom"})
            )),
            MarkerRetry {
                attempts: 2,
                error: Some("D1: boom".into())
            }
        );
    }

    #[test]
    fn unknown_pending_keys_are_ignored() {
        assert_eq!(PendingMarker::parse("sync:pending:1:thing:x"), None);
        assert_eq!(PendingMarker::parse("sync:pending:1:link:a b"), None);
        assert_eq!(PendingMarker::parse("sync:pending:1:link:abc:x"), None);
        assert_eq!(PendingMarker::parse("link:abc"), None);
    }
}
