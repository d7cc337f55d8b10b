//! A link's lifecycle rules: when it expires ([`ExpiryChange`], [`kv_expiration_secs`]), how it
//! redirects ([`RedirectType`], [`merge_query`]) and what its owner may set ([`OwnerState`]).
//!
//! Pure: the shell passes in the time and the configured defaults.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::invalid::{InvalidLink, SAFE_INTEGER_MAX};
use crate::route::byte_position;
use crate::time::Timestamp;

pub const SECOND_MILLIS: u64 = 1_000;
/// 100 Julian years: the furthest ahead an expiry may be set.
pub const MAX_EXPIRY_AHEAD_MILLIS: u64 = 3_155_760_000 * SECOND_MILLIS;
/// KV refuses an `expiration` less than 60 s ahead; the margin covers the time between our
/// clock reading and KV's.
pub const KV_MIN_EXPIRATION_AHEAD_MILLIS: u64 = 65 * SECOND_MILLIS;
pub const DEFAULT_EXPIRED_GRACE_DAYS: u64 = 30;
/// The latest `expiration` KV takes: `i32::MAX` seconds, 2038-01-19T03:14:07Z.
pub const KV_MAX_EXPIRATION_SECS: u64 = i32::MAX as u64;
/// Browsers may reuse a temporary redirect this long; an update reaches them within it.
pub const TEMPORARY_CACHE_CONTROL: &str = "private, max-age=90";
pub const DEFAULT_PERMANENT_MAX_AGE_SECS: u64 = 3600;

/// What a write asks of a link's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryChange {
    /// Neither `expires_at` nor `ttl` was sent.
    Unspecified,
    /// `expires_at: null`: no expiry (and, on create, no default).
    Clear,
    At(Timestamp),
}

impl ExpiryChange {
    /// Parses the `expires_at` and `ttl` fields of a body (`None` = absent; `Some(Null)` = null).
    pub fn parse(
        expires_at: Option<&Value>,
        ttl: Option<&Value>,
        now: Timestamp,
    ) -> Result<Self, InvalidLink> {
        let bad = |why: &str| InvalidLink::Expiry(why.to_owned());
        let latest = now.as_millis().saturating_add(MAX_EXPIRY_AHEAD_MILLIS);
        match (expires_at, ttl) {
            (Some(_), Some(_)) => Err(bad("send either expires_at or ttl, not both")),
            (None, None) => Ok(ExpiryChange::Unspecified),
            (Some(Value::Null), None) => Ok(ExpiryChange::Clear),
            (Some(Value::String(s)), None) => {
                let at = Timestamp::parse(s).ok_or_else(|| {
                    bad("expires_at must be an RFC 3339 timestamp, e.g. 2030-01-01T00:00:00.000Z")
                })?;
                if at <= now {
                    return Err(bad("expires_at must be in the future"));
                }
                if at.as_millis() > latest {
                    return Err(bad("expires_at must be at most 100 years ahead"));
                }
                Ok(ExpiryChange::At(at))
            }
            (Some(_), None) => Err(bad("expires_at must be a string or null")),
            (None, Some(ttl)) => {
                let secs = ttl
                    .as_u64()
                    .filter(|s| *s >= 1 && *s <= MAX_EXPIRY_AHEAD_MILLIS / SECOND_MILLIS)
                    .ok_or_else(|| {
                        bad("ttl must be a whole number of seconds from 1 to 100 years")
                    })?;
                Ok(ExpiryChange::At(Timestamp::from_millis(
                    now.as_millis() + secs * SECOND_MILLIS,
                )))
            }
        }
    }

    /// The expiry of a new link: `DEFAULT_TTL_SECONDS` applies when nothing was asked.
    pub fn on_create(self, default_ttl_secs: u64, now: Timestamp) -> Option<Timestamp> {
        match self {
            ExpiryChange::At(at) => Some(at),
            ExpiryChange::Clear => None,
            ExpiryChange::Unspecified if default_ttl_secs == 0 => None,
            ExpiryChange::Unspecified => Some(Timestamp::from_millis(
                now.as_millis()
                    .saturating_add(default_ttl_secs.saturating_mul(SECOND_MILLIS)),
            )),
        }
    }

