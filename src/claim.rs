//! One writer per slug: every change of a link is decided here, in one place, against the
//! newest state of the slug.
//!
//! KV has no compare-and-set and is only eventually consistent between locations: a handler
//! that read a link from KV may hold a state up to 60 s old, and "read, then write if absent"
//! lets two creates of one slug both win. So handlers never send a finished link to be stored.
//! They send an [`Intent`] (create this link, apply this patch, delete, flag, unflag, refresh
//! the stored metadata) with the [`Caller`] behind it to the slug's Durable Object
//! (`store::claims`), which keeps the link exactly as it last wrote it to KV in its
//! [`ClaimRecord`] and applies [`decide`] to that. Consequences:
//! - of two concurrent creates exactly one wins;
//! - an update or a flag is applied to the newest state, so no stale read can undo a change
//!   (an owner's title edit cannot bring a flagged link back);
//! - every write gets a version no other write of the slug had, and KV receives a slug's
//!   writes in version order.
//!
//! Flags survive everything an owner can do: an owner cannot change a flagged link's state,
//! and deleting a flagged link keeps the slug flagged ([`ClaimRecord::kept_flag`]): nobody
//! but an admin can create it again, until an admin unflags it.
//!
//! Sink links (a Sink KV namespace adopted in place, docs/import-export.md): on first contact
//! the object finds a Sink value in KV rather than a link; [`decide_found`] treats it as the
//! link it maps to (owned by `ADOPT_OWNER`) and writes it in edgelink's form only on the
//! reconciler's [`Intent::Adopt`], and only if KV still holds the very value the reconciler saw.
//!
//! Deleted slugs: the claim is kept as released. The previous owner may claim it again at once
//! (undoing a mistaken delete); anyone else only after a quarantine (`SLUG_QUARANTINE_DAYS`,
//! default 30), so old printed links do not silently start pointing at a stranger's page.
//!
//! Pure: the Durable Object passes in its record, the current link and the time.

use serde::{Deserialize, Serialize};

use crate::account::UserId;
use crate::auth::Caller;
use crate::exchange::sink::SinkLink;
use crate::link::{InvalidLink, Link, LinkPatch, Slug, Version};
use crate::moderation::FlagReason;
use crate::time::Timestamp;

pub const DEFAULT_QUARANTINE_DAYS: u64 = 30;
pub const DAY_MILLIS: u64 = 24 * 60 * 60 * 1000;

/// What a slug's Durable Object stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// The link as this object last wrote it to KV: what every next intent applies to.
    /// `None` once deleted, and in records written before the object kept it (then the KV
    /// value is read once, see [`ClaimRecord::knows_link`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<Link>,
    /// The flag of a link deleted while flagged: the slug stays flagged, so its owner cannot
    /// bring it back by re-creating it; only an admin can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_flag: Option<String>,
}

impl ClaimRecord {
    /// When the slug was let go: deleted, or its expired link dropped from KV by `now`.
    pub fn released(&self, now: Timestamp) -> Option<Timestamp> {
        self.released_at
            .or(self.dropped_at.filter(|dropped| *dropped <= now))
    }

    /// Whether [`ClaimRecord::link`] is the link's state. Records from before the object kept
    /// the link hold only the claim; for those the shell reads the link from KV.
    pub fn knows_link(&self) -> bool {
        self.link.is_some() || self.released_at.is_some()
    }
}

/// A change of one slug, as asked by `caller`. Externally tagged (`{"update":{…}}`), as is the
/// answer: an internally tagged enum makes serde buffer the whole message first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Claim the slug for `link.owner` and store this new link.
    Create { link: Link },
    /// Apply the patch to the link's newest state. With `if_match`, only if the link is still
    /// at that version.
    Update {
        patch: LinkPatch,
        if_match: Option<Version>,
    },
    /// Delete the link and release the slug (keeping a flag, if it has one).
    Delete { if_match: Option<Version> },
    /// An admin flags the link: it stops redirecting.
    Flag { reason: FlagReason },
    /// An admin clears a flag: of a link (active again), or of a deleted slug (free again).
    Unflag,
    /// The reconciler found the key at version `seen` without KV metadata (older writers left
    /// it out): write the link's newest state back as it is, with its metadata.
    Refresh { seen: Version },
    /// The reconciler found a Sink link under the key (a Sink namespace adopted in place):
    /// write it in edgelink's form, owned by `ADOPT_OWNER`, only if KV still holds exactly
    /// `seen` (the raw value it read) and this object never wrote the slug: any other write,
    /// by Sink or through this object, wins ([`decide_found`]).
    Adopt { seen: String },
}

