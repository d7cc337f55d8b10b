//! An import's pure core: the normalised [`ImportRow`] every format is read into, the formats
//! ([`Format`]) and their detection from content ([`detect`]), parsing a file into rows
//! ([`parse`]), "within one file the last row for a slug wins" ([`last_row_wins`]), the row's
//! validation into a link ([`ImportRow::to_link`], the rules of a create), and what a row does
//! when its slug is taken ([`ConflictMode`], [`plan`]).
//!
//! No `worker`, no clock, no randomness: the job shell (`service::imports`) reads the stores,
//! passes `now` in and does the writes.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use super::row::{non_empty, split_tags, ImportRow, InvalidFile, ParsedRows, RowError};
use super::{from_edgelink, from_sink, generic_csv, shlink};
use crate::account::UserId;
use crate::invalid::InvalidLink;
use crate::lifecycle::{OwnerState, RedirectType, MAX_EXPIRY_AHEAD_MILLIS};
use crate::link::{
    Link, LinkOptions, LinkPatch, PasswordHash, Preview, Slug, Tags, TargetUrl, Targets, Title,
    Variants,
};
use crate::moderation::FlagReason;
use crate::time::Timestamp;

/// The largest file an import takes (the request body; 413 above).
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;
/// Rows a chunk holds: one queue message, one consumer invocation. A chunk costs about two
/// subrequests per row (the create path's KV check and the slug's Durable Object), a few bulk
/// KV reads and three D1 batches: well inside an invocation's limits, and short (the local
/// runtime stalled queue invocations that ran for ten seconds and more).
pub const ROWS_PER_CHUNK: usize = 50;
/// Chunks stored in one KV value (a page of 200 rows): the upload writes one value per page.
pub const CHUNKS_PER_PAGE: usize = 4;
pub const ROWS_PER_PAGE: usize = ROWS_PER_CHUNK * CHUNKS_PER_PAGE;
/// Pages one import may have: one invocation may make 1000 KV operations.
pub const MAX_PAGES: usize = 500;
/// Rows one import may have (100,000).
pub const MAX_ROWS: usize = ROWS_PER_PAGE * MAX_PAGES;

/// Where chunk `n` lives: its page and the range of rows in it.
pub fn chunk_in_page(chunk: u64) -> (u64, std::ops::Range<usize>) {
    let per_page = CHUNKS_PER_PAGE as u64;
    let first = (chunk % per_page) as usize * ROWS_PER_CHUNK;
    (chunk / per_page, first..first + ROWS_PER_CHUNK)
}

/// The formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    #[serde(rename = "edgelink-csv")]
    EdgelinkCsv,
    #[serde(rename = "edgelink-ndjson")]
    EdgelinkNdjson,
    #[serde(rename = "sink")]
    Sink,
    #[serde(rename = "shlink")]
    Shlink,
    #[serde(rename = "csv")]
    Csv,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::EdgelinkCsv,
        Format::EdgelinkNdjson,
        Format::Sink,
        Format::Shlink,
        Format::Csv,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::EdgelinkCsv => "edgelink-csv",
            Format::EdgelinkNdjson => "edgelink-ndjson",
            Format::Sink => "sink",
            Format::Shlink => "shlink",
            Format::Csv => "csv",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == raw)
    }

    /// Whether the format carries every field of a link (then the file's dates are kept and a
    /// flagged row is flagged again when the admin imports it).
    pub fn is_edgelink(self) -> bool {
        matches!(self, Format::EdgelinkCsv | Format::EdgelinkNdjson)
    }
}

