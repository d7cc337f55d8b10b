//! One writer per slug: who holds a slug, and the order of its writes, decided in one place.
//!
//! KV has no compare-and-set and is only eventually consistent between locations, so "read,
//! then write if absent" would let two creates of one slug both win, and two concurrent updates
//! could reach KV in the opposite order of their versions. Every write of a link (create,
//! update, flag, delete) therefore goes through the slug's Durable Object
//! (`store::claims`), which applies [`decide`] to its stored [`ClaimRecord`] and performs the
//! KV write before it takes the next request. So: of two concurrent creates exactly one wins;
//! every write gets a version no other write of the slug has; and KV receives a slug's writes
//! in version order, so the newest answered write is what KV holds.
//!
//! Deleted slugs: the claim is kept as released. The previous owner may claim it again at once
//! (undoing a mistaken delete); anyone else only after a quarantine (`SLUG_QUARANTINE_DAYS`,
//! default 30), so old printed links do not silently start pointing at a stranger's page.
//!
//! Pure: the Durable Object passes in its record and the time.

use serde::{Deserialize, Serialize};

use crate::account::UserId;
use crate::link::{Link, Slug, Version};
use crate::time::Timestamp;

pub const DEFAULT_QUARANTINE_DAYS: u64 = 30;
pub const DAY_MILLIS: u64 = 24 * 60 * 60 * 1000;

/// What a slug's Durable Object stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub owner: UserId,
    /// Set when the link was deleted.
    pub released_at: Option<Timestamp>,
    /// The last version issued for this slug.
    #[serde(default)]
    pub version: Version,
    /// When KV drops the key of the stored link, which expires: from then on the slug counts
    /// as released at that instant (set by the Durable Object, which knows the grace period).
    #[serde(default)]
    pub dropped_at: Option<Timestamp>,
}

impl ClaimRecord {
    /// When the slug was let go: deleted, or its expired link dropped from KV by `now`.
    pub fn released(&self, now: Timestamp) -> Option<Timestamp> {
        self.released_at
            .or(self.dropped_at.filter(|dropped| *dropped <= now))
    }
}

/// A write of one slug, sent to its Durable Object. Externally tagged (`{"create":{…}}`), as
/// is the answer: an internally tagged enum makes serde buffer the whole message in its
/// `Content` tree before it reads the tag, which costs time and wasm size on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlugRequest {
    /// Claim the slug for `link.owner` and store the link.
    Create { link: Link },
    /// Store a new state of the link; only while its owner holds the slug.
    Write { link: Link },
    /// Delete the link of `owner` and release the slug.
    Delete { slug: Slug, owner: UserId },
}

/// What the Durable Object answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlugResponse {
    /// The link as stored in KV, with its final version.
    Written { link: Link },
    /// Deleted from KV; the D1 delete carries this version.
    Deleted { version: Version },
    /// Someone else holds the slug (or its quarantine has not passed).
    Taken,
    /// The link is not (or no longer) the writer's: deleted meanwhile, or another owner's.
    NotHeld,
}

impl SlugResponse {
    /// The answer's kind, for logs: an unexpected answer is logged by name, not dumped (the
    /// `Debug` of a whole link costs wasm size and puts link contents in logs).
    pub fn outcome(&self) -> &'static str {
        match self {
            SlugResponse::Written { .. } => "written",
            SlugResponse::Deleted { .. } => "deleted",
            SlugResponse::Taken => "taken",
            SlugResponse::NotHeld => "not held",
        }
    }
}

/// What the Durable Object must do, in order: the KV effect, then store the record.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Put {
        link: Link,
        record: ClaimRecord,
    },
    Remove {
        slug: Slug,
        version: Version,
        record: ClaimRecord,
    },
    Refuse(SlugResponse),
}

