//! Slug claims: who holds a slug, decided atomically in one place per slug.
//!
//! KV has no compare-and-set and is only eventually consistent between locations, so "read, then
//! write if absent" would let two creates of one slug both win. Every create, custom or
//! generated, first claims its slug from the slug's Durable Object (`store::claims`), which
//! runs [`decide`] on its own stored [`ClaimRecord`] one request at a time.
//!
//! Deleted slugs: the claim is kept as released. The previous owner may claim it again at once
//! (undoing a mistaken delete); anyone else only after a quarantine (`SLUG_QUARANTINE_DAYS`,
//! default 30), so old printed links do not silently start pointing at a stranger's page.
//!
//! Pure: the Durable Object passes in its record and the time.

use serde::{Deserialize, Serialize};

use crate::account::UserId;
use crate::time::Timestamp;

pub const DEFAULT_QUARANTINE_DAYS: u64 = 30;
pub const DAY_MILLIS: u64 = 24 * 60 * 60 * 1000;

/// What a slug's Durable Object stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub owner: UserId,
    /// Set when the link was deleted.
    pub released_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum ClaimRequest {
    /// Take the slug for `owner`.
    Claim { owner: UserId },
    /// The link of `owner` under this slug was deleted (or its create failed after the claim).
    Release { owner: UserId },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimOutcome {
    Granted,
    Taken,
    Released,
    NotHeld,
}

/// Decides a request against the stored record. Returns the outcome and, when the record
/// changes, the record to store.
pub fn decide(
    existing: Option<&ClaimRecord>,
    request: &ClaimRequest,
    now: Timestamp,
    quarantine_millis: u64,
) -> (ClaimOutcome, Option<ClaimRecord>) {
    match request {
        ClaimRequest::Claim { owner } => {
            let free = match existing {
                None => true,
                Some(ClaimRecord {
                    released_at: None, ..
                }) => false,
                Some(ClaimRecord {
                    owner: previous,
                    released_at: Some(at),
                }) => {
                    previous == owner
                        || now.as_millis() >= at.as_millis().saturating_add(quarantine_millis)
                }
            };
            if free {
                let record = ClaimRecord {
                    owner: owner.clone(),
                    released_at: None,
                };
                (ClaimOutcome::Granted, Some(record))
            } else {
                (ClaimOutcome::Taken, None)
            }
        }
        ClaimRequest::Release { owner } => match existing {
            // Links created before claims existed have no record: start the quarantine anyway.
            None => (
                ClaimOutcome::Released,
                Some(ClaimRecord {
                    owner: owner.clone(),
                    released_at: Some(now),
                }),
            ),
            Some(r) if &r.owner == owner && r.released_at.is_none() => (
                ClaimOutcome::Released,
                Some(ClaimRecord {
                    owner: owner.clone(),
                    released_at: Some(now),
                }),
            ),
            Some(_) => (ClaimOutcome::NotHeld, None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: u64 = 30 * DAY_MILLIS;

    fn ada() -> UserId {
        UserId::from_random("ada")
    }
    fn bob() -> UserId {
        UserId::from_random("bob")
    }
    fn t(ms: u64) -> Timestamp {
        Timestamp::from_millis(ms)
    }
    fn claim(o: UserId) -> ClaimRequest {
        ClaimRequest::Claim { owner: o }
    }
    fn release(o: UserId) -> ClaimRequest {
        ClaimRequest::Release { owner: o }
    }

    #[test]
    fn first_claim_wins_and_every_later_one_is_refused() {
        let (outcome, record) = decide(None, &claim(ada()), t(1), Q);
        assert_eq!(outcome, ClaimOutcome::Granted);
        let record = record.unwrap();
        for who in [ada(), bob()] {
            assert_eq!(
                decide(Some(&record), &claim(who), t(2), Q),
                (ClaimOutcome::Taken, None)
            );
        }
    }

    #[test]
    fn the_owner_may_reclaim_a_deleted_slug_at_once() {
        let held = decide(None, &claim(ada()), t(1), Q).1.unwrap();
        let (outcome, released) = decide(Some(&held), &release(ada()), t(5), Q);
        assert_eq!(outcome, ClaimOutcome::Released);
        let released = released.unwrap();
        assert_eq!(released.released_at, Some(t(5)));
        assert_eq!(
            decide(Some(&released), &claim(ada()), t(6), Q).0,
            ClaimOutcome::Granted
        );
    }

    #[test]
    fn others_wait_out_the_quarantine() {
        let released = ClaimRecord {
            owner: ada(),
            released_at: Some(t(1_000)),
        };
        assert_eq!(
            decide(Some(&released), &claim(bob()), t(1_000 + Q - 1), Q).0,
            ClaimOutcome::Taken
        );
        let (outcome, record) = decide(Some(&released), &claim(bob()), t(1_000 + Q), Q);
        assert_eq!(outcome, ClaimOutcome::Granted);
        assert_eq!(record.unwrap().owner, bob());
        // A quarantine of zero frees deleted slugs at once.
        assert_eq!(
            decide(Some(&released), &claim(bob()), t(1_000), 0).0,
            ClaimOutcome::Granted
        );
    }

    #[test]
    fn only_the_holder_releases() {
        let held = decide(None, &claim(ada()), t(1), Q).1.unwrap();
        assert_eq!(
            decide(Some(&held), &release(bob()), t(2), Q),
            (ClaimOutcome::NotHeld, None)
        );
    }

    #[test]
    fn releasing_an_unclaimed_legacy_slug_starts_the_quarantine() {
        let (outcome, record) = decide(None, &release(ada()), t(7), Q);
        assert_eq!(outcome, ClaimOutcome::Released);
        assert_eq!(record.unwrap().released_at, Some(t(7)));
    }

    #[test]
    fn requests_travel_as_tagged_json() {
        let json = serde_json::to_string(&claim(ada())).unwrap();
        assert_eq!(json, r#"{"op":"claim","owner":"u_ada"}"#);
        assert_eq!(
            serde_json::from_str::<ClaimRequest>(&json).unwrap(),
            claim(ada())
        );
    }
}