/// The text of a file: UTF-8, without a leading byte-order mark (spreadsheets write one).
pub fn file_text(bytes: Vec<u8>) -> Result<String, InvalidFile> {
    let text =
        String::from_utf8(bytes).map_err(|_| InvalidFile("the file is not UTF-8 text".into()))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// The format of a file, from its content: a JSON object with `links` is Sink's export, JSON
/// objects one a line are edgelink's NDJSON, and a CSV header names edgelink's columns,
/// Shlink's, or (in any of the common spellings) at least a URL column. `None` when it is none
/// of them.
pub fn detect(text: &str) -> Option<Format> {
    let start = text.trim_start();
    if start.starts_with('{') {
        let first_line = start.lines().next().unwrap_or("");
        return match serde_json::from_str::<serde_json::Value>(first_line) {
            Ok(v) if v.get("links").is_none() && v.get("url").is_some() => {
                Some(Format::EdgelinkNdjson)
            }
            // A one-line export, or a pretty-printed one whose first line is `{`.
            _ => Some(Format::Sink),
        };
    }
    let header = generic_csv::header(text)?;
    if from_edgelink::is_header(&header) {
        Some(Format::EdgelinkCsv)
    } else if shlink::is_header(&header) {
        Some(Format::Shlink)
    } else if generic_csv::Mapping::of(&header).is_ok() {
        Some(Format::Csv)
    } else {
        None
    }
}

/// Reads a file of `format` into rows. A row that cannot be read is an `Err` in its place; the
/// file as a whole is refused only when it is not of the format at all.
pub fn parse(format: Format, text: &str) -> Result<ParsedRows, InvalidFile> {
    let rows = match format {
        Format::EdgelinkCsv => from_edgelink::parse_csv(text)?,
        Format::EdgelinkNdjson => from_edgelink::parse_ndjson(text)?,
        Format::Sink => from_sink::parse(text)?,
        Format::Shlink => shlink::parse(text)?,
        Format::Csv => generic_csv::parse(text)?,
    };
    if rows.len() > MAX_ROWS {
        return Err(InvalidFile(format!(
            "the file holds {} rows; an import takes at most {MAX_ROWS}",
            rows.len()
        )));
    }
    Ok(rows)
}

/// Within one file the last row for a slug wins: the rows to import, in file order, and the
/// earlier rows each later one replaced (reported as superseded). Rows without a slug never
/// replace one another.
pub fn last_row_wins(rows: Vec<ImportRow>) -> (Vec<ImportRow>, Vec<ImportRow>) {
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        if let Some(slug) = row.slug.as_deref() {
            last.insert(slug, i);
        }
    }
    let keep: Vec<bool> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| row.slug.as_deref().is_none_or(|s| last.get(s) == Some(&i)))
        .collect();
    let (mut kept, mut superseded) = (Vec::new(), Vec::new());
    for (row, keep) in rows.into_iter().zip(keep) {
        if keep {
            kept.push(row);
        } else {
            superseded.push(row);
        }
    }
    (kept, superseded)
}

/// What a row whose slug is taken does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConflictMode {
    /// Leave the existing link alone; the row is skipped.
    #[default]
    Skip,
    /// Replace the link, when it is the importer's own; another user's is refused.
    Overwrite,
    /// Create the row under a fresh generated slug, and report it.
    Rename,
}

impl ConflictMode {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "skip" => Some(ConflictMode::Skip),
            "overwrite" => Some(ConflictMode::Overwrite),
            "rename" => Some(ConflictMode::Rename),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConflictMode::Skip => "skip",
            ConflictMode::Overwrite => "overwrite",
            ConflictMode::Rename => "rename",
        }
    }
}

/// Who holds a row's slug now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Nobody,
    Importer,
    /// Another user, or a slug not free for the importer (quarantined, flagged).
    Other,
}

/// What to do with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Claim the row's slug (or a generated one when it has none).
    Create,
    /// Replace the importer's own link.
    Overwrite,
    /// Create under a generated slug.
    Rename,
    Skip,
    /// Another user's link: never touched.
    Refuse,
}

/// The row's plan, from the conflict mode and who holds its slug.
pub fn plan(mode: ConflictMode, holder: Holder) -> Plan {
    match (holder, mode) {
        (Holder::Nobody, _) => Plan::Create,
        (_, ConflictMode::Skip) => Plan::Skip,
        (_, ConflictMode::Rename) => Plan::Rename,
        (Holder::Importer, ConflictMode::Overwrite) => Plan::Overwrite,
        (Holder::Other, ConflictMode::Overwrite) => Plan::Refuse,
    }
}

