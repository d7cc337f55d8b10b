//! The generic CSV import: a header row that names the columns in any of the common spellings
//! ([`Mapping`]), which covers YOURLS and Kutt table dumps and Bitly, Rebrandly and Dub exports;
//! and the CSV reading the other CSV formats share ([`header`], [`records`]).
//!
//! Header names match case-insensitively and ignoring everything but letters and digits, so
//! `long_url`, `longUrl` and `Long URL` are one name. Only the URL column is required.
//! Pure: no `worker`.

use super::row::{non_empty, split_tags, ImportRow, InvalidFile, ParsedRows, RowError};

/// Spellings of the destination column, in order of preference when a file has several.
pub const URL_NAMES: [&str; 8] = [
    "url",
    "longurl",
    "destination",
    "destinationurl",
    "target",
    "originalurl",
    "longlink",
    "redirecturl",
];
/// Spellings of the slug column: `keyword` (YOURLS), `address` (Kutt), `slashtag` (Rebrandly),
/// `key` (Dub), `shortcode` (Shlink).
pub const SLUG_NAMES: [&str; 9] = [
    "slug",
    "shortcode",
    "keyword",
    "alias",
    "address",
    "slashtag",
    "key",
    "backhalf",
    "customslug",
];
pub const TITLE_NAMES: [&str; 2] = ["title", "name"];
pub const TAG_NAMES: [&str; 3] = ["tags", "tag", "labels"];

/// A header name reduced to lower-case letters and digits.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Which column holds which field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    pub url: usize,
    pub slug: Option<usize>,
    pub title: Option<usize>,
    pub tags: Option<usize>,
}

impl Mapping {
    /// The mapping of a header row; refused when no column is a URL.
    pub fn of<S: AsRef<str>>(header: &[S]) -> Result<Self, InvalidFile> {
        let names: Vec<String> = header.iter().map(|h| normalise(h.as_ref())).collect();
        let find = |spellings: &[&str]| {
            spellings
                .iter()
                .find_map(|s| names.iter().position(|n| n == s))
        };
        let url = find(&URL_NAMES).ok_or_else(|| {
            InvalidFile(
                "the CSV header names no URL column (url, long_url, longUrl, destination, target)"
                    .into(),
            )
        })?;
        Ok(Self {
            url,
            slug: find(&SLUG_NAMES),
            title: find(&TITLE_NAMES),
            tags: find(&TAG_NAMES),
        })
    }

    /// The row of one record; tags split on `,`, `|` or whitespace.
    pub fn row(&self, line: u64, fields: &[String]) -> Result<ImportRow, RowError> {
        let field = |i: Option<usize>| i.and_then(|i| fields.get(i)).map(String::as_str);
        let slug = field(self.slug).and_then(non_empty);
        let url = field(Some(self.url)).and_then(non_empty).ok_or_else(|| {
            RowError::new(line, slug.as_deref(), "invalid_url", "the row has no URL")
        })?;
        Ok(ImportRow {
            line,
            slug,
            url,
            title: field(self.title).and_then(non_empty),
            tags: field(self.tags).map(split_tags).unwrap_or_default(),
            ..ImportRow::default()
        })
    }
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
}

/// The header row of a CSV file; `None` when the text has no CSV record with a non-empty field.
pub fn header(text: &str) -> Option<Vec<String>> {
    let mut record = csv::StringRecord::new();
    let mut r = reader(text);
    loop {
        match r.read_record(&mut record) {
            Ok(true) if record.iter().all(|f| f.trim().is_empty()) => continue,
            Ok(true) => return Some(record.iter().map(|f| f.trim().to_owned()).collect()),
            _ => return None,
        }
    }
}

/// One CSV record: the line it starts on, and its fields (or why it could not be read).
pub type Record = (u64, Result<Vec<String>, String>);

