//! edgelink's own export format, one record per link, as CSV (RFC 4180, a header row) and as
//! NDJSON; the import reads back exactly what the export writes (docs/import-export.md).
//!
//! [`Record`] is the portable link: raw values only (strings, numbers, booleans), so that a row
//! read back from a file is validated by the ordinary create parse, never trusted here. The
//! columns, in order, are [`COLUMNS`]; an admin export adds [`OWNER_COLUMNS`]. An empty CSV
//! field is null; tags are one field joined with `,` (a tag can never hold a comma). In CSV,
//! the free-text fields a user writes (title, tags, an owner's email) are kept from being read
//! as formulas by a spreadsheet ([`formula_safe`]), and read back as written ([`as_written`]).
//! Pure: no `worker`, no clock.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Map, Value};

use crate::link::Link;

/// The CSV header of an owner's export, in order; NDJSON keys come in the same order.
pub const COLUMNS: [&str; 18] = [
    "slug",
    "url",
    "title",
    "tags",
    "state",
    "archived",
    "redirect_type",
    "forward_query",
    "max_clicks",
    "expires_at",
    "valid_since",
    "created_at",
    "updated_at",
    "clicks",
    "targets",
    "variants",
    "preview",
    "password_hash",
];

/// The columns before the smart options (`targets`, `variants`, `preview`) were added at the
/// end: files exported then still import ([`Columns::from_header`]).
const COLUMNS_BEFORE_SMART: usize = 14;

/// What an admin's export (`all=1`) adds after [`COLUMNS`].
pub const OWNER_COLUMNS: [&str; 2] = ["owner_id", "owner_email"];

/// Joins (and splits) the tags of one CSV field.
pub const TAG_SEPARATOR: char = ',';

/// Which columns a file carries: an owner's export, or an admin's with the owner of each link;
/// the `Before…` two are the same exports written before the smart options' columns (read
/// only, never written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    Owner,
    Admin,
    BeforeSmartOwner,
    BeforeSmartAdmin,
}

impl Columns {
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        let extra: &[&str] = if self.is_admin() { &OWNER_COLUMNS } else { &[] };
        COLUMNS[..self.link_columns()].iter().chain(extra).copied()
    }

    fn is_admin(self) -> bool {
        matches!(self, Columns::Admin | Columns::BeforeSmartAdmin)
    }

    /// How many of [`COLUMNS`] the file has.
    fn link_columns(self) -> usize {
        match self {
            Columns::Owner | Columns::Admin => COLUMNS.len(),
            Columns::BeforeSmartOwner | Columns::BeforeSmartAdmin => COLUMNS_BEFORE_SMART,
        }
    }

    fn len(self) -> usize {
        self.names().count()
    }

    /// Recognises edgelink's header row (a leading byte-order mark, as spreadsheets write it,
    /// is ignored); `None` for any other header, which is then another format's.
    pub fn from_header<S: AsRef<str>>(header: &[S]) -> Option<Self> {
        let names: Vec<&str> = header
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let s = s.as_ref();
                if i == 0 {
                    s.trim_start_matches('\u{feff}')
                } else {
                    s
                }
            })
            .collect();
        [
            Columns::Owner,
            Columns::Admin,
            Columns::BeforeSmartOwner,
            Columns::BeforeSmartAdmin,
        ]
        .into_iter()
        .find(|c| c.names().eq(names.iter().copied()))
    }
}

/// The owner of a link in an admin's export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub id: String,
    /// `None` when the user is gone from the index.
    pub email: Option<String>,
}

/// One link, portable: what the export writes and the import reads back.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub slug: String,
    pub url: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
    /// `active`, `disabled` or `flagged` (an admin's moderation).
    pub state: String,
    pub archived: bool,
    pub redirect_type: u16,
    pub forward_query: bool,
    pub max_clicks: Option<u64>,
    pub expires_at: Option<String>,
    /// Before this instant the link answers 404.
    pub valid_since: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// People's clicks (the roll-up's total); `None` when unknown.
    pub clicks: Option<u64>,
    /// The link's password hash (`link::PasswordHash`'s form): the export is the one place it
    /// leaves the Worker, so that a restore keeps the password working.
    pub password_hash: Option<String>,
    /// Present in an admin's export only.
    pub owner: Option<Owner>,
    /// The smart options as the API shows them (JSON objects; in CSV, their JSON text).
    pub targets: Option<Value>,
    pub variants: Option<Value>,
    pub preview: Option<Value>,
}

