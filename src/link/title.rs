//! [`Title`]: a link's human label, parsed once at the edge. Pure: never imports `worker`.

use serde::{Deserialize, Serialize};

use crate::invalid::InvalidLink;

pub const TITLE_MAX_CHARS: usize = 200;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed_bounded_and_printable() {
        assert_eq!(String::from(Title::parse("  hi  ").unwrap()), "hi");
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert!(Title::parse(&"é".repeat(201)).is_err());
        assert!(Title::parse("a\u{0}b").is_err());
        assert!(Title::parse("   ").is_err());
    }
}
