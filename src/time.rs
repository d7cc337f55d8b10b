//! Time as edgelink stores it: [`Timestamp`], milliseconds since the Unix epoch, written
//! everywhere (KV values, D1 columns, API bodies) as RFC 3339 UTC with milliseconds and `Z`,
//! e.g. `2026-11-25T12:34:56.789Z`. One format, so text order is time order.
//!
//! Pure: the clock is read by the shell (`app::now`) and passed in.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    pub fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    pub fn as_millis(self) -> u64 {
        self.0
    }

    /// Parses the one accepted text form (any RFC 3339 offset is normalised to UTC).
    pub fn parse(s: &str) -> Option<Self> {
        let parsed = DateTime::parse_from_rfc3339(s).ok()?;
        u64::try_from(parsed.timestamp_millis()).ok().map(Self)
    }

    pub fn to_rfc3339(self) -> String {
        let ms = i64::try_from(self.0).unwrap_or(i64::MAX);
        DateTime::<Utc>::from_timestamp_millis(ms)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        Timestamp::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 timestamp: {s}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_utc_with_millis_and_z() {
        let t = Timestamp::from_millis(1_764_074_096_789);
        assert_eq!(t.to_rfc3339(), "2025-11-25T12:34:56.789Z");
    }

    #[test]
    fn round_trips_through_text_and_json() {
        let t = Timestamp::from_millis(1_700_000_000_001);
        assert_eq!(Timestamp::parse(&t.to_rfc3339()), Some(t));
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }

    #[test]
    fn text_order_is_time_order() {
        let a = Timestamp::from_millis(999_999_999_999).to_rfc3339();
        let b = Timestamp::from_millis(1_000_000_000_000).to_rfc3339();
        assert!(a < b);
    }

    #[test]
    fn rejects_other_formats() {
        assert_eq!(Timestamp::parse("1700000000"), None);
        assert_eq!(Timestamp::parse("2026-11-25 12:00:00"), None);
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }
}
