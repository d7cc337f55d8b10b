//! The link domain: [`Slug`], [`TargetUrl`], [`Title`], [`Version`] and [`Link`], each parsed
//! once at the edge so that stores, sync and reconcile can trust them, plus the pure decisions
//! on links: what a write produces ([`Link::new`], [`Link::patched`]) and what a redirect answers
//! ([`Redirect::decide`]).
//!
//! No `worker` imports, no clock, no randomness: callers pass `now` and generated slugs in.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::account::UserId;
use crate::lifecycle::{is_expired, OwnerState, RedirectType};
use crate::moderation::FlagReason;
use crate::time::Timestamp;
use crate::web_url::WebUrl;

/// Slugs are 3 to 64 characters from `A-Z a-z 0-9 _ -`, case-sensitive.
pub const SLUG_MIN_LEN: usize = 3;
pub const SLUG_MAX_LEN: usize = 64;
/// Generated slugs: alphanumeric only (nothing to misread or mis-type), 62^7 ≈ 3.5e12 of them.
pub const GENERATED_SLUG_LEN: usize = 7;
/// The alphabet of generated slugs, user ids and API keys.
pub const ALPHANUMERIC: [char; 62] = [
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S',
    'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l',
    'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '0', '1', '2', '3', '4',
    '5', '6', '7', '8', '9',
];
/// Paths the shortener serves itself or may serve later; compared case-insensitively so that
/// `/API` cannot shadow `/api` in a reader's eyes.
pub const RESERVED_SLUGS: &[&str] = &[
    "api",
    "admin",
    "healthz",
    "favicon.ico",
    "robots.txt",
    "sitemap.xml",
    "static",
    "assets",
    "login",
    "logout",
    "signup",
    "dashboard",
    "docs",
    "help",
    "about",
    "www",
];
pub const URL_MAX_LEN: usize = 2048;
/// The largest integer every reader of a stored number holds exactly (the redirect's
/// `JSON.parse`, D1's binding through JS numbers): 2^53 − 1. Numbers that enter are bounded by it.
pub const SAFE_INTEGER_MAX: u64 = (1 << 53) - 1;
pub const TITLE_MAX_CHARS: usize = 200;

/// Why a value from outside was refused. Each maps to one API error code. Serializable: the
/// slug's Durable Object, which applies patches, sends a refusal back as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvalidLink {
    #[error("{0}")]
    Slug(String),
    #[error("{0}")]
    Url(String),
    #[error("{0}")]
    Title(String),
    #[error("{0}")]
    Expiry(String),
    #[error("{0}")]
    RedirectType(String),
    #[error("{0}")]
    State(String),
    #[error("{0}")]
    MaxClicks(String),
}

