//! The link as Sink (ccbikai/Sink) keeps it: the JSON under its KV key `link:<slug>` and each
//! element of its export file's `links`, in camelCase with times in Unix seconds
//! ([`SinkLink`]); how to tell it from edgelink's own value ([`SinkLink::recognise`]); and its
//! one mapping to an edgelink [`Link`] ([`SinkLink::to_link`]), shared by the in-place adoption
//! of a Sink namespace (the reconciler, the redirect's reading of it) and the import of Sink's
//! export file. Pure: no `worker`, no clock (`now` comes in), no I/O.
//!
//! Sink's shapes, read at its source: 0.2 (`schemas/link.ts`: `id`, `url`, `slug`, `comment`,
//! `createdAt`, `updatedAt`, `expiration`, `title`, `description`, `image`) and 0.3 (adds
//! `apple`, `google`, `cloaking`, `redirectWithQuery`, `proxy`, `password`, `unsafe`, `geo`,
//! `tags`). Older records may lack `id`, `slug`, `createdAt` or `updatedAt`; Sink itself fills
//! those in when it reads them, and so does this mapping. Sink's KV metadata
//! (`{expiration, url, comment, truncated?}`) only mirrors the value, with `url` cut short when
//! long: it tells a key is Sink's, never what the link is.
//!
//! Every field but `url` is read leniently: a field of an unexpected JSON type reads as absent
//! rather than refusing the whole link, because a switching user's old data should redirect
//! wherever it still can. What edgelink has no place for is dropped (docs/import-export.md,
//! "Switching from Sink", lists it).

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::Value;

use crate::account::UserId;
use crate::invalid::InvalidLink;
use crate::lifecycle::RedirectType;
use crate::link::{
    parse_tag, Link, PasswordHash, Preview, Slug, Tags, TargetUrl, Targets, Title, Version,
    PREVIEW_DESCRIPTION_MAX_CHARS, PREVIEW_TITLE_MAX_CHARS, TAGS_MAX, TITLE_MAX_CHARS,
};
use crate::time::Timestamp;

/// Sink's redirect status when its `NUXT_REDIRECT_STATUS_CODE` is not set: adopted links keep
/// answering as they did.
pub const SINK_REDIRECT_STATUS: u16 = 301;

/// The top-level keys of edgelink's own link value that Sink's never has (Sink writes
/// camelCase): a value with any of them is edgelink's, however damaged, and is never adopted.
pub const EDGELINK_KEYS: &[&str] = &["owner", "created_at", "updated_at", "version", "is_active"];

/// The last second edgelink's timestamps write (9999-12-31T23:59:59Z: RFC 3339 has four-digit
/// years). A later Sink time reads as absent: an expiration that far off is no expiry. The
/// redirect's JS side (`sink_view` in src/api/redirect.js) applies the same bound.
pub const SECONDS_MAX: u64 = 253_402_300_799;

/// One link as Sink stores it. Only `url` is required.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SinkLink {
    pub url: String,
    #[serde(default, deserialize_with = "lenient")]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "seconds")]
    pub created_at: Option<u64>,
    #[serde(default, deserialize_with = "seconds")]
    pub updated_at: Option<u64>,
    /// When the link stops redirecting, in Unix seconds (Sink also sets it as the key's KV
    /// expiration, so KV drops it then).
    #[serde(default, deserialize_with = "seconds")]
    pub expiration: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub comment: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub image: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub apple: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub google: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub cloaking: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub redirect_with_query: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub proxy: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub password: Option<String>,
    #[serde(default, rename = "unsafe", deserialize_with = "lenient")]
    pub is_unsafe: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub geo: Option<Value>,
    /// The strings among Sink's `tags`; anything else in the array is ignored.
    #[serde(default, deserialize_with = "strings")]
    pub tags: Vec<String>,
}

/// An edgelink link made from a Sink link, and what of it did not fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Adoption {
    pub link: Link,
    /// Sink's tags that edgelink refuses (whitespace or a comma inside, too long, beyond the
    /// tenth), as Sink had them: the link is kept without them.
    pub dropped_tags: Vec<String>,
}

