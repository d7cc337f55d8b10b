//! The background half of every write: bring the D1 index (and the change log, when `HISTORY`
//! is on) up to a change that KV already has. Runs inside `wait_until`, after the response.
//! When D1 fails, a pending marker goes to KV, carrying the write's history entry, and the
//! frequent cron pass repairs the index row from KV and writes the entry within minutes; the
//! caller never sees it.

use worker::console_error;

use crate::account::{User, UserId};
use crate::app::App;
use crate::history::{HistoryEntry, HistoryOp};
use crate::link::{Link, Version};
use crate::store::kv::{PendingMarker, PendingTarget};
use crate::store::StoreError;
use crate::time::Timestamp;

/// A change KV has taken that D1 has not.
#[derive(Debug)]
pub enum IndexChange {
    /// A link was created or updated (by its owner or an admin: `actor`).
    Upsert {
        link: Link,
        op: HistoryOp,
        actor: UserId,
    },
    /// A link was deleted at `version`; `last` is how it was.
    Delete {
        last: Link,
        version: Version,
        actor: UserId,
    },
    User(User),
}

impl IndexChange {
    pub fn created(link: Link, actor: &UserId) -> Self {
        IndexChange::Upsert {
            link,
            op: HistoryOp::Create,
            actor: actor.clone(),
        }
    }

    pub fn updated(link: Link, actor: &UserId) -> Self {
        IndexChange::Upsert {
            link,
            op: HistoryOp::Update,
            actor: actor.clone(),
        }
    }

    fn version(&self) -> Option<Version> {
        match self {
            IndexChange::Upsert { link, .. } => Some(link.version),
            IndexChange::Delete { version, .. } => Some(*version),
            IndexChange::User(_) => None,
        }
    }

    fn pending_target(&self) -> PendingTarget {
        match self {
            IndexChange::Upsert { link, .. } => PendingTarget::Link(link.slug.clone()),
            IndexChange::Delete { last, .. } => PendingTarget::Link(last.slug.clone()),
            IndexChange::User(user) => PendingTarget::User(user.id.clone()),
        }
    }

    /// The change-log entry of a link change.
    pub fn history_entry(&self) -> Option<HistoryEntry> {
        match self {
            IndexChange::Upsert { link, op, actor } => {
                Some(HistoryEntry::written(link, *op, actor))
            }
            IndexChange::Delete {
                last,
                version,
                actor,
                // A delete's version is its time in ms (or just after the previous version).
            } => Some(HistoryEntry::deleted(
                last,
                *version,
                actor,
                Timestamp::from_millis(version.get()),
            )),
            IndexChange::User(_) => None,
        }
    }
}

/// Applies `change` to D1; on failure leaves a pending marker in KV. Never fails: it has no
/// caller left to fail to.
pub async fn apply(app: App, change: IndexChange) {
    let entry = if app.config.history {
        change.history_entry()
    } else {
        None
    };
    let Err(e) = write_index(&app, &change, entry.as_ref()).await else {
        return;
    };
    let marker = PendingMarker::new(change.pending_target(), change.version(), app.now());
    console_error!("index write failed, marking pending {}: {e}", marker.key);
    if let Err(e) = app.kv.mark_pending(&marker, entry.as_ref()).await {
        // The nightly sweep still finds the index drift; this version's history row is lost.
        console_error!("could not record pending marker {}: {e}", marker.key);
    }
}

/// Applies the upserts among `changes` to D1 in one batch (a bulk create's or an import chunk's links, their tag
/// rows and history entries: both land or neither); if that batch fails, each change goes
/// through [`apply`] on its own, so a failed one leaves its own pending marker. Never fails.
pub async fn apply_all(app: App, changes: Vec<IndexChange>) {
    let mut links = Vec::with_capacity(changes.len());
    let mut history = Vec::new();
    for change in &changes {
        match change {
            IndexChange::Upsert { link, .. } => links.push(link.clone()),
            // Only creates come here today; anything else takes the one-by-one path.
            _ => return apply_each(app, changes).await,
        }
        if app.config.history {
            history.extend(change.history_entry());
        }
    }
    if links.is_empty() {
        return;
    }
    match app.index.record(&links, None, &history).await {
        Ok(()) => {}
        Err(e) => {
            console_error!(
                "batched index write of {} links failed, one by one: {e}",
                links.len()
            );
            apply_each(app, changes).await;
        }
    }
}

async fn apply_each(app: App, changes: Vec<IndexChange>) {
    for change in changes {
        apply(app.clone(), change).await;
    }
}

async fn write_index(
    app: &App,
    change: &IndexChange,
    entry: Option<&HistoryEntry>,
) -> Result<(), StoreError> {
    let index = &app.index;
    let history = entry.map(std::slice::from_ref).unwrap_or_default();
    match change {
        IndexChange::Upsert { link, .. } => {
            index
                .record(std::slice::from_ref(link), None, history)
                .await
        }
        IndexChange::Delete { last, version, .. } => {
            index
                .record(&[], Some((&last.slug, *version)), history)
                .await
        }
        IndexChange::User(user) => index.upsert_user(user).await,
    }
}
