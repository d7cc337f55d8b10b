//! [`AeSql`]: the Analytics Engine SQL API (`POST …/analytics_engine/sql`, the query as the
//! body, a bearer token). Used for stats when `CF_ACCOUNT_ID` and `CF_API_TOKEN` are set; the
//! SQL comes from `analytics`, built from typed values only.
//!
//! The API answers `{"meta":[…],"data":[{column: value}],"rows":n}`; numbers may arrive as JSON
//! numbers or as strings (64-bit integers), so both are read.

use serde::Deserialize;
use serde_json::{Map, Value};
use worker::Fetch;

use super::{http, StoreError};
use crate::analytics::AeDataset;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
