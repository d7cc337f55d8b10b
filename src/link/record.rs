//! The link record: [`Link`] as KV holds it under `link:<slug>`, the options of a new one
//! ([`LinkOptions`]), its D1 state ([`LinkState`]) and KV metadata ([`LinkMeta`]), and the pure
//! decisions on it: what a write produces ([`Link::new`], [`Link::patched`], flag and unflag).
//! No `worker` imports, no clock, no randomness: callers pass `now` and generated slugs in.

use serde::{Deserialize, Serialize};

use super::{LinkPatch, PasswordHash, Preview, Slug, Tags, TargetUrl, Targets, Title, Variants};
use crate::account::UserId;
use crate::invalid::InvalidLink;
use crate::lifecycle::{is_expired, OwnerState, RedirectType};
use crate::moderation::FlagReason;
use crate::time::Timestamp;
use crate::version::Version;

/// The whole link, as KV holds it under `link:<slug>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub slug: Slug,
    pub url: TargetUrl,
    pub title: Option<Title>,
    pub owner: UserId,
    pub is_active: bool,
    pub flag_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: Version,
    /// After this instant the link answers 410; KV drops the key after a grace period.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    /// Hidden from the owner's default list; still redirects.
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub redirect_type: RedirectType,
    /// Append the visitor's query string to the destination's.
    #[serde(default = "yes")]
    pub forward_query: bool,
    /// Redirects allowed in all (GETs; counted exactly by the slug's Durable Object).
    #[serde(default)]
    pub max_clicks: Option<u64>,
    /// The owner's labels; values written before tags existed read as none.
    #[serde(default)]
    pub tags: Tags,
    /// Before this instant the link answers 404 (Shlink's `validSince`). Left out of the JSON
    /// when unset, so values without one stay as they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_since: Option<Timestamp>,
    /// Destinations by device and country, tried before `url` (src/link/destination.rs).
    /// Absent from the JSON when unset, like the two below, so older values stay as they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Targets>,
    /// Weighted destinations that replace `url` (an A/B test).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<Variants>,
    /// What social and chat crawlers are shown instead of the redirect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<Preview>,
    /// A visitor must give the password first (`link::password`). Only the hash is kept; the
    /// API never shows it (`has_password`). Left out of the JSON when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<PasswordHash>,
}

fn yes() -> bool {
    true
}

/// The optional settings of a new link.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkOptions {
    pub title: Option<Title>,
    pub expires_at: Option<Timestamp>,
    pub archived: bool,
    pub redirect_type: RedirectType,
    pub forward_query: bool,
    pub state: OwnerState,
    pub max_clicks: Option<u64>,
    pub tags: Tags,
    pub valid_since: Option<Timestamp>,
    pub targets: Option<Targets>,
    pub variants: Option<Variants>,
    pub preview: Option<Preview>,
    pub password_hash: Option<PasswordHash>,
}

impl Default for LinkOptions {
    fn default() -> Self {
        Self {
            title: None,
            expires_at: None,
            archived: false,
            redirect_type: RedirectType::Found,
            forward_query: true,
            state: OwnerState::Active,
            max_clicks: None,
            tags: Tags::default(),
            valid_since: None,
            targets: None,
            variants: None,
            preview: None,
            password_hash: None,
        }
    }
}

/// The D1 `links.state` value of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Active,
    Disabled,
    Flagged,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Active => "active",
            LinkState::Disabled => "disabled",
            LinkState::Flagged => "flagged",
        }
    }
}

impl Link {
    pub fn new(
        slug: Slug,
        url: TargetUrl,
        owner: UserId,
        options: LinkOptions,
        now: Timestamp,
    ) -> Self {
        Self {
            slug,
            url,
            title: options.title,
            owner,
            is_active: options.state == OwnerState::Active,
            flag_reason: None,
            created_at: now,
            updated_at: now,
            version: Version::next(None, now),
            expires_at: options.expires_at,
            archived: options.archived,
            redirect_type: options.redirect_type,
            forward_query: options.forward_query,
            max_clicks: options.max_clicks,
            tags: options.tags,
            valid_since: options.valid_since,
            targets: options.targets,
            variants: options.variants,
            preview: options.preview,
            password_hash: options.password_hash,
        }
    }