impl Intent {
    pub fn name(&self) -> &'static str {
        match self {
            Intent::Create { .. } => "create",
            Intent::Update { .. } => "update",
            Intent::Delete { .. } => "delete",
            Intent::Flag { .. } => "flag",
            Intent::Unflag => "unflag",
            Intent::Refresh { .. } => "refresh",
            Intent::Adopt { .. } => "adopt",
        }
    }
}

/// What travels to a slug's Durable Object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlugRequest {
    pub slug: Slug,
    pub caller: Caller,
    pub intent: Intent,
}

/// What the Durable Object answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlugResponse {
    /// The link as stored in KV, with its final version.
    Written { link: Link },
    /// Nothing to change (an empty patch, a refresh that found the link moved on): the link
    /// as it stands.
    Unchanged { link: Link },
    /// Deleted from KV at `version`; `last` is how the link was.
    Deleted { version: Version, last: Link },
    /// A deleted slug's kept flag was cleared: the slug can be claimed again.
    Cleared,
    /// Someone else holds the slug (or its quarantine has not passed, or it is flagged).
    Taken,
    /// No link the caller may manage: none, deleted meanwhile, or another owner's.
    NotFound,
    /// `if_match` named another version than the link's.
    VersionMismatch { current: Version },
    /// The intent is not allowed on this link (e.g. an owner changing a flagged link's state).
    Invalid { error: InvalidLink },
}

impl SlugResponse {
    /// The answer's kind, for logs: an unexpected answer is logged by name, not dumped (the
    /// `Debug` of a whole link costs wasm size and puts link contents in logs).
    pub fn outcome(&self) -> &'static str {
        match self {
            SlugResponse::Written { .. } => "written",
            SlugResponse::Unchanged { .. } => "unchanged",
            SlugResponse::Deleted { .. } => "deleted",
            SlugResponse::Cleared => "cleared",
            SlugResponse::Taken => "taken",
            SlugResponse::NotFound => "not found",
            SlugResponse::VersionMismatch { .. } => "version mismatch",
            SlugResponse::Invalid { .. } => "invalid",
        }
    }
}

/// What the Durable Object must do. `Put` and `Remove` change KV, then the record; `Record`
/// changes the record alone; `Answer` changes nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Put {
        link: Link,
        record: ClaimRecord,
    },
    Remove {
        last: Link,
        record: ClaimRecord,
    },
    Record {
        record: ClaimRecord,
        answer: SlugResponse,
    },
    Answer(SlugResponse),
}

impl Decision {
    /// The answer once the decision's effects are done.
    pub fn answer(&self) -> SlugResponse {
        match self {
            Decision::Put { link, .. } => SlugResponse::Written { link: link.clone() },
            Decision::Remove { last, record } => SlugResponse::Deleted {
                version: record.version,
                last: last.clone(),
            },
            Decision::Record { answer, .. } | Decision::Answer(answer) => answer.clone(),
        }
    }
}

