//! The background half of every write: bring the D1 index up to a change that KV already has.
//! Runs inside `wait_until`, after the response. When D1 fails, a pending marker goes to KV and
//! the frequent cron pass repairs the entry from KV within minutes; the caller never sees it.

use worker::{console_error, Env};

use crate::account::User;
use crate::link::{Link, Slug, Version};
use crate::platform::{index, kv, now};
use crate::store::kv::{Kv, PendingMarker, PendingTarget};
use crate::store::StoreError;

/// A change KV has taken that D1 has not.
#[derive(Debug)]
pub enum IndexChange {
    Upsert(Link),
    Delete { slug: Slug, version: Version },
    User(User),
}

impl IndexChange {
    fn pending_target(&self) -> PendingTarget {
        match self {
            IndexChange::Upsert(link) => PendingTarget::Link(link.slug.clone()),
            IndexChange::Delete { slug, .. } => PendingTarget::Link(slug.clone()),
            IndexChange::User(user) => PendingTarget::User(user.id.clone()),
        }
    }
}

/// Applies `change` to D1; on failure leaves a pending marker in KV. Never fails: it has no
/// caller left to fail to.
pub async fn apply(env: Env, change: IndexChange) {
    let Err(e) = write_index(&env, &change).await else {
        return;
    };
    console_error!("index write failed, marking pending: {change:?}: {e}");
    let marker = PendingMarker::new(change.pending_target(), now());
    if let Err(e) = mark(&env, &marker).await {
        // The nightly sweep still finds this drift; nothing is lost, only delayed.
        console_error!("could not record pending marker {}: {e}", marker.key);
    }
}

async fn write_index(env: &Env, change: &IndexChange) -> Result<(), StoreError> {
    let index = index(env)?;
    match change {
        IndexChange::Upsert(link) => index.upsert_links(std::slice::from_ref(link)).await,
        IndexChange::Delete { slug, version } => index.delete_link(slug, *version).await,
        IndexChange::User(user) => index.upsert_user(user).await,
    }
}

async fn mark(env: &Env, marker: &PendingMarker) -> Result<(), StoreError> {
    let kv: Kv = kv(env)?;
    kv.mark_pending(marker).await
}
