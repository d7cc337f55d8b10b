//! What the Shlink API's query parameters and date fields mean, parsed once into typed
//! values: `orderBy` ([`ShlinkOrder`]), `page`/`itemsPerPage` ([`Paging`], and the
//! [`Pagination`] block it answers), `tagsMode`, ISO-8601 dates ([`parse_date`]), and the
//! list filters edgelink leaves out ([`left_out_filters`]), which are refused by name rather
//! than ignored. Errors are the names of the invalid elements, for `invalid-data`.

use chrono::DateTime;
use serde::Serialize;

use super::iso8601;
use crate::time::Timestamp;

/// Short URLs a list page holds when the client does not say.
pub const LIST_DEFAULT_PER_PAGE: u32 = 10;
/// At most this many a page; `-1` ("all") and larger numbers mean this.
pub const LIST_MAX_PER_PAGE: u32 = 100;
/// Visits a page holds by default and at most (the web client asks for 5000).
pub const VISITS_PER_PAGE: u32 = 5000;
/// Pages beyond this are refused: `(page - 1) * itemsPerPage` stays a small SQL offset.
pub const MAX_PAGE: u32 = 1_000_000;

/// The list filters Shlink has and edgelink does not: a list asked for them would be
/// silently unfiltered, so it is refused naming them.
pub const LEFT_OUT_LIST_FILTERS: &[&str] = &[
    "startDate",
    "endDate",
    "excludeTags",
    "excludeMaxVisitsReached",
    "excludePastValidUntil",
    "apiKeyName",
    "domain",
];

/// The left-out filters a request carries (`present` says whether a parameter is in the
/// query string); array forms (`excludeTags[]`) count too.
pub fn left_out_filters(present: impl Fn(&str) -> bool) -> Vec<&'static str> {
    LEFT_OUT_LIST_FILTERS
        .iter()
        .copied()
        .filter(|name| present(name) || present(&format!("{name}[]")))
        .collect()
}

/// What a short-URL list is ordered by; ties always fall to the short code, ascending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderField {
    #[default]
    DateCreated,
    ShortCode,
    LongUrl,
    Title,
    /// All visits, bots included.
    Visits,
    NonBotVisits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    Asc,
    #[default]
    Desc,
}

/// `orderBy`: `{field}-{ASC|DESC}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShlinkOrder {
    pub field: OrderField,
    pub dir: Direction,
}

impl ShlinkOrder {
    /// Absent or empty → `dateCreated-DESC`; `field` alone sorts ascending, as Shlink does.
    pub fn parse(raw: Option<&str>) -> Result<Self, &'static str> {
        let raw = match raw.map(str::trim) {
            None | Some("") => return Ok(Self::default()),
            Some(raw) => raw,
        };
        let (field, dir) = match raw.split_once('-') {
            Some((f, d)) => (f, Some(d)),
            None => (raw, None),
        };
        let field = match field {
            "dateCreated" => OrderField::DateCreated,
            "shortCode" => OrderField::ShortCode,
            "longUrl" => OrderField::LongUrl,
            "title" => OrderField::Title,
            "visits" => OrderField::Visits,
            "nonBotVisits" => OrderField::NonBotVisits,
            _ => return Err("orderBy"),
        };
        let dir = match dir.map(str::to_ascii_uppercase).as_deref() {
            None | Some("ASC") => Direction::Asc,
            Some("DESC") => Direction::Desc,
            Some(_) => return Err("orderBy"),
        };
        Ok(Self { field, dir })
    }
}

/// `tagsMode`: a link with any of the tags (the default) or with all of them.
pub fn parse_tags_all(raw: Option<&str>) -> Result<bool, &'static str> {
    match raw.map(str::trim) {
        None | Some("") | Some("any") => Ok(false),
        Some("all") => Ok(true),
        Some(_) => Err("tagsMode"),
    }
}

/// A page of a list: which, and how many a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub per_page: u32,
}

fn given(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}

impl Paging {
    /// `page` (from 1) and `itemsPerPage`: `default` when absent, `max` for `-1` or more
    /// than `max`. Zero, other negatives and non-numbers are invalid.
    pub fn parse(
        page: Option<&str>,
        per_page: Option<&str>,
        default: u32,
        max: u32,
    ) -> Result<Self, &'static str> {
        let page = match given(page) {
            None => 1,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
                _ => return Err("page"),
            },
        };
        let per_page = match given(per_page) {
            None => default,
            Some(raw) => match raw.parse::<i64>() {
                Ok(-1) => max,
                Ok(n) if n >= 1 => u32::try_from(n).unwrap_or(max).min(max),
                _ => return Err("itemsPerPage"),
            },
        };
        Ok(Self { page, per_page })
    }

    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }

    /// The pagination block for `items` rows on this page of `total`.
    pub fn pagination(self, items: usize, total: u64) -> Pagination {
        Pagination {
            current_page: self.page,
            pages_count: total.div_ceil(u64::from(self.per_page)),
            items_per_page: self.per_page,
            items_in_current_page: items as u64,
            total_items: total,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub current_page: u32,
    pub pages_count: u64,
    pub items_per_page: u32,
    pub items_in_current_page: u64,
    pub total_items: u64,
}

/// An ISO-8601 date-time with an offset (`2026-12-07T10:00:00+01:00`, `…Z`, `…+0100`,
/// fractions allowed), or a date alone (midnight UTC). Before 1970 is refused.
pub fn parse_date(raw: &str) -> Option<Timestamp> {
    let raw = raw.trim();
    let millis = if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        t.timestamp_millis()
    } else {
        iso8601::date_time_offset(raw)
            .or_else(|| iso8601::date_time_utc(raw))
            .or_else(|| iso8601::date_utc(raw))?
    };
    u64::try_from(millis).ok().map(Timestamp::from_millis)
}

