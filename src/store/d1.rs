//! What the two D1 stores ([`super::index`] and [`super::rollup`]) share: errors, the JSON row
//! parameter unpacked by `json_each`, batches that fail on any failed statement, and reading rows.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

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

/// Every row a statement returns.
pub trait Rows {
    async fn rows<T: DeserializeOwned>(self) -> Result<Vec<T>, StoreError>;
}

impl Rows for D1PreparedStatement {
    async fn rows<T: DeserializeOwned>(self) -> Result<Vec<T>, StoreError> {
        self.all()
            .await
            .map_err(error)?
            .results::<T>()
            .map_err(error)
    }
}
