//! `GET /api/links/export?format=csv|ndjson`: every link of the caller (or, for the admin with
//! `all=1`, of everyone) as a streamed file in edgelink's own format ([`crate::exchange::edgelink`]),
//! in the list's order and with the list's filters. Page by page: D1 names the slugs (keyset),
//! KV gives their fields in bulk reads, the roll-up their click totals; one page is in memory
//! at a time, whatever the number of links.

use futures::stream;
use worker::{Context, Request, Response};

use super::list_query::{admin_list_params, owner_list_params};
use super::params::parse_flag;
use super::{authenticate, query_param, require_admin, ApiResult};
use crate::account::UserId;
use crate::analytics::day_of;
use crate::app::App;
use crate::error::ApiError;
use crate::exchange::edgelink::{csv_header, csv_rows, Columns, Owner, Record};
use crate::link::Link;
use crate::store::index::{
    admin_links_query, owner_links_query, AdminLinkFilter, LinkCursor, LinkOrder, OwnerLinkFilter,
};

/// Links per page: one D1 query, five KV bulk reads of 100 and one roll-up query, so seven
/// subrequests for 500 links (a 100,000-link export is 1,400: within a paid plan's limit).
pub const EXPORT_PAGE: u32 = 500;

/// The file's format, from `format=` (default CSV).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        match raw.map(str::trim) {
            None | Some("" | "csv") => Ok(Format::Csv),
            Some("ndjson") => Ok(Format::Ndjson),
            Some(_) => Err(ApiError::InvalidQuery(
                "format must be csv or ndjson".into(),
            )),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8; header=present",
            Format::Ndjson => "application/x-ndjson",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
        }
    }

    /// The bytes of a page of records (and, for CSV, the header row before the first).
    fn encode(self, records: &[Record], columns: Columns, first: bool) -> Vec<u8> {
        match self {
            Format::Csv => {
                let mut out = if first {
                    csv_header(columns)
                } else {
                    Vec::new()
                };
                out.extend(csv_rows(records, columns));
                out
            }
            Format::Ndjson => records
                .iter()
                .flat_map(|r| r.ndjson_line().into_bytes())
                .collect(),
        }
    }
}

/// The download's file name: `edgelink-links-2026-12-07.csv` (`edgelink-all-links-…` for all).
pub fn file_name(format: Format, all: bool, today: &str) -> String {
    let scope = if all { "all-links" } else { "links" };
    format!("edgelink-{scope}-{today}.{}", format.extension())
}

/// Whose links, filtered how.
enum Source {
    Owner(UserId, OwnerLinkFilter),
    Admin(AdminLinkFilter),
}

/// The export's position: the next page after `cursor`, until `done`.
struct Pager {
    app: App,
    source: Source,
    order: LinkOrder,
    format: Format,
    cursor: Option<LinkCursor>,
    done: bool,
    first: bool,
}

/// A D1 row's part in the export: its slug, its owner's e-mail (admin), and the keyset cursor
/// after it in the export's order.
struct Named {
    slug: String,
    owner_email: Option<String>,
    cursor: Option<LinkCursor>,
}

impl Pager {
    fn columns(&self) -> Columns {
        match self.source {
            Source::Owner(..) => Columns::Owner,
            Source::Admin(_) => Columns::Admin,
        }
    }

    /// The bytes of the next page; `None` once every page was given.
    async fn next(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let mut named = self.slugs().await?;
        let more = named.len() > EXPORT_PAGE as usize;
        named.truncate(EXPORT_PAGE as usize);
        self.cursor = named.last().filter(|_| more).and_then(|r| r.cursor.clone());
        self.done = self.cursor.is_none();
        let records = self.records(named).await?;
        let bytes = self
            .format
            .encode(&records, self.columns(), std::mem::take(&mut self.first));
        Ok(Some(bytes))
    }

    /// One page of slugs from D1 (one extra row says whether another page follows).
    async fn slugs(&self) -> Result<Vec<Named>, ApiError> {
        let index = &self.app.index;
        let (order, cursor) = (self.order, self.cursor.as_ref());
        Ok(match &self.source {
            Source::Owner(owner, filter) => {
                let query = owner_links_query(owner, filter, order, cursor, EXPORT_PAGE + 1);
                index
                    .links_by_owner(&query)
                    .await?
                    .into_iter()
                    .map(|r| Named {
                        cursor: r.cursor(order),
                        slug: r.slug,
                        owner_email: None,
                    })
                    .collect()
            }
            Source::Admin(filter) => {
                let query = admin_links_query(filter, order, cursor, EXPORT_PAGE + 1);
                index
                    .admin_links(&query)
                    .await?
                    .into_iter()
                    .map(|r| Named {
                        cursor: r.cursor(order),
                        slug: r.slug,
                        owner_email: r.owner_email,
                    })
                    .collect()
            }
        })
    }