/// Decides a write against the stored record.
pub fn decide(
    existing: Option<&ClaimRecord>,
    request: &SlugRequest,
    now: Timestamp,
    quarantine_millis: u64,
) -> Decision {
    let last = existing.map(|r| r.version);
    match request {
        SlugRequest::Create { link } => {
            let free = match existing {
                None => true,
                Some(record) => match record.released(now) {
                    None => false,
                    Some(at) => {
                        record.owner == link.owner
                            || now.as_millis() >= at.as_millis().saturating_add(quarantine_millis)
                    }
                },
            };
            if !free {
                return Decision::Refuse(SlugResponse::Taken);
            }
            put(link, last, now)
        }
        SlugRequest::Write { link } => match existing {
            // A link from before claims existed: its first write takes the claim.
            None => put(link, last, now),
            Some(r) if r.released_at.is_none() && r.owner == link.owner => put(link, last, now),
            Some(_) => Decision::Refuse(SlugResponse::NotHeld),
        },
        SlugRequest::Delete { slug, owner } => match existing {
            Some(r) if r.released_at.is_some() || &r.owner != owner => {
                Decision::Refuse(SlugResponse::NotHeld)
            }
            _ => {
                let version = Version::next(last, now);
                Decision::Remove {
                    slug: slug.clone(),
                    version,
                    record: ClaimRecord {
                        owner: owner.clone(),
                        released_at: Some(now),
                        version,
                        dropped_at: None,
                    },
                }
            }
        },
    }
}