    /// The settings the link's owner chose, as a create takes them (what restoring this version
    /// sets again). A flag is the admin's, not a setting: a flagged link's owner had it active.
    pub fn options(&self) -> LinkOptions {
        LinkOptions {
            title: self.title.clone(),
            expires_at: self.expires_at,
            archived: self.archived,
            redirect_type: self.redirect_type,
            forward_query: self.forward_query,
            state: if self.is_active || self.flag_reason.is_some() {
                OwnerState::Active
            } else {
                OwnerState::Disabled
            },
            max_clicks: self.max_clicks,
            tags: self.tags.clone(),
            valid_since: self.valid_since,
            targets: self.targets.clone(),
            variants: self.variants.clone(),
            preview: self.preview.clone(),
            password_hash: self.password_hash.clone(),
        }
    }

    /// The link after its owner's `patch`, with a new version; `Ok(None)` when the patch
    /// changes nothing ([`LinkPatch::changes_nothing`]). A flagged link's state is the admin's:
    /// changing it is refused.
    pub fn patched(&self, patch: LinkPatch, now: Timestamp) -> Result<Option<Link>, InvalidLink> {
        if patch.changes_nothing(&self.tags) {
            return Ok(None);
        }
        if patch.state.is_some() && self.state() == LinkState::Flagged {
            return Err(InvalidLink::State(
                "this link was flagged by an administrator; only they can clear it".into(),
            ));
        }
        Ok(Some(self.rewritten(now, |next| {
            if let Some(url) = patch.url {
                next.url = url;
            }
            if let Some(title) = patch.title {
                next.title = title;
            }
            if let Some(expires_at) = patch.expires_at {
                next.expires_at = expires_at;
            }
            if let Some(archived) = patch.archived {
                next.archived = archived;
            }
            if let Some(redirect_type) = patch.redirect_type {
                next.redirect_type = redirect_type;
            }
            if let Some(forward_query) = patch.forward_query {
                next.forward_query = forward_query;
            }
            if let Some(state) = patch.state {
                next.is_active = state == OwnerState::Active;
            }
            if let Some(max_clicks) = patch.max_clicks {
                next.max_clicks = max_clicks;
            }
            if let Some(tags) = patch.tags {
                next.tags = tags;
            }
            if let Some(edit) = &patch.tag_edit {
                next.tags = next.tags.edited(edit);
            }
            if let Some(valid_since) = patch.valid_since {
                next.valid_since = valid_since;
            }
            if let Some(targets) = patch.targets {
                next.targets = targets;
            }
            if let Some(variants) = patch.variants {
                next.variants = variants;
            }
            if let Some(preview) = patch.preview {
                next.preview = preview;
            }
            if let Some(password_hash) = patch.password_hash {
                next.password_hash = password_hash;
            }
        })))
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        is_expired(self.expires_at, now)
    }

    /// The link flagged by an admin: it stops redirecting; visitors see the category only.
    pub fn flagged(&self, reason: FlagReason, now: Timestamp) -> Link {
        self.rewritten(now, |l| {
            l.is_active = false;
            l.flag_reason = Some(reason.as_str().to_owned());
        })
    }

    /// The link with its flag cleared, active again.
    pub fn unflagged(&self, now: Timestamp) -> Link {
        self.rewritten(now, |l| {
            l.is_active = true;
            l.flag_reason = None;
        })
    }

    fn rewritten(&self, now: Timestamp, change: impl FnOnce(&mut Link)) -> Link {
        let mut next = self.clone();
        change(&mut next);
        next.updated_at = now.max(self.updated_at);
        next.version = Version::next(Some(self.version), now);
        next
    }

    pub fn state(&self) -> LinkState {
        match (self.is_active, &self.flag_reason) {
            (true, _) => LinkState::Active,
            (false, Some(_)) => LinkState::Flagged,
            (false, None) => LinkState::Disabled,
        }
    }

    pub fn meta(&self) -> LinkMeta {
        LinkMeta {
            version: self.version,
            updated_at: self.updated_at,
        }
    }
}

