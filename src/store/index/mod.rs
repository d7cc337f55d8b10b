//! [`Index`]: the D1 query index (binding `DB`), one file a table: [`links`], [`users`],
//! [`tags`] (`link_tags`), [`history`] (the change log), [`imports`] (import jobs and their
//! reports), [`cursor`], the keyset position of the newest-first lists, and [`link_order`], the
//! link lists' sorts, cursors and search text.
//! This file holds the handle and what the tables share: the statement sizes, the built
//! [`Query`], and running statements and batches.
//!
//! The schema comes from `migrations/`; nothing here creates tables. Every link write is a
//! versioned upsert that applies only when newer, and every delete is guarded by a version, so
//! background writes arriving out of order never roll D1 back.

pub mod cursor;
pub mod history;
pub mod imports;
pub mod link_order;
pub mod links;
pub mod shlink;
pub mod tags;
pub mod users;

use serde::Serialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use super::d1::{error as d1, json_param, run_batch, Rows};
use super::StoreError;
use crate::link::Version;
pub use cursor::ListCursor;
pub use history::{deleted_links_query, history_query, DeletedRow, HistoryRow};
pub use link_order::{
    LinkCursor, LinkOrder, LinkSort, SearchText, SearchTextError, SortDir, SortValue,
    SEARCH_MAX_CHARS,
};
pub use links::{
    admin_links_count, admin_links_query, delete_exact_statements, delete_statements,
    link_upsert_statements, owner_links_count, owner_links_query, AdminLinkFilter, AdminLinkRow,
    IndexedVersion, LinkRow, OwnerLinkFilter,
};
pub use tags::{
    owner_tags_query, tagged_slugs_query, SlugRow, TagCount, TagFilter, TagMode, OWNER_TAGS_MAX,
};
pub use users::UserRow;

/// Rows per multi-row write. D1 binds at most 100 parameters a statement, so rows travel as
/// one JSON array parameter, unpacked by `json_each`; 100 rows keep a statement near 50 KB.
const ROWS_PER_STATEMENT: usize = 100;
/// Slugs per guarded multi-row delete (plus one bound version).
const SLUGS_PER_DELETE: usize = 99;
const _: () = assert!(SLUGS_PER_DELETE < 100);

/// D1 statements an upsert of `n` links (or an insert of `n` history entries) costs.
pub fn upsert_statements(n: usize) -> u64 {
    n.div_ceil(ROWS_PER_STATEMENT) as u64
}

/// A statement and its parameters, built without I/O so the SQL is unit-tested.
#[derive(Debug, PartialEq)]
pub struct Query {
    pub sql: String,
    pub params: Vec<Param>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(u64),
    Null,
}

/// D1, typed.
pub struct Index {
    db: D1Database,
}

impl Index {
    pub fn new(db: D1Database) -> Self {
        Self { db }
    }

    /// A statement whose one parameter is `rows` as a JSON array.
    fn json_statement<T: Serialize>(
        &self,
        sql: &str,
        rows: &[T],
    ) -> Result<D1PreparedStatement, StoreError> {
        self.db.prepare(sql).bind(&[json_param(rows)?]).map_err(d1)
    }

    async fn query_rows<T: serde::de::DeserializeOwned>(
        &self,
        query: &Query,
    ) -> Result<Vec<T>, StoreError> {
        let params: Vec<JsValue> = query
            .params
            .iter()
            .map(|p| match p {
                Param::Text(t) => JsValue::from_str(t),
                Param::Int(n) => JsValue::from_f64(*n as f64),
                Param::Null => JsValue::NULL,
            })
            .collect();
        self.db
            .prepare(query.sql.as_str())
            .bind(&params)
            .map_err(d1)?
            .rows::<T>()
            .await
    }

    async fn batch(&self, statements: Vec<D1PreparedStatement>) -> Result<(), StoreError> {
        run_batch(&self.db, statements).await
    }
}

/// Versions are below 2^53, so a JS number holds them exactly.
fn version(v: Version) -> JsValue {
    JsValue::from_f64(v.get() as f64)
}
