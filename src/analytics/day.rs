//! The UTC day a click counts in: `YYYY-MM-DD` strings, strict parsing of them, and their
//! midnights. Pure: never imports `worker`, reads no clock.

use crate::time::Timestamp;

pub(super) const DAY_MILLIS: u64 = 86_400_000;

/// A UTC date as `YYYY-MM-DD`.
pub fn day_of(t: Timestamp) -> String {
    t.to_rfc3339()[..10].to_owned()
}

/// Whether `raw` is a strict `YYYY-MM-DD` date.
pub fn is_day(raw: &str) -> bool {
    parse_day(raw).is_some()
}

/// Midnight UTC of a strict `YYYY-MM-DD`, in ms.
pub(super) fn parse_day(raw: &str) -> Option<u64> {
    let b = raw.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits(0..4)
        || !digits(5..7)
        || !digits(8..10)
    {
        return None;
    }
    let t = Timestamp::parse(&format!("{raw}T00:00:00Z"))?;
    // chrono accepts 2026-02-30? No: it rejects impossible dates; the round trip proves it.
    (day_of(t) == raw).then_some(t.as_millis())
}