impl SinkLink {
    /// Reads a KV value or export element as a Sink link: `None` when it is not one (not a JSON
    /// object, no string `url`, or one of edgelink's own keys present, see [`EDGELINK_KEYS`]).
    pub fn recognise(json: &str) -> Option<SinkLink> {
        let value: Value = serde_json::from_str(json).ok()?;
        Self::from_value(value)
    }

    /// [`SinkLink::recognise`] of an already parsed JSON value (an export file's element).
    pub fn from_value(value: Value) -> Option<SinkLink> {
        let object = value.as_object()?;
        if EDGELINK_KEYS.iter().any(|k| object.contains_key(*k)) {
            return None;
        }
        serde_json::from_value(value).ok()
    }

    /// The slug the link names itself by, as edgelink parses slugs (an export file's element;
    /// a KV value's slug is its key's).
    pub fn slug(&self) -> Result<Slug, InvalidLink> {
        Slug::parse(self.slug.as_deref().map(str::trim).unwrap_or_default())
    }

    /// Whether Sink asked for a password before redirecting.
    pub fn is_protected(&self) -> bool {
        self.password
            .as_deref()
            .is_some_and(|p| !p.trim().is_empty())
    }

    /// Sink's password hash (`sink-pwd:v1:…`, PBKDF2-SHA256) in edgelink's form: the link
    /// asks for the same password. `None` for no password, and for a password Sink kept in
    /// plain text (its versions before hashing) or in a form edgelink cannot check.
    pub fn password_hash(&self) -> Option<PasswordHash> {
        PasswordHash::parse(self.password.as_deref()?.trim()).ok()
    }

    /// Whether the link is adopted switched off: Sink asked for a password that edgelink cannot
    /// check (plain text, or not Sink's hash), and opening it to everyone would leak what its
    /// owner protected, so its owner decides.
    pub fn is_stopped(&self) -> bool {
        self.is_protected() && self.password_hash().is_none()
    }

    /// The destination as edgelink stores it (the only part of a Sink link edgelink may refuse).
    pub fn target(&self) -> Result<TargetUrl, InvalidLink> {
        TargetUrl::parse(&self.url)
    }

    /// The expiry instant, if any.
    pub fn expires_at(&self) -> Option<Timestamp> {
        self.expiration.map(seconds_to_timestamp)
    }

    /// Sink's device redirects (0.3: `apple` for iPhone and iPad visitors, `google` for
    /// Android ones) as edgelink's device targets. A URL edgelink cannot redirect to is
    /// dropped, not the link; `None` when neither is left.
    pub fn targets(&self) -> Option<Targets> {
        let url = |raw: &Option<String>| raw.as_deref().and_then(|u| TargetUrl::parse(u).ok());
        let targets = Targets {
            ios: url(&self.apple),
            android: url(&self.google),
            ..Targets::default()
        };
        (targets != Targets::default()).then_some(targets)
    }

    /// Sink's social card (`title`, `description`, `image`, what Sink shows social crawlers)
    /// as edgelink's preview, when it says more than the title alone: every Sink link may
    /// have a title (its dashboard fills one in), and a title alone stays the link's title
    /// rather than turning every crawler's visit into a preview page. Texts are cleaned and
    /// cut as titles are; an image that is not an https URL is dropped.
    pub fn preview(&self) -> Option<Preview> {
        let description = self
            .description
            .as_deref()
            .and_then(|d| cleaned(d, PREVIEW_DESCRIPTION_MAX_CHARS));
        let image = self
            .image
            .as_deref()
            .and_then(|i| TargetUrl::parse(i).ok())
            .filter(|i| i.as_str().starts_with("https://"));
        if description.is_none() && image.is_none() {
            return None;
        }
        Some(Preview {
            title: self
                .title
                .as_deref()
                .and_then(|t| cleaned(t, PREVIEW_TITLE_MAX_CHARS)),
            description,
            image,
        })
    }

    /// Whether the visitor's query string is appended (Sink's per-link `redirectWithQuery`,
    /// off by default as Sink's `NUXT_REDIRECT_WITH_QUERY` is).
    pub fn forward_query(&self) -> bool {
        self.redirect_with_query.unwrap_or(false)
    }

