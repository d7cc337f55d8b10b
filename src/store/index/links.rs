//! The `links` table: the versioned upserts and guarded deletes that keep it in step with KV,
//! the reconciler's `(slug, version)` ranges, and the owner's and the admin's link lists.
//!
//! An upsert applies only when newer and a delete only at or below its version: a write
//! arriving late never rolls a row back.

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::D1PreparedStatement;

use super::tags::{
    TagFilter, CLEAR_UPSERTED_TAGS, DELETE_TAGS_OF_GONE, DELETE_TAGS_OF_GONE_HEAD,
    DELETE_TAGS_OF_GONE_PAIRS, INSERT_UPSERTED_TAGS, TAGS_DRIFT, TAG_ONLY_SLUGS,
};
use super::{version, Index, ListCursor, Param, Query, Rows, ROWS_PER_STATEMENT, SLUGS_PER_DELETE};
use crate::account::UserId;
use crate::history::HistoryEntry;
use crate::link::{Link, LinkState, Slug, Version};
use crate::store::d1::error as d1;
use crate::store::StoreError;
use crate::time::Timestamp;

const UPSERT_LINKS: &str = "INSERT INTO links \
     (slug, url, user_id, title, state, flag_reason, created_at, updated_at, version, \
      expires_at, archived, redirect_type, forward_query, max_clicks, tags) \
     SELECT json_extract(value, '$.slug'), json_extract(value, '$.url'), \
      json_extract(value, '$.user_id'), json_extract(value, '$.title'), \
      json_extract(value, '$.state'), json_extract(value, '$.flag_reason'), \
      json_extract(value, '$.created_at'), json_extract(value, '$.updated_at'), \
      json_extract(value, '$.version'), json_extract(value, '$.expires_at'), \
      json_extract(value, '$.archived'), json_extract(value, '$.redirect_type'), \
      json_extract(value, '$.forward_query'), json_extract(value, '$.max_clicks'), \
      json_extract(value, '$.tags') \
     FROM json_each(?1) WHERE true \
     ON CONFLICT(slug) DO UPDATE SET \
     url = excluded.url, user_id = excluded.user_id, title = excluded.title, \
     state = excluded.state, flag_reason = excluded.flag_reason, \
     created_at = excluded.created_at, updated_at = excluded.updated_at, \
     version = excluded.version, expires_at = excluded.expires_at, \
     archived = excluded.archived, redirect_type = excluded.redirect_type, \
     forward_query = excluded.forward_query, max_clicks = excluded.max_clicks, \
     tags = excluded.tags \
     WHERE excluded.version > links.version";
/// A delete removes the row only if the row is not newer than the delete.
const DELETE_LINK: &str = "DELETE FROM links WHERE slug = ?1 AND version <= ?2";
const DELETE_OLDER_THAN_HEAD: &str = "DELETE FROM links WHERE version < ?1 AND slug IN (";
/// Removes rows of `[slug, version]` pairs, each only at or below its own version.
const DELETE_EXACT: &str = "DELETE FROM links \
     WHERE slug IN (SELECT json_extract(value, '$[0]') FROM json_each(?1)) \
     AND version <= (SELECT json_extract(value, '$[1]') FROM json_each(?1) \
      WHERE json_extract(value, '$[0]') = links.slug)";
const LINK_ROW_COLUMNS: &str = "slug, url, user_id, title, state, flag_reason, created_at, \
     updated_at, version, expires_at, archived, redirect_type, forward_query, max_clicks, tags";
/// The reconciler's view of one KV page's slug range: each row's version, expiry and whether
/// its tag rows match it, and the slugs with tag rows but no row. BINARY collation = KV's byte
/// order. `?2` bounds the range from above when `bounded`.
fn versions_sql(bounded: bool) -> String {
    let range = if bounded {
        "slug > ?1 AND slug <= ?2"
    } else {
        "slug > ?1"
    };
    format!(
        "SELECT slug, version, expires_at, tags_drift FROM (\
         SELECT slug, version, expires_at, {TAGS_DRIFT} AS tags_drift FROM links WHERE {range} \
         UNION ALL {TAG_ONLY_SLUGS} AND {range}) ORDER BY slug"
    )
}
const COUNT_LINKS: &str = "SELECT COUNT(*) AS n FROM links";
const ADMIN_LINKS_HEAD: &str = "SELECT l.slug, l.created_at, u.email AS owner_email \
     FROM links l LEFT JOIN users u ON u.id = l.user_id";