/// The KV metadata stored beside each `link:` key, so that one `list` page tells the reconciler
/// what KV holds without reading values. Well under KV's 1024-byte metadata limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkMeta {
    pub version: Version,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::TagEdit;

    fn owner() -> UserId {
        UserId::admin()
    }

    fn link(now: u64) -> Link {
        Link::new(
            Slug::parse("abc").unwrap(),
            TargetUrl::parse("https://example.com/a").unwrap(),
            owner(),
            LinkOptions::default(),
            Timestamp::from_millis(now),
        )
    }

    #[test]
    fn patch_bumps_version_and_updated_at_and_keeps_the_rest() {
        let before = link(1_000);
        let patch = LinkPatch {
            url: Some(TargetUrl::parse("https://example.org/").unwrap()),
            title: Some(Some(Title::parse("t").unwrap())),
            ..LinkPatch::default()
        };
        let after = before
            .patched(patch, Timestamp::from_millis(2_000))
            .unwrap()
            .unwrap();
        assert_eq!(after.url.as_str(), "https://example.org/");
        assert_eq!(after.title, Some(Title::parse("t").unwrap()));
        assert!(after.version > before.version);
        assert_eq!(after.updated_at, Timestamp::from_millis(2_000));
        assert_eq!(after.created_at, before.created_at);
        assert_eq!(after.owner, before.owner);
    }

    #[test]
    fn empty_patch_is_no_write() {
        assert_eq!(
            link(1).patched(LinkPatch::default(), Timestamp::from_millis(2)),
            Ok(None)
        );
    }

    #[test]
    fn a_tag_edit_is_applied_after_the_tags_and_is_no_write_when_it_touches_none() {
        let mut l = link(1);
        l.tags = Tags::parse(&["a", "b"]).unwrap();
        let edit = |from: &str| LinkPatch {
            tag_edit: Some(TagEdit::Rename {
                from: from.into(),
                to: "c".into(),
            }),
            ..LinkPatch::default()
        };
        let after = l.patched(edit("a"), Timestamp::from_millis(2)).unwrap();
        assert_eq!(
            after.map(|a| Vec::from(a.tags)),
            Some(vec!["c".into(), "b".into()])
        );
        assert_eq!(l.patched(edit("zzz"), Timestamp::from_millis(2)), Ok(None));
        // With another field the write happens, the edit touching nothing.
        let with_title = LinkPatch {
            title: Some(None),
            ..edit("zzz")
        };
        assert!(l
            .patched(with_title, Timestamp::from_millis(2))
            .unwrap()
            .is_some());
        // The new tags first, then the edit.
        let both = LinkPatch {
            tags: Some(Tags::parse(&["x", "zzz"]).unwrap()),
            ..edit("zzz")
        };
        let after = l.patched(both, Timestamp::from_millis(2)).unwrap().unwrap();
        assert_eq!(Vec::from(after.tags), vec!["x", "c"]);
    }

    #[test]
    fn patch_can_clear_the_title() {
        let mut l = link(1);
        l.title = Some(Title::parse("x").unwrap());
        let patch = LinkPatch {
            title: Some(None),
            ..LinkPatch::default()
        };
        assert_eq!(
            l.patched(patch, Timestamp::from_millis(2))
                .unwrap()
                .unwrap()
                .title,
            None
        );
    }

    #[test]
    fn flag_and_unflag_are_versioned_writes() {
        let l = link(1);
        let f = l.flagged(FlagReason::Phishing, Timestamp::from_millis(5));
        assert!(!f.is_active && f.version > l.version);
        assert_eq!(f.flag_reason.as_deref(), Some("phishing"));
        assert_eq!(f.state(), LinkState::Flagged);
        let u = f.unflagged(Timestamp::from_millis(6));
        assert!(u.is_active && u.flag_reason.is_none() && u.version > f.version);
    }

    #[test]
    fn link_round_trips_through_kv_json_and_rejects_corrupt_values() {
        let l = link(1_000);
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(serde_json::from_str::<Link>(&json).unwrap(), l);
        let corrupt = json.replace("https://example.com/a", "javascript:x");
        assert!(serde_json::from_str::<Link>(&corrupt).is_err());
    }

    #[test]
    fn patch_sets_and_clears_tags_and_kv_json_keeps_them() {
        let l = link(1);
        let set = LinkPatch {
            tags: Some(Tags::parse(&["B", "a"]).unwrap()),
            ..LinkPatch::default()
        };
        let tagged = l.patched(set, Timestamp::from_millis(2)).unwrap().unwrap();
        assert_eq!(tagged.tags.as_slice(), ["b", "a"]);
        let json = serde_json::to_string(&tagged).unwrap();
        assert!(json.contains(r#""tags":["b","a"]"#));
        assert_eq!(serde_json::from_str::<Link>(&json).unwrap(), tagged);
        let clear = LinkPatch {
            tags: Some(Tags::default()),
            ..LinkPatch::default()
        };
        let cleared = tagged
            .patched(clear, Timestamp::from_millis(3))
            .unwrap()
            .unwrap();
        assert!(cleared.tags.is_empty() && cleared.version > tagged.version);
        let corrupt = json.replace(r#"["b","a"]"#, r#"["b c"]"#);
        assert!(serde_json::from_str::<Link>(&corrupt).is_err());
    }

    #[test]
    fn valid_since_is_set_cleared_and_absent_from_json_when_unset() {
        let l = link(1);
        assert!(!serde_json::to_string(&l).unwrap().contains("valid_since"));
        let set = LinkPatch {
            valid_since: Some(Some(Timestamp::from_millis(5_000))),
            ..LinkPatch::default()
        };
        let later = l.patched(set, Timestamp::from_millis(2)).unwrap().unwrap();
        assert_eq!(later.valid_since, Some(Timestamp::from_millis(5_000)));
        let json = serde_json::to_string(&later).unwrap();
        assert!(json.contains(r#""valid_since":"1970-01-01T00:00:05.000Z""#));
        assert_eq!(serde_json::from_str::<Link>(&json).unwrap(), later);
        let clear = LinkPatch {
            valid_since: Some(None),
            ..LinkPatch::default()
        };
        let now = later
            .patched(clear, Timestamp::from_millis(3))
            .unwrap()
            .unwrap();
        assert_eq!(now.valid_since, None);
    }

    #[test]
    fn state_follows_active_and_flag() {
        let mut l = link(1);
        assert_eq!(l.state(), LinkState::Active);
        l.is_active = false;
        assert_eq!(l.state(), LinkState::Disabled);
        l.flag_reason = Some("spam".into());
        assert_eq!(l.state(), LinkState::Flagged);
    }

    #[test]
    fn values_written_before_lifecycle_fields_still_parse_with_defaults() {
        let old = r#"{"slug":"abc","url":"https://example.com/a","title":null,"owner":"admin","is_active":true,"flag_reason":null,"created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00.000Z","version":1}"#;
        let l: Link = serde_json::from_str(old).unwrap();
        assert_eq!(
            (l.expires_at, l.archived, l.redirect_type, l.forward_query),
            (None, false, RedirectType::Found, true)
        );
        assert!(l.tags.is_empty());
    }

    #[test]
    fn owners_set_state_archive_expiry_but_not_a_flag() {
        let l = link(1);
        let patch = LinkPatch {
            state: Some(OwnerState::Disabled),
            archived: Some(true),
            expires_at: Some(Some(Timestamp::from_millis(50))),
            redirect_type: Some(RedirectType::Temporary),
            forward_query: Some(false),
            ..LinkPatch::default()
        };
        let p = l
            .patched(patch, Timestamp::from_millis(2))
            .unwrap()
            .unwrap();
        assert_eq!(p.state(), LinkState::Disabled);
        assert!(p.archived && !p.forward_query);
        assert_eq!(p.redirect_type, RedirectType::Temporary);
        assert!(p.is_expired(Timestamp::from_millis(50)));
        let cleared = p
            .patched(
                LinkPatch {
                    expires_at: Some(None),
                    state: Some(OwnerState::Active),
                    ..LinkPatch::default()
                },
                Timestamp::from_millis(3),
            )
            .unwrap()
            .unwrap();
        assert!(!cleared.is_expired(Timestamp::from_millis(u64::MAX / 2)));
        assert_eq!(cleared.state(), LinkState::Active);

        let flagged = l.flagged(FlagReason::Spam, Timestamp::from_millis(2));
        let reactivate = LinkPatch {
            state: Some(OwnerState::Active),
            ..LinkPatch::default()
        };
        assert!(matches!(
            flagged.patched(reactivate, Timestamp::from_millis(3)),
            Err(InvalidLink::State(_))
        ));
        // Other fields of a flagged link stay the owner's.
        let retitle = LinkPatch {
            title: Some(None),
            ..LinkPatch::default()
        };
        let t = flagged
            .patched(retitle, Timestamp::from_millis(3))
            .unwrap()
            .unwrap();
        assert_eq!(t.state(), LinkState::Flagged);
    }
}