    /// The patch of an update: `None` leaves the expiry alone.
    pub fn on_update(self) -> Option<Option<Timestamp>> {
        match self {
            ExpiryChange::Unspecified => None,
            ExpiryChange::Clear => Some(None),
            ExpiryChange::At(at) => Some(Some(at)),
        }
    }
}

/// Whether a link with this expiry has expired at `now`.
pub fn is_expired(expires_at: Option<Timestamp>, now: Timestamp) -> bool {
    expires_at.is_some_and(|at| at <= now)
}

/// A body's `valid_since`: `null` for none, else an RFC 3339 timestamp (past ones too: the
/// link then redirects at once).
pub fn parse_valid_since(raw: &Value) -> Result<Option<Timestamp>, InvalidLink> {
    let bad = || {
        InvalidLink::Expiry(
            "valid_since must be an RFC 3339 timestamp, e.g. 2030-01-01T00:00:00.000Z, or null"
                .into(),
        )
    };
    match raw {
        Value::Null => Ok(None),
        Value::String(s) => Timestamp::parse(s).map(Some).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// The KV `expiration` (Unix seconds) of a link expiring at `expires_at`: after the grace
/// period, so the owner can still extend it, but never sooner than KV accepts. `None` past
/// 2038-01-19: KV's expiration is a signed 32-bit Unix time, so such a key is kept (the link
/// still answers 410 once expired; only the storage is not reclaimed automatically).
pub fn kv_expiration_secs(expires_at: Timestamp, grace_millis: u64, now: Timestamp) -> Option<u64> {
    let reclaim = expires_at.as_millis().saturating_add(grace_millis);
    let earliest = now.as_millis() + KV_MIN_EXPIRATION_AHEAD_MILLIS;
    let secs = reclaim.max(earliest).div_ceil(SECOND_MILLIS);
    (secs <= KV_MAX_EXPIRATION_SECS).then_some(secs)
}

/// The HTTP status a link redirects with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub enum RedirectType {
    /// 301: permanent; browsers cache it.
    Moved,
    /// 302: temporary (the default).
    #[default]
    Found,
    /// 307: temporary, method kept.
    Temporary,
    /// 308: permanent, method kept.
    Permanent,
}

impl RedirectType {
    pub fn from_status(status: u16) -> Option<Self> {
        match status {
            301 => Some(RedirectType::Moved),
            302 => Some(RedirectType::Found),
            307 => Some(RedirectType::Temporary),
            308 => Some(RedirectType::Permanent),
            _ => None,
        }
    }

    /// Parses a body's `redirect_type`: one of the integers 301, 302, 307, 308.
    pub fn parse(raw: &Value) -> Result<Self, InvalidLink> {
        raw.as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .and_then(Self::from_status)
            .ok_or_else(|| {
                InvalidLink::RedirectType("redirect_type must be 301, 302, 307 or 308".into())
            })
    }

    pub fn status(self) -> u16 {
        match self {
            RedirectType::Moved => 301,
            RedirectType::Found => 302,
            RedirectType::Temporary => 307,
            RedirectType::Permanent => 308,
        }
    }

    pub fn is_permanent(self) -> bool {
        matches!(self, RedirectType::Moved | RedirectType::Permanent)
    }
}

impl TryFrom<u16> for RedirectType {
    type Error = String;
    fn try_from(status: u16) -> Result<Self, Self::Error> {
        Self::from_status(status).ok_or_else(|| format!("not a redirect type: {status}"))
    }
}

impl From<RedirectType> for u16 {
    fn from(t: RedirectType) -> Self {
        t.status()
    }
}

/// The `state` an owner may set. `flagged` is an admin's alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OwnerState {
    Active,
    Disabled,
}

