//! The `link_history` table: one row per version of a link, written with the link's own index
//! change (or by the reconciler from a pending marker), read a slug at a time, newest first,
//! and pruned nightly past the retention.
//!
//! A replayed entry is a no-op (`ON CONFLICT DO NOTHING`): history is never rewritten.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1PreparedStatement;

use super::{Index, Param, Query, ROWS_PER_STATEMENT};
use crate::account::UserId;
use crate::history::HistoryEntry;
use crate::link::{Slug, Version};
use crate::store::d1::error as d1;
use crate::store::StoreError;
use crate::time::Timestamp;

/// History rows arrive in version order; the key makes a replay a no-op.
const INSERT_HISTORY: &str = "INSERT INTO link_history \
     (slug, version, op, actor, owner, at, link) \
     SELECT json_extract(value, '$.slug'), json_extract(value, '$.version'), \
      json_extract(value, '$.op'), json_extract(value, '$.actor'), \
      json_extract(value, '$.owner'), json_extract(value, '$.at'), \
      json_extract(value, '$.link') \
     FROM json_each(?1) WHERE true \
     ON CONFLICT(slug, version) DO NOTHING";
/// Oldest first, a bounded batch at a time.
const PRUNE_HISTORY: &str = "DELETE FROM link_history WHERE rowid IN \
     (SELECT rowid FROM link_history WHERE at < ?1 ORDER BY at LIMIT ?2)";

/// A row of `link_history`, as the history endpoint returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct HistoryRow {
    pub version: u64,
    pub op: String,
    pub actor: String,
    pub at: String,
    /// The link as JSON text.
    pub link: String,
}

/// A page of one slug's history, newest first: only `owner`'s rows when given (a non-admin
/// caller), below `before` when continuing.
pub fn history_query(
    slug: &Slug,
    owner: Option<&UserId>,
    before: Option<Version>,
    limit: u32,
) -> Query {
    let mut params = vec![Param::Text(slug.as_str().to_owned())];
    let mut sql =
        String::from("SELECT version, op, actor, at, link FROM link_history WHERE slug = ?1");
    if let Some(owner) = owner {
        params.push(Param::Text(owner.as_str().to_owned()));
        sql.push_str(&format!(" AND owner = ?{}", params.len()));
    }
    if let Some(v) = before {
        params.push(Param::Int(v.get()));
        sql.push_str(&format!(" AND version < ?{}", params.len()));
    }
    params.push(Param::Int(u64::from(limit)));
    sql.push_str(&format!(" ORDER BY version DESC LIMIT ?{}", params.len()));
    Query { sql, params }
}

/// An owner's deleted link: its delete row (the link as it was last).
#[derive(Debug, Clone, Deserialize)]
pub struct DeletedRow {
    pub slug: String,
    pub version: u64,
    pub actor: String,
    pub at: String,
    /// The link as JSON text.
    pub link: String,
}

/// The owner's links whose newest version is their delete (a slug created again since, by
/// anyone, has a newer row), newest first; `?2`/`?3` continue after (`at`, `slug`) of the last
/// row of a page (`''` for the first page). Served by the partial index `link_history_deleted`
/// and the table's key.
const DELETED_LINKS: &str = "SELECT h.slug AS slug, h.version AS version, h.actor AS actor, \
     h.at AS at, h.link AS link FROM link_history h \
     WHERE h.owner = ?1 AND h.op = 'delete' \
      AND (?2 = '' OR h.at < ?2 OR (h.at = ?2 AND h.slug < ?3)) \
      AND NOT EXISTS (SELECT 1 FROM link_history n WHERE n.slug = h.slug AND n.version > h.version) \
     ORDER BY h.at DESC, h.slug DESC LIMIT ?4";

/// A page of `owner`'s deleted links, after `after` (`at`, `slug`) when continuing.
pub fn deleted_links_query(owner: &UserId, after: Option<(&str, &Slug)>, limit: u32) -> Query {
    let (at, slug) = after.map_or((String::new(), String::new()), |(at, slug)| {
        (at.to_owned(), slug.as_str().to_owned())
    });
    Query {
        sql: DELETED_LINKS.to_owned(),
        params: vec![
            Param::Text(owner.as_str().to_owned()),
            Param::Text(at),
            Param::Text(slug),
            Param::Int(u64::from(limit)),
        ],
    }
}

impl Index {
    /// Inserts history entries (give them in version order); existing versions are kept.
    pub async fn insert_history(&self, entries: &[HistoryEntry]) -> Result<(), StoreError> {
        let statements = self.history_statements(entries)?;
        self.batch(statements).await
    }

    pub(super) fn history_statements(
        &self,
        entries: &[HistoryEntry],
    ) -> Result<Vec<D1PreparedStatement>, StoreError> {
        entries
            .chunks(ROWS_PER_STATEMENT)
            .map(|chunk| self.json_statement(INSERT_HISTORY, chunk))
            .collect()
    }

    /// Deletes up to `limit` history rows written before `cutoff`, oldest first; returns how
    /// many went.
    pub async fn prune_history(&self, cutoff: Timestamp, limit: u32) -> Result<u64, StoreError> {
        let result = self
            .db
            .prepare(PRUNE_HISTORY)
            .bind(&[
                JsValue::from_str(&cutoff.to_rfc3339()),
                JsValue::from_f64(f64::from(limit)),
            ])
            .map_err(d1)?
            .run()
            .await
            .map_err(d1)?;
        let changes = result.meta().map_err(d1)?.and_then(|m| m.changes);
        Ok(changes.unwrap_or(0) as u64)
    }

    /// A page of one slug's history rows (see [`history_query`]).
    pub async fn history(&self, query: &Query) -> Result<Vec<HistoryRow>, StoreError> {
        self.query_rows(query).await
    }

    /// A page of an owner's deleted links (see [`deleted_links_query`]).
    pub async fn deleted_links(&self, query: &Query) -> Result<Vec<DeletedRow>, StoreError> {
        self.query_rows(query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_page_is_per_slug_newest_first_and_owner_scoped_for_non_admins() {
        let slug = Slug::parse("abc").unwrap();
        let q = history_query(&slug, None, None, 5);
        assert!(q
            .sql
            .ends_with("WHERE slug = ?1 ORDER BY version DESC LIMIT ?2"));
        let owner = UserId::admin();
        let q = history_query(&slug, Some(&owner), Some(Version::new(9)), 5);
        assert!(q
            .sql
            .ends_with("slug = ?1 AND owner = ?2 AND version < ?3 ORDER BY version DESC LIMIT ?4"));
        assert_eq!(q.params[2], Param::Int(9));
    }
}