/// Why a row of an edgelink file could not be read as a [`Record`] (before any link rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRecord {
    /// The column at fault, or `"row"` for the row as a whole.
    pub column: &'static str,
    pub message: String,
}

impl InvalidRecord {
    fn new(column: &'static str, message: impl Into<String>) -> Self {
        Self {
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for InvalidRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.column, self.message)
    }
}

impl std::error::Error for InvalidRecord {}

impl Record {
    /// The record of a stored link, with its click total and, for an admin, its owner.
    pub fn from_link(link: &Link, clicks: Option<u64>, owner: Option<Owner>) -> Self {
        Self {
            slug: link.slug.as_str().to_owned(),
            url: link.url.as_str().to_owned(),
            title: link.title.as_ref().map(|t| t.as_str().to_owned()),
            tags: link.tags.as_slice().to_vec(),
            state: link.state().as_str().to_owned(),
            archived: link.archived,
            redirect_type: link.redirect_type.status(),
            forward_query: link.forward_query,
            max_clicks: link.max_clicks,
            expires_at: link.expires_at.map(|t| t.to_rfc3339()),
            valid_since: link.valid_since.map(|t| t.to_rfc3339()),
            created_at: Some(link.created_at.to_rfc3339()),
            updated_at: Some(link.updated_at.to_rfc3339()),
            clicks,
            password_hash: link.password_hash.as_ref().map(|h| h.as_str().to_owned()),
            owner,
            targets: link
                .targets
                .as_ref()
                .and_then(|t| serde_json::to_value(t).ok()),
            variants: link
                .variants
                .as_ref()
                .and_then(|v| serde_json::to_value(v).ok()),
            preview: link
                .preview
                .as_ref()
                .and_then(|p| serde_json::to_value(p).ok()),
        }
    }

    pub fn is_flagged(&self) -> bool {
        self.state == "flagged"
    }

    /// The body of a create (`POST /api/links`) for this record, raw, so the ordinary create
    /// parse judges it. A flagged link comes back `disabled` (an owner cannot flag; the import
    /// decides, from [`Record::is_flagged`], whether an admin flags it again). The times of
    /// creation and update are not create fields: the import keeps them from the record.
    pub fn create_body(&self) -> Value {
        let state = if self.is_flagged() {
            "disabled"
        } else {
            &self.state
        };
        let mut body = Map::new();
        body.insert("url".into(), json!(self.url));
        body.insert("slug".into(), json!(self.slug));
        body.insert("title".into(), json!(self.title));
        body.insert("tags".into(), json!(self.tags));
        body.insert("state".into(), json!(state));
        body.insert("archived".into(), json!(self.archived));
        body.insert("redirect_type".into(), json!(self.redirect_type));
        body.insert("forward_query".into(), json!(self.forward_query));
        body.insert("max_clicks".into(), json!(self.max_clicks));
        body.insert("expires_at".into(), json!(self.expires_at));
        body.insert("valid_since".into(), json!(self.valid_since));
        body.insert("targets".into(), json!(self.targets));
        body.insert("variants".into(), json!(self.variants));
        body.insert("preview".into(), json!(self.preview));
        Value::Object(body)
    }