/// Decides `request` against the slug's record and its current link (`record.link`, or for a
/// record that does not know it, or no record at all, the KV value: the shell resolves that).
pub fn decide(
    record: Option<&ClaimRecord>,
    current: Option<&Link>,
    request: &SlugRequest,
    now: Timestamp,
    quarantine_millis: u64,
) -> Decision {
    let last = record.map(|r| r.version).max(current.map(|l| l.version));
    let released = record.and_then(|r| r.released(now));
    // The live link: none once released (deleted, or expired and dropped from KV).
    let live = current.filter(|_| released.is_none());
    let caller = &request.caller;
    match &request.intent {
        Intent::Create { link } => {
            let free = match (record, live) {
                (_, Some(_)) => false,
                (None, None) => true,
                (Some(r), None) => {
                    let flag_clear = r.kept_flag.is_none() || caller.is_admin();
                    let at = released.unwrap_or(now);
                    flag_clear
                        && (r.owner == link.owner
                            || now.as_millis() >= at.as_millis().saturating_add(quarantine_millis))
                }
            };
            if !free {
                return Decision::Answer(SlugResponse::Taken);
            }
            put(link.clone(), last, now)
        }
        Intent::Update { patch, if_match } => {
            let link = match managed(live, caller, *if_match) {
                Ok(link) => link,
                Err(refused) => return Decision::Answer(refused.into()),
            };
            match link.patched(patch.clone(), now) {
                Ok(Some(next)) => put(next, last, now),
                Ok(None) => Decision::Answer(SlugResponse::Unchanged { link: link.clone() }),
                Err(error) => Decision::Answer(SlugResponse::Invalid { error }),
            }
        }
        Intent::Delete { if_match } => {
            let link = match managed(live, caller, *if_match) {
                Ok(link) => link,
                Err(refused) => return Decision::Answer(refused.into()),
            };
            let version = Version::next(last, now);
            Decision::Remove {
                last: link.clone(),
                record: ClaimRecord {
                    owner: link.owner.clone(),
                    released_at: Some(now),
                    version,
                    dropped_at: None,
                    link: None,
                    kept_flag: link.flag_reason.clone().filter(|_| !link.is_active),
                },
            }
        }
        Intent::Flag { reason } => match live.filter(|_| caller.is_admin()) {
            Some(link) => put(link.flagged(*reason, now), last, now),
            None => Decision::Answer(SlugResponse::NotFound),
        },
        Intent::Unflag => match (live, record) {
            _ if !caller.is_admin() => Decision::Answer(SlugResponse::NotFound),
            (Some(link), _) => put(link.unflagged(now), last, now),
            (None, Some(r)) if r.kept_flag.is_some() => Decision::Record {
                record: ClaimRecord {
                    kept_flag: None,
                    ..r.clone()
                },
                answer: SlugResponse::Cleared,
            },
            (None, _) => Decision::Answer(SlugResponse::NotFound),
        },
        // KV shows `seen` without metadata; the object's newest state goes back with it. When
        // the object holds a newer state than KV showed (KV lost or has not yet shown a
        // write), that state wins: this object is the one writer of the key.
        Intent::Refresh { .. } => match live {
            Some(link) => Decision::Put {
                record: held(link, link.version.max(last.unwrap_or_default())),
                link: link.clone(),
            },
            None => Decision::Answer(SlugResponse::NotFound),
        },
        // The object holds the link, or KV holds edgelink's own: there is no Sink link to
        // adopt (a real write came first, and wins).
        Intent::Adopt { .. } => Decision::Answer(SlugResponse::NotFound),
    }
}

/// What the slug's KV key holds when the object's record does not know the link (no record
/// yet, or one from before records kept links): the shell reads it and tells it apart
/// (`exchange::sink::Stored`; a value that is neither stays the shell's error, as before).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Found<'a> {
    Nothing,
    Link(&'a Link),
    /// A Sink link, with the raw value it was read from.
    Sink {
        raw: &'a str,
        sink: &'a SinkLink,
    },
}

/// [`decide`] against what KV holds, for an object whose record does not know the link. A Sink
/// link is the link [`SinkLink::to_link`] makes of it, owned by `adopt_owner` (`ADOPT_OWNER`):
/// the sweep's [`Intent::Adopt`] writes it if KV still holds the value the sweep saw, and any
/// other intent applies to it as to any link (an owner's edit or delete adopts it on the way;
/// another user's create of the slug is refused). Without an `adopt_owner`, or for a Sink link
/// edgelink cannot hold, nothing is adopted: a create is refused (the key redirects) and every
/// other intent finds no link.
pub fn decide_found(
    record: Option<&ClaimRecord>,
    found: Found<'_>,
    request: &SlugRequest,
    now: Timestamp,
    quarantine_millis: u64,
    adopt_owner: Option<&UserId>,
) -> Decision {
    let (raw, sink) = match found {
        Found::Nothing => return decide(record, None, request, now, quarantine_millis),
        Found::Link(link) => return decide(record, Some(link), request, now, quarantine_millis),
        Found::Sink { raw, sink } => (raw, sink),
    };
    let adopted = adopt_owner
        .and_then(|owner| sink.to_link(request.slug.clone(), owner.clone(), now).ok())
        .map(|a| a.link);
    match (&request.intent, adopted) {
        (Intent::Adopt { seen }, Some(link)) if seen.as_str() == raw => {
            adopt(link, record.map(|r| r.version))
        }
        (Intent::Adopt { .. }, _) => Decision::Answer(SlugResponse::NotFound),
        (_, Some(link)) => decide(record, Some(&link), request, now, quarantine_millis),
        (Intent::Create { .. }, None) => Decision::Answer(SlugResponse::Taken),
        (_, None) => Decision::Answer(SlugResponse::NotFound),
    }
}

/// The adopted link as it is (its version is Sink's `updatedAt`, so any later write of the
/// slug is newer), above any version the slug's record issued before.
fn adopt(mut link: Link, last: Option<Version>) -> Decision {
    if let Some(last) = last.filter(|v| *v >= link.version) {
        link.version = Version::new(last.get() + 1);
    }
    Decision::Put {
        record: held(&link, link.version),
        link,
    }
}

/// Why [`managed`] found no link to change.
enum Unmanaged {
    NotFound,
    Moved { current: Version },
}