/// D1 statements a version-exact delete of `n` rows costs (rows, then their tags).
pub fn delete_exact_statements(n: usize) -> u64 {
    2 * n.div_ceil(ROWS_PER_STATEMENT) as u64
}

/// D1 statements a guarded delete of `n` slugs costs (rows, then their tags).
pub fn delete_statements(n: usize) -> u64 {
    2 * n.div_ceil(SLUGS_PER_DELETE) as u64
}

/// D1 statements an upsert of `n` links costs: the rows, then clearing and writing their tags.
pub fn link_upsert_statements(n: usize) -> u64 {
    3 * n.div_ceil(ROWS_PER_STATEMENT) as u64
}

/// A `links` row as the upsert's JSON parameter carries it.
#[derive(Serialize)]
struct IndexRow<'a> {
    slug: &'a str,
    url: &'a str,
    user_id: &'a str,
    title: Option<&'a str>,
    state: &'static str,
    flag_reason: Option<&'a str>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: Version,
    expires_at: Option<Timestamp>,
    archived: u8,
    redirect_type: u16,
    forward_query: u8,
    max_clicks: Option<u64>,
    tags: &'a [String],
}

impl<'a> IndexRow<'a> {
    fn of(l: &'a Link) -> Self {
        Self {
            slug: l.slug.as_str(),
            url: l.url.as_str(),
            user_id: l.owner.as_str(),
            title: l.title.as_ref().map(|t| t.as_str()),
            state: l.state().as_str(),
            flag_reason: l.flag_reason.as_deref(),
            created_at: l.created_at,
            updated_at: l.updated_at,
            version: l.version,
            expires_at: l.expires_at,
            archived: u8::from(l.archived),
            redirect_type: l.redirect_type.status(),
            forward_query: u8::from(l.forward_query),
            max_clicks: l.max_clicks,
            tags: l.tags.as_slice(),
        }
    }
}

/// A row of `links` as the list endpoint returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct LinkRow {
    pub slug: String,
    pub url: String,
    pub user_id: String,
    pub title: Option<String>,
    pub state: String,
    pub flag_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
    pub expires_at: Option<String>,
    pub archived: u8,
    pub redirect_type: u16,
    pub forward_query: u8,
    pub max_clicks: Option<u64>,
    /// The tags as a JSON array (the link's, mirrored).
    #[serde(default)]
    pub tags: Option<String>,
}

/// `(slug, version)` of a D1 row, and its expiry, for the reconcile merge-join.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IndexedVersion {
    pub slug: String,
    pub version: u64,
    #[serde(default)]
    pub expires_at: Option<String>,
    /// 1 when the row's `link_tags` rows do not match its tags (or there is no row, only tags).
    #[serde(default)]
    pub tags_drift: u8,
}

/// Filters of the owner's link list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerLinkFilter {
    /// Archived links only (`true`) or unarchived only (`false`, the default).
    pub archived: bool,
    /// Archived and unarchived links both, `archived` ignored (the export's default).
    pub include_archived: bool,
    pub state: Option<LinkState>,
    pub tags: TagFilter,
}

/// A row of the admin's link list: which link, and its owner's email (from the JOIN). Every
/// other field comes from KV.
#[derive(Debug, Clone, Deserialize)]
pub struct AdminLinkRow {
    pub slug: String,
    pub created_at: String,
    pub owner_email: Option<String>,
}

/// Filters of the admin's link list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminLinkFilter {
    /// Substring of slug, url or title (case-insensitive for ASCII, as SQLite's LIKE).
    pub q: Option<String>,
    /// A user id, or an email when it contains `@`.
    pub owner: Option<String>,
    /// `active`, `disabled` or `flagged`.
    pub state: Option<LinkState>,
    pub tags: TagFilter,
}

