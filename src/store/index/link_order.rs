//! How the link lists are ordered and searched, pure: the sort ([`LinkSort`], [`SortDir`],
//! [`LinkOrder`]), the keyset position for each sort ([`LinkCursor`], opaque to clients and
//! bound to the order it was made for), and the search text ([`SearchText`]) with the folded
//! form both it and each row's `search_text` take ([`fold`], [`search_text`]), so the SQL
//! matches by a plain byte search.
//! Never touches D1.

use super::cursor::{from_hex, to_hex};
use super::ListCursor;
use crate::link::SAFE_INTEGER_MAX;
use crate::time::Timestamp;

/// Characters a search text may have at most (after trimming).
pub const SEARCH_MAX_CHARS: usize = 200;

/// What a link list is sorted by; ties always fall to the slug, in the same direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LinkSort {
    #[default]
    Created,
    Updated,
    Slug,
    /// People's clicks since the link's creation (`links.clicks`).
    Clicks,
}

impl LinkSort {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "created" => Some(Self::Created),
            "updated" => Some(Self::Updated),
            "slug" => Some(Self::Slug),
            "clicks" => Some(Self::Clicks),
            _ => None,
        }
    }

    /// The sorted column before the slug, `None` when the slug is the whole key.
    pub fn column(self) -> Option<&'static str> {
        match self {
            Self::Created => Some("created_at"),
            Self::Updated => Some("updated_at"),
            Self::Slug => None,
            Self::Clicks => Some("clicks"),
        }
    }

    fn tag(self) -> char {
        match self {
            Self::Created => 'c',
            Self::Updated => 'u',
            Self::Slug => 's',
            Self::Clicks => 'k',
        }
    }

    fn from_tag(c: char) -> Option<Self> {
        [Self::Created, Self::Updated, Self::Slug, Self::Clicks]
            .into_iter()
            .find(|s| s.tag() == c)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortDir {
    Asc,
    #[default]
    Desc,
}

impl SortDir {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "asc" => Some(Self::Asc),
            "desc" => Some(Self::Desc),
            _ => None,
        }
    }

    pub fn sql(self) -> &'static str {
        match self {
            Self::Asc => "ASC",
            Self::Desc => "DESC",
        }
    }

    /// The comparison that keeps rows after the cursor.
    pub fn after(self) -> &'static str {
        match self {
            Self::Asc => ">",
            Self::Desc => "<",
        }
    }

    fn tag(self) -> char {
        match self {
            Self::Asc => 'a',
            Self::Desc => 'd',
        }
    }
}

/// A list's order: the default is newest first (`created desc`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkOrder {
    pub sort: LinkSort,
    pub dir: SortDir,
}

/// The sort value of the previous page's last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    /// `created_at` / `updated_at`, as stored (RFC 3339 ms, which sorts as text).
    Time(Timestamp),
    Clicks(u64),
    /// The slug sort has no value but the slug.
    None,
}

/// Keyset position in a link list for one order: the sort value and slug of the previous
/// page's last row. Opaque to clients (hex); a cursor is valid only with the order it was
/// made for, so a client cannot mix pages of two orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCursor {
    pub order: LinkOrder,
    pub value: SortValue,
    pub slug: String,
}

