//! The change log of links (D1 `link_history`, switched by the `HISTORY` var): one
//! [`HistoryEntry`] per create, update and delete, so "who changed my link, and where did it
//! point" has an answer even after a delete.
//!
//! Entries are written in the same D1 batch as the index row. When that batch fails, the entry
//! rides in the pending marker's value, so the cron writes every version, not just the newest.
//! The table's key is `(slug, version)`: replaying an entry never duplicates it.
//!
//! Restoring a version ([`restoring`]) sets its settings again on the link, or creates the link
//! again when it is gone.
//!
//! Pure: the shell decides when to write and passes in the time.

use serde::{Deserialize, Serialize};

use crate::account::UserId;
use crate::claim::DAY_MILLIS;
use crate::link::{
    Link, LinkOptions, LinkPatch, LinkState, Slug, TargetUrl, Version, SAFE_INTEGER_MAX,
};
use crate::time::Timestamp;

pub const HISTORY_DEFAULT_LIMIT: u32 = 20;
pub const HISTORY_MAX_LIMIT: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryOp {
    Create,
    Update,
    Delete,
}

/// One version of a link: what it became (for a delete: its last state) and who did it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub slug: Slug,
    pub version: Version,
    pub op: HistoryOp,
    pub actor: UserId,
    /// The link's owner at this version: whose history it is.
    pub owner: UserId,
    pub at: Timestamp,
    pub link: Link,
}

impl HistoryEntry {
    /// The entry of a create or update that stored `link`.
    pub fn written(link: &Link, op: HistoryOp, actor: &UserId) -> Self {
        Self {
            slug: link.slug.clone(),
            version: link.version,
            op,
            actor: actor.clone(),
            owner: link.owner.clone(),
            at: link.updated_at,
            link: link.clone(),
        }
    }

    /// The entry of a delete at `version`; `last` is the link as it was.
    pub fn deleted(last: &Link, version: Version, actor: &UserId, at: Timestamp) -> Self {
        Self {
            slug: last.slug.clone(),
            version,
            op: HistoryOp::Delete,
            actor: actor.clone(),
            owner: last.owner.clone(),
            at,
            link: last.clone(),
        }
    }
}

/// Puts entries in the order the table must receive them: per slug, by version.
pub fn in_version_order(entries: &mut [HistoryEntry]) {
    entries.sort_unstable_by(|a, b| (&a.slug, a.version).cmp(&(&b.slug, b.version)));
}

/// Whether `HISTORY` turns the log on (anything but `off` does: losing history silently
/// through a typo is worse than keeping it).
pub fn enabled(var: Option<&str>) -> bool {
    !matches!(var.map(str::trim), Some(v) if v.eq_ignore_ascii_case("off"))
}

/// Entries written before this instant are pruned; `None` when retention is forever (0 days).
pub fn retention_cutoff(retention_days: u64, now: Timestamp) -> Option<Timestamp> {
    (retention_days > 0).then(|| {
        Timestamp::from_millis(
            now.as_millis()
                .saturating_sub(retention_days.saturating_mul(DAY_MILLIS)),
        )
    })
}

/// The history page cursor: the version to continue below (opaque decimal to clients).
pub fn parse_cursor(raw: &str) -> Option<Version> {
    parse_version(raw.parse().ok()?)
}

/// What restoring a version of a link does to its slug as it stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Restore {
    /// The link already is as the version was: nothing to write (no new version).
    Unchanged,
    /// The link is there: every setting becomes the version's, its state too unless the link is
    /// flagged now (a flag is the admin's to clear; the owner's patch cannot touch it).
    Update(LinkPatch),
    /// The link is gone (deleted, or dropped after it expired): it is created again as the
    /// version was, for the version's owner. A new life: its clicks count from now, as any
    /// create's do.
    Create {
        url: TargetUrl,
        owner: UserId,
        options: LinkOptions,
    },
}