/// How a row ended, as the job counts it and the report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    /// The importer's own link replaced (counted as created).
    Overwritten,
    /// Created under a generated slug (counted as created; reported).
    Renamed,
    /// The slug was taken and the mode was `skip` (reported).
    Skipped,
    /// A later row of the file had the same slug (counted as skipped; reported).
    Superseded,
    /// Refused: invalid, blocked, or another user's slug (counted as failed; reported).
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Overwritten => "overwritten",
            Outcome::Renamed => "renamed",
            Outcome::Skipped => "skipped",
            Outcome::Superseded => "superseded",
            Outcome::Refused => "refused",
        }
    }

    /// Whether the row goes into the report (created and overwritten rows do not).
    pub fn reported(self) -> bool {
        !matches!(self, Outcome::Created | Outcome::Overwritten)
    }
}

/// The counts of a set of outcomes: `created` (new, overwritten and renamed links), `skipped`,
/// `failed`, and the two kinds of created broken out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub created: u64,
    pub overwritten: u64,
    pub renamed: u64,
    pub skipped: u64,
    pub failed: u64,
}

impl Tally {
    pub fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.created += 1,
            Outcome::Overwritten => {
                self.created += 1;
                self.overwritten += 1;
            }
            Outcome::Renamed => {
                self.created += 1;
                self.renamed += 1;
            }
            Outcome::Skipped | Outcome::Superseded => self.skipped += 1,
            Outcome::Refused => self.failed += 1,
        }
    }

    pub fn of(outcomes: impl IntoIterator<Item = Outcome>) -> Self {
        let mut t = Tally::default();
        for o in outcomes {
            t.add(o);
        }
        t
    }
}

/// A row validated into a link: what a create would store, and the patch `overwrite` applies
/// to the importer's own link.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// `None`: the row has no slug; the link gets a generated one.
    pub slug: Option<Slug>,
    url: TargetUrl,
    owner: UserId,
    options: LinkOptions,
    created_at: Timestamp,
    updated_at: Timestamp,
    flag_reason: Option<String>,
    now: Timestamp,
}

impl Draft {
    /// The new link under `slug` (the row's own, or a generated one), with the file's dates.
    pub fn at(&self, slug: Slug) -> Link {
        let mut link = Link::new(
            slug,
            self.url.clone(),
            self.owner.clone(),
            self.options.clone(),
            self.now,
        );
        link.created_at = self.created_at;
        link.updated_at = self.updated_at;
        if self.flag_reason.is_some() {
            link.is_active = false;
            link.flag_reason = self.flag_reason.clone();
        }
        link
    }

    /// The hosts of every destination (`url`, targets, variants), for the blocklist.
    pub fn hosts(&self) -> Vec<String> {
        let o = &self.options;
        std::iter::once(&self.url)
            .chain(o.targets.iter().flat_map(Targets::urls))
            .chain(o.variants.iter().flat_map(Variants::urls))
            .map(TargetUrl::host)
            .collect()
    }

    /// The owner's patch that makes an existing link this row: the URL, title and tags always,
    /// the other fields when the file carries them.
    pub fn overwrite_patch(&self, row: &ImportRow) -> LinkPatch {
        let o = &self.options;
        LinkPatch {
            url: Some(self.url.clone()),
            title: Some(o.title.clone()),
            tags: Some(o.tags.clone()),
            expires_at: row.expires_at.as_ref().map(|_| o.expires_at),
            archived: row.archived.map(|_| o.archived),
            redirect_type: row.redirect_type.map(|_| o.redirect_type),
            forward_query: row.forward_query.map(|_| o.forward_query),
            valid_since: row.valid_since.as_ref().map(|_| o.valid_since),
            state: row.state.as_ref().map(|_| o.state),
            max_clicks: row.max_clicks.map(|_| o.max_clicks),
            targets: row.targets.as_ref().map(|_| o.targets.clone()),
            variants: row.variants.as_ref().map(|_| o.variants.clone()),
            preview: row.preview.as_ref().map(|_| o.preview.clone()),
            password_hash: row.password_hash.as_ref().map(|_| o.password_hash.clone()),
            tag_edit: None,
        }
    }
}

/// Who the import writes for, and the facts a row's validation needs.
#[derive(Debug, Clone)]
pub struct RowContext<'a> {
    pub owner: &'a UserId,
    /// The shortener's own host: a link to it would loop (as on create).
    pub own_host: &'a str,
    /// An admin imports: a `flagged` row of edgelink's export is flagged again (a user's
    /// becomes `disabled`: a user cannot flag).
    pub by_admin: bool,
    pub now: Timestamp,
}

