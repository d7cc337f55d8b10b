//! Shlink's CSV, as its web client (shlink-web-client) exports short URLs: the header
//! `Long URL,Tags,Domain,Short code,Title`, tags in one field separated by `|`. The domain is
//! not kept (edgelink serves one). Pure: no `worker`.

use super::generic_csv::{normalise, records};
use super::row::{non_empty, ImportRow, InvalidFile, ParsedRows, RowError};

/// The header, in order.
pub const HEADER: [&str; 5] = ["Long URL", "Tags", "Domain", "Short code", "Title"];
const URL: usize = 0;
const TAGS: usize = 1;
const SLUG: usize = 3;
const TITLE: usize = 4;

/// Whether a header row is Shlink's (compared case-insensitively, spaces ignored).
pub fn is_header<S: AsRef<str>>(header: &[S]) -> bool {
    header.len() == HEADER.len()
        && header
            .iter()
            .zip(HEADER)
            .all(|(h, want)| normalise(h.as_ref()) == normalise(want))
}

/// Tags of one field: separated by `|`.
pub fn split_tags(field: &str) -> Vec<String> {
    field
        .split('|')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads a Shlink CSV export.
pub fn parse(text: &str) -> Result<ParsedRows, InvalidFile> {
    let (header, records) = records(text)?;
    if !is_header(&header) {
        return Err(InvalidFile(format!(
            "a Shlink export starts with the header {}",
            HEADER.join(",")
        )));
    }
    Ok(records
        .into_iter()
        .map(|(line, fields)| {
            let fields = fields.map_err(|e| RowError::new(line, None, "invalid_row", e))?;
            let field = |i: usize| fields.get(i).map(String::as_str).unwrap_or("");
            let slug = non_empty(field(SLUG));
            let url = non_empty(field(URL)).ok_or_else(|| {
                RowError::new(line, slug.as_deref(), "invalid_url", "the row has no URL")
            })?;
            Ok(ImportRow {
                line,
                slug,
                url,
                title: non_empty(field(TITLE)),
                tags: split_tags(field(TAGS)),
                ..ImportRow::default()
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_recognised_in_any_case() {
        assert!(is_header(&HEADER));
        assert!(is_header(&[
            "long url",
            "TAGS",
            "domain",
            "short code",
            "title"
        ]));
        assert!(!is_header(&["Long URL", "Tags", "Short code", "Title"]));
    }

    #[test]
    fn columns_map_and_tags_split_on_bars() {
        let text = "Long URL,Tags,Domain,Short code,Title\nhttps://a.example/x,news|tech,s.test,abc1,Hello\nhttps://b.example,,,,\n,t,,zz9,\n";
        let rows = parse(text).unwrap();
        let a = rows[0].as_ref().unwrap();
        assert_eq!(a.url, "https://a.example/x");
        assert_eq!(a.slug.as_deref(), Some("abc1"));
        assert_eq!(a.title.as_deref(), Some("Hello"));
        assert_eq!(a.tags, ["news", "tech"]);
        assert_eq!(a.line, 2);
        let b = rows[1].as_ref().unwrap();
        assert_eq!(
            (b.slug.as_deref(), b.title.as_deref(), b.tags.len()),
            (None, None, 0)
        );
        let c = rows[2].as_ref().unwrap_err();
        assert_eq!((c.line, c.code.as_str()), (4, "invalid_url"));
        assert!(parse("url,slug\nhttps://e.com,x\n").is_err());
    }
}
