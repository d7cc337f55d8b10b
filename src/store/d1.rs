//! What the two D1 stores ([`super::index`] and [`super::rollup`]) share: errors, the JSON row
//! parameter unpacked by `json_each`, batches that fail on any failed statement, and reading rows.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;
use worker::{console_error, D1Database, D1PreparedStatement};

use super::StoreError;

pub fn error(e: worker::Error) -> StoreError {
    StoreError::Index(e.to_string())
}

/// Rows as one JSON array parameter, unpacked by `json_each` (D1 binds at most 100 parameters
/// a statement; this way a statement carries as many rows as its text allows).
pub fn json_param<T: Serialize>(rows: &[T]) -> Result<JsValue, StoreError> {
    serde_json::to_string(rows)
        .map(|s| JsValue::from_str(&s))
        .map_err(|e| StoreError::Index(e.to_string()))
}

/// Runs statements as one D1 batch (one transaction); an error in any statement fails it.
pub async fn run_batch(
    db: &D1Database,
    statements: Vec<D1PreparedStatement>,
) -> Result<(), StoreError> {
    if statements.is_empty() {
        return Ok(());
    }
    for result in db.batch(statements).await.map_err(error)? {
        if let Some(e) = result.error() {
            return Err(StoreError::Index(e));
        }
    }
    Ok(())
}

/// Every row a statement returns that reads as `T`. A row that does not (a number out of
/// range, a wrong type, written by hand or by older code) is logged with its slug and left
/// out: one bad row never fails a page, and is never mistaken for D1 being down.
pub trait Rows {
    async fn rows<T: DeserializeOwned>(self) -> Result<Vec<T>, StoreError>;
}

impl Rows for D1PreparedStatement {
    async fn rows<T: DeserializeOwned>(self) -> Result<Vec<T>, StoreError> {
        let raw = raw_rows(self).await?;
        Ok(readable_rows(raw, skipped_row))
    }
}

/// The rows as JSON values (numbers beyond 2^53 arrive as floats), before each is read as its
/// type: the query's future and the conversion exist once in the wasm, not once per row type.
async fn raw_rows(statement: D1PreparedStatement) -> Result<Vec<serde_json::Value>, StoreError> {
    statement
        .all()
        .await
        .map_err(error)?
        .results::<serde_json::Value>()
        .map_err(error)
}

fn skipped_row(slug: &str, e: serde_json::Error) {
    console_error!("skipping an unreadable D1 row (slug {slug}): {e}")
}

/// The rows that read as `T`; `skipped(slug, error)` is told of each one that does not.
pub fn readable_rows<T: DeserializeOwned>(
    raw: Vec<serde_json::Value>,
    mut skipped: impl FnMut(&str, serde_json::Error),
) -> Vec<T> {
    raw.into_iter()
        .filter_map(|row| {
            let slug = slug_of(&row);
            serde_json::from_value(row)
                .map_err(|e| skipped(&slug, e))
                .ok()
        })
        .collect()
}

/// The row's slug, for the log line of a row that does not read.
fn slug_of(row: &serde_json::Value) -> String {
    row.get("slug")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("?")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Row {
        slug: String,
        max_clicks: Option<u64>,
    }

    #[test]
    fn an_unreadable_row_is_left_out_and_named() {
        let raw = vec![
            serde_json::json!({"slug": "ok1", "max_clicks": 5}),
            serde_json::json!({"slug": "bad", "max_clicks": 1.8446744073709552e19}),
            serde_json::json!({"slug": "ok2", "max_clicks": null}),
        ];
        let mut skipped = Vec::new();
        let rows: Vec<Row> = readable_rows(raw, |slug, _| skipped.push(slug.to_owned()));
        assert_eq!(
            rows.iter().map(|r| r.slug.as_str()).collect::<Vec<_>>(),
            ["ok1", "ok2"]
        );
        assert_eq!(skipped, ["bad"]);
    }
}