    /// The record's CSV fields in column order; empty for null.
    pub fn csv_fields(&self, columns: Columns) -> Vec<String> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let num = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
        let mut fields = vec![
            self.slug.clone(),
            self.url.clone(),
            formula_safe(&opt(&self.title)),
            formula_safe(&self.tags.join(&TAG_SEPARATOR.to_string())),
            self.state.clone(),
            self.archived.to_string(),
            self.redirect_type.to_string(),
            self.forward_query.to_string(),
            num(self.max_clicks),
            opt(&self.expires_at),
            opt(&self.valid_since),
            opt(&self.created_at),
            opt(&self.updated_at),
            num(self.clicks),
            json_text(&self.targets),
            json_text(&self.variants),
            json_text(&self.preview),
            opt(&self.password_hash),
        ];
        fields.truncate(columns.link_columns());
        if columns.is_admin() {
            let owner = self.owner.as_ref();
            fields.push(owner.map(|o| o.id.clone()).unwrap_or_default());
            fields.push(formula_safe(
                &owner.and_then(|o| o.email.clone()).unwrap_or_default(),
            ));
        }
        fields
    }

    /// Reads one CSV row of a file whose header was `columns`.
    pub fn from_csv_fields<S: AsRef<str>>(
        fields: &[S],
        columns: Columns,
    ) -> Result<Self, InvalidRecord> {
        if fields.len() != columns.len() {
            return Err(InvalidRecord::new(
                "row",
                format!("expected {} fields, found {}", columns.len(), fields.len()),
            ));
        }
        let f = |i: usize| fields[i].as_ref();
        let text = |i: usize| Some(f(i)).filter(|s| !s.is_empty()).map(str::to_owned);
        let written = |i: usize| text(i).map(|s| as_written(&s).to_owned());
        let tags = match as_written(f(3)) {
            "" => Vec::new(),
            joined => joined.split(TAG_SEPARATOR).map(str::to_owned).collect(),
        };
        let base = columns.link_columns();
        let owner = if columns.is_admin() {
            text(base).map(|id| Owner {
                id,
                email: written(base + 1),
            })
        } else {
            None
        };
        let smart = |i: usize, column| match base > i {
            true => csv_json(f(i), column),
            false => Ok(None),
        };
        Ok(Self {
            slug: f(0).to_owned(),
            url: f(1).to_owned(),
            title: written(2),
            tags,
            state: required(f(4), "state")?.to_owned(),
            archived: csv_bool(f(5), "archived")?,
            redirect_type: csv_number(f(6), "redirect_type")?
                .ok_or_else(|| InvalidRecord::new("redirect_type", "must not be empty"))?,
            forward_query: csv_bool(f(7), "forward_query")?,
            max_clicks: csv_number(f(8), "max_clicks")?,
            expires_at: text(9),
            valid_since: text(10),
            created_at: text(11),
            updated_at: text(12),
            clicks: csv_number(f(13), "clicks")?,
            owner,
            targets: smart(14, "targets")?,
            variants: smart(15, "variants")?,
            preview: smart(16, "preview")?,
            password_hash: if base > 17 { text(17) } else { None },
        })
    }

    /// One NDJSON line, with its `\n`.
    pub fn ndjson_line(&self) -> String {
        // Serialising plain strings, numbers and booleans cannot fail.
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }

    /// Reads one NDJSON line (its line end, if any, is ignored).
    pub fn from_ndjson_line(line: &str) -> Result<Self, InvalidRecord> {
        serde_json::from_str(line.trim_end_matches(['\r', '\n']))
            .map_err(|e| InvalidRecord::new("row", e.to_string()))
    }
}

fn required<'a>(raw: &'a str, column: &'static str) -> Result<&'a str, InvalidRecord> {
    if raw.is_empty() {
        Err(InvalidRecord::new(column, "must not be empty"))
    } else {
        Ok(raw)
    }
}

fn csv_bool(raw: &str, column: &'static str) -> Result<bool, InvalidRecord> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(InvalidRecord::new(column, "must be true or false")),
    }
}

/// A JSON option in one CSV field: empty for none.
fn json_text(v: &Option<Value>) -> String {
    v.as_ref().map(Value::to_string).unwrap_or_default()
}

fn csv_json(raw: &str, column: &'static str) -> Result<Option<Value>, InvalidRecord> {
    if raw.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(raw)
        .map(Some)
        .map_err(|_| InvalidRecord::new(column, "must be JSON or empty"))
}

fn csv_number<N: std::str::FromStr>(
    raw: &str,
    column: &'static str,
) -> Result<Option<N>, InvalidRecord> {
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| InvalidRecord::new(column, "must be a whole number or empty"))
}