impl ImportRow {
    /// The row validated by the rules of a create (slug, URL, title, tags, redirect type,
    /// state, click limit, expiry in the future), into the link it makes. Dates of the file are
    /// kept, never later than `now`, and `updated_at` never before `created_at`; a fresh
    /// version is assigned by the write.
    pub fn to_link(&self, cx: &RowContext<'_>) -> Result<Draft, InvalidLink> {
        let slug = self
            .slug
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Slug::parse)
            .transpose()?;
        let url = TargetUrl::parse_for(self.url.trim(), cx.own_host)?;
        let title = self
            .title
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(Title::parse)
            .transpose()?;
        let tags = Tags::parse(&self.tags)?;
        let redirect_type = match self.redirect_type {
            None => RedirectType::default(),
            Some(status) => RedirectType::from_status(status).ok_or_else(|| {
                InvalidLink::RedirectType("redirect_type must be 301, 302, 307 or 308".into())
            })?,
        };
        let flagged = self.state.as_deref() == Some("flagged");
        let state = match self.state.as_deref() {
            None => OwnerState::Active,
            Some("flagged") => OwnerState::Disabled,
            Some(s) => OwnerState::parse(s)?,
        };
        let max_clicks = match self.max_clicks {
            None => None,
            Some(n) => crate::lifecycle::parse_max_clicks(&serde_json::Value::from(n))?,
        };
        let expires_at = self
            .expires_at
            .as_deref()
            .map(|raw| expiry(raw, cx.now))
            .transpose()?;
        let valid_since = self
            .valid_since
            .as_deref()
            .map(|raw| time(raw, "valid_since"))
            .transpose()?;
        let options = LinkOptions {
            title,
            expires_at,
            archived: self.archived.unwrap_or(false),
            redirect_type,
            forward_query: self.forward_query.unwrap_or(true),
            state,
            max_clicks,
            tags,
            valid_since,
            targets: self
                .targets
                .as_ref()
                .map(|v| Targets::parse(v, cx.own_host))
                .transpose()?,
            variants: self
                .variants
                .as_ref()
                .map(|v| Variants::parse(v, cx.own_host))
                .transpose()?,
            preview: self.preview.as_ref().map(Preview::parse).transpose()?,
            password_hash: self
                .password_hash
                .as_deref()
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(PasswordHash::parse)
                .transpose()?,
        };
        let mut created_at = cx.now;
        if let Some(created) = self.created_at.as_deref() {
            created_at = time(created, "created_at")?.min(cx.now);
        }
        let mut updated_at = created_at;
        if let Some(updated) = self.updated_at.as_deref() {
            updated_at = time(updated, "updated_at")?.min(cx.now).max(created_at);
        }
        Ok(Draft {
            slug,
            url,
            owner: cx.owner.clone(),
            options,
            created_at,
            updated_at,
            flag_reason: (flagged && cx.by_admin).then(|| FlagReason::Other.as_str().to_owned()),
            now: cx.now,
        })
    }
}

fn time(raw: &str, name: &str) -> Result<Timestamp, InvalidLink> {
    Timestamp::parse(raw.trim()).ok_or_else(|| {
        InvalidLink::Expiry(format!(
            "{name} must be an RFC 3339 timestamp, e.g. 2030-01-01T00:00:00.000Z"
        ))
    })
}

