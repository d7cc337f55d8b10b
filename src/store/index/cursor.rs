//! [`ListCursor`]: the keyset position of a newest-first list (links, users), opaque to
//! clients. Pure: never touches D1.

use crate::link::SAFE_INTEGER_MAX;
use crate::time::Timestamp;

/// Keyset position in a newest-first list: the `created_at` and key (slug or user id) of the
/// previous page's last row. Opaque to clients (hex), so its format can change without
/// breaking them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    pub created_at: Timestamp,
    pub key: String,
}

impl ListCursor {
    /// `None` when `key` is not something a cursor can carry (slugs and ids always are).
    pub fn new(created_at: Timestamp, key: &str) -> Option<Self> {
        let ok = !key.is_empty()
            && key.len() <= 64
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self {
            created_at,
            key: key.to_owned(),
        })
    }

    /// The cursor after a row, from its stored `created_at` text and key.
    pub fn after_row(created_at: &str, key: &str) -> Option<String> {
        Self::new(Timestamp::parse(created_at)?, key).map(|c| c.encode())
    }

    pub fn encode(&self) -> String {
        to_hex(&format!("{}.{}", self.created_at.as_millis(), self.key))
    }

    pub fn decode(s: &str) -> Option<Self> {
        let plain = from_hex(s)?;
        let (ms, key) = plain.split_once('.')?;
        let ms: u64 = ms.parse().ok().filter(|ms| *ms <= SAFE_INTEGER_MAX)?;
        Self::new(Timestamp::from_millis(ms), key)
    }
}

/// A cursor's opaque form: its plain text as lower-case hex (a client sees no structure to
/// lean on, so the text can change).
pub(super) fn to_hex(plain: &str) -> String {
    plain.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The plain text of [`to_hex`]'s output; `None` for anything else, or longer than any cursor.
pub(super) fn from_hex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) || s.len() > 256 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_cursor_round_trips_and_is_opaque() {
        let c = ListCursor::new(Timestamp::from_millis(1_700_000_000_123), "Ab_-9").unwrap();
        let s = c.encode();
        assert!(s.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(ListCursor::decode(&s), Some(c));
        assert!(ListCursor::new(Timestamp::from_millis(1), "a'b").is_none());
    }

    #[test]
    fn garbage_cursors_are_rejected() {
        for bad in ["", "zz", "abc", "2e", "31322e", "6e6f2e616263"] {
            assert_eq!(ListCursor::decode(bad), None, "{bad:?}");
        }
    }
}