impl OwnerState {
    pub fn parse(raw: &str) -> Result<Self, InvalidLink> {
        match raw {
            "active" => Ok(OwnerState::Active),
            "disabled" => Ok(OwnerState::Disabled),
            "flagged" => Err(InvalidLink::State(
                "only an administrator can flag a link".into(),
            )),
            _ => Err(InvalidLink::State(
                "state must be \"active\" or \"disabled\"".into(),
            )),
        }
    }
}

/// The largest click limit: the largest integer every reader of the stored value holds exactly.
pub const MAX_CLICKS_LIMIT: u64 = SAFE_INTEGER_MAX;

/// Parses a body's `max_clicks`: an integer from 1 to [`MAX_CLICKS_LIMIT`], or `null` for
/// unlimited.
pub fn parse_max_clicks(raw: &Value) -> Result<Option<u64>, InvalidLink> {
    match raw {
        Value::Null => Ok(None),
        v => v
            .as_u64()
            .filter(|n| (1..=MAX_CLICKS_LIMIT).contains(n))
            .map(Some)
            .ok_or_else(|| {
                InvalidLink::MaxClicks(format!(
                    "max_clicks must be a whole number from 1 to {MAX_CLICKS_LIMIT}, or null"
                ))
            }),
    }
}

/// Clicks a limited link has used, per life of its slug (`life` = the link's `created_at`,
/// so a re-created link starts from zero). Kept by the slug's Durable Object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClickCount {
    pub life: String,
    pub used: u64,
}

/// Takes one click of at most `limit`: the new count when granted, `None` when none is left.
/// The limit comes with every request, so raising it re-opens the link at once.
pub fn take_click(current: Option<&ClickCount>, life: &str, limit: u64) -> Option<ClickCount> {
    let used = current.filter(|c| c.life == life).map_or(0, |c| c.used);
    (used < limit).then(|| ClickCount {
        life: life.to_owned(),
        used: used + 1,
    })
}

/// The query string of a serialised request URL (without `?`), empty when there is none.
pub fn query_of(url: &str) -> &str {
    let end = byte_position(url, |b| b == b'#').unwrap_or(url.len());
    let without_fragment = &url[..end];
    byte_position(without_fragment, |b| b == b'?').map_or("", |i| &without_fragment[i + 1..])
}

