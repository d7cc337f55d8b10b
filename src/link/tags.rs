//! [`Tags`]: the labels an owner files a link under, parsed once at the edge so that KV, D1's
//! `link_tags` index and the list filter all hold the same normal form. Pure: never imports
//! `worker`.

use serde::{Deserialize, Serialize};

use crate::invalid::InvalidLink;

/// Tags a link may carry.
pub const TAGS_MAX: usize = 10;
/// Characters (Unicode scalar values) a tag may have, after trimming.
pub const TAG_MAX_CHARS: usize = 32;

/// A link's tags: at most [`TAGS_MAX`], each 1–[`TAG_MAX_CHARS`] characters after trimming,
/// with no whitespace, commas or control characters, lower-cased by Unicode's rules (so `Café`
/// and `café` are one tag), duplicates removed and the owner's order kept. Serialized as a
/// JSON array of strings; parsing one (KV, a body) applies the same rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Tags(Vec<String>);

impl Tags {
    /// Parses an owner's list of tags into the normal form, or says why it is refused.
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, InvalidLink> {
        if raw.len() > TAGS_MAX {
            return Err(InvalidLink::Tags(format!(
                "a link may have at most {TAGS_MAX} tags"
            )));
        }
        parse_tags(raw).map(Self)
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A change to tags across an owner's links. Each link's Durable Object applies it to the
/// newest state of that link ([`Tags::edited`]), so tags another request changed meanwhile are
/// kept. Its tags are in the normal form ([`parse_tag`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagEdit {
    /// `from` becomes `to`; a link carrying both keeps one, where the first of them stood.
    Rename { from: String, to: String },
    /// These tags leave every link.
    Remove { tags: Vec<String> },
}

impl TagEdit {
    /// The tags whose links the edit changes.
    pub fn touched(&self) -> &[String] {
        match self {
            TagEdit::Rename { from, .. } => std::slice::from_ref(from),
            TagEdit::Remove { tags } => tags,
        }
    }
}

impl Tags {
    /// The tags after `edit`; the same tags, in the same order, when it touches none of them.
    /// Never more tags than before, so the bound holds.
    pub fn edited(&self, edit: &TagEdit) -> Tags {
        let mut out: Vec<String> = Vec::with_capacity(self.0.len());
        for tag in &self.0 {
            let next = match edit {
                TagEdit::Rename { from, to } if tag == from => to,
                TagEdit::Remove { tags } if tags.contains(tag) => continue,
                _ => tag,
            };
            if !out.contains(next) {
                out.push(next.clone());
            }
        }
        Tags(out)
    }
}

/// Tags in their normal form ([`parse_tag`]), duplicates removed, the given order kept; no
/// bound on how many (a link's tags are [`Tags`]).
pub fn parse_tags<S: AsRef<str>>(raw: &[S]) -> Result<Vec<String>, InvalidLink> {
    let mut tags: Vec<String> = Vec::with_capacity(raw.len());
    for t in raw {
        let tag = parse_tag(t.as_ref())?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

/// One tag in its normal form: trimmed, checked, lower-cased.
pub fn parse_tag(raw: &str) -> Result<String, InvalidLink> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(InvalidLink::Tags("a tag must not be empty".into()));
    }
    if t.chars().count() > TAG_MAX_CHARS {
        return Err(InvalidLink::Tags(format!(
            "a tag must be at most {TAG_MAX_CHARS} characters"
        )));
    }
    if t.chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ',')
    {
        return Err(InvalidLink::Tags(
            "a tag must not contain whitespace, commas or control characters".into(),
        ));
    }
    let lower = t.to_lowercase();
    // Lower-casing may lengthen a tag (`İ` → `i̇`); the bound holds for what is stored.
    if lower.chars().count() > TAG_MAX_CHARS {
        return Err(InvalidLink::Tags(format!(
            "a tag must be at most {TAG_MAX_CHARS} characters"
        )));
    }
    Ok(lower)
}

impl TryFrom<Vec<String>> for Tags {
    type Error = InvalidLink;
    fn try_from(v: Vec<String>) -> Result<Self, Self::Error> {
        Tags::parse(&v)
    }
}

impl From<Tags> for Vec<String> {
    fn from(t: Tags) -> Self {
        t.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(raw: &[&str]) -> Result<Vec<String>, InvalidLink> {
        Tags::parse(raw).map(Vec::from)
    }

    #[test]
    fn tags_are_trimmed_lower_cased_deduplicated_in_order() {
        assert_eq!(
            tags(&[" Café ", "b", "CAFÉ", "a", "b"]).unwrap(),
            vec!["café", "b", "a"]
        );
        assert_eq!(tags(&[]).unwrap(), Vec::<String>::new());
        assert_eq!(tags(&["ÄÖÜ"]).unwrap(), vec!["äöü"]);
    }

    #[test]
    fn a_tag_edit_renames_merges_and_removes_in_place() {
        let t = Tags::parse(&["a", "old", "b", "new"]).unwrap();
        let rename = |from: &str, to: &str| TagEdit::Rename {
            from: from.into(),
            to: to.into(),
        };
        assert_eq!(
            Vec::from(t.edited(&rename("old", "x"))),
            vec!["a", "x", "b", "new"],
            "renamed where it stood"
        );
        assert_eq!(
            Vec::from(t.edited(&rename("old", "new"))),
            vec!["a", "new", "b"],
            "merged into the tag it was renamed to, once, at the first place"
        );
        assert_eq!(
            Vec::from(t.edited(&rename("new", "a"))),
            vec!["a", "old", "b"]
        );
        assert_eq!(t.edited(&rename("zzz", "y")), t, "untouched");
        let remove = TagEdit::Remove {
            tags: vec!["b".into(), "a".into(), "zzz".into()],
        };
        assert_eq!(Vec::from(t.edited(&remove)), vec!["old", "new"]);
        assert_eq!(remove.touched(), ["b", "a", "zzz"]);
        assert_eq!(rename("old", "x").touched(), ["old"]);
    }

    #[test]
    fn tags_are_bounded_in_number_and_length() {
        let ten: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&ten).is_ok());
        let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(matches!(Tags::parse(&eleven), Err(InvalidLink::Tags(_))));
        // Eleven entries that collapse to fewer are still too many to send.
        assert!(Tags::parse(&["a"; 11]).is_err());
        assert!(tags(&[&"é".repeat(32)]).is_ok());
        assert!(tags(&[&"é".repeat(33)]).is_err());
        assert!(tags(&[&format!("  {}  ", "x".repeat(32))]).is_ok());
    }

    #[test]
    fn empty_spaced_comma_and_control_tags_are_refused() {
        for bad in [
            "", "   ", "a b", "a,b", "a\tb", "a\u{0}b", "a\u{a0}b", "x\u{7f}",
        ] {
            assert!(matches!(tags(&[bad]), Err(InvalidLink::Tags(_))), "{bad:?}");
        }
    }

    #[test]
    fn tags_round_trip_as_a_json_array_and_bad_json_is_refused() {
        let t = Tags::parse(&["Go", "rust"]).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"["go","rust"]"#);
        assert_eq!(serde_json::from_str::<Tags>(&json).unwrap(), t);
        assert!(serde_json::from_str::<Tags>(r#"["a b"]"#).is_err());
        assert!(serde_json::from_str::<Tags>(r#""a""#).is_err());
    }
}