/// A cursor key: what a slug can be (and nothing SQL or the hex format would trip on).
fn cursor_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl LinkCursor {
    /// The cursor after a row with these stored values; `None` when a value is unusable (a
    /// row the index could not have written).
    pub fn after_row(
        order: LinkOrder,
        created_at: &str,
        updated_at: &str,
        clicks: u64,
        slug: &str,
    ) -> Option<Self> {
        let value = match order.sort {
            LinkSort::Created => SortValue::Time(Timestamp::parse(created_at)?),
            LinkSort::Updated => SortValue::Time(Timestamp::parse(updated_at)?),
            LinkSort::Clicks => SortValue::Clicks(clicks.min(SAFE_INTEGER_MAX)),
            LinkSort::Slug => SortValue::None,
        };
        cursor_key(slug).then(|| Self {
            order,
            value,
            slug: slug.to_owned(),
        })
    }

    pub fn encode(&self) -> String {
        let value = match &self.value {
            SortValue::Time(t) => t.as_millis().to_string(),
            SortValue::Clicks(n) => n.to_string(),
            SortValue::None => String::new(),
        };
        to_hex(&format!(
            "{}{}.{value}.{}",
            self.order.sort.tag(),
            self.order.dir.tag(),
            self.slug
        ))
    }

    /// A cursor this API issued. The newest-first cursors issued before sorting existed
    /// ([`ListCursor`]) still read as `created desc`.
    pub fn decode(s: &str) -> Option<Self> {
        let plain = from_hex(s)?;
        let mut parts = plain.splitn(3, '.');
        let (head, value, slug) = (parts.next()?, parts.next(), parts.next());
        let (Some(value), Some(slug)) = (value, slug) else {
            return Self::legacy(s);
        };
        let mut tags = head.chars();
        let (Some(sort), Some(dir), None) = (tags.next(), tags.next(), tags.next()) else {
            return Self::legacy(s);
        };
        let sort = LinkSort::from_tag(sort)?;
        let dir = match dir {
            'a' => SortDir::Asc,
            'd' => SortDir::Desc,
            _ => return None,
        };
        let number = || -> Option<u64> {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            value.parse().ok().filter(|n| *n <= SAFE_INTEGER_MAX)
        };
        let value = match sort {
            LinkSort::Created | LinkSort::Updated => {
                SortValue::Time(Timestamp::from_millis(number()?))
            }
            LinkSort::Clicks => SortValue::Clicks(number()?),
            LinkSort::Slug if value.is_empty() => SortValue::None,
            LinkSort::Slug => return None,
        };
        cursor_key(slug).then(|| Self {
            order: LinkOrder { sort, dir },
            value,
            slug: slug.to_owned(),
        })
    }

    fn legacy(s: &str) -> Option<Self> {
        let old = ListCursor::decode(s)?;
        Some(Self {
            order: LinkOrder::default(),
            value: SortValue::Time(old.created_at),
            slug: old.key,
        })
    }
}

/// A search text: trimmed, 1 to [`SEARCH_MAX_CHARS`] characters, no control characters
/// (so it can never span two tags, which the index joins with a newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

/// Why a search text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchTextError {
    TooLong,
    ControlCharacter,
}