/// Restoring `version` (a link as the history holds it) onto `current`, the link under its slug
/// now, if any. Who may do it, and whether the version is still the newest state, is the
/// slug's Durable Object's to decide, as for any write.
pub fn restoring(version: &Link, current: Option<&Link>) -> Restore {
    let options = version.options();
    match current {
        None => Restore::Create {
            url: version.url.clone(),
            owner: version.owner.clone(),
            options,
        },
        Some(now) if now.url == version.url && now.options() == options => Restore::Unchanged,
        Some(now) => {
            let patch = LinkPatch::setting(version.url.clone(), options);
            Restore::Update(if now.state() == LinkState::Flagged {
                LinkPatch {
                    state: None,
                    ..patch
                }
            } else {
                patch
            })
        }
    }
}

/// The cursor of the deleted links' list: where the last page ended (`<at>~<slug>`), opaque to
/// clients. `at` is kept as the history wrote it (the SQL compares the text).
pub fn deleted_cursor(at: &str, slug: &str) -> String {
    format!("{at}~{slug}")
}

/// Reads a [`deleted_cursor`] back; `None` for anything else.
pub fn parse_deleted_cursor(raw: &str) -> Option<(String, Slug)> {
    let (at, slug) = raw.split_once('~')?;
    Timestamp::parse(at)?;
    Some((at.to_owned(), Slug::parse(slug).ok()?))
}