    /// The page's links from KV (bulk reads), in the page's order, with their click totals.
    /// A slug whose value is gone (deleted, index not yet caught up), unreadable, or, for an
    /// owner, no longer theirs is left out, as the lists leave it out.
    async fn records(&self, named: Vec<Named>) -> Result<Vec<Record>, ApiError> {
        let slugs: Vec<&str> = named.iter().map(|n| n.slug.as_str()).collect();
        let owner = match &self.source {
            Source::Owner(owner, _) => Some(owner),
            Source::Admin(_) => None,
        };
        let found = self.app.kv.links_in_order(&slugs, owner).await?;
        let links: Vec<(Link, Option<String>)> = found
            .into_iter()
            .zip(named)
            .filter_map(|(link, n)| Some((link?, n.owner_email)))
            .collect();
        // Counted from each link's creation, as the API's `clicks`; a roll-up that fails
        // leaves the column empty ("unknown") rather than ending the file.
        let firsts: Vec<(&str, String)> = links
            .iter()
            .map(|(l, _)| (l.slug.as_str(), day_of(l.created_at)))
            .collect();
        let clicks = self.app.rollup.clicks_since(&firsts).await.ok();
        let admin = matches!(self.source, Source::Admin(_));
        Ok(links
            .iter()
            .map(|(link, email)| {
                let n = clicks
                    .as_ref()
                    .map(|c| c.get(link.slug.as_str()).copied().unwrap_or(0));
                let owner = admin.then(|| Owner {
                    id: link.owner.as_str().to_owned(),
                    email: email.clone(),
                });
                Record::from_link(link, n, owner)
            })
            .collect())
    }
}

/// `GET /api/links/export?format=csv|ndjson[&all=1]` plus the list's filters → 200, the file
/// streamed (`Content-Disposition: attachment`). Without `archived=`, archived links are in it
/// too. The first page is read before the answer: an index outage is a 503, not a broken file.
pub async fn export(req: Request, app: &App, ctx: &Context) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let format = Format::parse(query_param(&req, "format").as_deref())?;
    let all = parse_flag(query_param(&req, "all").as_deref(), "all")?;
    // The lists' own parse: the same filters and order (`sort`, `order`) as the list; its
    // `limit` and `cursor` are checked but unused (the export starts at the top, takes all).
    let url = req.inner().url();
    let (source, order) = if all {
        require_admin(&caller)?;
        let params = admin_list_params(&url)?;
        (Source::Admin(params.filter), params.order)
    } else {
        let mut params = owner_list_params(&url)?;
        params.filter.include_archived = query_param(&req, "archived").is_none();
        (
            Source::Owner(caller.id.clone(), params.filter),
            params.order,
        )
    };
    let mut pager = Pager {
        app: app.clone(),
        source,
        order,
        format,
        cursor: None,
        done: false,
        first: true,
    };
    let first = pager.next().await?.unwrap_or_default();
    let rest = stream::try_unfold(pager, |mut pager| async move {
        match pager.next().await {
            Ok(Some(bytes)) => Ok(Some((bytes, pager))),
            Ok(None) => Ok(None),
            Err(e) => {
                // Mid-stream the status is sent: the client sees the transfer break off.
                worker::console_error!("export page failed: {e}");
                Err(worker::Error::RustError(e.to_string()))
            }
        }
    });
    let body = futures::StreamExt::chain(stream::once(async { Ok(first) }), rest);
    let name = file_name(format, all, &day_of(app.now()));
    let mut response = Response::from_stream(body)
        .map_err(|e| ApiError::Internal(format!("export stream: {e}")))?;
    let headers = response.headers_mut();
    for (name, value) in [
        ("Content-Type", format.content_type().to_owned()),
        (
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ),
        ("Cache-Control", "no-store".to_owned()),
    ] {
        headers
            .set(name, &value)
            .map_err(|e| ApiError::Internal(format!("export header: {e}")))?;
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_defaults_to_csv_and_refuses_others() {
        assert_eq!(Format::parse(None).unwrap(), Format::Csv);
        assert_eq!(Format::parse(Some("csv")).unwrap(), Format::Csv);
        assert_eq!(Format::parse(Some("ndjson")).unwrap(), Format::Ndjson);
        assert_eq!(
            Format::parse(Some("json")).unwrap_err().code(),
            "invalid_query"
        );
    }

    #[test]
    fn file_names_say_scope_day_and_format() {
        assert_eq!(
            file_name(Format::Csv, false, "2026-12-07"),
            "edgelink-links-2026-12-07.csv"
        );
        assert_eq!(
            file_name(Format::Ndjson, true, "2026-12-07"),
            "edgelink-all-links-2026-12-07.ndjson"
        );
    }

    #[test]
    fn only_the_first_csv_page_carries_the_header() {
        let first = Format::Csv.encode(&[], Columns::Owner, true);
        assert!(first.starts_with(b"slug,url,"));
        assert!(Format::Csv.encode(&[], Columns::Owner, false).is_empty());
        assert!(Format::Ndjson.encode(&[], Columns::Admin, true).is_empty());
    }
}