/// The short name of a link: the path segment of its short URL and the KV key suffix.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, InvalidLink> {
        if !(SLUG_MIN_LEN..=SLUG_MAX_LEN).contains(&raw.len()) {
            return Err(InvalidLink::Slug(format!(
                "slug must be {SLUG_MIN_LEN} to {SLUG_MAX_LEN} characters long"
            )));
        }
        if !raw.bytes().all(is_slug_byte) {
            return Err(InvalidLink::Slug(
                "slug may contain only A-Z, a-z, 0-9, '-' and '_'".into(),
            ));
        }
        if is_reserved(raw) {
            return Err(InvalidLink::Slug(format!("slug '{raw}' is reserved")));
        }
        Ok(Self(raw.to_owned()))
    }

    /// [`Slug::parse`] without allocating, for the redirect path.
    pub fn is_valid(raw: &str) -> bool {
        (SLUG_MIN_LEN..=SLUG_MAX_LEN).contains(&raw.len())
            && raw.bytes().all(is_slug_byte)
            && !is_reserved(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_slug_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn is_reserved(raw: &str) -> bool {
    RESERVED_SLUGS.iter().any(|r| r.eq_ignore_ascii_case(raw))
}

impl TryFrom<String> for Slug {
    type Error = InvalidLink;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Slug::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> Self {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a link points: an absolute http(s) URL with a host and no credentials, stored in the
/// WHATWG URL Standard's normalised form (so a `Location` header can never carry raw spaces or
/// CRLF), as the runtime's `URL` serialises it ([`crate::web_url`]); Unicode hosts in punycode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TargetUrl(String);

impl TargetUrl {
    /// Parses a destination. `own_host` is the shortener's own host: a link to it would loop.
    pub fn parse_for(raw: &str, own_host: &str) -> Result<Self, InvalidLink> {
        let (url, host) = Self::parse_inner(raw)?;
        let own = own_host.split(':').next().unwrap_or(own_host);
        if !own.is_empty() && host.eq_ignore_ascii_case(own) {
            return Err(InvalidLink::Url(
                "url must not point at the shortener itself".into(),
            ));
        }
        Ok(url)
    }

    /// Parses a stored destination (no own-host check: the host is not known when reading).
    pub fn parse(raw: &str) -> Result<Self, InvalidLink> {
        Self::parse_inner(raw).map(|(url, _)| url)
    }

    fn parse_inner(raw: &str) -> Result<(Self, String), InvalidLink> {
        let bad = |why: &str| InvalidLink::Url(why.to_owned());
        if raw.len() > URL_MAX_LEN {
            return Err(bad("url is longer than 2048 bytes"));
        }
        let url = WebUrl::parse(raw.trim())
            .ok_or_else(|| bad("url must be an absolute http or https URL"))?;
        if !matches!(url.scheme.as_str(), "http" | "https") {
            return Err(bad("url must use http or https"));
        }
        if url.host.is_empty() {
            return Err(bad("url must have a host"));
        }
        if url.has_credentials {
            return Err(bad("url must not contain a user name or password"));
        }
        let WebUrl {
            href: normalised,
            host,
            ..
        } = url;
        if normalised.len() > URL_MAX_LEN {
            return Err(bad("url is longer than 2048 bytes"));
        }
        Ok((Self(normalised), host))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The destination's host (lower-case, IDNA form), for the blocklist.
    pub fn host(&self) -> String {
        WebUrl::parse(&self.0).map(|u| u.host).unwrap_or_default()
    }
}

impl TryFrom<String> for TargetUrl {
    type Error = InvalidLink;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TargetUrl::parse(&s)
    }
}

impl From<TargetUrl> for String {
    fn from(u: TargetUrl) -> Self {
        u.0
    }
}

/// A human label for a link: at most 200 characters, no control characters, trimmed, non-empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, InvalidLink> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(InvalidLink::Title(
                "title must not be empty (send null to clear it)".into(),
            ));
        }
        if t.chars().count() > TITLE_MAX_CHARS {
            return Err(InvalidLink::Title(format!(
                "title must be at most {TITLE_MAX_CHARS} characters"
            )));
        }
        if t.chars().any(char::is_control) {
            return Err(InvalidLink::Title(
                "title must not contain control characters".into(),
            ));
        }
        Ok(Self(t.to_owned()))
    }
}

impl Title {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Title {
    type Error = InvalidLink;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Title::parse(&s)
    }
}

impl From<Title> for String {
    fn from(t: Title) -> Self {
        t.0
    }
}

/// Orders the writes of one slug. It is the write's time in ms, or one more than the previous
/// version when the clock has not moved past it, so it increases with every write and keeps
/// increasing across delete and re-create (a delayed write of an earlier life can never win).
/// Fits in 2^53, so it survives D1's JS-number binding.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Version(u64);

impl Version {
    pub fn new(v: u64) -> Self {
        Self(v)
    }

    pub fn next(previous: Option<Version>, now: Timestamp) -> Self {
        let after_previous = previous.map_or(0, |p| p.0 + 1);
        Self(after_previous.max(now.as_millis()))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

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
        }
    }
}

/// A partial update: `None` leaves a field alone; `title: Some(None)` clears the title and
/// `expires_at: Some(None)` the expiry. Travels to the slug's Durable Object as JSON, where an
/// absent field and `null` stay apart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<TargetUrl>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub title: Option<Option<Title>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub expires_at: Option<Option<Timestamp>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_type: Option<RedirectType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_query: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<OwnerState>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub max_clicks: Option<Option<u64>>,
}

