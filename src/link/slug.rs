//! [`Slug`]: the short name of a link, parsed once at the edge, and the alphabet generated slugs
//! (and user ids and API keys) are drawn from. Pure: never imports `worker`, no randomness.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::invalid::InvalidLink;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
