//! [`AeSql`]: the Analytics Engine SQL API (`POST …/analytics_engine/sql`, the query as the
//! body, a bearer token). Used for stats when `CF_ACCOUNT_ID` and `CF_API_TOKEN` are set; the
//! SQL text it runs is built here ([`ae_groups_sql`], [`ae_visitors_sql`], [`ae_top_sql`]) from
//! `analytics`' typed parameters only, so no request input reaches it unchecked.
//!
//! The API answers `{"meta":[…],"data":[{column: value}],"rows":n}`; numbers may arrive as JSON
//! numbers or as strings (64-bit integers), so both are read.

use serde::Deserialize;
use serde_json::{Map, Value};
use worker::Fetch;

use super::{http, StoreError};
use crate::account::UserId;
use crate::analytics::{AeDataset, DateRange, Group};
use crate::link::Slug;

pub struct AeSql {
    url: String,
    token: String,
    pub dataset: AeDataset,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    data: Vec<Map<String, Value>>,
}

impl AeSql {
    pub fn new(url: String, token: String, dataset: AeDataset) -> Self {
        Self {
            url,
            token,
            dataset,
        }
    }

    /// Runs one query; the rows of its answer.
    pub async fn query(&self, sql: &str) -> Result<Vec<Map<String, Value>>, StoreError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Analytics(format!("SQL API {what}: {e}"))
        };
        let bearer = format!("Bearer {}", self.token);
        let headers = [
            ("Authorization", bearer.as_str()),
            ("Content-Type", "text/plain"),
        ];
        let req = http::post(&self.url, &headers, sql)
            .map_err(|e| fail("request", &worker::Error::from(e)))?;
        let mut resp = Fetch::Request(req)
            .send()
            .await
            .map_err(|e| fail("fetch", &e))?;
        let status = resp.status_code();
        let text = resp.text().await.map_err(|e| fail("body", &e))?;
        if status != 200 {
            let head: String = text.chars().take(200).collect();
            return Err(fail("status", &format!("{status}: {head}")));
        }
        serde_json::from_str::<Answer>(&text)
            .map(|a| a.data)
            .map_err(|e| fail("answer", &e))
    }
}

/// A count from an answer row: a JSON number or a decimal string; 0 when absent.
pub fn count(row: &Map<String, Value>, column: &str) -> u64 {
    match row.get(column) {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().map(|f| f.max(0.0).round() as u64))
            .unwrap_or(0),
        Some(Value::String(s)) => decimal_count(s).unwrap_or(0),
        _ => 0,
    }
}

/// A count printed as a decimal (`"42"`, `"42.0"`, a sum of sample intervals `"41.5"`),
/// rounded half up. Read digit by digit rather than by `str::parse::<f64>`: core's float
/// parser and its tables cost 15 KB of the gzipped wasm, for a number that is whole anyway.
fn decimal_count(s: &str) -> Option<u64> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || (whole.is_empty() && fraction.is_empty()) {
        return None;
    }
    let whole = if whole.is_empty() {
        0
    } else {
        whole.parse::<u64>().ok()?
    };
    let round_up = fraction.as_bytes().first().is_some_and(|&d| d >= b'5');
    whole.checked_add(u64::from(round_up))
}

/// A text column from an answer row; empty when absent.
pub fn text(row: &Map<String, Value>, column: &str) -> String {
    match row.get(column) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

// The SQL text of the stats queries, built from typed values only (`analytics`' parameters, a
// parsed `Slug` and `UserId`), reads the data point's layout `analytics::Click` writes:
// index1 = slug; blob1 country, blob2 referrer host, blob3 device, blob4 browser, blob5 OS,
// blob6 visitor id (empty when not tracked), blob7 owner id, blob8 variant; double1 = 1.
impl Group {
    /// The Analytics Engine column holding the dimension.
    fn ae_column(self) -> &'static str {
        match self {
            // "2026-11-25 00:00:00"; the caller keeps the date.
            Group::Day => "toStartOfDay(timestamp)",
            Group::Country => "blob1",
            Group::Referrer => "blob2",
            Group::Device => "blob3",
            Group::Browser => "blob4",
            Group::Os => "blob5",
            Group::Variant => "blob8",
        }
    }
}

/// Analytics Engine SQL for one link's clicks per group (`key`, `clicks`), or with `slug`
/// `None` every link's of the owner; the total is their sum, since every click has exactly
/// one key. Values in the text are a parsed [`Slug`],
/// the link's owner as this Worker stored it (`admin` or `u_` and letters and digits) and dates
/// from [`DateRange`], which hold only `[A-Za-z0-9_-]` and digits, so no request input reaches
/// the SQL unchecked.
pub fn ae_groups_sql(
    dataset: &AeDataset,
    slug: Option<&Slug>,
    owner: &UserId,
    range: &DateRange,
    group: Group,
    include_bots: bool,
) -> String {
    format!(
        "SELECT {col} AS key, SUM(_sample_interval) AS clicks FROM {ds} WHERE {filter}{variant} \
         GROUP BY key ORDER BY clicks DESC FORMAT JSON",
        col = group.ae_column(),
        ds = dataset.as_str(),
        filter = ae_filter(slug, owner, range, include_bots),
        // As in the D1 roll-up, a grouping by variant lists only the clicks that went to one.
        variant = if group == Group::Variant {
            " AND blob8 != ''"
        } else {
            ""
        },
    )
}