/// Tells a present field (`Some`, its `null` included as `Some(None)`) from an absent one
/// (`None`, by `#[serde(default)]`), which serde's `Option<Option<T>>` alone cannot.
pub fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl LinkPatch {
    pub fn is_empty(&self) -> bool {
        *self == LinkPatch::default()
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
        }
    }

    /// The link after its owner's `patch`, with a new version; `Ok(None)` when the patch is
    /// empty. A flagged link's state is the admin's: changing it is refused.
    pub fn patched(&self, patch: LinkPatch, now: Timestamp) -> Result<Option<Link>, InvalidLink> {
        if patch.is_empty() {
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

/// A stored link as a redirect reads it: the fields of [`Link`]'s JSON that decide what a visitor
/// gets. The destination is not among them: the caller keeps it where it was read.
///
/// On the edge these come from the runtime's `JSON.parse` of the KV value, with their JSON types
/// checked by the JS side of `api::redirect` (a field of the wrong type, or a missing `url`,
/// `slug`, `owner` or `created_at`, and there is no `StoredRedirect`: the value is not a link).
/// Their values are checked by [`Redirect::decide`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredRedirect<'a> {
    pub is_active: bool,
    pub flag_reason: Option<&'a str>,
    pub expires_at: Option<&'a str>,
    /// The number stored (302 when absent, as `Link` reads it).
    pub redirect_type: u16,
    pub forward_query: bool,
    /// The JSON number stored, if any.
    pub max_clicks: Option<f64>,
}

/// What `GET /<slug>` answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Redirect {
    To(Hop),
    NotFound,
    Unavailable(Unavailable),
}

/// How a redirect sends its visitor on to the stored `url`, and whether its clicks are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    pub redirect_type: RedirectType,
    pub forward_query: bool,
    pub max_clicks: Option<u64>,
}

/// Why a link does not redirect, as its visitors are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// Switched off by its owner.
    Disabled,
    /// Flagged by an admin, with the reason category.
    Flagged(FlagReason),
    /// Past its `expires_at`.
    Expired,
    /// All of its `max_clicks` used.
    LimitReached,
}

impl Redirect {
    /// Decides the redirect from the stored link of `link:<slug>`; `None` is a missing key or a
    /// value that is not a link. A value that [`Link`] could not have been read from (a redirect
    /// type, click limit or expiry it does not write) is treated as missing rather than
    /// redirecting anywhere. The clock is read only for a link that has an expiry.
    pub fn decide(stored: Option<StoredRedirect>, now: impl FnOnce() -> Timestamp) -> Self {
        let Some(f) = stored else {
            return Redirect::NotFound;
        };
        let Some(redirect_type) = RedirectType::from_status(f.redirect_type) else {
            return Redirect::NotFound;
        };
        let max_clicks = match f.max_clicks.map(whole_number) {
            None => None,
            Some(None) => return Redirect::NotFound,
            Some(limit) => limit,
        };
        if !f.is_active {
            return Redirect::Unavailable(match f.flag_reason {
                // Only the flag endpoint writes a reason, and it takes categories only; anything
                // else in KV still stops the link, and visitors learn no more than "other".
                Some(reason) => {
                    Unavailable::Flagged(FlagReason::parse(reason).unwrap_or(FlagReason::Other))
                }
                None => Unavailable::Disabled,
            });
        }
        if let Some(raw) = f.expires_at {
            match Timestamp::parse(raw) {
                Some(at) if at > now() => {}
                Some(_) => return Redirect::Unavailable(Unavailable::Expired),
                None => return Redirect::NotFound,
            }
        }
        Redirect::To(Hop {
            redirect_type,
            forward_query: f.forward_query,
            max_clicks,
        })
    }
}