/// Counts lines up to byte offsets that only grow: the line a record starts on. The reader's
/// own line count lags behind a CRLF or a blank line, so lines are counted from the text.
struct Lines<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The line of the record whose position the reader gives as `byte` (which may point at
    /// the line ends before it).
    fn of(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.at {
            self.line += self.text[self.at..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.at = start;
        }
        self.line
    }
}

/// The header and the records after it; blank lines are left out.
pub fn records(text: &str) -> Result<(Vec<String>, Vec<Record>), InvalidFile> {
    let header = header(text).ok_or_else(|| InvalidFile("the file has no CSV header".into()))?;
    let mut r = reader(text);
    let mut lines = Lines::new(text);
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut seen_header = false;
    loop {
        let before = r.position().byte();
        match r.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) if record.iter().all(|f| f.trim().is_empty()) => continue,
            Ok(true) if !seen_header => seen_header = true,
            Ok(true) => {
                let line = lines.of(record.position().map_or(before, |p| p.byte()));
                out.push((line, Ok(record.iter().map(str::to_owned).collect())));
            }
            Err(e) => {
                let line = lines.of(e.position().map_or(before, |p| p.byte()));
                out.push((line, Err(e.to_string())));
                // A broken record may leave the reader where it cannot go on.
                if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
            }
        }
    }
    Ok((header, out))
}

/// Reads a generic CSV file.
pub fn parse(text: &str) -> Result<ParsedRows, InvalidFile> {
    let (header, records) = records(text)?;
    let mapping = Mapping::of(&header)?;
    Ok(records
        .into_iter()
        .map(|(line, fields)| match fields {
            Ok(fields) => mapping.row(line, &fields),
            Err(e) => Err(RowError::new(line, None, "invalid_row", e)),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(header: &str) -> Mapping {
        Mapping::of(&header.split(',').collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn every_common_spelling_maps_case_insensitively() {
        for (header, want) in [
            ("url,slug,title,tags", (0, Some(1), Some(2), Some(3))),
            (
                "long_url,short_code,title,tags",
                (0, Some(1), Some(2), Some(3)),
            ),
            ("longUrl,shortCode", (0, Some(1), None, None)),
            ("DESTINATION,Alias,Title", (0, Some(1), Some(2), None)),
            ("id,target,keyword", (1, Some(2), None, None)),
            // YOURLS's yourls_url table.
            (
                "keyword,url,title,timestamp,ip,clicks",
                (1, Some(0), Some(2), None),
            ),
            // Kutt's links table.
            (
                "id,address,banned,target,user_id,visit_count,description",
                (3, Some(1), None, None),
            ),
            // Bitly's export: `link` is the short link, not a slug.
            (
                "title,link,long_url,created,tags",
                (2, None, Some(0), Some(4)),
            ),
            // Rebrandly's and Dub's.
            (
                "Destination,Slashtag,Title,Tags",
                (0, Some(1), Some(2), Some(3)),
            ),
            ("key,url,domain,title,tags", (1, Some(0), Some(3), Some(4))),
        ] {
            let m = map(header);
            assert_eq!((m.url, m.slug, m.title, m.tags), want, "{header}");
        }
        assert!(Mapping::of(&["name", "age"]).is_err());
    }

    #[test]
    fn the_first_preferred_url_column_wins() {
        assert_eq!(map("target,url").url, 1);
    }

    #[test]
    fn rows_keep_their_line_numbers_and_split_tags() {
        let text = "url,slug,title,tags\r\nhttps://a.example,a1,A,\"x, y|z\"\r\n\r\n\"https://b.example/\nnext\",,,\r\n,c3,,\r\nhttps://d.example,d4\r\n";
        let rows = parse(text).unwrap();
        assert_eq!(rows.len(), 4);
        let a = rows[0].as_ref().unwrap();
        assert_eq!(
            (a.line, a.slug.as_deref(), a.title.as_deref()),
            (2, Some("a1"), Some("A"))
        );
        assert_eq!(a.tags, ["x", "y", "z"]);
        let b = rows[1].as_ref().unwrap();
        assert_eq!((b.line, b.slug.as_deref()), (4, None));
        let c = rows[2].as_ref().unwrap_err();
        assert_eq!(
            (c.line, c.code.as_str(), c.slug.as_deref()),
            (6, "invalid_url", Some("c3"))
        );
        // A short row reads its missing fields as empty.
        let d = rows[3].as_ref().unwrap();
        assert_eq!((d.line, d.title.as_deref()), (7, None));
    }

    #[test]
    fn a_header_only_file_has_no_rows_and_garbage_has_no_header() {
        assert!(parse("url\n").unwrap().is_empty());
        assert!(parse("").is_err());
        assert!(parse("a,b\n1,2\n").is_err());
    }
}