/// The version a restore names: a version number as the history lists them.
pub fn parse_version(v: u64) -> Option<Version> {
    (1..=SAFE_INTEGER_MAX).contains(&v).then(|| Version::new(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::{LinkOptions, TargetUrl};

    fn link(version_ms: u64) -> Link {
        Link::new(
            Slug::parse("abc").unwrap(),
            TargetUrl::parse("https://example.com/").unwrap(),
            UserId::admin(),
            LinkOptions::default(),
            Timestamp::from_millis(version_ms),
        )
    }

    #[test]
    fn entries_carry_the_version_and_owner_and_round_trip() {
        let l = link(7);
        let e = HistoryEntry::written(&l, HistoryOp::Create, &UserId::admin());
        assert_eq!((e.version, e.at), (l.version, l.updated_at));
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"op\":\"create\""));
        assert_eq!(serde_json::from_str::<HistoryEntry>(&json).unwrap(), e);
        let d = HistoryEntry::deleted(
            &l,
            Version::new(9),
            &UserId::admin(),
            Timestamp::from_millis(9),
        );
        assert_eq!(
            (d.op, d.version, d.link.version),
            (HistoryOp::Delete, Version::new(9), l.version)
        );
    }

    #[test]
    fn version_order_sorts_within_each_slug() {
        let mut es: Vec<HistoryEntry> = [5, 3, 9]
            .iter()
            .map(|v| HistoryEntry::written(&link(*v), HistoryOp::Update, &UserId::admin()))
            .collect();
        in_version_order(&mut es);
        let vs: Vec<u64> = es.iter().map(|e| e.version.get()).collect();
        assert_eq!(vs, vec![3, 5, 9]);
    }

    #[test]
    fn history_is_on_unless_switched_off() {
        assert!(enabled(None));
        assert!(enabled(Some("on")));
        assert!(!enabled(Some("off")));
        assert!(!enabled(Some(" OFF ")));
    }

    #[test]
    fn retention_zero_keeps_everything() {
        let now = Timestamp::from_millis(10 * DAY_MILLIS);
        assert_eq!(retention_cutoff(0, now), None);
        assert_eq!(
            retention_cutoff(3, now),
            Some(Timestamp::from_millis(7 * DAY_MILLIS))
        );
    }

    #[test]
    fn deleted_cursors_read_back_and_nothing_else_does() {
        let c = deleted_cursor("2026-12-07T20:00:00.123Z", "launch-1");
        assert_eq!(
            parse_deleted_cursor(&c),
            Some((
                "2026-12-07T20:00:00.123Z".to_owned(),
                Slug::parse("launch-1").unwrap()
            ))
        );
        for bad in [
            "",
            "~",
            "2026-12-07T20:00:00.123Z",
            "yesterday~launch",
            "2026-12-07T20:00:00.123Z~a b",
            "2026-12-07T20:00:00.123Z~api",
            "x' OR 1=1~abc",
        ] {
            assert_eq!(parse_deleted_cursor(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cursors_are_positive_versions() {
        assert_eq!(parse_cursor("12"), Some(Version::new(12)));
        for bad in [
            "",
            "0",
            "-1",
            "x",
            "1.5",
            "9007199254740992",
            "18446744073709551615",
        ] {
            assert_eq!(parse_cursor(bad), None, "{bad:?}");
        }
    }

    /// Version 1 of a link with every setting set, then the link as it stands after its owner
    /// changed them all.
    fn then_and_now() -> (Link, Link) {
        use crate::lifecycle::{OwnerState, RedirectType};
        use crate::link::{PasswordHash, Tags, Title};
        let options = LinkOptions {
            title: Some(Title::parse("Launch").unwrap()),
            expires_at: Some(Timestamp::from_millis(90 * DAY_MILLIS)),
            archived: true,
            redirect_type: RedirectType::Permanent,
            forward_query: false,
            state: OwnerState::Disabled,
            max_clicks: Some(50),
            tags: Tags::parse(&["alpha", "beta"]).unwrap(),
            valid_since: Some(Timestamp::from_millis(2 * DAY_MILLIS)),
            targets: None,
            variants: None,
            preview: None,
            password_hash: Some(PasswordHash::parse(
                "pbkdf2-sha256:10000:c2FsdHNhbHRzYWx0c2FsdA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ).unwrap()),
        };
        let then = Link::new(
            Slug::parse("abc").unwrap(),
            TargetUrl::parse("https://example.com/then").unwrap(),
            UserId::admin(),
            options,
            Timestamp::from_millis(DAY_MILLIS),
        );
        let now = then
            .patched(
                LinkPatch::setting(
                    TargetUrl::parse("https://example.com/now").unwrap(),
                    LinkOptions::default(),
                ),
                Timestamp::from_millis(3 * DAY_MILLIS),
            )
            .unwrap()
            .unwrap();
        (then, now)
    }

    #[test]
    fn restoring_a_version_sets_every_setting_again() {
        let (then, now) = then_and_now();
        assert_ne!(now.options(), then.options());
        let Restore::Update(patch) = restoring(&then, Some(&now)) else {
            panic!("the link is there: an update");
        };
        let at = Timestamp::from_millis(4 * DAY_MILLIS);
        let restored = now.patched(patch, at).unwrap().unwrap();
        assert_eq!(restored.options(), then.options());
        assert_eq!(restored.url, then.url);
        // Still the same life, one version on.
        assert_eq!(restored.created_at, then.created_at);
        assert!(restored.version > now.version);
    }

    #[test]
    fn restoring_the_version_a_link_is_at_writes_nothing() {
        let (then, now) = then_and_now();
        assert_eq!(restoring(&now, Some(&now)), Restore::Unchanged);
        // An earlier version with the same settings is the same.
        let Restore::Update(patch) = restoring(&then, Some(&now)) else {
            panic!("an update");
        };
        let back = now
            .patched(patch, Timestamp::from_millis(9))
            .unwrap()
            .unwrap();
        assert_eq!(restoring(&then, Some(&back)), Restore::Unchanged);
    }

    #[test]
    fn restoring_onto_a_flagged_link_leaves_the_flag() {
        let (then, now) = then_and_now();
        let flagged = now.flagged(
            crate::moderation::FlagReason::Spam,
            Timestamp::from_millis(5),
        );
        let Restore::Update(patch) = restoring(&then, Some(&flagged)) else {
            panic!("an update");
        };
        assert_eq!(patch.state, None);
        let restored = flagged
            .patched(patch, Timestamp::from_millis(6))
            .unwrap()
            .unwrap();
        assert_eq!(restored.state(), LinkState::Flagged);
        assert_eq!(restored.url, then.url);
    }

    #[test]
    fn restoring_a_gone_link_creates_it_again_for_its_owner() {
        let (then, _) = then_and_now();
        assert_eq!(
            restoring(&then, None),
            Restore::Create {
                url: then.url.clone(),
                owner: then.owner.clone(),
                options: then.options(),
            }
        );
        // A version that was flagged comes back as its owner had it: active.
        let flagged = then.flagged(
            crate::moderation::FlagReason::Spam,
            Timestamp::from_millis(5),
        );
        let Restore::Create { options, .. } = restoring(&flagged, None) else {
            panic!("a create");
        };
        assert_eq!(options.state, crate::lifecycle::OwnerState::Active);
    }
}