/// The link with a version above every version this slug had, and the record that holds it.
fn put(link: &Link, last: Option<Version>, now: Timestamp) -> Decision {
    let version = Version::next(last, now).max(link.version);
    let mut link = link.clone();
    link.version = version;
    Decision::Put {
        record: ClaimRecord {
            owner: link.owner.clone(),
            released_at: None,
            version,
            dropped_at: None,
        },
        link,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::TargetUrl;

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
    fn slug() -> Slug {
        Slug::parse("abc").unwrap()
    }
    fn link(owner: UserId, at: u64) -> Link {
        Link::new(
            slug(),
            TargetUrl::parse("https://example.com/").unwrap(),
            owner,
            crate::link::LinkOptions::default(),
            t(at),
        )
    }
    fn create(owner: UserId, at: u64) -> SlugRequest {
        SlugRequest::Create {
            link: link(owner, at),
        }
    }
    fn delete(owner: UserId) -> SlugRequest {
        SlugRequest::Delete {
            slug: slug(),
            owner,
        }
    }
    fn record_of(d: Decision) -> ClaimRecord {
        match d {
            Decision::Put { record, .. } | Decision::Remove { record, .. } => record,
            Decision::Refuse(r) => panic!("refused: {r:?}"),
        }
    }

    #[test]
    fn first_create_wins_and_every_later_one_is_refused() {
        let held = record_of(decide(None, &create(ada(), 1), t(1), Q));
        for who in [ada(), bob()] {
            assert_eq!(
                decide(Some(&held), &create(who, 2), t(2), Q),
                Decision::Refuse(SlugResponse::Taken)
            );
        }
    }

    #[test]
    fn every_write_gets_a_version_above_all_before_it() {
        // Two updates computed from the same read in the same millisecond.
        let held = record_of(decide(None, &create(ada(), 10), t(10), Q));
        let proposal = link(ada(), 10);
        let w = SlugRequest::Write { link: proposal };
        let first = record_of(decide(Some(&held), &w, t(10), Q));
        let second = record_of(decide(Some(&first), &w, t(10), Q));
        assert!(held.version < first.version && first.version < second.version);
        let Decision::Put { link, .. } = decide(Some(&second), &w, t(10), Q) else {
            panic!("refused");
        };
        assert!(link.version > second.version);
    }

    #[test]
    fn writes_need_the_holder() {
        let held = record_of(decide(None, &create(ada(), 1), t(1), Q));
        let foreign = SlugRequest::Write {
            link: link(bob(), 2),
        };
        assert_eq!(
            decide(Some(&held), &foreign, t(2), Q),
            Decision::Refuse(SlugResponse::NotHeld)
        );
        let gone = record_of(decide(Some(&held), &delete(ada()), t(3), Q));
        let late = SlugRequest::Write {
            link: link(ada(), 4),
        };
        assert_eq!(
            decide(Some(&gone), &late, t(4), Q),
            Decision::Refuse(SlugResponse::NotHeld)
        );
        assert_eq!(
            decide(Some(&gone), &delete(ada()), t(5), Q),
            Decision::Refuse(SlugResponse::NotHeld)
        );
    }

    #[test]
    fn the_owner_may_recreate_a_deleted_slug_at_once_with_a_newer_version() {
        let held = record_of(decide(None, &create(ada(), 1), t(1), Q));
        let Decision::Remove {
            version, record, ..
        } = decide(Some(&held), &delete(ada()), t(5), Q)
        else {
            panic!("refused");
        };
        assert!(version > held.version);
        assert_eq!(record.released_at, Some(t(5)));
        let again = record_of(decide(Some(&record), &create(ada(), 5), t(5), Q));
        assert!(again.version > version);
    }

    #[test]
    fn others_wait_out_the_quarantine() {
        let released = ClaimRecord {
            owner: ada(),
            released_at: Some(t(1_000)),
            version: Version::new(1_000),
            dropped_at: None,
        };
        assert_eq!(
            decide(Some(&released), &create(bob(), 1), t(1_000 + Q - 1), Q),
            Decision::Refuse(SlugResponse::Taken)
        );
        assert_eq!(
            record_of(decide(Some(&released), &create(bob(), 1), t(1_000 + Q), Q)).owner,
            bob()
        );
        assert_eq!(
            record_of(decide(Some(&released), &create(bob(), 1), t(1_000), 0)).owner,
            bob()
        );
    }

    #[test]
    fn an_expired_link_dropped_from_kv_releases_its_slug() {
        let mut held = record_of(decide(None, &create(ada(), 1), t(1), Q));
        held.dropped_at = Some(t(500));
        // Before KV drops the key the slug is held, even from its owner (who may extend it).
        assert_eq!(
            decide(Some(&held), &create(bob(), 1), t(499), Q),
            Decision::Refuse(SlugResponse::Taken)
        );
        // After: free for its owner at once, for others after the quarantine.
        assert_eq!(
            record_of(decide(Some(&held), &create(ada(), 1), t(500), Q)).owner,
            ada()
        );
        assert_eq!(
            decide(Some(&held), &create(bob(), 1), t(500 + Q - 1), Q),
            Decision::Refuse(SlugResponse::Taken)
        );
        assert_eq!(
            record_of(decide(Some(&held), &create(bob(), 1), t(500 + Q), Q)).owner,
            bob()
        );
    }

    #[test]
    fn links_from_before_claims_can_be_written_and_deleted() {
        let w = SlugRequest::Write {
            link: link(ada(), 7),
        };
        assert_eq!(record_of(decide(None, &w, t(7), Q)).owner, ada());
        let r = record_of(decide(None, &delete(ada()), t(8), Q));
        assert_eq!(r.released_at, Some(t(8)));
    }

    #[test]
    fn requests_travel_as_tagged_json() {
        let json = serde_json::to_string(&delete(ada())).unwrap();
        assert_eq!(json, r#"{"delete":{"slug":"abc","owner":"u_ada"}}"#);
        assert_eq!(
            serde_json::from_str::<SlugRequest>(&json).unwrap(),
            delete(ada())
        );
        let taken = serde_json::to_string(&SlugResponse::Taken).unwrap();
        assert_eq!(taken, r#""taken""#);
        assert_eq!(
            serde_json::from_str::<SlugResponse>(r#""not_held""#).unwrap(),
            SlugResponse::NotHeld
        );
    }
}
