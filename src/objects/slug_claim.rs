//! The per-slug Durable Object (binding `SLUG_CLAIMS`, class `SlugClaim`) that every link write
//! goes through; the Worker's client for it is `store::claims::Claims`.
//!
//! The object keeps one [`ClaimRecord`] (the claim and the link as last written to KV) and
//! applies [`claim::decide`] to each [`SlugRequest`], inside `blockConcurrencyWhile`: no other
//! request for the slug runs in between, from any location. On first contact with a slug whose
//! record does not hold the link (no record yet, or one from before records kept links), the
//! KV value is the current state: edgelink's link, or a Sink link ([`claim::decide_found`]
//! adopts it on the reconciler's `Adopt`, if KV still holds the value the reconciler saw).
//!
//! A 2xx answer means KV has the change; a 5xx answer means nothing changed. The steps of a
//! write, in this order, make that hold whichever step fails:
//! 1. store the decided record under `pending`, with what KV will hold once the write landed.
//!    Failing here: nothing changed (5xx).
//! 2. write KV. Failing here: remove `pending` (5xx; the record, KV and D1 are as before).
//! 3. store the record under `claim` and remove `pending`. KV has the change: the answer is
//!    2xx even if this step fails.
//!
//! A `pending` entry left behind (step 2's clean-up or step 3 failed, or the object was
//! evicted between steps) is settled at the start of the next request by reading KV: if KV
//! holds the pending version (or, for a delete, no value), the pending record is committed;
//! otherwise it is dropped.
//!
//! Test-only fault switch: with the var `FAULT_INJECTION = "on"` (never in the shipped
//! wrangler.toml), a KV key `fault:kv-write:<slug>` makes step 2 fail and
//! `fault:record-commit:<slug>` skips step 3, so the suites can prove the above for real.
//!
//! The same object counts the clicks of a link with `max_clicks` (`/click`): one
//! [`ClickCount`] per life of the slug, taken one at a time, so a limit is exact under any
//! concurrency. Only limited links pay this round trip.

use worker::{
    console_error, durable_object, DurableObject, Env, Request, Response, State, Storage,
};

use serde::{Deserialize, Serialize};

use super::one_at_a_time;
use crate::app::{config, kv, now};
use crate::claim::{self, ClaimRecord, Decision, Found, SlugRequest, SlugResponse};
use crate::exchange::sink::Stored;
use crate::lifecycle::{kv_expiration_secs, take_click, ClickCount};
use crate::link::{Link, Slug, Version};
use crate::store::claims::{ClickAnswer, ClickRequest};
use crate::store::kv::{Fault, Kv};
use crate::store::StoreError;
use crate::time::Timestamp;

const RECORD_KEY: &str = "claim";
const PENDING_KEY: &str = "pending";
const CLICKS_KEY: &str = "clicks";

/// A write whose KV step may or may not have landed: the record to commit once it did, and
/// the version KV then holds (`None`: the link is deleted).
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    record: ClaimRecord,
    kv_version: Option<Version>,
}

impl Pending {
    /// Whether KV's current value shows that the write landed.
    fn landed(&self, in_kv: Option<&Link>) -> bool {
        in_kv.map(|l| l.version) == self.kv_version
    }
}

#[durable_object]
pub struct SlugClaim {
    state: State,
    env: Env,
}

impl DurableObject for SlugClaim {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        let storage = self.state.storage();
        if req.path() == "/click" {
            return one_at_a_time(&self.state, req, "click count", |r| take(storage, r)).await;
        }
        let env = self.env.clone();
        one_at_a_time(
            &self.state,
            req,
            "slug write",
            |request: SlugRequest| async move { apply(&storage, &env, &request).await },
        )
        .await
    }
}

/// Takes one click of at most `limit` for the link's life (or, without `take`, says whether
/// one is left). An unreadable count refuses the click (500 → the redirect answers 503): a
/// limit must never be exceeded, so failures close rather than open.
async fn take(storage: Storage, request: ClickRequest) -> Result<ClickAnswer, StoreError> {
    let ClickRequest { life, limit, take } = request;
    let current = storage
        .get::<ClickCount>(CLICKS_KEY)
        .await
        .map_err(record_err)?;
    let granted = match take_click(current.as_ref(), &life, limit) {
        Some(next) if take => storage.put(CLICKS_KEY, next).await.map(|_| true),
        Some(_) => Ok(true),
        None => Ok(false),
    }
    .map_err(record_err)?;
    Ok(ClickAnswer { granted })
}

