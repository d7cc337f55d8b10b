//! The normalised import row every format is read into ([`ImportRow`]), a row that could not
//! be read ([`RowError`]), a file refused whole ([`InvalidFile`]), and the small field helpers
//! the readers share. Pure: no `worker`.

use serde::{Deserialize, Serialize};

/// One link of an imported file, normalised: what every format maps to. The fields past `tags`
/// are carried only by formats that have them (edgelink's own export, Sink's); absent means the
/// default of a create.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportRow {
    /// Where the row starts in the file (1 = the first line; for Sink's JSON, the position of
    /// the link in `links`).
    pub line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// `active`, `disabled` or `flagged`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_type: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_query: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_clicks: Option<u64>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// RFC 3339; before it the link answers 404.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_since: Option<String>,
    /// RFC 3339; kept on import (a fresh deployment keeps the file's dates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The smart options as the API takes them (JSON), validated by the create rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<serde_json::Value>,
    /// A PBKDF2 password hash, edgelink's form or Sink's (`link::PasswordHash`): the link
    /// keeps its password. Never a password itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
}

/// A row the file holds but that could not be read (a field of the wrong kind, a missing URL):
/// reported with its line, never stopping the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub line: u64,
    pub slug: Option<String>,
    pub code: String,
    pub message: String,
}

impl RowError {
    pub fn new(line: u64, slug: Option<&str>, code: &str, message: impl Into<String>) -> Self {
        Self {
            line,
            slug: slug.map(str::to_owned),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Why a whole file is refused (400, nothing stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidFile(pub String);

/// A file's rows: read, or refused one by one.
pub type ParsedRows = Vec<Result<ImportRow, RowError>>;

/// Splits tags written in one field on `,`, `|` or whitespace, dropping empty pieces.
pub fn split_tags(field: &str) -> Vec<String> {
    field
        .split(|c: char| c == ',' || c == '|' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An optional text field: empty (after trimming) is absent.
pub fn non_empty(field: &str) -> Option<String> {
    let t = field.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_on_commas_bars_and_whitespace() {
        assert_eq!(split_tags("a, b|c  d"), ["a", "b", "c", "d"]);
        assert!(split_tags(" , ").is_empty());
    }

    #[test]
    fn an_empty_field_is_absent() {
        assert_eq!(non_empty("  "), None);
        assert_eq!(non_empty(" x "), Some("x".into()));
    }
}