impl SearchText {
    /// `Ok(None)` for an absent or blank text (no search).
    pub fn parse(raw: &str) -> Result<Option<Self>, SearchTextError> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > SEARCH_MAX_CHARS {
            return Err(SearchTextError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(SearchTextError::ControlCharacter);
        }
        Ok(Some(Self(text.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text as the rows' [`search_text`] holds theirs: Unicode-lower-cased, so a plain
    /// byte search (`instr`) is a case-insensitive substring search.
    pub fn folded(&self) -> String {
        fold(&self.0)
    }
}

/// Separates the fields (and each tag) in [`search_text`]: a control character, which a
/// [`SearchText`] never holds, so a match can never span two fields or two tags.
pub const SEARCH_SEPARATOR: char = '\u{1f}';

/// Unicode lower case, with the final sigma read as any sigma (`ΟΔΟΣ` lower-cases to `οδος`,
/// and `σ` must find it as it finds `Σ`).
pub fn fold(text: &str) -> String {
    text.to_lowercase().replace('ς', "σ")
}

/// A `links` row's `search_text` column: slug, url, title and each tag, folded, joined by
/// [`SEARCH_SEPARATOR`]. Computed here (SQLite's `lower()` folds ASCII only) and written with
/// the row by the index upsert, so whatever rewrites a row rewrites it too.
pub fn search_text(slug: &str, url: &str, title: Option<&str>, tags: &[String]) -> String {
    let mut fields = vec![slug, url, title.unwrap_or("")];
    fields.extend(tags.iter().map(String::as_str));
    fold(&fields.join(&SEARCH_SEPARATOR.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(sort: LinkSort, dir: SortDir) -> LinkOrder {
        LinkOrder { sort, dir }
    }

    #[test]
    fn cursors_round_trip_for_every_order_and_stay_opaque() {
        let t = "2026-11-25T12:34:56.789Z";
        for sort in [
            LinkSort::Created,
            LinkSort::Updated,
            LinkSort::Slug,
            LinkSort::Clicks,
        ] {
            for dir in [SortDir::Asc, SortDir::Desc] {
                let c = LinkCursor::after_row(order(sort, dir), t, t, 42, "Ab_-9").unwrap();
                let s = c.encode();
                assert!(s.bytes().all(|b| b.is_ascii_hexdigit()));
                assert_eq!(LinkCursor::decode(&s), Some(c), "{sort:?} {dir:?}");
            }
        }
        let by_clicks = LinkCursor::after_row(order(LinkSort::Clicks, SortDir::Asc), t, t, 7, "x");
        assert_eq!(by_clicks.unwrap().value, SortValue::Clicks(7));
        assert!(LinkCursor::after_row(LinkOrder::default(), "bad", t, 0, "x").is_none());
        assert!(LinkCursor::after_row(LinkOrder::default(), t, t, 0, "a'b").is_none());
    }

    #[test]
    fn the_old_newest_first_cursor_still_reads() {
        let old = ListCursor::new(Timestamp::from_millis(5), "abc").unwrap();
        let c = LinkCursor::decode(&old.encode()).unwrap();
        assert_eq!(c.order, LinkOrder::default());
        assert_eq!(c.value, SortValue::Time(Timestamp::from_millis(5)));
        assert_eq!(c.slug, "abc");
    }

    #[test]
    fn garbage_cursors_are_rejected() {
        let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
        for bad in [
            String::new(),
            "zz".into(),
            "abc".into(),
            hex("xd.5.abc"),
            hex("cx.5.abc"),
            hex("cd.-5.abc"),
            hex("cd..abc"),
            hex("kd.1e3.abc"),
            hex("sd.5.abc"),
            hex("cd.5.a'b"),
            hex("cd.5."),
            hex("cd.99999999999999999.abc"),
            hex("cdd.5.abc"),
        ] {
            assert_eq!(LinkCursor::decode(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sorts_and_directions_parse_their_names_only() {
        assert_eq!(LinkSort::parse("clicks"), Some(LinkSort::Clicks));
        assert_eq!(LinkSort::parse("Clicks"), None);
        assert_eq!(LinkSort::parse("created_at"), None);
        assert_eq!(SortDir::parse("asc"), Some(SortDir::Asc));
        assert_eq!(SortDir::parse("up"), None);
        assert_eq!(LinkSort::Slug.column(), None);
        assert_eq!(
            LinkOrder::default(),
            order(LinkSort::Created, SortDir::Desc)
        );
    }

    #[test]
    fn search_texts_are_trimmed_bounded_and_printable() {
        assert_eq!(SearchText::parse("  ").unwrap(), None);
        let t = SearchText::parse(" Café ").unwrap().unwrap();
        assert_eq!(t.as_str(), "Café");
        assert!(SearchText::parse(&"é".repeat(200)).unwrap().is_some());
        assert_eq!(
            SearchText::parse(&"é".repeat(201)),
            Err(SearchTextError::TooLong)
        );
        assert_eq!(
            SearchText::parse("a\nb"),
            Err(SearchTextError::ControlCharacter)
        );
    }

    #[test]
    fn search_texts_fold_unicode_case_and_keep_fields_apart() {
        let tags = ["Go".to_owned(), "WEB".to_owned()];
        let t = search_text("Ab-1", "https://X.example/É", Some("Café ΟΔΟΣ"), &tags);
        assert_eq!(
            t,
            "ab-1\u{1f}https://x.example/é\u{1f}café οδοσ\u{1f}go\u{1f}web"
        );
        assert_eq!(search_text("a", "u", None, &[]), "a\u{1f}u\u{1f}");
        let q = |s: &str| SearchText::parse(s).unwrap().unwrap().folded();
        assert_eq!(q("CAFÉ"), "café");
        assert!(t.contains(&q("Σ")) && t.contains(&q("ς")));
        // No text can hold the separator, so none spans "go" and "web".
        assert!(!t.contains(&q("goweb")));
        assert!(SearchText::parse("go\u{1f}web").is_err());
    }
}