    /// The edgelink link for this Sink link, stored under `slug` and owned by `owner`. Its
    /// version is `updatedAt` in milliseconds (so a later real write, versioned by the clock,
    /// is newer); times missing from older records are `now`. Refused only when edgelink
    /// cannot redirect to the `url`; a title or tags it cannot keep are trimmed to what it can
    /// (the dropped tags are reported in [`Adoption::dropped_tags`]).
    pub fn to_link(
        &self,
        slug: Slug,
        owner: UserId,
        now: Timestamp,
    ) -> Result<Adoption, InvalidLink> {
        let url = self.target()?;
        let created_at = self
            .created_at
            .or(self.updated_at)
            .map_or(now, seconds_to_timestamp);
        let updated_at = self
            .updated_at
            .map_or(created_at, seconds_to_timestamp)
            .max(created_at);
        let (tags, dropped_tags) = sink_tags(&self.tags);
        let link = Link {
            slug,
            url,
            title: self.title.as_deref().and_then(sink_title),
            owner,
            is_active: !self.is_stopped(),
            flag_reason: None,
            created_at,
            updated_at,
            version: Version::new(updated_at.as_millis()),
            expires_at: self.expires_at(),
            archived: false,
            redirect_type: RedirectType::from_status(SINK_REDIRECT_STATUS)
                .unwrap_or(RedirectType::Moved),
            forward_query: self.forward_query(),
            max_clicks: None,
            tags,
            valid_since: None,
            targets: self.targets(),
            variants: None,
            preview: self.preview(),
            password_hash: self.password_hash(),
        };
        Ok(Adoption { link, dropped_tags })
    }
}

/// What a `link:` key holds, told apart once: edgelink's own link, a Sink link, or neither.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    Edgelink(Link),
    Sink(SinkLink),
    /// Not JSON, or JSON that is neither edgelink's link nor Sink's (including a damaged
    /// edgelink value): left alone by everything that adopts.
    Unknown,
}

impl Stored {
    /// Tells a raw KV value apart: edgelink's [`Link`] first, then [`SinkLink::recognise`].
    pub fn classify(raw: &str) -> Stored {
        if let Ok(link) = serde_json::from_str::<Link>(raw) {
            return Stored::Edgelink(link);
        }
        SinkLink::recognise(raw).map_or(Stored::Unknown, Stored::Sink)
    }
}

fn seconds_to_timestamp(secs: u64) -> Timestamp {
    Timestamp::from_millis(secs.min(SECONDS_MAX) * 1000)
}

/// Sink's title as an edgelink [`Title`]: control characters become spaces and it is cut to
/// [`TITLE_MAX_CHARS`] (Sink allows 256, older versions 2048); blank reads as none.
fn sink_title(raw: &str) -> Option<Title> {
    Title::parse(&cleaned(raw, TITLE_MAX_CHARS)?).ok()
}

/// A Sink text as edgelink keeps one: trimmed, control characters made spaces, at most `max`
/// characters, trimmed again; `None` when nothing is left. (`cleaned_text` in
/// src/api/redirect.js does the same for the redirect's reading of a Sink value.)
fn cleaned(raw: &str, max: usize) -> Option<String> {
    let text: String = raw
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    let text = text.trim_end();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Sink's tags under edgelink's rules ([`parse_tag`]), each on its own: a refused tag is dropped
/// and named, the rest kept in order, at most [`TAGS_MAX`].
fn sink_tags(raw: &[String]) -> (Tags, Vec<String>) {
    let mut kept: Vec<String> = Vec::new();
    let mut dropped = Vec::new();
    for tag in raw {
        match parse_tag(tag) {
            Ok(t) if kept.contains(&t) => {}
            Ok(t) if kept.len() < TAGS_MAX => kept.push(t),
            _ => dropped.push(tag.clone()),
        }
    }
    // Every entry passed `parse_tag` and there are at most TAGS_MAX distinct ones.
    let tags = Tags::parse(&kept).unwrap_or_default();
    (tags, dropped)
}

/// A field of the expected type, or absent when the JSON holds anything else.
fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

/// Unix seconds: a whole non-negative number (a fraction is cut), or a string of digits, within
/// edgelink's range; anything else reads as absent.
fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Value::deserialize(d)?;
    let secs = match &v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && *f <= SECONDS_MAX as f64)
                // In range and not negative: the cast only drops the fraction.
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    Ok(secs.filter(|s| *s <= SECONDS_MAX))
}

fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(match v {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> UserId {
        UserId::from_random("abcdefghijkl")
    }

    fn slug(s: &str) -> Slug {
        Slug::parse(s).unwrap()
    }

    fn adopt(json: &str) -> Adoption {
        SinkLink::recognise(json)
            .expect("a Sink link")
            .to_link(slug("abc"), owner(), Timestamp::from_millis(9_000_000))
            .expect("adoptable")
    }

    /// A value as Sink 0.2's create writes it (`schemas/link.ts` at v0.2.1).
    const SINK_02: &str = r#"{"id":"k3x9vd2mpa","url":"https://example.com/a?b=1","slug":"abc","comment":"note","createdAt":1700000000,"updatedAt":1700000500,"expiration":1900000000,"title":"Hello","description":"desc","image":"https://example.com/i.png"}"#;

    #[test]
    fn a_sink_02_value_maps_to_an_edgelink_link_with_sinks_defaults() {
        let a = adopt(SINK_02);
        let l = a.link;
        assert_eq!(l.slug.as_str(), "abc");
        assert_eq!(l.url.as_str(), "https://example.com/a?b=1");
        assert_eq!(l.owner, owner());
        assert_eq!(l.title.as_ref().map(Title::as_str), Some("Hello"));
        assert_eq!(l.created_at, Timestamp::from_millis(1_700_000_000_000));
        assert_eq!(l.updated_at, Timestamp::from_millis(1_700_000_500_000));
        assert_eq!(l.version, Version::new(1_700_000_500_000));
        assert_eq!(
            l.expires_at,
            Some(Timestamp::from_millis(1_900_000_000_000))
        );
        assert!(l.is_active && !l.archived && l.flag_reason.is_none());
        assert_eq!(l.redirect_type.status(), 301);
        assert!(!l.forward_query);
        assert_eq!(l.max_clicks, None);
        assert!(l.tags.is_empty() && a.dropped_tags.is_empty());
    }

    #[test]
    fn a_sink_03_value_keeps_tags_and_query_forwarding_and_drops_the_rest() {
        let json = r#"{"id":"x","url":"https://example.com/","slug":"abc","createdAt":1700000000,"updatedAt":1700000001,"tags":["Go","rust","go","has space","a,b",7,"x23456789012345678901234567890123"],"redirectWithQuery":true,"cloaking":true,"proxy":false,"unsafe":true,"apple":"https://apps.apple.com/x","google":"https://play.google.com/x","geo":{"DE":"https://example.de/"}}"#;
        let a = adopt(json);
        assert_eq!(a.link.tags.as_slice(), ["go", "rust"]);
        assert_eq!(
            a.dropped_tags,
            vec!["has space", "a,b", "x23456789012345678901234567890123"]
        );
        assert!(a.link.forward_query && a.link.is_active);
        // The device redirects are device targets.
        let targets = a.link.targets.as_ref().expect("targets");
        assert_eq!(
            (
                targets.ios.as_ref().map(TargetUrl::as_str),
                targets.android.as_ref().map(TargetUrl::as_str)
            ),
            (
                Some("https://apps.apple.com/x"),
                Some("https://play.google.com/x")
            )
        );
        assert!(targets.desktop.is_none() && targets.countries.is_empty());
        // Nothing of cloaking, proxy, unsafe or geo reaches the stored link.
        let stored = serde_json::to_string(&a.link).unwrap();
        for gone in ["example.de", "cloaking", "unsafe", "proxy"] {
            assert!(!stored.contains(gone), "{gone} in {stored}");
        }
    }

    #[test]
    fn sinks_social_card_is_a_preview_when_it_says_more_than_the_title() {
        // SINK_02 has a description and an https image: a preview, the title in it too.
        let p = adopt(SINK_02).link.preview.expect("a preview");
        assert_eq!(
            (
                p.title.as_deref(),
                p.description.as_deref(),
                p.image.as_ref().map(TargetUrl::as_str)
            ),
            (
                Some("Hello"),
                Some("desc"),
                Some("https://example.com/i.png")
            )
        );
        // A title alone stays the title; an http image is no card.
        let titled = adopt(
            r#"{"url":"https://example.com/","title":"T","image":"http://example.com/i.png"}"#,
        );
        assert_eq!(titled.link.preview, None);
        assert_eq!(titled.link.title.as_ref().map(Title::as_str), Some("T"));
        // Texts cleaned and cut as the API would take them; a blank one is none.
        let long = "d".repeat(PREVIEW_DESCRIPTION_MAX_CHARS + 10);
        let json = serde_json::json!({
            "url": "https://example.com/", "title": "  ", "description": format!(" a\u{7}b{long}")
        });
        let p = adopt(&json.to_string()).link.preview.expect("a preview");
        assert_eq!(p.title, None);
        let d = p.description.expect("description");
        assert!(d.starts_with("a b") && d.chars().count() == PREVIEW_DESCRIPTION_MAX_CHARS);
        // What the adoption keeps, the API would take: the stored preview parses as one.
        let again = Preview::parse(&serde_json::to_value(adopt(SINK_02).link.preview).unwrap());
        assert!(again.is_ok(), "{again:?}");
    }

    #[test]
    fn a_device_redirect_edgelink_cannot_follow_is_dropped_and_the_link_kept() {
        let a = adopt(
            r#"{"url":"https://example.com/","apple":"javascript:alert(1)","google":"https://play.google.com/x"}"#,
        );
        let t = a.link.targets.expect("targets");
        assert_eq!(t.ios, None);
        assert!(t.android.is_some());
        assert_eq!(
            adopt(r#"{"url":"https://example.com/","apple":5,"google":""}"#)
                .link
                .targets,
            None
        );
    }

    #[test]
    fn more_than_ten_tags_keep_the_first_ten() {
        let tags: Vec<String> = (0..12).map(|i| format!("\"t{i}\"")).collect();
        let json = format!(
            r#"{{"url":"https://example.com/","tags":[{}]}}"#,
            tags.join(",")
        );
        let a = adopt(&json);
        assert_eq!(a.link.tags.as_slice().len(), 10);
        assert_eq!(a.dropped_tags, vec!["t10", "t11"]);
    }

    #[test]
    fn a_sink_password_hash_is_adopted_as_the_links_password() {
        let hash = "sink-pwd:v1:10000:c2FsdHNhbHRzYWx0c2FsdA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:MTIz";
        let a = adopt(&format!(
            r#"{{"url":"https://example.com/","password":"{hash}"}}"#
        ));
        assert!(a.link.is_active);
        assert_eq!(
            a.link.password_hash.as_ref().map(|h| h.as_str()),
            Some("pbkdf2-sha256:10000:c2FsdHNhbHRzYWx0c2FsdA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        );
    }

    #[test]
    fn a_plain_text_password_link_is_adopted_switched_off() {
        let a = adopt(r#"{"url":"https://example.com/","password":"hunter2"}"#);
        assert!(!a.link.is_active && a.link.flag_reason.is_none());
        let blank = adopt(r#"{"url":"https://example.com/","password":"  "}"#);
        assert!(blank.link.is_active);
    }

    #[test]
    fn an_old_record_without_times_or_slug_takes_now_and_the_key() {
        let a = adopt(r#"{"url":"https://example.com/"}"#);
        assert_eq!(a.link.created_at, Timestamp::from_millis(9_000_000));
        assert_eq!(a.link.updated_at, a.link.created_at);
        assert_eq!(a.link.version, Version::new(9_000_000));
        assert_eq!(a.link.slug.as_str(), "abc");
        // updatedAt alone dates both; an updatedAt before createdAt is raised to it.
        let u = adopt(r#"{"url":"https://example.com/","updatedAt":1700000000}"#);
        assert_eq!(u.link.created_at, Timestamp::from_millis(1_700_000_000_000));
        let back = adopt(r#"{"url":"https://example.com/","createdAt":20,"updatedAt":10}"#);
        assert_eq!(back.link.updated_at, Timestamp::from_millis(20_000));
    }

    #[test]
    fn fields_of_the_wrong_type_read_as_absent() {
        let a = adopt(
            r#"{"url":"https://example.com/","slug":5,"createdAt":"1700000000","updatedAt":1700000000.7,"expiration":-5,"title":["x"],"tags":"a,b","redirectWithQuery":"yes","password":12}"#,
        );
        assert_eq!(a.link.created_at, Timestamp::from_millis(1_700_000_000_000));
        assert_eq!(a.link.updated_at, Timestamp::from_millis(1_700_000_000_000));
        assert_eq!(a.link.expires_at, None);
        assert_eq!(a.link.title, None);
        assert!(a.link.tags.is_empty() && !a.link.forward_query && a.link.is_active);
        // Times past year 9999 read as absent rather than overflowing.
        for far in ["1e300", "253402300800"] {
            let json = format!(r#"{{"url":"https://example.com/","expiration":{far}}}"#);
            assert_eq!(adopt(&json).link.expires_at, None, "{far}");
        }
        let last = adopt(r#"{"url":"https://example.com/","expiration":253402300799}"#);
        assert_eq!(
            last.link.expires_at.map(Timestamp::to_rfc3339).as_deref(),
            Some("9999-12-31T23:59:59.000Z")
        );
    }

    #[test]
    fn a_title_edgelink_cannot_hold_is_cleaned_and_cut() {
        let long = "é".repeat(300);
        let a = adopt(&format!(
            r#"{{"url":"https://example.com/","title":"{long}"}}"#
        ));
        assert_eq!(
            a.link.title.map(|t| t.as_str().chars().count()),
            Some(TITLE_MAX_CHARS)
        );
        let ctl = adopt(r#"{"url":"https://example.com/","title":"a\tb"}"#);
        assert_eq!(ctl.link.title.as_ref().map(Title::as_str), Some("a b"));
        let blank = adopt(r#"{"url":"https://example.com/","title":"  "}"#);
        assert_eq!(blank.link.title, None);
    }

    #[test]
    fn edgelinks_own_values_and_other_json_are_not_sink_links() {
        let own = r#"{"slug":"abc","url":"https://example.com/a","title":null,"owner":"admin","is_active":true,"flag_reason":null,"created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00.000Z","version":1}"#;
        assert_eq!(SinkLink::recognise(own), None);
        // A damaged edgelink value is still edgelink's, never adopted.
        assert_eq!(
            SinkLink::recognise(r#"{"url":"https://example.com/","owner":5}"#),
            None
        );
        for other in [
            "",
            "null",
            "[]",
            "\"https://example.com/\"",
            "{}",
            r#"{"url":5}"#,
            "{bad",
        ] {
            assert_eq!(SinkLink::recognise(other), None, "{other}");
        }
    }

    #[test]
    fn stored_values_are_told_apart() {
        let own = Link::new(
            slug("abc"),
            TargetUrl::parse("https://example.com/").unwrap(),
            owner(),
            crate::link::LinkOptions::default(),
            Timestamp::from_millis(5),
        );
        let json = serde_json::to_string(&own).unwrap();
        assert_eq!(Stored::classify(&json), Stored::Edgelink(own));
        assert!(matches!(Stored::classify(SINK_02), Stored::Sink(_)));
        let damaged = json.replace("https://example.com/", "javascript:x");
        for other in [damaged.as_str(), "garbage", "{}", "[1]", "42"] {
            assert_eq!(Stored::classify(other), Stored::Unknown, "{other}");
        }
    }

    #[test]
    fn a_url_edgelink_cannot_redirect_to_is_refused() {
        for bad in ["javascript:alert(1)", "ftp://example.com/", "not a url"] {
            let s = SinkLink::recognise(&format!(r#"{{"url":"{bad}"}}"#)).unwrap();
            assert!(matches!(
                s.to_link(slug("abc"), owner(), Timestamp::from_millis(1)),
                Err(InvalidLink::Url(_))
            ));
        }
    }

    #[test]
    fn an_export_elements_slug_is_parsed_as_edgelinks() {
        let s = SinkLink::recognise(SINK_02).unwrap();
        assert_eq!(s.slug().unwrap().as_str(), "abc");
        let short = SinkLink::recognise(r#"{"url":"https://example.com/","slug":"ab"}"#).unwrap();
        assert!(matches!(short.slug(), Err(InvalidLink::Slug(_))));
        let none = SinkLink::recognise(r#"{"url":"https://example.com/"}"#).unwrap();
        assert!(none.slug().is_err());
    }
}
