//! The stats API's parameters, parsed from the query string into typed values: the window
//! ([`DateRange`]), the grouping ([`Group`]), `include_bots`, the dataset name ([`AeDataset`]),
//! and how unique visitors are answered. Only these typed values reach the Analytics Engine
//! SQL text (`store::ae_sql`). Pure: never imports `worker`, reads no clock (`now` is passed).

use super::day::{day_of, parse_day, DAY_MILLIS};
use crate::time::Timestamp;

/// Default stats window: the last 30 days through today.
pub const DEFAULT_RANGE_DAYS: u64 = 30;

/// Longest stats window: a roll-up scan stays bounded.
pub const MAX_RANGE_DAYS: u64 = 366;

/// Unique visitors as the stats answer them: `None` (unknown, JSON `null`) when clicks were
/// counted but not one carried a visitor id (no salt then, or every visitor opted out), so an
/// unknown count never reads as "nobody came". No clicks: 0 visitors, known.
pub fn unique_visitors(clicks: u64, visitors: u64) -> Option<u64> {
    (clicks == 0 || visitors > 0).then_some(visitors)
}

/// A stats window: UTC dates, both inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateRange {
    pub from: String,
    pub to: String,
}

impl DateRange {
    /// Parses `from` and `to` (`YYYY-MM-DD`); defaults: the last 30 days through today.
    pub fn parse(from: Option<&str>, to: Option<&str>, now: Timestamp) -> Result<Self, String> {
        let date = |raw: &str| -> Result<u64, String> {
            parse_day(raw).ok_or_else(|| format!("'{raw}' is not a date like 2026-11-25"))
        };
        let to_ms = match to {
            Some(raw) => date(raw)?,
            None => now.as_millis() / DAY_MILLIS * DAY_MILLIS,
        };
        let from_ms = match from {
            Some(raw) => date(raw)?,
            None => to_ms.saturating_sub((DEFAULT_RANGE_DAYS - 1) * DAY_MILLIS),
        };
        if from_ms > to_ms {
            return Err("from must not be after to".into());
        }
        if (to_ms - from_ms) / DAY_MILLIS >= MAX_RANGE_DAYS {
            return Err(format!("a range spans at most {MAX_RANGE_DAYS} days"));
        }
        Ok(Self {
            from: day_of(Timestamp::from_millis(from_ms)),
            to: day_of(Timestamp::from_millis(to_ms)),
        })
    }

    /// The part of the range a link created at `created` can have clicks in: from its creation
    /// day on, as the lists and the Shlink API count a link's clicks, so a slug deleted and
    /// created again (by its owner, or by anyone after the quarantine) starts without its
    /// earlier life's clicks. `None` when the link is newer than the range.
    pub fn since(&self, created: Timestamp) -> Option<DateRange> {
        let first = day_of(created);
        (first <= self.to).then(|| DateRange {
            from: self.from.clone().max(first),
            to: self.to.clone(),
        })
    }

    /// The first instant after the range (for `timestamp < …`).
    pub(crate) fn end_exclusive(&self) -> String {
        let to = parse_day(&self.to).unwrap_or(0) + DAY_MILLIS;
        day_of(Timestamp::from_millis(to))
    }
}

/// How the stats groups clicks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Day,
    Country,
    Referrer,
    Device,
    Browser,
    Os,
    /// The A/B variant (`1`–`5`) of links with `variants`.
    Variant,
}

impl Group {
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        Ok(match raw.unwrap_or("day") {
            "day" => Group::Day,
            "country" => Group::Country,
            "referrer" => Group::Referrer,
            "device" => Group::Device,
            "browser" => Group::Browser,
            "os" => Group::Os,
            "variant" => Group::Variant,
            other => {
                return Err(format!(
                    "group must be day, country, referrer, device, browser, os or variant, not '{other}'"
                ))
            }
        })
    }

    /// The roll-up dimension (`None` for day, which groups the totals).
    pub fn dimension(self) -> Option<&'static str> {
        match self {
            Group::Day => None,
            Group::Country => Some("country"),
            Group::Referrer => Some("referrer"),
            Group::Device => Some("device"),
            Group::Browser => Some("browser"),
            Group::Os => Some("os"),
            Group::Variant => Some(super::click::VARIANT),
        }
    }
}

/// An Analytics Engine dataset name: `[A-Za-z0-9_]`, so it can stand in SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AeDataset(String);

impl AeDataset {
    pub const DEFAULT: &'static str = "edgelink_clicks";

    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses `include_bots`: absent or `false` → false, `true` → true.
pub fn parse_include_bots(raw: Option<&str>) -> Result<bool, String> {
    match raw {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(format!("include_bots must be true or false, not '{other}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_visitors_are_unknown_rather_than_zero_when_no_click_carried_an_id() {
        assert_eq!(unique_visitors(0, 0), Some(0));
        assert_eq!(unique_visitors(5, 0), None);
        assert_eq!(unique_visitors(5, 2), Some(2));
    }

    #[test]
    fn date_ranges_default_to_thirty_days_and_reject_bad_dates() {
        let now = Timestamp::parse("2026-11-25T15:00:00Z").unwrap();
        let r = DateRange::parse(None, None, now).unwrap();
        assert_eq!(
            (r.from.as_str(), r.to.as_str()),
            ("2026-10-27", "2026-11-25")
        );
        let r = DateRange::parse(Some("2026-11-01"), Some("2026-11-01"), now).unwrap();
        assert_eq!(r.end_exclusive(), "2026-11-02");
        for (from, to) in [
            (Some("2026-11-31"), None),
            (Some("2026-1-01"), None),
            (Some("yesterday"), None),
            (Some("2026-11-02"), Some("2026-11-01")),
            (Some("2020-01-01"), Some("2026-01-01")),
            (None, Some("2026-02-30")),
            (Some("2026-11-01'--"), None),
        ] {
            assert!(DateRange::parse(from, to, now).is_err(), "{from:?} {to:?}");
        }
    }

    #[test]
    fn a_links_clicks_count_from_its_creation_day() {
        let now = Timestamp::parse("2026-11-25T15:00:00Z").unwrap();
        let range = DateRange::parse(Some("2026-11-01"), Some("2026-11-20"), now).unwrap();
        let at = |raw: &str| Timestamp::parse(raw).unwrap();
        let days = |r: DateRange| (r.from, r.to);
        assert_eq!(
            range.since(at("2026-10-01T12:00:00Z")).map(days),
            Some(("2026-11-01".into(), "2026-11-20".into())),
            "an older link: the whole range"
        );
        assert_eq!(
            range.since(at("2026-11-07T23:59:59Z")).map(days),
            Some(("2026-11-07".into(), "2026-11-20".into())),
            "from the creation day, the whole of it"
        );
        assert_eq!(
            range.since(at("2026-11-20T00:00:00Z")).map(days),
            Some(("2026-11-20".into(), "2026-11-20".into()))
        );
        assert_eq!(
            range.since(at("2026-11-21T00:00:00Z")),
            None,
            "newer than the range"
        );
    }

    #[test]
    fn groups_parse_and_map_to_dimensions() {
        assert_eq!(Group::parse(None).unwrap(), Group::Day);
        assert_eq!(Group::parse(Some("os")).unwrap().dimension(), Some("os"));
        assert!(Group::parse(Some("ip")).is_err());
        assert!(parse_include_bots(Some("true")).unwrap());
        assert!(parse_include_bots(Some("yes")).is_err());
    }
}