/// Analytics Engine SQL for one link's (or, `slug` `None`, the owner's links') unique visitors
/// (`visitors`). Visitor ids change daily, so this counts visitor-days, as the D1 roll-up does.
pub fn ae_visitors_sql(
    dataset: &AeDataset,
    slug: Option<&Slug>,
    owner: &UserId,
    range: &DateRange,
    include_bots: bool,
) -> String {
    format!(
        "SELECT COUNT(DISTINCT blob6) AS visitors FROM {ds} WHERE {filter} AND blob6 != '' \
         FORMAT JSON",
        ds = dataset.as_str(),
        filter = ae_filter(slug, owner, range, include_bots),
    )
}

/// One link's clicks: its slug's, made while `owner` held it (a slug deleted and created again by
/// someone else keeps its earlier clicks apart even within a day); `None`: all the owner's.
fn ae_filter(slug: Option<&Slug>, owner: &UserId, range: &DateRange, include_bots: bool) -> String {
    let bots = if include_bots {
        ""
    } else {
        " AND blob3 != 'bot'"
    };
    let link = slug.map_or(String::new(), |s| format!("index1 = '{}' AND ", s.as_str()));
    format!(
        "{link}blob7 = '{owner}' AND timestamp >= toDateTime('{from} 00:00:00') \
         AND timestamp < toDateTime('{end} 00:00:00'){bots}",
        owner = owner.as_str(),
        from = range.from,
        end = range.end_exclusive(),
    )
}

/// Analytics Engine SQL for an owner's most clicked links (people only unless `include_bots`).
pub fn ae_top_sql(
    dataset: &AeDataset,
    owner: &UserId,
    range: &DateRange,
    limit: u32,
    include_bots: bool,
) -> String {
    format!(
        "SELECT index1 AS slug, SUM(_sample_interval) AS clicks FROM {ds} WHERE {filter} \
         GROUP BY slug ORDER BY clicks DESC LIMIT {limit} FORMAT JSON",
        ds = dataset.as_str(),
        filter = ae_filter(None, owner, range, include_bots),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::time::Timestamp;

    #[test]
    fn counts_arrive_as_numbers_or_strings() {
        let row = json!({"a": 5, "b": "7", "c": 2.0, "d": "x", "k": "DE"});
        let row = row.as_object().unwrap();
        assert_eq!(
            (
                count(row, "a"),
                count(row, "b"),
                count(row, "c"),
                count(row, "d"),
                count(row, "z")
            ),
            (5, 7, 2, 0, 0)
        );
        assert_eq!(text(row, "k"), "DE");
        assert_eq!(text(row, "z"), "");
    }

    #[test]
    fn decimal_counts_round_half_up_and_refuse_what_is_not_a_count() {
        for (s, n) in [
            ("42", 42),
            ("42.0", 42),
            ("41.5", 42),
            ("41.49", 41),
            (".7", 1),
            ("7.", 7),
        ] {
            assert_eq!(decimal_count(s), Some(n), "{s}");
        }
        for s in ["", ".", "-3", "1e3", "4.x", "x", "18446744073709551615.9"] {
            assert_eq!(decimal_count(s), None, "{s}");
        }
    }

    #[test]
    fn ae_sql_holds_only_typed_values() {
        let ds = AeDataset::parse("edgelink_clicks").unwrap();
        let slug = Slug::parse("launch").unwrap();
        let range = DateRange::parse(
            Some("2026-11-01"),
            Some("2026-11-30"),
            Timestamp::from_millis(0),
        )
        .unwrap();
        let owner = UserId::from_random("Kb3zl23Pbnds");
        let sql = ae_groups_sql(&ds, Some(&slug), &owner, &range, Group::Country, false);
        assert!(sql.starts_with("SELECT blob1 AS key, SUM(_sample_interval) AS clicks"));
        assert!(sql
            .contains("FROM edgelink_clicks WHERE index1 = 'launch' AND blob7 = 'u_Kb3zl23Pbnds'"));
        assert!(sql.contains("timestamp >= toDateTime('2026-11-01 00:00:00')"));
        assert!(sql.contains("timestamp < toDateTime('2026-12-01 00:00:00')"));
        assert!(sql.contains("AND blob3 != 'bot'"));
        assert!(
            !ae_groups_sql(&ds, Some(&slug), &owner, &range, Group::Day, true).contains("!= 'bot'")
        );
        let v = ae_visitors_sql(&ds, Some(&slug), &owner, &range, false);
        assert!(v.contains("WHERE index1 = 'launch' AND blob7 = 'u_Kb3zl23Pbnds'"));
        let all = ae_groups_sql(&ds, None, &owner, &range, Group::Os, false);
        assert!(
            all.contains("WHERE blob7 = 'u_Kb3zl23Pbnds' AND timestamp >= "),
            "{all}"
        );
        assert!(v.starts_with("SELECT COUNT(DISTINCT blob6) AS visitors"));
        assert!(v.contains("AND blob6 != ''"));
        let top = ae_top_sql(&ds, &UserId::admin(), &range, 10, false);
        assert!(top.contains("WHERE blob7 = 'admin'") && top.contains("LIMIT 10"));
        assert!(top.contains("blob3 != 'bot'"));
        assert!(!ae_top_sql(&ds, &UserId::admin(), &range, 10, true).contains("'bot'"));
        assert!(AeDataset::parse("x; DROP").is_none());
    }
}
