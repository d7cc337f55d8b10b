//! Reading Sink's export file (`{"version","links":[…]}`, each element a [`SinkLink`]) into
//! import rows: slug, URL, title, tags, the expiry (`expiration`, Unix seconds) and the dates
//! (`createdAt`/`updatedAt`, Unix seconds), which the import keeps; the device redirects
//! (`apple`, `google`) and the social card (`description`, `image`) as adoption maps them
//! ([`SinkLink::targets`], [`SinkLink::preview`]), checked by the create's rules like every
//! row's. `comment` has no place in an edgelink link and is not kept. Pure: no `worker`.

use serde::Deserialize;
use serde_json::Value;

use super::row::{ImportRow, InvalidFile, ParsedRows, RowError};
use super::sink::SinkLink;
use crate::time::Timestamp;

#[derive(Deserialize)]
struct ExportFile {
    links: Vec<Value>,
}

fn seconds(s: u64) -> String {
    Timestamp::from_millis(s.saturating_mul(1000)).to_rfc3339()
}

/// The row of one link of the file. Sink's password hash comes along (the link asks for the
/// same password); a password edgelink cannot check leaves the link disabled, as adoption does.
pub fn row(line: u64, link: SinkLink) -> ImportRow {
    let password_hash = link.password_hash().map(String::from);
    let state = link.is_stopped().then(|| "disabled".to_owned());
    // Both serialise to JSON objects whatever they hold; `ok()` only spares an unwrap.
    let targets = link.targets().and_then(|t| serde_json::to_value(t).ok());
    let preview = link.preview().and_then(|p| serde_json::to_value(p).ok());
    ImportRow {
        line,
        slug: link.slug.filter(|s| !s.trim().is_empty()),
        url: link.url,
        title: link.title.filter(|t| !t.trim().is_empty()),
        tags: link.tags,
        expires_at: link.expiration.map(seconds),
        created_at: link.created_at.map(seconds),
        updated_at: link.updated_at.map(seconds),
        password_hash,
        state,
        targets,
        preview,
        ..ImportRow::default()
    }
}

/// Reads Sink's export file; a link that is not Sink's shape is refused alone, with its
/// position in `links` as its line.
pub fn parse(text: &str) -> Result<ParsedRows, InvalidFile> {
    let file: ExportFile = serde_json::from_str(text).map_err(|e| {
        InvalidFile(format!(
            "not a Sink export (a JSON object with a `links` array): {e}"
        ))
    })?;
    Ok(file
        .links
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let line = i as u64 + 1;
            let slug = v.get("slug").and_then(Value::as_str).map(str::to_owned);
            serde_json::from_value::<SinkLink>(v)
                .map(|l| row(line, l))
                .map_err(|e| RowError::new(line, slug.as_deref(), "invalid_row", e.to_string()))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_fields_map_and_times_in_seconds_become_dates() {
        let text = r#"{"version":"0.3.4","links":[
            {"slug":"gh","url":"https://github.com","title":"GitHub","description":"d","comment":"c","tags":["code"],"expiration":4102444800,"createdAt":1700000000,"updatedAt":1700000100,"id":"x"},
            {"slug":"bare","url":"https://example.com","createdAt":1700000000},
            {"slug":"broken","url":42}
        ]}"#;
        let rows = parse(text).unwrap();
        let a = rows[0].as_ref().unwrap();
        assert_eq!(
            (a.line, a.slug.as_deref(), a.title.as_deref()),
            (1, Some("gh"), Some("GitHub"))
        );
        assert_eq!(a.tags, ["code"]);
        assert_eq!(a.expires_at.as_deref(), Some("2100-01-01T00:00:00.000Z"));
        assert_eq!(a.created_at.as_deref(), Some("2023-11-14T22:13:20.000Z"));
        assert_eq!(a.updated_at.as_deref(), Some("2023-11-14T22:15:00.000Z"));
        let b = rows[1].as_ref().unwrap();
        assert_eq!((b.title.as_deref(), b.expires_at.as_deref()), (None, None));
        let c = rows[2].as_ref().unwrap_err();
        assert_eq!((c.line, c.slug.as_deref()), (3, Some("broken")));
    }

    #[test]
    fn a_sink_password_hash_is_kept_and_a_plain_one_disables() {
        let text = r#"{"links":[
            {"slug":"h","url":"https://example.com","password":"sink-pwd:v1:10000:c2FsdHNhbHRzYWx0c2FsdA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:MTIz"},
            {"slug":"p","url":"https://example.com","password":"hunter2"}
        ]}"#;
        let rows = parse(text).unwrap();
        let h = rows[0].as_ref().unwrap();
        assert_eq!(
            h.password_hash.as_deref(),
            Some("pbkdf2-sha256:10000:c2FsdHNhbHRzYWx0c2FsdA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        );
        assert_eq!(h.state, None);
        let p = rows[1].as_ref().unwrap();
        assert_eq!(
            (p.password_hash.as_deref(), p.state.as_deref()),
            (None, Some("disabled"))
        );
    }

    #[test]
    fn sinks_device_redirects_and_social_card_become_targets_and_a_preview() {
        let text = r#"{"links":[
            {"slug":"app","url":"https://example.com/app","title":"App","description":"Get it","image":"https://example.com/card.png","apple":"https://apps.apple.com/app/id1","google":"https://play.google.com/store/apps/details?id=x"},
            {"slug":"plain","url":"https://example.com","title":"Only a title","apple":"not a url","image":"http://example.com/i.png"}
        ]}"#;
        let rows = parse(text).unwrap();
        let a = rows[0].as_ref().unwrap();
        assert_eq!(
            a.targets,
            Some(serde_json::json!({
                "ios": "https://apps.apple.com/app/id1",
                "android": "https://play.google.com/store/apps/details?id=x"
            }))
        );
        assert_eq!(
            a.preview,
            Some(serde_json::json!({
                "title": "App", "description": "Get it", "image": "https://example.com/card.png"
            }))
        );
        let b = rows[1].as_ref().unwrap();
        assert_eq!((&b.targets, &b.preview), (&None, &None));
        assert_eq!(b.title.as_deref(), Some("Only a title"));
    }

    #[test]
    fn a_file_without_links_is_not_sinks() {
        assert!(parse("{\"version\":1}").is_err());
        assert!(parse("[1,2]").is_err());
        assert!(parse("{").is_err());
    }
}