/// Escapes `%`, `_` and `\` for `LIKE … ESCAPE '\'` and wraps the text in `%…%`.
pub fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The admin's link list: newest first, keyset after `cursor`, filtered, `limit` rows.
pub fn admin_links_query(
    filter: &AdminLinkFilter,
    cursor: Option<&ListCursor>,
    limit: u32,
) -> Query {
    let mut sql = String::from(ADMIN_LINKS_HEAD);
    let mut params = Vec::new();
    let mut clauses: Vec<String> = Vec::new();
    let bind = |p: Param, params: &mut Vec<Param>| {
        params.push(p);
        format!("?{}", params.len())
    };
    if let Some(q) = &filter.q {
        let n = bind(Param::Text(like_pattern(q)), &mut params);
        clauses.push(format!(
            "(l.slug LIKE {n} ESCAPE '\\' OR l.url LIKE {n} ESCAPE '\\' OR l.title LIKE {n} ESCAPE '\\')"
        ));
    }
    if let Some(owner) = &filter.owner {
        let by_email = owner.contains('@');
        let column = if by_email { "u.email" } else { "l.user_id" };
        let value = if by_email {
            owner.to_ascii_lowercase()
        } else {
            owner.clone()
        };
        let n = bind(Param::Text(value), &mut params);
        clauses.push(format!("{column} = {n}"));
    }
    if let Some(state) = filter.state {
        let n = bind(Param::Text(state.as_str().to_owned()), &mut params);
        clauses.push(format!("l.state = {n}"));
    }
    if let Some(tags) = filter.tags.clause("l.slug", &mut params) {
        clauses.push(tags);
    }
    if let Some(c) = cursor {
        let at = bind(Param::Text(c.created_at.to_rfc3339()), &mut params);
        let key = bind(Param::Text(c.key.clone()), &mut params);
        clauses.push(format!(
            "(l.created_at < {at} OR (l.created_at = {at} AND l.slug < {key}))"
        ));
    }
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    let n = bind(Param::Int(u64::from(limit)), &mut params);
    sql.push_str(&format!(
        " ORDER BY l.created_at DESC, l.slug DESC LIMIT {n}"
    ));
    Query { sql, params }
}

/// The owner's link list: newest first, keyset after `cursor`, filtered, `limit` rows.
pub fn owner_links_query(
    owner: &UserId,
    filter: &OwnerLinkFilter,
    cursor: Option<&ListCursor>,
    limit: u32,
) -> Query {
    // `archived >= 0` takes both: one shape of statement, every parameter bound either way.
    let (archived_op, archived) = match filter.include_archived {
        true => (">=", 0),
        false => ("=", u64::from(filter.archived)),
    };
    let mut params = vec![Param::Text(owner.as_str().to_owned()), Param::Int(archived)];
    let mut sql = format!(
        "SELECT {LINK_ROW_COLUMNS} FROM links WHERE user_id = ?1 AND archived {archived_op} ?2"
    );
    if let Some(state) = filter.state {
        params.push(Param::Text(state.as_str().to_owned()));
        sql.push_str(&format!(" AND state = ?{}", params.len()));
    }
    if let Some(tags) = filter.tags.clause("slug", &mut params) {
        sql.push_str(" AND ");
        sql.push_str(&tags);
    }
    if let Some(c) = cursor {
        params.push(Param::Text(c.created_at.to_rfc3339()));
        let at = params.len();
        params.push(Param::Text(c.key.clone()));
        let key = params.len();
        sql.push_str(&format!(
            " AND (created_at < ?{at} OR (created_at = ?{at} AND slug < ?{key}))"
        ));
    }
    params.push(Param::Int(u64::from(limit)));
    sql.push_str(&format!(
        " ORDER BY created_at DESC, slug DESC LIMIT ?{}",
        params.len()
    ));
    Query { sql, params }
}

impl Index {
    /// Upserts links in one batch, [`ROWS_PER_STATEMENT`] rows a statement. Rows already at
    /// the same or a newer version are left alone.
    pub async fn upsert_links(&self, links: &[Link]) -> Result<(), StoreError> {
        let statements = self.upsert_statements(links)?;
        self.batch(statements).await
    }

    /// One write's index change and its history entry, in one batch: both land or neither.
    /// `delete` is the guarded delete of a removed link; `upserts` the rows of a stored one.
    pub async fn record(
        &self,
        upserts: &[Link],
        delete: Option<(&Slug, Version)>,
        history: &[HistoryEntry],
    ) -> Result<(), StoreError> {
        let mut statements = self.upsert_statements(upserts)?;
        if let Some((slug, at)) = delete {
            statements.extend(self.delete_statements(slug, at)?);
        }
        statements.extend(self.history_statements(history)?);
        self.batch(statements).await
    }