impl From<Unmanaged> for SlugResponse {
    fn from(u: Unmanaged) -> Self {
        match u {
            Unmanaged::NotFound => SlugResponse::NotFound,
            Unmanaged::Moved { current } => SlugResponse::VersionMismatch { current },
        }
    }
}

/// The live link, when `caller` may manage it and it is at the version asked for.
fn managed<'a>(
    live: Option<&'a Link>,
    caller: &Caller,
    if_match: Option<Version>,
) -> Result<&'a Link, Unmanaged> {
    let link = live
        .filter(|l| caller.may_manage(&l.owner))
        .ok_or(Unmanaged::NotFound)?;
    match if_match {
        Some(v) if v != link.version => Err(Unmanaged::Moved {
            current: link.version,
        }),
        _ => Ok(link),
    }
}

/// The link with a version above every version this slug had, and the record that holds it.
fn put(mut link: Link, last: Option<Version>, now: Timestamp) -> Decision {
    link.version = Version::next(last, now).max(link.version);
    Decision::Put {
        record: held(&link, link.version),
        link,
    }
}

fn held(link: &Link, version: Version) -> ClaimRecord {
    ClaimRecord {
        owner: link.owner.clone(),
        released_at: None,
        version,
        dropped_at: None,
        link: Some(link.clone()),
        kept_flag: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Role;
    use crate::lifecycle::OwnerState;
    use crate::link::{LinkOptions, TargetUrl, Title};

    const Q: u64 = 30 * DAY_MILLIS;

    fn ada() -> UserId {
        UserId::from_random("ada")
    }
    fn bob() -> UserId {
        UserId::from_random("bob")
    }
    fn user(id: UserId) -> Caller {
        Caller {
            id,
            role: Role::User,
        }
    }
    fn admin() -> Caller {
        Caller::admin()
    }
    fn t(ms: u64) -> Timestamp {
        Timestamp::from_millis(ms)
    }
    fn slug() -> Slug {
        Slug::parse("abc").unwrap()
    }
    fn link_at(owner: UserId, at: u64) -> Link {
        link(owner, at)
    }
    fn link(owner: UserId, at: u64) -> Link {
        Link::new(
            slug(),
            TargetUrl::parse("https://example.com/").unwrap(),
            owner,
            LinkOptions::default(),
            t(at),
        )
    }
    fn request(caller: Caller, intent: Intent) -> SlugRequest {
        SlugRequest {
            slug: slug(),
            caller,
            intent,
        }
    }
    fn create(owner: UserId, at: u64) -> SlugRequest {
        request(
            user(owner.clone()),
            Intent::Create {
                link: link(owner, at),
            },
        )
    }
    fn delete(caller: Caller) -> SlugRequest {
        request(caller, Intent::Delete { if_match: None })
    }
    fn retitle(caller: Caller, title: &str) -> SlugRequest {
        let patch = LinkPatch {
            title: Some(Some(Title::parse(title).unwrap())),
            ..LinkPatch::default()
        };
        request(
            caller,
            Intent::Update {
                patch,
                if_match: None,
            },
        )
    }

    /// Applies a request as the Durable Object does: the record's link is the current state.
    fn apply(
        record: Option<&ClaimRecord>,
        req: &SlugRequest,
        at: u64,
    ) -> (ClaimRecord, SlugResponse) {
        let current = record.and_then(|r| r.link.as_ref());
        let d = decide(record, current, req, t(at), Q);
        let answer = d.answer();
        match d {
            Decision::Put { record, .. }
            | Decision::Remove { record, .. }
            | Decision::Record { record, .. } => (record, answer),
            Decision::Answer(a) => panic!("nothing written: {a:?}"),
        }
    }
    fn answer(record: Option<&ClaimRecord>, req: &SlugRequest, at: u64) -> SlugResponse {
        let current = record.and_then(|r| r.link.as_ref());
        decide(record, current, req, t(at), Q).answer()
    }

    #[test]
    fn first_create_wins_and_every_later_one_is_refused() {
        let (held, _) = apply(None, &create(ada(), 1), 1);
        for who in [ada(), bob()] {
            assert_eq!(answer(Some(&held), &create(who, 2), 2), SlugResponse::Taken);
        }
    }

    #[test]
    fn a_link_from_before_claims_is_taken_too() {
        // No record, but KV holds a link: the shell passes it as the current state.
        let old = link(ada(), 1);
        let d = decide(None, Some(&old), &create(bob(), 2), t(2), Q);
        assert_eq!(d, Decision::Answer(SlugResponse::Taken));
    }

    #[test]
    fn every_write_gets_a_version_above_all_before_it() {
        let (held, _) = apply(None, &create(ada(), 10), 10);
        let (first, _) = apply(Some(&held), &retitle(user(ada()), "a"), 10);
        let (second, _) = apply(Some(&first), &retitle(user(ada()), "b"), 10);
        assert!(held.version < first.version && first.version < second.version);
        assert_eq!(second.link.as_ref().unwrap().version, second.version);
    }

    #[test]
    fn updates_apply_to_the_newest_state_not_to_what_the_caller_read() {
        let (held, _) = apply(None, &create(ada(), 1), 1);
        let (flagged, _) = apply(
            Some(&held),
            &request(
                admin(),
                Intent::Flag {
                    reason: FlagReason::Phishing,
                },
            ),
            2,
        );
        // The owner's edit, sent from a location whose KV still showed the unflagged link.
        let (edited, answer) = apply(Some(&flagged), &retitle(user(ada()), "new"), 3);
        let link = edited.link.unwrap();
        assert_eq!(link.flag_reason.as_deref(), Some("phishing"));
        assert!(!link.is_active);
        assert_eq!(link.title, Some(Title::parse("new").unwrap()));
        assert!(matches!(answer, SlugResponse::Written { .. }));
    }

    #[test]
    fn an_owner_cannot_clear_a_flag() {
        let (held, _) = apply(None, &create(ada(), 1), 1);
        let flag = request(
            admin(),
            Intent::Flag {
                reason: FlagReason::Spam,
            },
        );
        let (flagged, _) = apply(Some(&held), &flag, 2);
        let activate = request(
            user(ada()),
            Intent::Update {
                patch: LinkPatch {
                    state: Some(OwnerState::Active),
                    ..LinkPatch::default()
                },
                if_match: None,
            },
        );
        assert!(matches!(
            answer(Some(&flagged), &activate, 3),
            SlugResponse::Invalid {
                error: InvalidLink::State(_)
            }
        ));
        assert_eq!(
            answer(Some(&flagged), &request(user(ada()), Intent::Unflag), 3),
            SlugResponse::NotFound
        );
        assert_eq!(
            answer(Some(&held), &request(user(ada()), flag.intent.clone()), 3),
            SlugResponse::NotFound
        );
    }

    #[test]
    fn deleting_a_flagged_link_keeps_the_slug_flagged_until_an_admin_clears_it() {
        let (held, _) = apply(None, &create(ada(), 1), 1);
        let flag = request(
            admin(),
            Intent::Flag {
                reason: FlagReason::Phishing,
            },
        );
        let (flagged, _) = apply(Some(&held), &flag, 2);
        let (deleted, answer_) = apply(Some(&flagged), &delete(user(ada())), 3);
        assert!(matches!(answer_, SlugResponse::Deleted { .. }));
        assert_eq!(deleted.kept_flag.as_deref(), Some("phishing"));
        // Not its owner, at once or after the quarantine; nor anyone else.
        for (who, at) in [(ada(), 4), (ada(), 4 + Q), (bob(), 4 + 2 * Q)] {
            assert_eq!(
                answer(Some(&deleted), &create(who, at), at),
                SlugResponse::Taken
            );
        }
        // An admin clears it; then its owner may claim it again.
        let (cleared, answer_) = apply(Some(&deleted), &request(admin(), Intent::Unflag), 5);
        assert_eq!(answer_, SlugResponse::Cleared);
        assert_eq!(cleared.kept_flag, None);
        let (again, _) = apply(Some(&cleared), &create(ada(), 6), 6);
        assert!(again.version > deleted.version);
        // A kept flag does not stop an admin (the quarantine still applies to them).
        let admin_link = request(
            admin(),
            Intent::Create {
                link: link(UserId::admin(), 7),
            },
        );
        assert!(matches!(
            answer(Some(&deleted), &admin_link, 3 + Q),
            SlugResponse::Written { .. }
        ));
    }

    #[test]
    fn a_deleted_unflagged_link_keeps_no_flag() {
        let (held, _) = apply(None, &create(ada(), 1), 1);
        let (deleted, _) = apply(Some(&held), &delete(user(ada())), 2);
        assert_eq!(deleted.kept_flag, None);
        assert_eq!(
            answer(Some(&deleted), &request(admin(), Intent::Unflag), 3),
            SlugResponse::NotFound
        );
    }

    #[test]
    fn writes_need_the_owner_or_an_admin() {
        let (held, _) = apply(None, &create(ada(), 1), 1);
        assert_eq!(
            answer(Some(&held), &retitle(user(bob()), "x"), 2),
            SlugResponse::NotFound
        );
        assert_eq!(
            answer(Some(&held), &delete(user(bob())), 2),
            SlugResponse::NotFound
        );
        assert!(matches!(
            answer(Some(&held), &retitle(admin(), "x"), 2),
            SlugResponse::Written { .. }
        ));
        let (gone, _) = apply(Some(&held), &delete(user(ada())), 3);
        assert_eq!(
            answer(Some(&gone), &retitle(user(ada()), "x"), 4),
            SlugResponse::NotFound
        );
        assert_eq!(
            answer(Some(&gone), &delete(user(ada())), 5),
            SlugResponse::NotFound
        );
    }

    #[test]
    fn if_match_refuses_a_link_that_moved_on() {
        let (held, _) = apply(None, &create(ada(), 1), 1);
        let v = held.version;
        let (moved, _) = apply(Some(&held), &retitle(user(ada()), "a"), 2);
        let stale = request(
            user(ada()),
            Intent::Update {
                patch: LinkPatch {
                    archived: Some(true),
                    ..LinkPatch::default()
                },
                if_match: Some(v),
            },
        );
        assert_eq!(
            answer(Some(&moved), &stale, 3),
            SlugResponse::VersionMismatch {
                current: moved.version
            }
        );
        assert_eq!(
            answer(
                Some(&moved),
                &request(user(ada()), Intent::Delete { if_match: Some(v) }),
                3
            ),
            SlugResponse::VersionMismatch {
                current: moved.version
            }
        );
        let fresh = request(
            user(ada()),
            Intent::Delete {
                if_match: Some(moved.version),
            },
        );
        assert!(matches!(
            answer(Some(&moved), &fresh, 3),
            SlugResponse::Deleted { .. }
        ));
    }

    #[test]
    fn an_empty_patch_writes_nothing() {
        let (held, _) = apply(None, &create(ada(), 1), 1);
        let empty = request(
            user(ada()),
            Intent::Update {
                patch: LinkPatch::default(),
                if_match: None,
            },
        );
        assert_eq!(
            answer(Some(&held), &empty, 2),
            SlugResponse::Unchanged {
                link: held.link.clone().unwrap()
            }
        );
    }

    #[test]
    fn the_owner_may_recreate_a_deleted_slug_at_once_with_a_newer_version() {
        let (held, _) = apply(None, &create(ada(), 1), 1);
        let (deleted, answer_) = apply(Some(&held), &delete(user(ada())), 5);
        let SlugResponse::Deleted { version, .. } = answer_ else {
            panic!("not deleted");
        };
        assert!(version > held.version);
        assert_eq!(deleted.released_at, Some(t(5)));
        let (again, _) = apply(Some(&deleted), &create(ada(), 5), 5);
        assert!(again.version > version);
    }

    #[test]
    fn others_wait_out_the_quarantine() {
        let released = ClaimRecord {
            owner: ada(),
            released_at: Some(t(1_000)),
            version: Version::new(1_000),
            dropped_at: None,
            link: None,
            kept_flag: None,
        };
        assert_eq!(
            answer(Some(&released), &create(bob(), 1), 1_000 + Q - 1),
            SlugResponse::Taken
        );
        assert_eq!(
            apply(Some(&released), &create(bob(), 1), 1_000 + Q).0.owner,
            bob()
        );
        let d = decide(Some(&released), None, &create(bob(), 1), t(1_000), 0);
        assert!(matches!(d, Decision::Put { .. }));
    }

    #[test]
    fn an_expired_link_dropped_from_kv_releases_its_slug() {
        let (mut held, _) = apply(None, &create(ada(), 1), 1);
        held.dropped_at = Some(t(500));
        // Before KV drops the key the slug is held, even from its owner (who may extend it).
        assert_eq!(
            answer(Some(&held), &create(bob(), 1), 499),
            SlugResponse::Taken
        );
        assert!(matches!(
            answer(Some(&held), &retitle(user(ada()), "x"), 499),
            SlugResponse::Written { .. }
        ));
        // After: free for its owner at once, for others after the quarantine.
        assert_eq!(apply(Some(&held), &create(ada(), 1), 500).0.owner, ada());
        assert_eq!(
            answer(Some(&held), &create(bob(), 1), 500 + Q - 1),
            SlugResponse::Taken
        );
        assert_eq!(
            apply(Some(&held), &create(bob(), 1), 500 + Q).0.owner,
            bob()
        );
        assert_eq!(
            answer(Some(&held), &retitle(user(ada()), "x"), 501),
            SlugResponse::NotFound
        );
    }

    #[test]
    fn links_from_before_claims_are_written_from_their_kv_value() {
        let old = link(ada(), 7);
        let d = decide(None, Some(&old), &retitle(user(ada()), "t"), t(8), Q);
        let Decision::Put { link, record } = d else {
            panic!("refused");
        };
        assert_eq!(link.title, Some(Title::parse("t").unwrap()));
        assert!(link.version > old.version);
        assert_eq!(record.link, Some(link));
        let d = decide(None, Some(&old), &delete(user(ada())), t(9), Q);
        assert!(matches!(d, Decision::Remove { .. }));
        // A record from before the object kept links: the KV value is the state.
        let legacy = ClaimRecord {
            owner: ada(),
            released_at: None,
            version: old.version,
            dropped_at: None,
            link: None,
            kept_flag: None,
        };
        assert!(!legacy.knows_link());
        let d = decide(
            Some(&legacy),
            Some(&old),
            &retitle(user(ada()), "t"),
            t(8),
            Q,
        );
        assert!(matches!(d, Decision::Put { .. }));
    }

    #[test]
    fn refresh_writes_back_the_newest_state_never_an_older_one() {
        let (held, _) = apply(None, &create(ada(), 1), 1);
        let v = held.version;
        let refresh = request(admin(), Intent::Refresh { seen: v });
        let d = decide(Some(&held), held.link.as_ref(), &refresh, t(2), Q);
        let Decision::Put { link, .. } = d else {
            panic!("not rewritten");
        };
        // The same value, version and all: only the metadata beside it is new.
        assert_eq!(Some(link), held.link);
        // KV showed an older value than the object wrote since: the newer one goes back.
        let (moved, _) = apply(Some(&held), &retitle(user(ada()), "a"), 3);
        let Decision::Put { link, .. } =
            decide(Some(&moved), moved.link.as_ref(), &refresh, t(4), Q)
        else {
            panic!("not rewritten");
        };
        assert_eq!(link.title, Some(Title::parse("a").unwrap()));
        assert_eq!(link.version, moved.version);
        // A link from before claims: its KV value is the state.
        let old = link_at(ada(), 1);
        let d = decide(None, Some(&old), &refresh, t(5), Q);
        assert!(matches!(d, Decision::Put { link, .. } if link == old));
        let (gone, _) = apply(Some(&moved), &delete(user(ada())), 5);
        assert_eq!(answer(Some(&gone), &refresh, 6), SlugResponse::NotFound);
    }

    #[test]
    fn requests_travel_as_tagged_json() {
        let req = retitle(user(ada()), "x");
        let json = serde_json::to_string(&req).unwrap();
        assert_eq!(
            json,
            r#"{"slug":"abc","caller":{"id":"u_ada","role":"user"},"intent":{"update":{"patch":{"title":"x"},"if_match":null}}}"#
        );
        assert_eq!(serde_json::from_str::<SlugRequest>(&json).unwrap(), req);
        // A cleared field stays apart from an absent one.
        let clear = LinkPatch {
            title: Some(None),
            ..LinkPatch::default()
        };
        let text = serde_json::to_string(&clear).unwrap();
        assert_eq!(text, r#"{"title":null}"#);
        assert_eq!(serde_json::from_str::<LinkPatch>(&text).unwrap(), clear);
        assert_eq!(
            serde_json::from_str::<LinkPatch>("{}").unwrap(),
            LinkPatch::default()
        );
        let taken = serde_json::to_string(&SlugResponse::Taken).unwrap();
        assert_eq!(taken, r#""taken""#);
        let invalid = SlugResponse::Invalid {
            error: InvalidLink::State("no".into()),
        };
        let text = serde_json::to_string(&invalid).unwrap();
        assert_eq!(
            serde_json::from_str::<SlugResponse>(&text).unwrap(),
            invalid
        );
    }

    /// A Sink value under the slug's key, as Sink 0.3 writes it.
    const SINK: &str = r#"{"id":"x","url":"https://example.com/sink","slug":"abc","createdAt":1700000000,"updatedAt":1700000500,"tags":["a"]}"#;

    fn sink() -> SinkLink {
        SinkLink::recognise(SINK).unwrap()
    }
    fn adopt_req(seen: &str) -> SlugRequest {
        request(
            admin(),
            Intent::Adopt {
                seen: seen.to_owned(),
            },
        )
    }
    fn found(s: &SinkLink) -> Found<'_> {
        Found::Sink { raw: SINK, sink: s }
    }

    #[test]
    fn adopt_writes_the_sink_link_it_saw_for_the_adopt_owner() {
        let s = sink();
        let d = decide_found(None, found(&s), &adopt_req(SINK), t(9), Q, Some(&ada()));
        let Decision::Put { link, record } = d else {
            panic!("not written: {d:?}");
        };
        assert_eq!(link.owner, ada());
        assert_eq!(link.url.as_str(), "https://example.com/sink");
        assert_eq!(link.version, Version::new(1_700_000_500_000));
        assert_eq!(record.version, link.version);
        assert_eq!(record.link.as_ref(), Some(&link));
        assert_eq!(link.tags.as_slice(), ["a"]);
    }

    #[test]
    fn adopt_never_overwrites_a_value_other_than_the_one_it_saw() {
        let s = sink();
        // Sink (still running) rewrote the key after the sweep read it.
        let changed = SINK.replace("/sink", "/edited");
        let d = decide_found(None, found(&s), &adopt_req(&changed), t(9), Q, Some(&ada()));
        assert_eq!(d, Decision::Answer(SlugResponse::NotFound));
        // The key is gone, or holds edgelink's own link now.
        let req = adopt_req(SINK);
        assert_eq!(
            decide_found(None, Found::Nothing, &req, t(9), Q, Some(&ada())),
            Decision::Answer(SlugResponse::NotFound)
        );
        let own = link(bob(), 5);
        assert_eq!(
            decide_found(None, Found::Link(&own), &req, t(9), Q, Some(&ada())),
            Decision::Answer(SlugResponse::NotFound)
        );
        // The object already wrote the slug (an owner's edit adopted it first): that wins.
        let (held, _) = apply(None, &create(ada(), 5), 5);
        assert_eq!(answer(Some(&held), &req, 9), SlugResponse::NotFound);
    }

    #[test]
    fn without_an_adopt_owner_a_sink_link_is_left_alone_and_its_slug_stays_taken() {
        let s = sink();
        for req in [adopt_req(SINK), retitle(user(ada()), "x"), delete(admin())] {
            assert_eq!(
                decide_found(None, found(&s), &req, t(9), Q, None),
                Decision::Answer(SlugResponse::NotFound),
                "{}",
                req.intent.name()
            );
        }
        assert_eq!(
            decide_found(None, found(&s), &create(bob(), 9), t(9), Q, None),
            Decision::Answer(SlugResponse::Taken)
        );
        // A Sink link edgelink cannot hold is left alone the same way.
        let bad = SinkLink::recognise(r#"{"url":"javascript:x"}"#).unwrap();
        let raw = r#"{"url":"javascript:x"}"#;
        let d = decide_found(
            None,
            Found::Sink { raw, sink: &bad },
            &adopt_req(raw),
            t(9),
            Q,
            Some(&ada()),
        );
        assert_eq!(d, Decision::Answer(SlugResponse::NotFound));
    }

    #[test]
    fn other_intents_apply_to_a_sink_link_as_to_the_adopted_link() {
        let s = sink();
        // Another user's create of the slug is refused: the Sink link holds it.
        assert_eq!(
            decide_found(None, found(&s), &create(bob(), 9), t(9), Q, Some(&ada())),
            Decision::Answer(SlugResponse::Taken)
        );
        // Its new owner's edit adopts it on the way, with a newer version than Sink's.
        let d = decide_found(
            None,
            found(&s),
            &retitle(user(ada()), "mine"),
            t(1_800_000_000_000),
            Q,
            Some(&ada()),
        );
        let Decision::Put { link, .. } = d else {
            panic!("not written: {d:?}");
        };
        assert_eq!(link.title, Some(Title::parse("mine").unwrap()));
        assert!(link.version > Version::new(1_700_000_500_000));
        assert_eq!(link.url.as_str(), "https://example.com/sink");
        // Someone else's edit finds no link of theirs.
        assert_eq!(
            decide_found(
                None,
                found(&s),
                &retitle(user(bob()), "x"),
                t(9),
                Q,
                Some(&ada())
            ),
            Decision::Answer(SlugResponse::NotFound)
        );
    }

    #[test]
    fn an_adopted_version_stays_above_what_the_slug_had() {
        let s = sink();
        let old = ClaimRecord {
            owner: bob(),
            released_at: None,
            version: Version::new(1_800_000_000_000),
            dropped_at: None,
            link: None,
            kept_flag: None,
        };
        let d = decide_found(
            Some(&old),
            found(&s),
            &adopt_req(SINK),
            t(9),
            Q,
            Some(&ada()),
        );
        let Decision::Put { link, .. } = d else {
            panic!("not written: {d:?}");
        };
        assert_eq!(link.version, Version::new(1_800_000_000_001));
    }

    #[test]
    fn the_adopt_intent_travels_as_json() {
        let req = adopt_req(SINK);
        let json = serde_json::to_string(&req).unwrap();
        assert!(json.contains(r#""intent":{"adopt":{"seen":"#));
        assert_eq!(serde_json::from_str::<SlugRequest>(&json).unwrap(), req);
    }
}