/// A JSON number as the `u64` serde would have read: whole, not negative, and exact (JSON
/// numbers reach Rust through JS doubles, exact up to 2^53).
fn whole_number(n: f64) -> Option<u64> {
    // 2^53. `as` saturates and drops the fraction; the checks make the conversion exact.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    ((0.0..=EXACT).contains(&n) && n.fract() == 0.0).then_some(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn slug_accepts_the_safe_alphabet_case_sensitively() {
        for ok in ["abc", "A-b_9", "AbcDef1", &"x".repeat(64)] {
            assert_eq!(Slug::parse(ok).unwrap().as_str(), ok);
        }
        assert_ne!(Slug::parse("Abc").unwrap(), Slug::parse("abc").unwrap());
    }

    #[test]
    fn slug_rejects_bad_length_characters_and_reserved_words() {
        let too_long = "x".repeat(65);
        for bad in [
            "",
            "ab",
            too_long.as_str(),
            "has space",
            "dot.ted",
            "slash/x",
            "ünï",
            "a%20b",
            "API",
            "admin",
            "Healthz",
            "robots.txt",
        ] {
            assert!(
                matches!(Slug::parse(bad), Err(InvalidLink::Slug(_))),
                "{bad:?}"
            );
            assert!(!Slug::is_valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn generated_alphabet_is_alphanumeric_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in ALPHANUMERIC {
            assert!(c.is_ascii_alphanumeric());
            assert!(seen.insert(c));
        }
    }

    #[test]
    fn url_accepts_http_and_https_and_normalises() {
        assert_eq!(
            TargetUrl::parse("https://Example.COM").unwrap().as_str(),
            "https://example.com/"
        );
        assert_eq!(
            TargetUrl::parse("http://example.com/a b?q=1#f")
                .unwrap()
                .as_str(),
            "http://example.com/a%20b?q=1#f"
        );
    }

    #[test]
    fn url_rejects_what_is_not_an_absolute_web_url() {
        let long = format!("https://example.com/{}", "a".repeat(3000));
        for bad in [
            "",
            "example.com",
            "/relative",
            "ftp://example.com",
            "javascript:alert(1)",
            "data:text/html,hi",
            "http://",
            "https://user:pw@example.com",
            "https://user@example.com",
            long.as_str(),
        ] {
            assert!(
                matches!(TargetUrl::parse(bad), Err(InvalidLink::Url(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn url_must_not_point_at_the_shortener() {
        assert!(TargetUrl::parse_for("https://sho.rt/x", "sho.rt").is_err());
        assert!(TargetUrl::parse_for("http://SHO.RT:8080/x", "sho.rt:443").is_err());
        assert!(TargetUrl::parse_for("https://example.com/x", "sho.rt").is_ok());
    }

    #[test]
    fn title_is_trimmed_bounded_and_printable() {
        assert_eq!(String::from(Title::parse("  hi  ").unwrap()), "hi");
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert!(Title::parse(&"é".repeat(201)).is_err());
        assert!(Title::parse("a\u{0}b").is_err());
        assert!(Title::parse("   ").is_err());
    }

    #[test]
    fn version_follows_the_clock_and_always_increases() {
        let t = Timestamp::from_millis(5_000);
        assert_eq!(Version::next(None, t).get(), 5_000);
        assert_eq!(Version::next(Some(Version::new(4_000)), t).get(), 5_000);
        // Same millisecond, or a clock behind the last write: still strictly newer.
        assert_eq!(Version::next(Some(Version::new(5_000)), t).get(), 5_001);
        assert_eq!(Version::next(Some(Version::new(9_000)), t).get(), 9_001);
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
    fn url_host_is_normalised() {
        assert_eq!(
            TargetUrl::parse("https://A.Example.com/x").unwrap().host(),
            "a.example.com"
        );
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
    fn state_follows_active_and_flag() {
        let mut l = link(1);
        assert_eq!(l.state(), LinkState::Active);
        l.is_active = false;
        assert_eq!(l.state(), LinkState::Disabled);
        l.flag_reason = Some("spam".into());
        assert_eq!(l.state(), LinkState::Flagged);
    }

    /// What the JS side of `api::redirect` reads from `JSON.parse` of a stored value, written
    /// again over serde_json's `Value`: the same fields, JSON types and defaults. `None`: not a
    /// link.
    fn stored(v: &serde_json::Value) -> Option<StoredRedirect<'_>> {
        use serde_json::Value;
        let o = v.as_object()?;
        for required in ["url", "slug", "owner", "created_at"] {
            o.get(required)?.as_str()?;
        }
        let text = |k: &str| match o.get(k) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.as_str())),
            Some(_) => None,
        };
        let flag = |k: &str, absent: bool| match o.get(k) {
            None => Some(absent),
            Some(v) => v.as_bool(),
        };
        let redirect_type = match o.get("redirect_type") {
            None => 302,
            Some(v) => {
                let n = v.as_f64()?;
                (n.fract() == 0.0 && (0.0..=65535.0).contains(&n)).then_some(n as u16)?
            }
        };
        let max_clicks = match o.get("max_clicks") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_f64()?),
        };
        Some(StoredRedirect {
            is_active: o.get("is_active")?.as_bool()?,
            flag_reason: text("flag_reason")?,
            expires_at: text("expires_at")?,
            redirect_type,
            forward_query: flag("forward_query", true)?,
            max_clicks,
        })
    }

    fn decide_at(json: &str, now: u64) -> Redirect {
        let Ok(v) = serde_json::from_str(json) else {
            return Redirect::decide(None, || unreachable!());
        };
        Redirect::decide(stored(&v), || Timestamp::from_millis(now))
    }

    #[test]
    fn redirect_decision_reads_only_state_expiry_and_options() {
        let l = link(1);
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(
            decide_at(&json, 2),
            Redirect::To(Hop {
                redirect_type: RedirectType::Found,
                forward_query: true,
                max_clicks: None,
            })
        );
        let mut off = l.clone();
        off.is_active = false;
        let json = serde_json::to_string(&off).unwrap();
        assert_eq!(
            decide_at(&json, 2),
            Redirect::Unavailable(Unavailable::Disabled)
        );
        let json =
            serde_json::to_string(&l.flagged(FlagReason::Spam, Timestamp::from_millis(2))).unwrap();
        assert_eq!(
            decide_at(&json, 2),
            Redirect::Unavailable(Unavailable::Flagged(FlagReason::Spam))
        );
        let unknown = json.replace("\"spam\"", "\"<b>odd</b>\"");
        assert_ne!(unknown, json);
        assert_eq!(
            decide_at(&unknown, 2),
            Redirect::Unavailable(Unavailable::Flagged(FlagReason::Other))
        );
        assert_eq!(
            Redirect::decide(None, || unreachable!()),
            Redirect::NotFound
        );
        assert_eq!(decide_at("not json", 2), Redirect::NotFound);
    }

    #[test]
    fn redirect_decision_honours_expiry_type_and_query_option() {
        let mut l = link(1);
        l.expires_at = Some(Timestamp::from_millis(100));
        l.redirect_type = RedirectType::Permanent;
        l.forward_query = false;
        l.max_clicks = Some(5);
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(
            decide_at(&json, 99),
            Redirect::To(Hop {
                redirect_type: RedirectType::Permanent,
                forward_query: false,
                max_clicks: Some(5),
            })
        );
        assert_eq!(
            decide_at(&json, 100),
            Redirect::Unavailable(Unavailable::Expired)
        );
        // A link without an expiry never reads the clock.
        let json = serde_json::to_string(&link(1)).unwrap();
        let v = serde_json::from_str(&json).unwrap();
        assert!(matches!(
            Redirect::decide(stored(&v), || unreachable!()),
            Redirect::To(_)
        ));
    }

    #[test]
    fn a_value_link_could_not_have_written_is_no_link() {
        let json = serde_json::to_string(&link(1)).unwrap();
        let with = |field: &str, value: &str| {
            let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
            v[field] = serde_json::from_str(value).unwrap();
            v.to_string()
        };
        for (field, value) in [
            ("redirect_type", "303"),
            ("redirect_type", "302.5"),
            ("redirect_type", "null"),
            ("redirect_type", "\"302\""),
            ("max_clicks", "-1"),
            ("max_clicks", "1.5"),
            ("max_clicks", "1e300"),
            ("max_clicks", "\"5\""),
            ("expires_at", "\"tomorrow\""),
            ("expires_at", "1700000000000"),
            ("is_active", "\"yes\""),
            ("is_active", "null"),
            ("forward_query", "null"),
            ("url", "null"),
            ("owner", "7"),
            ("flag_reason", "false"),
        ] {
            assert_eq!(
                decide_at(&with(field, value), 2),
                Redirect::NotFound,
                "{field}: {value}"
            );
        }
        for not_a_link in ["null", "[]", "\"link\"", "{}"] {
            assert_eq!(decide_at(not_a_link, 2), Redirect::NotFound, "{not_a_link}");
        }
        // The largest click limit a JSON number holds exactly still counts.
        assert_eq!(
            decide_at(&with("max_clicks", "9007199254740992"), 2),
            Redirect::To(Hop {
                redirect_type: RedirectType::Found,
                forward_query: true,
                max_clicks: Some(1 << 53),
            })
        );
    }

    #[test]
    fn values_written_before_lifecycle_fields_still_parse_with_defaults() {
        let old = r#"{"slug":"abc","url":"https://example.com/a","title":null,"owner":"admin","is_active":true,"flag_reason":null,"created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00.000Z","version":1}"#;
        let l: Link = serde_json::from_str(old).unwrap();
        assert_eq!(
            (l.expires_at, l.archived, l.redirect_type, l.forward_query),
            (None, false, RedirectType::Found, true)
        );
        assert!(matches!(decide_at(old, 5), Redirect::To(_)));
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