/// The NDJSON object: [`COLUMNS`] in order, then the owner's two keys for an admin's export.
impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = COLUMNS.len() + if self.owner.is_some() { 2 } else { 0 };
        let mut o = s.serialize_struct("Record", len)?;
        o.serialize_field("slug", &self.slug)?;
        o.serialize_field("url", &self.url)?;
        o.serialize_field("title", &self.title)?;
        o.serialize_field("tags", &self.tags)?;
        o.serialize_field("state", &self.state)?;
        o.serialize_field("archived", &self.archived)?;
        o.serialize_field("redirect_type", &self.redirect_type)?;
        o.serialize_field("forward_query", &self.forward_query)?;
        o.serialize_field("max_clicks", &self.max_clicks)?;
        o.serialize_field("expires_at", &self.expires_at)?;
        o.serialize_field("valid_since", &self.valid_since)?;
        o.serialize_field("created_at", &self.created_at)?;
        o.serialize_field("updated_at", &self.updated_at)?;
        o.serialize_field("clicks", &self.clicks)?;
        o.serialize_field("targets", &self.targets)?;
        o.serialize_field("variants", &self.variants)?;
        o.serialize_field("preview", &self.preview)?;
        o.serialize_field("password_hash", &self.password_hash)?;
        if let Some(owner) = &self.owner {
            o.serialize_field("owner_id", &owner.id)?;
            o.serialize_field("owner_email", &owner.email)?;
        }
        o.end()
    }
}

/// The NDJSON object as read: absent and `null` are the same (empty), as in the CSV.
#[derive(Deserialize)]
struct RecordLine {
    slug: String,
    url: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    state: String,
    archived: bool,
    redirect_type: u16,
    forward_query: bool,
    #[serde(default)]
    max_clicks: Option<u64>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    valid_since: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    clicks: Option<u64>,
    #[serde(default)]
    targets: Option<Value>,
    #[serde(default)]
    variants: Option<Value>,
    #[serde(default)]
    preview: Option<Value>,
    #[serde(default)]
    password_hash: Option<String>,
    #[serde(default)]
    owner_id: Option<String>,
    #[serde(default)]
    owner_email: Option<String>,
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let l = RecordLine::deserialize(d)?;
        let some = |v: Option<String>| v.filter(|s| !s.is_empty());
        Ok(Record {
            slug: l.slug,
            url: l.url,
            title: some(l.title),
            tags: l.tags.unwrap_or_default(),
            state: l.state,
            archived: l.archived,
            redirect_type: l.redirect_type,
            forward_query: l.forward_query,
            max_clicks: l.max_clicks,
            expires_at: some(l.expires_at),
            valid_since: some(l.valid_since),
            created_at: some(l.created_at),
            updated_at: some(l.updated_at),
            clicks: l.clicks,
            password_hash: some(l.password_hash),
            owner: some(l.owner_id).map(|id| Owner {
                id,
                email: some(l.owner_email),
            }),
            targets: l.targets.filter(|v| !v.is_null()),
            variants: l.variants.filter(|v| !v.is_null()),
            preview: l.preview.filter(|v| !v.is_null()),
        })
    }
}

/// A CSV field a spreadsheet will not run: one that starts as a formula does (`=`, `+`, `-`,
/// `@`, a tab or a carriage return; OWASP's CSV injection advice) gets a leading `'`, which
/// spreadsheets show as text. So does one that starts with `'` already, so that
/// [`as_written`] can take exactly one off whatever the field was: a user's title can never
/// become a formula in the admin's spreadsheet, and the file still reads back as exported.
pub fn formula_safe(field: &str) -> String {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) {
        format!("'{field}")
    } else {
        field.to_owned()
    }
}

/// A field as [`formula_safe`] got it.
pub fn as_written(field: &str) -> &str {
    field.strip_prefix('\'').unwrap_or(field)
}