/// `excludeBots`: `true` or `1` leaves bots out.
pub fn parse_flag(raw: Option<&str>) -> bool {
    matches!(raw.map(str::trim), Some("true" | "1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_parses_every_field_both_ways() {
        assert_eq!(ShlinkOrder::parse(None), Ok(ShlinkOrder::default()));
        assert_eq!(
            ShlinkOrder::default(),
            ShlinkOrder {
                field: OrderField::DateCreated,
                dir: Direction::Desc
            }
        );
        for (raw, field) in [
            ("dateCreated", OrderField::DateCreated),
            ("shortCode", OrderField::ShortCode),
            ("longUrl", OrderField::LongUrl),
            ("title", OrderField::Title),
            ("visits", OrderField::Visits),
            ("nonBotVisits", OrderField::NonBotVisits),
        ] {
            for (suffix, dir) in [
                ("-ASC", Direction::Asc),
                ("-DESC", Direction::Desc),
                ("", Direction::Asc),
            ] {
                let got = ShlinkOrder::parse(Some(&format!("{raw}{suffix}"))).unwrap();
                assert_eq!((got.field, got.dir), (field, dir), "{raw}{suffix}");
            }
        }
        for bad in ["created-DESC", "visits-UP", "title-", "-ASC"] {
            assert_eq!(ShlinkOrder::parse(Some(bad)), Err("orderBy"), "{bad}");
        }
    }

    #[test]
    fn paging_defaults_caps_and_refuses() {
        let p = |page, per| Paging::parse(page, per, LIST_DEFAULT_PER_PAGE, LIST_MAX_PER_PAGE);
        assert_eq!(
            p(None, None),
            Ok(Paging {
                page: 1,
                per_page: 10
            })
        );
        assert_eq!(p(Some("3"), Some("-1")).unwrap().per_page, 100);
        assert_eq!(p(Some("3"), Some("500")).unwrap().per_page, 100);
        assert_eq!(p(None, Some("99999999999999")).unwrap().per_page, 100);
        assert_eq!(p(Some("2"), Some("7")).unwrap().offset(), 7);
        for (page, per, bad) in [
            (Some("0"), None, "page"),
            (Some("x"), None, "page"),
            (Some("1000001"), None, "page"),
            (None, Some("0"), "itemsPerPage"),
            (None, Some("-2"), "itemsPerPage"),
            (None, Some("ten"), "itemsPerPage"),
        ] {
            assert_eq!(p(page, per), Err(bad));
        }
        let v = Paging::parse(None, None, VISITS_PER_PAGE, VISITS_PER_PAGE).unwrap();
        assert_eq!(v.per_page, 5000);
    }

    #[test]
    fn pagination_counts_pages_and_an_empty_page_past_the_end() {
        let p = Paging {
            page: 4,
            per_page: 10,
        };
        let got = p.pagination(0, 25);
        assert_eq!((got.pages_count, got.items_in_current_page), (3, 0));
        let json = serde_json::to_value(
            Paging {
                page: 1,
                per_page: 10,
            }
            .pagination(10, 10),
        )
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"currentPage":1,"pagesCount":1,"itemsPerPage":10,"itemsInCurrentPage":10,"totalItems":10})
        );
        assert_eq!(p.pagination(0, 0).pages_count, 0);
    }

    #[test]
    fn dates_take_offsets_fractions_and_plain_days() {
        let utc = parse_date("2026-12-07T10:00:00Z").unwrap();
        assert_eq!(parse_date("2026-12-07T11:00:00+01:00"), Some(utc));
        assert_eq!(parse_date("2026-12-07T11:00:00+0100"), Some(utc));
        assert_eq!(parse_date("2026-12-07T10:00:00.000Z"), Some(utc));
        assert_eq!(parse_date("2026-12-07T10:00:00"), Some(utc));
        assert_eq!(
            parse_date("2026-12-07").map(|t| t.to_rfc3339()),
            Some("2026-12-07T00:00:00.000Z".into())
        );
        for bad in [
            "",
            "tomorrow",
            "2026-13-01",
            "1969-12-31T23:59:59Z",
            "2026-12-07T25:00:00Z",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn left_out_filters_are_named_in_either_form() {
        let q = ["excludeTags[]", "domain", "tags[]", "page"];
        assert_eq!(
            left_out_filters(|n| q.contains(&n)),
            vec!["excludeTags", "domain"]
        );
        assert!(left_out_filters(|_| false).is_empty());
        assert_eq!(parse_tags_all(Some("all")), Ok(true));
        assert_eq!(parse_tags_all(None), Ok(false));
        assert_eq!(parse_tags_all(Some("some")), Err("tagsMode"));
        assert!(parse_flag(Some("true")) && !parse_flag(Some("false")) && !parse_flag(None));
    }
}