/// The destination with the visitor's query string appended after its own (so on a repeated
/// name the destination's value comes first), before the destination's fragment.
pub fn merge_query<'a>(destination: &'a str, visitor_query: &str) -> Cow<'a, str> {
    let visitor_query = visitor_query.trim_start_matches('?');
    if visitor_query.is_empty() {
        return Cow::Borrowed(destination);
    }
    let (base, fragment) = match destination.find('#') {
        Some(i) => destination.split_at(i),
        None => (destination, ""),
    };
    let separator = match base.find('?') {
        None => "?",
        Some(i) if i + 1 == base.len() || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let mut out =
        String::with_capacity(base.len() + separator.len() + visitor_query.len() + fragment.len());
    out.push_str(base);
    out.push_str(separator);
    out.push_str(visitor_query);
    out.push_str(fragment);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000_000;

    fn now() -> Timestamp {
        Timestamp::from_millis(NOW)
    }

    fn parse(expires_at: Option<Value>, ttl: Option<Value>) -> Result<ExpiryChange, InvalidLink> {
        ExpiryChange::parse(expires_at.as_ref(), ttl.as_ref(), now())
    }

    #[test]
    fn ttl_counts_from_now() {
        assert_eq!(
            parse(None, Some(json!(2))).unwrap(),
            ExpiryChange::At(Timestamp::from_millis(NOW + 2_000))
        );
        let max = MAX_EXPIRY_AHEAD_MILLIS / 1000;
        assert!(parse(None, Some(json!(max))).is_ok());
    }

    #[test]
    fn bad_ttls_are_refused() {
        let max = MAX_EXPIRY_AHEAD_MILLIS / 1000;
        for bad in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!("60"),
            json!(null),
            json!(max + 1),
            json!(true),
        ] {
            assert!(
                matches!(parse(None, Some(bad.clone())), Err(InvalidLink::Expiry(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn expires_at_must_be_a_future_timestamp_within_a_century() {
        let at = Timestamp::from_millis(NOW + 60_000);
        assert_eq!(
            parse(Some(json!(at.to_rfc3339())), None).unwrap(),
            ExpiryChange::At(at)
        );
        // Other offsets are normalised to UTC.
        assert!(parse(Some(json!("2099-01-01T01:00:00+01:00")), None).is_ok());
        let too_far = Timestamp::from_millis(NOW + MAX_EXPIRY_AHEAD_MILLIS + 1).to_rfc3339();
        for bad in [
            json!(now().to_rfc3339()),
            json!("2020-01-01T00:00:00Z"),
            json!(too_far),
            json!("tomorrow"),
            json!("2099-01-01"),
            json!(12345),
            json!({}),
        ] {
            assert!(
                matches!(parse(Some(bad.clone()), None), Err(InvalidLink::Expiry(_))),
                "{bad}"
            );
        }
        assert!(parse(Some(json!("2099-01-01T00:00:00Z")), Some(json!(5))).is_err());
    }

    #[test]
    fn null_clears_and_absence_leaves_the_default_or_the_old_value() {
        assert_eq!(parse(Some(Value::Null), None).unwrap(), ExpiryChange::Clear);
        assert_eq!(parse(None, None).unwrap(), ExpiryChange::Unspecified);
        assert_eq!(ExpiryChange::Unspecified.on_create(0, now()), None);
        assert_eq!(
            ExpiryChange::Unspecified.on_create(10, now()),
            Some(Timestamp::from_millis(NOW + 10_000))
        );
        assert_eq!(ExpiryChange::Clear.on_create(10, now()), None);
        assert_eq!(ExpiryChange::Unspecified.on_update(), None);
        assert_eq!(ExpiryChange::Clear.on_update(), Some(None));
    }

    #[test]
    fn expiry_is_inclusive_of_its_instant() {
        let at = Timestamp::from_millis(NOW);
        assert!(is_expired(Some(at), now()));
        assert!(!is_expired(Some(Timestamp::from_millis(NOW + 1)), now()));
        assert!(!is_expired(None, now()));
    }

    #[test]
    fn kv_expiration_adds_the_grace_but_never_comes_sooner_than_kv_allows() {
        let day = 86_400_000;
        let at = Timestamp::from_millis(NOW + 5_000);
        assert_eq!(
            kv_expiration_secs(at, 30 * day, now()),
            Some((NOW + 5_000 + 30 * day) / 1000)
        );
        // No grace and a near expiry: KV's minimum wins.
        assert_eq!(
            kv_expiration_secs(at, 0, now()),
            Some((NOW + 65_000) / 1000)
        );
        // An already expired link being kept (or revived) still gets a valid expiration.
        let past = Timestamp::from_millis(NOW - day);
        assert!(kv_expiration_secs(past, 0, now()).unwrap() * 1000 >= NOW + 60_000);
        // Rounds up, never down past the minimum.
        assert_eq!(
            kv_expiration_secs(Timestamp::from_millis(NOW + 100_001), 0, now()),
            Some((NOW + 100_001).div_ceil(1000))
        );
        // Past 2038-01-19 KV takes no expiration: the key is kept.
        let last = Timestamp::from_millis(KV_MAX_EXPIRATION_SECS * 1000);
        assert_eq!(
            kv_expiration_secs(last, 0, now()),
            Some(KV_MAX_EXPIRATION_SECS)
        );
        let after = Timestamp::from_millis(KV_MAX_EXPIRATION_SECS * 1000 + 1);
        assert_eq!(kv_expiration_secs(after, 0, now()), None);
        assert_eq!(kv_expiration_secs(last, day, now()), None);
    }

    #[test]
    fn redirect_types_are_the_four_redirect_statuses() {
        for (n, permanent) in [(301, true), (302, false), (307, false), (308, true)] {
            let t = RedirectType::parse(&json!(n)).unwrap();
            assert_eq!((t.status(), t.is_permanent()), (n, permanent));
        }
        for bad in [
            json!(303),
            json!(200),
            json!("302"),
            json!(null),
            json!(302.5),
        ] {
            assert!(RedirectType::parse(&bad).is_err(), "{bad}");
        }
        assert_eq!(RedirectType::default().status(), 302);
    }

    #[test]
    fn owners_may_not_flag() {
        assert_eq!(OwnerState::parse("active").unwrap(), OwnerState::Active);
        assert_eq!(OwnerState::parse("disabled").unwrap(), OwnerState::Disabled);
        assert!(OwnerState::parse("flagged").is_err());
        assert!(OwnerState::parse("Active").is_err());
    }

    #[test]
    fn visitor_query_follows_the_destination_query_before_the_fragment() {
        let cases = [
            ("https://e.com/p", "x=1", "https://e.com/p?x=1"),
            (
                "https://e.com/p?a=1",
                "a=2&b=3",
                "https://e.com/p?a=1&a=2&b=3",
            ),
            (
                "https://e.com/p?a=1#top",
                "b=2",
                "https://e.com/p?a=1&b=2#top",
            ),
            ("https://e.com/p#top", "b=2", "https://e.com/p?b=2#top"),
            ("https://e.com/p?", "b=2", "https://e.com/p?b=2"),
            ("https://e.com/p?a=1&", "b=2", "https://e.com/p?a=1&b=2"),
            ("https://e.com/p#x?y", "b=2", "https://e.com/p?b=2#x?y"),
        ];
        for (dest, q, want) in cases {
            assert_eq!(merge_query(dest, q), want, "{dest} + {q}");
        }
        assert!(matches!(
            merge_query("https://e.com/p?a=1", ""),
            Cow::Borrowed(_)
        ));
        assert_eq!(merge_query("https://e.com/", "?z=1"), "https://e.com/?z=1");
    }

    #[test]
    fn clicks_are_taken_up_to_the_limit_per_life() {
        let mut count = None;
        for n in 1..=3 {
            count = take_click(count.as_ref(), "life-a", 3);
            assert_eq!(count.as_ref().map(|c| c.used), Some(n));
        }
        let full = count.clone();
        assert_eq!(take_click(full.as_ref(), "life-a", 3), None);
        // Raising the limit re-opens; a new life starts over.
        assert_eq!(
            take_click(full.as_ref(), "life-a", 4).map(|c| c.used),
            Some(4)
        );
        assert_eq!(
            take_click(full.as_ref(), "life-b", 1).map(|c| c.used),
            Some(1)
        );
    }

    #[test]
    fn max_clicks_is_a_positive_integer_or_null() {
        assert_eq!(parse_max_clicks(&json!(10)).unwrap(), Some(10));
        assert_eq!(parse_max_clicks(&json!(null)).unwrap(), None);
        assert_eq!(
            parse_max_clicks(&json!(MAX_CLICKS_LIMIT)).unwrap(),
            Some(MAX_CLICKS_LIMIT)
        );
        for out_of_range in [json!(MAX_CLICKS_LIMIT + 1), json!(u64::MAX), json!(1e300)] {
            assert!(parse_max_clicks(&out_of_range).is_err(), "{out_of_range}");
        }
        for bad in [json!(0), json!(-1), json!(1.5), json!("10"), json!(true)] {
            assert!(parse_max_clicks(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn query_of_a_request_url() {
        assert_eq!(query_of("https://s.io/abc?x=1&y=2"), "x=1&y=2");
        assert_eq!(query_of("https://s.io/abc"), "");
        assert_eq!(query_of("https://s.io/abc?"), "");
        assert_eq!(query_of("https://s.io/abc?x=1#f"), "x=1");
    }
}
