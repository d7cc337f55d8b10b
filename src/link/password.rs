//! Link passwords: [`Password`], what an owner sets (8–256 characters; only ever hashed, never
//! stored or returned), and [`PasswordHash`], what the link keeps: a PBKDF2-SHA256 hash with
//! its iterations and salt, in edgelink's one stored form
//! `pbkdf2-sha256:{iterations}:{salt}:{hash}` (salt and hash base64url, unpadded).
//!
//! Sink (ccbikai/Sink) stores the same algorithm as `sink-pwd:v1:{iterations}:{salt}:{hash}:{tail}`
//! (its `server/utils/link-password.ts`: 256 derived bits, the salt's bytes as PBKDF2's salt,
//! base64url); [`PasswordHash::parse`] reads that too and keeps it in edgelink's form, dropping
//! Sink's `tail` (the password's last three characters, which a hash must not reveal).
//!
//! Hashing and checking need WebCrypto and live in `src/api/password.js`; this file only decides
//! what is a valid password or hash. Pure: no `worker`, no randomness.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::invalid::InvalidLink;

pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 256;
/// The most PBKDF2 iterations the Workers runtime derives (more is refused there), and what
/// edgelink hashes with: a stored hash may ask for fewer (Sink uses 10,000), never more.
pub const PBKDF2_MAX_ITERATIONS: u32 = 100_000;
/// edgelink's stored form's prefix.
pub const HASH_PREFIX: &str = "pbkdf2-sha256:";
/// Sink's.
pub const SINK_HASH_PREFIX: &str = "sink-pwd:v1:";
/// 256 derived bits, base64url without padding.
const HASH_B64_LEN: usize = 43;
/// Salts of 8 to 64 bytes (edgelink and Sink draw 16).
const SALT_B64_LEN: std::ops::RangeInclusive<usize> = 11..=86;

/// A password as its owner sent it, checked for length. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, InvalidLink> {
        let chars = raw.chars().count();
        if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars) {
            return Err(InvalidLink::Password(format!(
                "password must be {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters"
            )));
        }
        if raw.chars().any(char::is_control) {
            return Err(InvalidLink::Password(
                "password cannot hold control characters".into(),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// A stored password hash, in edgelink's form (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PasswordHash(String);

impl PasswordHash {
    /// edgelink's form or Sink's, checked field by field; Sink's comes back in edgelink's.
    pub fn parse(raw: &str) -> Result<Self, InvalidLink> {
        let bad = || {
            InvalidLink::Password(format!(
                "password_hash must be {HASH_PREFIX}{{iterations}}:{{salt}}:{{hash}} \
                 (or Sink's {SINK_HASH_PREFIX}…) with at most {PBKDF2_MAX_ITERATIONS} iterations"
            ))
        };
        let (fields, sink) = if let Some(rest) = raw.strip_prefix(HASH_PREFIX) {
            (rest, false)
        } else if let Some(rest) = raw.strip_prefix(SINK_HASH_PREFIX) {
            (rest, true)
        } else {
            return Err(bad());
        };
        let parts: Vec<&str> = fields.split(':').collect();
        let (iterations, salt, hash) = match (sink, parts.as_slice()) {
            (false, [i, s, h]) => (*i, *s, *h),
            // Sink's tail is required by Sink, unread here.
            (true, [i, s, h, tail]) if is_b64url(tail) => (*i, *s, *h),
            _ => return Err(bad()),
        };
        let iterations: u32 = iterations
            .parse()
            .ok()
            .filter(|n| (1..=PBKDF2_MAX_ITERATIONS).contains(n))
            .filter(|_| !iterations.starts_with('0'))
            .ok_or_else(bad)?;
        if !SALT_B64_LEN.contains(&salt.len()) || !is_b64url(salt) {
            return Err(bad());
        }
        if hash.len() != HASH_B64_LEN || !is_b64url(hash) {
            return Err(bad());
        }
        Ok(Self(format!("{HASH_PREFIX}{iterations}:{salt}:{hash}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_b64url(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl TryFrom<String> for PasswordHash {
    type Error = InvalidLink;
    fn try_from(raw: String) -> Result<Self, InvalidLink> {
        Self::parse(&raw)
    }
}

impl From<PasswordHash> for String {
    fn from(h: PasswordHash) -> String {
        h.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: &str = "c2FsdHNhbHRzYWx0c2FsdA";
    const HASH: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn a_password_is_8_to_256_characters_not_bytes() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"é".repeat(256)).is_ok());
        assert!(Password::parse(&"a".repeat(257)).is_err());
        assert!(Password::parse("").is_err());
        assert!(Password::parse("abcdefg\n").is_err());
    }

    #[test]
    fn a_password_never_shows_in_debug() {
        let p = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{p:?}").contains("hunter"));
    }

    #[test]
    fn edgelinks_own_form_reads_back_as_is() {
        let raw = format!("pbkdf2-sha256:100000:{SALT}:{HASH}");
        assert_eq!(PasswordHash::parse(&raw).unwrap().as_str(), raw);
    }

    #[test]
    fn sinks_form_becomes_edgelinks_without_its_tail() {
        let sink = format!("sink-pwd:v1:10000:{SALT}:{HASH}:MTIz");
        assert_eq!(
            PasswordHash::parse(&sink).unwrap().as_str(),
            format!("pbkdf2-sha256:10000:{SALT}:{HASH}")
        );
        // Sink requires its tail.
        assert!(PasswordHash::parse(&format!("sink-pwd:v1:10000:{SALT}:{HASH}")).is_err());
    }

    #[test]
    fn malformed_hashes_are_refused() {
        for bad in [
            String::new(),
            "secret123".into(),
            format!("pbkdf2-sha256:0:{SALT}:{HASH}"),
            format!("pbkdf2-sha256:100001:{SALT}:{HASH}"),
            format!("pbkdf2-sha256:0100:{SALT}:{HASH}"),
            format!("pbkdf2-sha256:-1:{SALT}:{HASH}"),
            format!("pbkdf2-sha256:1000:{SALT}:{}", &HASH[1..]),
            format!("pbkdf2-sha256:1000:{SALT}:{HASH}="),
            format!("pbkdf2-sha256:1000:abc:{HASH}"),
            format!("pbkdf2-sha256:1000:{SALT}+:{HASH}"),
            format!("pbkdf2-sha256:1000:{SALT}:{HASH}:extra"),
            format!("PBKDF2-SHA256:1000:{SALT}:{HASH}"),
        ] {
            assert!(PasswordHash::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_hash_round_trips_through_json_and_refuses_bad_json() {
        let h = PasswordHash::parse(&format!("pbkdf2-sha256:5:{SALT}:{HASH}")).unwrap();
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<PasswordHash>(&json).unwrap(), h);
        assert!(serde_json::from_str::<PasswordHash>("\"nope\"").is_err());
    }
}
