//! Reading edgelink's own export back ([`super::edgelink`]'s [`Record`], CSV or NDJSON) into
//! import rows, with every field: state, archive, redirect type, query forwarding, click limit,
//! expiry, and the dates of creation and update, which the import keeps. The click totals and
//! an admin export's owner columns are not imported (a fresh deployment counts its own clicks;
//! the importer, or the admin's `owner=`, owns the links). Pure: no `worker`.

use super::edgelink::{Columns, Record};
use super::generic_csv::records;
use super::row::{ImportRow, InvalidFile, ParsedRows, RowError};

/// Whether a CSV header row is edgelink's export's (an owner's or an admin's).
pub fn is_header<S: AsRef<str>>(header: &[S]) -> bool {
    Columns::from_header(header).is_some()
}

/// The row of a record read back from a file.
pub fn row(line: u64, r: Record) -> ImportRow {
    ImportRow {
        line,
        slug: Some(r.slug).filter(|s| !s.is_empty()),
        url: r.url,
        title: r.title,
        tags: r.tags,
        state: Some(r.state),
        archived: Some(r.archived),
        redirect_type: Some(r.redirect_type),
        forward_query: Some(r.forward_query),
        max_clicks: r.max_clicks,
        expires_at: r.expires_at,
        valid_since: r.valid_since,
        created_at: r.created_at,
        updated_at: r.updated_at,
        targets: r.targets,
        variants: r.variants,
        preview: r.preview,
        password_hash: r.password_hash,
    }
}

/// Reads edgelink's CSV export.
pub fn parse_csv(text: &str) -> Result<ParsedRows, InvalidFile> {
    let (header, records) = records(text)?;
    let columns = Columns::from_header(&header)
        .ok_or_else(|| InvalidFile("the CSV header is not edgelink's export's".into()))?;
    Ok(records
        .into_iter()
        .map(|(line, fields)| {
            let fields = fields.map_err(|e| RowError::new(line, None, "invalid_row", e))?;
            let slug = fields.first().map(String::as_str);
            Record::from_csv_fields(&fields, columns)
                .map(|r| row(line, r))
                .map_err(|e| RowError::new(line, slug, "invalid_row", e.to_string()))
        })
        .collect())
}

/// Reads edgelink's NDJSON export: one object a line; blank lines are left out.
pub fn parse_ndjson(text: &str) -> Result<ParsedRows, InvalidFile> {
    let rows: ParsedRows = text
        .split('\n')
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let line = i as u64 + 1;
            Record::from_ndjson_line(l)
                .map(|r| row(line, r))
                .map_err(|e| {
                    let slug = serde_json::from_str::<serde_json::Value>(l)
                        .ok()
                        .and_then(|v| v.get("slug")?.as_str().map(str::to_owned));
                    RowError::new(line, slug.as_deref(), "invalid_row", e.to_string())
                })
        })
        .collect();
    if !rows.is_empty() && rows.iter().all(Result::is_err) {
        return Err(InvalidFile(
            "no line of the file is an edgelink NDJSON record".into(),
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "slug,url,title,tags,state,archived,redirect_type,forward_query,max_clicks,expires_at,valid_since,created_at,updated_at,clicks";

    #[test]
    fn every_column_of_the_csv_maps_to_the_row() {
        let text = format!(
            "{HEADER}\r\nabc,https://e.com/a,\"A, title\",\"x,y\",disabled,true,301,false,5,2099-01-01T00:00:00.000Z,2026-06-01T00:00:00.000Z,2025-01-01T00:00:00.000Z,2025-01-02T00:00:00.000Z,17\r\nb2,https://e.com/b,,,active,false,302,true,,,,,,\r\n"
        );
        let rows = parse_csv(&text).unwrap();
        let a = rows[0].as_ref().unwrap();
        assert_eq!(a.line, 2);
        assert_eq!(a.slug.as_deref(), Some("abc"));
        assert_eq!(a.title.as_deref(), Some("A, title"));
        assert_eq!(a.tags, ["x", "y"]);
        assert_eq!(a.state.as_deref(), Some("disabled"));
        assert_eq!(
            (a.archived, a.redirect_type, a.forward_query),
            (Some(true), Some(301), Some(false))
        );
        assert_eq!(a.max_clicks, Some(5));
        assert_eq!(a.expires_at.as_deref(), Some("2099-01-01T00:00:00.000Z"));
        assert_eq!(a.valid_since.as_deref(), Some("2026-06-01T00:00:00.000Z"));
        assert_eq!(a.created_at.as_deref(), Some("2025-01-01T00:00:00.000Z"));
        assert_eq!(a.updated_at.as_deref(), Some("2025-01-02T00:00:00.000Z"));
        let b = rows[1].as_ref().unwrap();
        assert_eq!(
            (b.title.as_deref(), b.tags.len(), b.max_clicks),
            (None, 0, None)
        );
    }

    #[test]
    fn a_bad_csv_row_is_refused_alone() {
        let text = format!("{HEADER}\nabc,https://e.com,,,active,maybe,302,true,,,,,,\nok1,https://e.com,,,active,false,302,true,,,,,,\n");
        let rows = parse_csv(&text).unwrap();
        let bad = rows[0].as_ref().unwrap_err();
        assert_eq!((bad.line, bad.slug.as_deref()), (2, Some("abc")));
        assert!(rows[1].is_ok());
    }

    #[test]
    fn ndjson_lines_map_and_keep_their_line_numbers() {
        let text = "{\"slug\":\"a1\",\"url\":\"https://e.com\",\"title\":null,\"tags\":[\"t\"],\"state\":\"active\",\"archived\":false,\"redirect_type\":302,\"forward_query\":true,\"max_clicks\":null,\"expires_at\":null,\"created_at\":\"2025-01-01T00:00:00.000Z\",\"updated_at\":\"2025-01-01T00:00:00.000Z\",\"clicks\":3}\n\n{\"slug\":\"b2\",\"url\":5}\n";
        let rows = parse_ndjson(text).unwrap();
        assert_eq!(rows.len(), 2);
        let a = rows[0].as_ref().unwrap();
        assert_eq!((a.line, a.tags.clone()), (1, vec!["t".to_owned()]));
        let b = rows[1].as_ref().unwrap_err();
        assert_eq!((b.line, b.slug.as_deref()), (3, Some("b2")));
        assert!(parse_ndjson("{\"nope\":1}\n").is_err());
    }
}