    fn upsert_statements(&self, links: &[Link]) -> Result<Vec<D1PreparedStatement>, StoreError> {
        links
            .chunks(ROWS_PER_STATEMENT)
            .map(|chunk| {
                let rows: Vec<IndexRow> = chunk.iter().map(IndexRow::of).collect();
                Ok([
                    self.json_statement(UPSERT_LINKS, &rows)?,
                    self.json_statement(CLEAR_UPSERTED_TAGS, &rows)?,
                    self.json_statement(INSERT_UPSERTED_TAGS, &rows)?,
                ])
            })
            .collect::<Result<Vec<_>, StoreError>>()
            .map(|chunks| chunks.into_iter().flatten().collect())
    }

    /// The guarded delete of one link's row, then of its tag rows if the row went.
    fn delete_statements(
        &self,
        slug: &Slug,
        at: Version,
    ) -> Result<[D1PreparedStatement; 2], StoreError> {
        let slug = JsValue::from_str(slug.as_str());
        Ok([
            self.db
                .prepare(DELETE_LINK)
                .bind(&[slug.clone(), version(at)])
                .map_err(d1)?,
            self.db
                .prepare(DELETE_TAGS_OF_GONE)
                .bind(&[slug])
                .map_err(d1)?,
        ])
    }

    /// Deletes the rows of expired links KV dropped, each only at or below the version seen,
    /// and the tag rows of those that went.
    pub async fn delete_exact(&self, rows: &[(String, u64)]) -> Result<(), StoreError> {
        let mut statements = Vec::new();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            statements.push(self.json_statement(DELETE_EXACT, chunk)?);
            statements.push(self.json_statement(DELETE_TAGS_OF_GONE_PAIRS, chunk)?);
        }
        self.batch(statements).await
    }

    pub async fn delete_link(&self, slug: &Slug, at: Version) -> Result<(), StoreError> {
        let statements = self.delete_statements(slug, at)?;
        self.batch(statements.into()).await
    }

    /// Deletes rows for slugs KV no longer has, but only rows older than `older_than`: a row at
    /// or above it may belong to a write still in flight.
    pub async fn delete_links_older_than(
        &self,
        slugs: &[String],
        older_than: Version,
    ) -> Result<(), StoreError> {
        let mut statements = Vec::new();
        for chunk in slugs.chunks(SLUGS_PER_DELETE) {
            // ?1 is the version; each bare ? after it takes the next number: the slugs.
            let placeholders = vec!["?"; chunk.len()].join(",");
            let sql = format!("{DELETE_OLDER_THAN_HEAD}{placeholders})");
            let mut params = Vec::with_capacity(chunk.len() + 1);
            params.push(version(older_than));
            params.extend(chunk.iter().map(|s| JsValue::from_str(s)));
            statements.push(self.db.prepare(sql).bind(&params).map_err(d1)?);
            // Tag rows go with their row; a slug with tag rows only (an orphan) loses them.
            let tags_sql = format!("{DELETE_TAGS_OF_GONE_HEAD}{placeholders})");
            statements.push(self.db.prepare(tags_sql).bind(&params[1..]).map_err(d1)?);
        }
        self.batch(statements).await
    }

    /// A page of the owner's links (see [`owner_links_query`]).
    pub async fn links_by_owner(&self, query: &Query) -> Result<Vec<LinkRow>, StoreError> {
        self.query_rows(query).await
    }

    /// `(slug, version)` of rows with `after < slug <= upto` (no upper bound when `upto` is
    /// `None`), in slug order.
    pub async fn versions_in_range(
        &self,
        after: &str,
        upto: Option<&str>,
    ) -> Result<Vec<IndexedVersion>, StoreError> {
        let statement = match upto {
            Some(upto) => self
                .db
                .prepare(versions_sql(true))
                .bind(&[JsValue::from_str(after), JsValue::from_str(upto)]),
            None => self
                .db
                .prepare(versions_sql(false))
                .bind(&[JsValue::from_str(after)]),
        }
        .map_err(d1)?;
        statement.rows::<IndexedVersion>().await
    }

    /// A page of every link with its owner's email, filtered.
    pub async fn admin_links(&self, query: &Query) -> Result<Vec<AdminLinkRow>, StoreError> {
        self.query_rows(query).await
    }

    pub async fn count_links(&self) -> Result<u64, StoreError> {
        #[derive(Deserialize)]
        struct Count {
            n: u64,
        }
        let rows = self.db.prepare(COUNT_LINKS).rows::<Count>().await?;
        Ok(rows.first().map_or(0, |c| c.n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
    }

    #[test]
    fn admin_link_query_numbers_its_parameters_in_order() {
        let filter = AdminLinkFilter {
            q: Some("ex%".into()),
            owner: Some("Ada@Example.com".into()),
            state: Some(LinkState::Flagged),
            tags: TagFilter::default(),
        };
        let cursor = ListCursor::new(Timestamp::from_millis(5), "abc").unwrap();
        let q = admin_links_query(&filter, Some(&cursor), 21);
        assert!(q.sql.contains("l.slug LIKE ?1 ESCAPE"));
        assert!(q.sql.contains("u.email = ?2"));
        assert!(q.sql.contains("l.state = ?3"));
        assert!(q
            .sql
            .contains("l.created_at < ?4 OR (l.created_at = ?4 AND l.slug < ?5)"));
        assert!(q
            .sql
            .ends_with("ORDER BY l.created_at DESC, l.slug DESC LIMIT ?6"));
        assert_eq!(
            q.params,
            vec![
                Param::Text("%ex\\%%".into()),
                Param::Text("ada@example.com".into()),
                Param::Text("flagged".into()),
                Param::Text(Timestamp::from_millis(5).to_rfc3339()),
                Param::Text("abc".into()),
                Param::Int(21),
            ]
        );
        let plain = admin_links_query(&AdminLinkFilter::default(), None, 10);
        assert!(!plain.sql.contains("WHERE"));
        assert_eq!(plain.params, vec![Param::Int(10)]);
        let by_id = admin_links_query(
            &AdminLinkFilter {
                owner: Some("u_x".into()),
                ..Default::default()
            },
            None,
            1,
        );
        assert!(by_id.sql.contains("l.user_id = ?1"));
    }

    #[test]
    fn owner_list_filters_archive_and_state_before_the_cursor() {
        let owner = UserId::admin();
        let q = owner_links_query(&owner, &OwnerLinkFilter::default(), None, 21);
        assert!(q.sql.ends_with(
            "WHERE user_id = ?1 AND archived = ?2 ORDER BY created_at DESC, slug DESC LIMIT ?3"
        ));
        assert_eq!(
            q.params,
            vec![Param::Text("admin".into()), Param::Int(0), Param::Int(21)]
        );
        let filter = OwnerLinkFilter {
            archived: true,
            state: Some(LinkState::Disabled),
            ..OwnerLinkFilter::default()
        };
        let cursor = ListCursor::new(Timestamp::from_millis(5), "abc").unwrap();
        let q = owner_links_query(&owner, &filter, Some(&cursor), 3);
        assert!(q
            .sql
            .contains("AND state = ?3 AND (created_at < ?4 OR (created_at = ?4 AND slug < ?5))"));
        let tagged = OwnerLinkFilter {
            tags: TagFilter {
                tags: vec!["go".into()],
                mode: super::super::tags::TagMode::All,
            },
            ..filter
        };
        let q = owner_links_query(&owner, &tagged, Some(&cursor), 3);
        assert!(q.sql.contains(
            "AND state = ?3 AND slug IN (SELECT slug FROM link_tags WHERE tag IN (?4) \
             GROUP BY slug HAVING COUNT(*) = ?5) AND (created_at < ?6"
        ));
        assert_eq!(q.params[3], Param::Text("go".into()));
        assert_eq!(q.params[1], Param::Int(1));
        assert_eq!(q.params[2], Param::Text("disabled".into()));
        assert_eq!(q.params.last(), Some(&Param::Int(3)));
    }

    #[test]
    fn the_export_takes_archived_and_unarchived_links_alike() {
        let owner = UserId::admin();
        for archived in [false, true] {
            let filter = OwnerLinkFilter {
                archived,
                include_archived: true,
                ..OwnerLinkFilter::default()
            };
            let q = owner_links_query(&owner, &filter, None, 5);
            assert!(q
                .sql
                .contains("WHERE user_id = ?1 AND archived >= ?2 ORDER BY"));
            assert_eq!(q.params[1], Param::Int(0));
        }
    }
}