/// Writes CSV rows (RFC 4180: CRLF line ends, a field quoted only when it holds a comma, a
/// quote or a line break, quotes doubled) into bytes, for one page of a streamed export.
/// Written out here rather than with the `csv` crate's writer, which cost the wasm several KB
/// for these few lines; a unit test holds it to that writer's output byte for byte.
pub fn csv_bytes<'a, I, R>(rows: I) -> Vec<u8>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = &'a str>,
{
    let mut out = Vec::new();
    for row in rows {
        for (i, field) in row.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            if field
                .bytes()
                .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
            {
                out.push(b'"');
                for b in field.bytes() {
                    if b == b'"' {
                        out.push(b'"');
                    }
                    out.push(b);
                }
                out.push(b'"');
            } else {
                out.extend_from_slice(field.as_bytes());
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The header row of a CSV export.
pub fn csv_header(columns: Columns) -> Vec<u8> {
    csv_bytes([columns.names()])
}

/// The CSV rows of `records`.
pub fn csv_rows(records: &[Record], columns: Columns) -> Vec<u8> {
    let fields: Vec<Vec<String>> = records.iter().map(|r| r.csv_fields(columns)).collect();
    csv_bytes(fields.iter().map(|f| f.iter().map(String::as_str)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::UserId;
    use crate::lifecycle::{OwnerState, RedirectType};
    use crate::link::{LinkOptions, Slug, Tags, TargetUrl, Title};
    use crate::moderation::FlagReason;
    use crate::time::Timestamp;

    fn link() -> Link {
        Link::new(
            Slug::parse("abc-1").unwrap(),
            TargetUrl::parse("https://example.com/a?x=1,2").unwrap(),
            UserId::from_random("u1"),
            LinkOptions {
                title: Some(Title::parse("Hello, \"world\"").unwrap()),
                expires_at: Some(Timestamp::from_millis(1_900_000_000_123)),
                archived: true,
                redirect_type: RedirectType::from_status(308).unwrap(),
                forward_query: false,
                state: OwnerState::Disabled,
                max_clicks: Some(5),
                tags: Tags::parse(&["café", "b"]).unwrap(),
                valid_since: Some(Timestamp::from_millis(1_850_000_000_000)),
                targets: Some(
                    crate::link::Targets::parse(
                        &json!({"ios": "https://apps.apple.com/a", "countries": {"DE": "https://example.de/"}}),
                        "sho.rt",
                    )
                    .unwrap(),
                ),
                variants: Some(
                    crate::link::Variants::parse(
                        &json!([{"url": "https://a.com/", "weight": 3}, {"url": "https://b.com/", "weight": 1}]),
                        "sho.rt",
                    )
                    .unwrap(),
                ),
                preview: Some(crate::link::Preview::parse(&json!({"title": "Hi, \"you\""})).unwrap()),
                password_hash: None,
            },
            Timestamp::from_millis(1_800_000_000_000),
        )
    }

    fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes)
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn a_link_becomes_its_record() {
        let r = Record::from_link(&link(), Some(7), None);
        assert_eq!(r.slug, "abc-1");
        assert_eq!(r.tags, vec!["café", "b"]);
        assert_eq!(r.state, "disabled");
        assert_eq!(r.redirect_type, 308);
        assert_eq!(r.expires_at.as_deref(), Some("2030-03-17T17:46:40.123Z"));
        assert_eq!(r.created_at.as_deref(), Some("2027-01-15T08:00:00.000Z"));
        assert_eq!(r.clicks, Some(7));
        let flagged = link().flagged(
            FlagReason::parse("spam").unwrap(),
            Timestamp::from_millis(1_800_000_000_001),
        );
        assert_eq!(Record::from_link(&flagged, None, None).state, "flagged");
    }

    #[test]
    fn header_is_the_contract_and_recognised_back() {
        assert_eq!(
            csv_header(Columns::Owner),
            b"slug,url,title,tags,state,archived,redirect_type,forward_query,max_clicks,expires_at,valid_since,created_at,updated_at,clicks,targets,variants,preview,password_hash\r\n"
        );
        let admin = String::from_utf8(csv_header(Columns::Admin)).unwrap();
        assert!(admin
            .ends_with(",clicks,targets,variants,preview,password_hash,owner_id,owner_email\r\n"));
        for columns in [
            Columns::Owner,
            Columns::Admin,
            Columns::BeforeSmartOwner,
            Columns::BeforeSmartAdmin,
        ] {
            let names: Vec<&str> = columns.names().collect();
            assert_eq!(Columns::from_header(&names), Some(columns));
        }
        let mut bom: Vec<String> = COLUMNS.iter().map(|s| s.to_string()).collect();
        bom[0] = format!("\u{feff}{}", bom[0]);
        assert_eq!(Columns::from_header(&bom), Some(Columns::Owner));
        assert_eq!(Columns::from_header(&["url", "slug"]), None);
        assert_eq!(Columns::from_header(&COLUMNS[..12]), None);
    }

    #[test]
    fn csv_quotes_commas_quotes_and_newlines_per_rfc_4180_and_reads_them_back() {
        // A stored title never holds a line break (titles refuse control characters), but a
        // record read from another tool's file can: the writer must quote it all the same.
        let mut r = Record::from_link(&link(), Some(7), None);
        r.title = Some("Hello, \"world\"\nsecond line".into());
        let bytes = csv_rows(std::slice::from_ref(&r), Columns::Owner);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.starts_with(
                "abc-1,\"https://example.com/a?x=1,2\",\"Hello, \"\"world\"\"\nsecond line\",\"café,b\",disabled,true,308,false,5,"
            ),
            "{text}"
        );
        assert!(
            text.contains(r#",7,"{""countries"":{""DE"":""https://example.de/""},""ios"":""https://apps.apple.com/a""}","#),
            "{text}"
        );
        let rows = read_csv(&bytes);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            Record::from_csv_fields(&rows[0], Columns::Owner),
            Ok(r.clone())
        );
        // A file written before the smart options' columns reads as a record without them.
        let before: Vec<&str> = rows[0][..14].iter().map(String::as_str).collect();
        let read = Record::from_csv_fields(&before, Columns::BeforeSmartOwner).unwrap();
        assert_eq!(
            (read.targets, read.variants, read.preview, read.clicks),
            (None, None, None, Some(7))
        );
    }

    #[test]
    fn no_user_text_reaches_a_spreadsheet_as_a_formula_and_all_reads_back() {
        for (title, cell) in [
            ("=HYPERLINK(\"https://evil.example\")", "'=HYPERLINK("),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("'quoted", "''quoted"),
            ("plain = fine", "plain = fine"),
        ] {
            let mut r = Record::from_link(&link(), None, None);
            r.title = Some(title.into());
            r.tags = vec!["=cmd|' /c calc'!a0".into(), "b".into()];
            r.owner = Some(Owner {
                id: "u_1".into(),
                email: Some("-x@example.com".into()),
            });
            let fields = r.csv_fields(Columns::Admin);
            assert!(fields[2].starts_with(cell), "{title:?} → {:?}", fields[2]);
            assert!(fields[3].starts_with("'="), "{:?}", fields[3]);
            assert_eq!(fields.last().map(String::as_str), Some("'-x@example.com"));
            // No field a user wrote starts as a formula; the file reads back as it was.
            let bytes = csv_rows(std::slice::from_ref(&r), Columns::Admin);
            let rows = read_csv(&bytes);
            for (i, field) in rows[0].iter().enumerate() {
                if [2, 3, COLUMNS.len() + 1].contains(&i) {
                    assert!(
                        !field.starts_with(['=', '+', '-', '@', '\t']),
                        "{i}: {field:?}"
                    );
                }
            }
            assert_eq!(Record::from_csv_fields(&rows[0], Columns::Admin), Ok(r));
        }
    }

    #[test]
    fn the_writer_is_the_csv_crates_byte_for_byte() {
        let rows: Vec<Vec<&str>> = vec![
            vec![
                "plain",
                "",
                "a,b",
                "say \"hi\"",
                "two\nlines",
                "cr\rhere",
                "crlf\r\n",
                "é,ü",
            ],
            vec!["\"", ",", "", "x", "", "", "", "end"],
        ];
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        for row in &rows {
            w.write_record(row).unwrap();
        }
        let theirs = w.into_inner().unwrap();
        let ours = csv_bytes(rows.iter().map(|r| r.iter().copied()));
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap()
        );
    }

    #[test]
    fn empty_fields_are_null_both_ways() {
        let mut r = Record::from_link(&link(), None, None);
        r.title = None;
        r.tags = vec![];
        r.max_clicks = None;
        r.expires_at = None;
        r.valid_since = None;
        r.targets = None;
        r.variants = None;
        r.preview = None;
        let fields = r.csv_fields(Columns::Owner);
        assert_eq!(fields[2], "");
        assert_eq!(fields[3], "");
        assert_eq!(fields[8], "");
        assert_eq!(fields[9], "");
        assert_eq!(fields[10], "");
        assert_eq!(fields[13], "");
        assert_eq!(
            Record::from_csv_fields(&fields, Columns::Owner),
            Ok(r.clone())
        );
        let line = r.ndjson_line();
        assert!(line.contains(r#""title":null,"tags":[],"#), "{line}");
        assert!(
            line.contains(r#""max_clicks":null,"expires_at":null,"#),
            "{line}"
        );
        assert!(
            line.ends_with(
                "\"clicks\":null,\"targets\":null,\"variants\":null,\"preview\":null,\"password_hash\":null}\n"
            ),
            "{line}"
        );
        assert_eq!(Record::from_ndjson_line(&line), Ok(r.clone()));
        // An empty string in NDJSON is null too, as in the CSV.
        let empty_title = line.replace(r#""title":null"#, r#""title":"""#);
        assert_eq!(Record::from_ndjson_line(&empty_title), Ok(r));
    }

    #[test]
    fn ndjson_keys_in_column_order_and_round_trip() {
        let owner = Owner {
            id: "u1".into(),
            email: Some("a@example.com".into()),
        };
        for (owner, columns) in [(None, Columns::Owner), (Some(owner), Columns::Admin)] {
            let r = Record::from_link(&link(), Some(3), owner);
            let line = r.ndjson_line();
            assert_eq!(line.matches('\n').count(), 1, "one line: {line}");
            let value: Value = serde_json::from_str(&line).unwrap();
            let keys: Vec<&str> = value
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            // serde_json's Map is sorted unless preserve_order: compare as sets, then order by text.
            let mut want: Vec<&str> = columns.names().collect();
            let mut got = keys.clone();
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want);
            let positions: Vec<usize> = columns
                .names()
                .map(|k| line.find(&format!("\"{k}\":")).unwrap())
                .collect();
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "{line}");
            assert_eq!(value["tags"], json!(["café", "b"]));
            assert_eq!(value["archived"], json!(true));
            assert_eq!(value["redirect_type"], json!(308));
            assert_eq!(Record::from_ndjson_line(&line), Ok(r.clone()));
            let csv = csv_rows(std::slice::from_ref(&r), columns);
            let rows = read_csv(&csv);
            assert_eq!(Record::from_csv_fields(&rows[0], columns), Ok(r));
        }
    }

    #[test]
    fn bad_rows_name_their_column() {
        let r = Record::from_link(&link(), None, None);
        let mut fields = r.csv_fields(Columns::Owner);
        fields[5] = "yes".into();
        let err = Record::from_csv_fields(&fields, Columns::Owner).unwrap_err();
        assert_eq!(err.column, "archived");
        fields[5] = "false".into();
        fields[6] = "".into();
        assert_eq!(
            Record::from_csv_fields(&fields, Columns::Owner)
                .unwrap_err()
                .column,
            "redirect_type"
        );
        fields[6] = "302".into();
        fields[8] = "-1".into();
        assert_eq!(
            Record::from_csv_fields(&fields, Columns::Owner)
                .unwrap_err()
                .column,
            "max_clicks"
        );
        assert_eq!(
            Record::from_csv_fields(&fields[..12], Columns::Owner)
                .unwrap_err()
                .column,
            "row"
        );
        assert!(Record::from_ndjson_line("{\"slug\":1}").is_err());
    }

    #[test]
    fn create_body_is_the_create_fields_and_unflags() {
        let flagged = link().flagged(
            FlagReason::parse("spam").unwrap(),
            Timestamp::from_millis(1_800_000_000_001),
        );
        let r = Record::from_link(&flagged, Some(1), None);
        assert!(r.is_flagged());
        let body = r.create_body();
        assert_eq!(body["state"], json!("disabled"));
        assert_eq!(body["slug"], json!("abc-1"));
        assert_eq!(body["tags"], json!(["café", "b"]));
        assert_eq!(body["max_clicks"], json!(5));
        assert_eq!(body["expires_at"], json!("2030-03-17T17:46:40.123Z"));
        assert!(body.get("created_at").is_none() && body.get("clicks").is_none());
    }
}