/// Settles a pending write, decides the request, and performs the decision's effects in the
/// order the module doc gives.
async fn apply(
    storage: &Storage,
    env: &Env,
    request: &SlugRequest,
) -> Result<SlugResponse, StoreError> {
    let kv = kv(env)?;
    let config = config(env);
    let slug = &request.slug;
    let record = settled_record(storage, &kv, slug).await?;
    let at = now();
    let decision = match &record {
        Some(r) if r.knows_link() => claim::decide(
            record.as_ref(),
            r.link.as_ref(),
            request,
            at,
            config.slug_quarantine_millis,
        ),
        _ => {
            let raw = kv.link_raw(slug).await?;
            let stored = raw.as_deref().map(Stored::classify);
            let found = match (&raw, &stored) {
                (_, None) => Found::Nothing,
                (_, Some(Stored::Edgelink(link))) => Found::Link(link),
                (Some(raw), Some(Stored::Sink(sink))) => Found::Sink { raw, sink },
                // Neither edgelink's nor Sink's: as unreadable as before Sink values existed.
                _ => return Err(not_a_link(slug)),
            };
            claim::decide_found(
                record.as_ref(),
                found,
                request,
                at,
                config.slug_quarantine_millis,
                config.adopt_owner.as_ref(),
            )
        }
    };
    let answer = decision.answer();
    let faults = config.fault_injection;
    match decision {
        Decision::Answer(answer) => return Ok(answer),
        Decision::Record { record, .. } => {
            storage.put(RECORD_KEY, record).await.map_err(record_err)?;
            return Ok(answer);
        }
        Decision::Put { link, mut record } => {
            let expiration = link
                .expires_at
                .and_then(|at| kv_expiration_secs(at, config.expired_grace_millis, now()));
            record.dropped_at = expiration.map(|secs| Timestamp::from_millis(secs * 1000));
            let pending = Pending {
                kv_version: Some(link.version),
                record,
            };
            let write = kv.put_link(&link, expiration);
            write_through(storage, &kv, faults, slug, pending, write).await?;
        }
        Decision::Remove { record, .. } => {
            let pending = Pending {
                kv_version: None,
                record,
            };
            let delete = kv.delete_link(slug);
            write_through(storage, &kv, faults, slug, pending, delete).await?;
        }
    }
    Ok(answer)
}

/// Steps 1 to 3 of the module doc around `kv_step`, the KV write or delete (a future does
/// nothing until awaited, so it starts only after step 1).
async fn write_through(
    storage: &Storage,
    kv: &Kv,
    faults: bool,
    slug: &Slug,
    pending: Pending,
    kv_step: impl std::future::Future<Output = Result<(), StoreError>>,
) -> Result<(), StoreError> {
    storage
        .put(PENDING_KEY, &pending)
        .await
        .map_err(record_err)?;
    let written = match injected(faults, kv, Fault::KvWrite, slug).await {
        Err(e) => Err(e),
        Ok(()) => kv_step.await,
    };
    abandon_on_failure(storage, written).await?;
    commit(storage, kv, faults, slug, pending.record).await;
    Ok(())
}

/// The stored record, after settling a write left pending by an earlier request.
async fn settled_record(
    storage: &Storage,
    kv: &Kv,
    slug: &Slug,
) -> Result<Option<ClaimRecord>, StoreError> {
    let record: Option<ClaimRecord> = storage.get(RECORD_KEY).await.map_err(record_err)?;
    let Some(pending) = storage
        .get::<Pending>(PENDING_KEY)
        .await
        .map_err(record_err)?
    else {
        return Ok(record);
    };
    // A Sink value still there (an adoption or a first write whose KV step did not land) is
    // not the pending link.
    let landed = match kv.link_raw(slug).await?.as_deref().map(Stored::classify) {
        Some(Stored::Edgelink(link)) => pending.landed(Some(&link)),
        None => pending.landed(None),
        Some(Stored::Sink(_)) => false,
        Some(Stored::Unknown) => return Err(not_a_link(slug)),
    };
    if landed {
        storage
            .put(RECORD_KEY, &pending.record)
            .await
            .map_err(record_err)?;
        storage.delete(PENDING_KEY).await.map_err(record_err)?;
        return Ok(Some(pending.record));
    }
    storage.delete(PENDING_KEY).await.map_err(record_err)?;
    Ok(record)
}

/// After a failed KV step: forgets the pending write (best effort: if this fails too, the
/// next request finds KV without the pending version and drops it) and fails the request.
async fn abandon_on_failure(
    storage: &Storage,
    kv_step: Result<(), StoreError>,
) -> Result<(), StoreError> {
    let Err(e) = kv_step else {
        return Ok(());
    };
    if let Err(cleanup) = storage.delete(PENDING_KEY).await {
        console_error!("slug write: dropping the pending record failed: {cleanup}");
    }
    Err(e)
}

/// Step 3: the record of a write KV has. A failure here is logged, not answered: the next
/// request settles the pending entry from KV.
async fn commit(storage: &Storage, kv: &Kv, faults: bool, slug: &Slug, record: ClaimRecord) {
    if faults && kv.fault_armed(Fault::RecordCommit, slug).await {
        console_error!("slug write {slug}: record commit skipped (injected fault)");
        return;
    }
    let stored = match storage.put(RECORD_KEY, record).await {
        Ok(()) => storage.delete(PENDING_KEY).await.map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(e) = stored {
        console_error!("slug write {slug}: committing the record failed, settled later: {e}");
    }
}

/// The test-only fault at `point`, when fault injection is on and the test armed it.
async fn injected(faults: bool, kv: &Kv, point: Fault, slug: &Slug) -> Result<(), StoreError> {
    if faults && kv.fault_armed(point, slug).await {
        return Err(StoreError::Kv(format!(
            "injected fault {point:?} for {slug}"
        )));
    }
    Ok(())
}

fn not_a_link(slug: &Slug) -> StoreError {
    StoreError::Corrupt {
        key: format!("link:{slug}"),
        reason: "neither an edgelink nor a Sink link".into(),
    }
}

fn record_err(e: worker::Error) -> StoreError {
    StoreError::Claim(format!("claim record: {e}"))
}