/// An expiry as a create takes it: in the future, at most 100 years ahead.
fn expiry(raw: &str, now: Timestamp) -> Result<Timestamp, InvalidLink> {
    let at = time(raw, "expires_at")?;
    if at <= now {
        return Err(InvalidLink::Expiry(
            "expires_at must be in the future".into(),
        ));
    }
    if at.as_millis() > now.as_millis().saturating_add(MAX_EXPIRY_AHEAD_MILLIS) {
        return Err(InvalidLink::Expiry(
            "expires_at must be at most 100 years ahead".into(),
        ));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: u64, slug: Option<&str>, url: &str) -> ImportRow {
        ImportRow {
            line,
            slug: slug.map(str::to_owned),
            url: url.into(),
            ..ImportRow::default()
        }
    }

    fn cx(owner: &UserId) -> RowContext<'_> {
        RowContext {
            owner,
            own_host: "sho.rt",
            by_admin: false,
            now: Timestamp::parse("2026-12-01T00:00:00.000Z").unwrap(),
        }
    }

    #[test]
    fn chunks_are_quarters_of_pages() {
        assert_eq!(chunk_in_page(0), (0, 0..50));
        assert_eq!(chunk_in_page(3), (0, 150..200));
        assert_eq!(chunk_in_page(4), (1, 0..50));
        assert_eq!(chunk_in_page(9), (2, 50..100));
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
        assert_eq!(Format::parse("xml"), None);
    }

    #[test]
    fn detection_tells_every_format_from_content() {
        let cases = [
            ("slug,url,title,tags,state,archived,redirect_type,forward_query,max_clicks,expires_at,valid_since,created_at,updated_at,clicks\r\n", Some(Format::EdgelinkCsv)),
            ("slug,url,title,tags,state,archived,redirect_type,forward_query,max_clicks,expires_at,valid_since,created_at,updated_at,clicks,targets,variants,preview,password_hash\r\n", Some(Format::EdgelinkCsv)),
            ("\n{\"slug\":\"a\",\"url\":\"https://e.com\"}\n", Some(Format::EdgelinkNdjson)),
            ("{\"version\":\"0.3\",\"links\":[]}", Some(Format::Sink)),
            ("{\n  \"version\": \"0.3\",\n  \"links\": []\n}", Some(Format::Sink)),
            ("Long URL,Tags,Domain,Short code,Title\n", Some(Format::Shlink)),
            ("keyword,url,title,timestamp,ip,clicks\n", Some(Format::Csv)),
            ("Destination,Slashtag,Title\n", Some(Format::Csv)),
            ("name,age\nbob,3\n", None),
            ("", None),
            ("\u{1}\u{2}garbage without a header", None),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text), want, "{text:?}");
        }
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused_and_a_bom_dropped() {
        assert!(file_text(vec![0xff, 0xfe, 0x00]).is_err());
        assert_eq!(
            file_text("\u{feff}url\n".as_bytes().to_vec()).unwrap(),
            "url\n"
        );
    }

    #[test]
    fn the_last_row_for_a_slug_wins_and_earlier_ones_are_superseded() {
        let rows = vec![
            row(2, Some("a"), "https://1.example"),
            row(3, None, "https://2.example"),
            row(4, Some("b"), "https://3.example"),
            row(5, Some("a"), "https://4.example"),
            row(6, None, "https://5.example"),
            row(7, Some("a"), "https://6.example"),
        ];
        let (kept, superseded) = last_row_wins(rows);
        let lines = |rs: &[ImportRow]| rs.iter().map(|r| r.line).collect::<Vec<_>>();
        assert_eq!(lines(&kept), [3, 4, 6, 7]);
        assert_eq!(lines(&superseded), [2, 5]);
    }

    #[test]
    fn conflicts_follow_the_mode_and_never_touch_another_users_link() {
        use ConflictMode::*;
        for mode in [Skip, Overwrite, Rename] {
            assert_eq!(plan(mode, Holder::Nobody), Plan::Create);
        }
        assert_eq!(plan(Skip, Holder::Importer), Plan::Skip);
        assert_eq!(plan(Skip, Holder::Other), Plan::Skip);
        assert_eq!(plan(Overwrite, Holder::Importer), Plan::Overwrite);
        assert_eq!(plan(Overwrite, Holder::Other), Plan::Refuse);
        assert_eq!(plan(Rename, Holder::Importer), Plan::Rename);
        assert_eq!(plan(Rename, Holder::Other), Plan::Rename);
        assert_eq!(ConflictMode::parse("overwrite"), Some(Overwrite));
        assert_eq!(ConflictMode::parse("merge"), None);
    }

    #[test]
    fn the_tally_counts_renamed_and_overwritten_as_created() {
        let t = Tally::of([
            Outcome::Created,
            Outcome::Overwritten,
            Outcome::Renamed,
            Outcome::Skipped,
            Outcome::Superseded,
            Outcome::Refused,
        ]);
        assert_eq!((t.created, t.skipped, t.failed), (3, 2, 1));
        assert_eq!((t.overwritten, t.renamed), (1, 1));
        assert!(!Outcome::Created.reported() && Outcome::Renamed.reported());
    }

    #[test]
    fn a_row_is_validated_like_a_create() {
        let owner = UserId::from_random("ada");
        let cx = cx(&owner);
        let ok = row(2, Some("my-link"), "https://example.com/x");
        let draft = ok.to_link(&cx).unwrap();
        assert_eq!(draft.slug.as_ref().map(Slug::as_str), Some("my-link"));
        assert_eq!(draft.at(Slug::parse("other").unwrap()).owner, owner);
        assert!(row(2, None, "https://example.com")
            .to_link(&cx)
            .unwrap()
            .slug
            .is_none());
        let bad = [
            (row(2, Some("a b"), "https://example.com"), "slug"),
            (row(2, Some("api"), "https://example.com"), "reserved slug"),
            (row(2, None, "notaurl"), "url"),
            (row(2, None, "https://sho.rt/loop"), "own host"),
            (
                ImportRow {
                    tags: vec!["a,b".into()],
                    ..row(2, None, "https://example.com")
                },
                "tag",
            ),
            (
                ImportRow {
                    redirect_type: Some(303),
                    ..row(2, None, "https://example.com")
                },
                "redirect type",
            ),
            (
                ImportRow {
                    expires_at: Some("2020-01-01T00:00:00.000Z".into()),
                    ..row(2, None, "https://example.com")
                },
                "past expiry",
            ),
            (
                ImportRow {
                    state: Some("gone".into()),
                    ..row(2, None, "https://example.com")
                },
                "state",
            ),
        ];
        for (r, why) in bad {
            assert!(r.to_link(&cx).is_err(), "{why}");
        }
    }

    #[test]
    fn a_rows_dates_are_kept_and_a_flag_only_by_the_admin() {
        let owner = UserId::from_random("ada");
        let mut cx = cx(&owner);
        let r = ImportRow {
            state: Some("flagged".into()),
            created_at: Some("2025-01-02T03:04:05.678Z".into()),
            updated_at: Some("2025-02-02T03:04:05.678Z".into()),
            ..row(2, Some("dated"), "https://example.com")
        };
        let at = |d: Draft| d.at(Slug::parse("dated").unwrap());
        let link = at(r.to_link(&cx).unwrap());
        assert_eq!(link.created_at.to_rfc3339(), "2025-01-02T03:04:05.678Z");
        assert_eq!(link.updated_at.to_rfc3339(), "2025-02-02T03:04:05.678Z");
        assert_eq!(link.state().as_str(), "disabled");
        cx.by_admin = true;
        assert_eq!(at(r.to_link(&cx).unwrap()).state().as_str(), "flagged");
        // Dates from the future are the import's time; an update before creation is the creation.
        let odd = ImportRow {
            created_at: Some("2099-01-01T00:00:00.000Z".into()),
            updated_at: Some("2001-01-01T00:00:00.000Z".into()),
            ..row(2, None, "https://example.com")
        };
        let link = at(odd.to_link(&cx).unwrap());
        assert_eq!(link.created_at, cx.now);
        assert_eq!(link.updated_at, cx.now);
    }

    #[test]
    fn overwrite_patches_only_what_the_file_carries() {
        let owner = UserId::from_random("ada");
        let cx = cx(&owner);
        let plain = row(2, Some("xy1"), "https://example.com");
        let p = plain.to_link(&cx).unwrap().overwrite_patch(&plain);
        assert!(p.url.is_some() && p.title == Some(None) && p.tags.is_some());
        assert!(p.state.is_none() && p.archived.is_none() && p.expires_at.is_none());
        let full = ImportRow {
            state: Some("disabled".into()),
            archived: Some(true),
            ..plain
        };
        let p = full.to_link(&cx).unwrap().overwrite_patch(&full);
        assert_eq!(p.state, Some(OwnerState::Disabled));
        assert_eq!(p.archived, Some(true));
    }
}
