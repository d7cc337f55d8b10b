//! The `links` table: the versioned upserts and guarded deletes that keep it in step with KV,
//! the reconciler's `(slug, version)` ranges, and the owner's and the admin's link lists.
//!
//! An upsert applies only when newer and a delete only at or below its version: a write
//! arriving late never rolls a row back.

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::D1PreparedStatement;

use super::link_order::{search_text, LinkCursor, LinkOrder, SearchText, SortValue};
use super::tags::{
    TagFilter, CLEAR_UPSERTED_TAGS, DELETE_TAGS_OF_GONE, DELETE_TAGS_OF_GONE_HEAD,
    DELETE_TAGS_OF_GONE_PAIRS, INSERT_UPSERTED_TAGS, TAGS_DRIFT, TAG_ONLY_SLUGS,
};
use super::{version, Index, Param, Query, Rows, ROWS_PER_STATEMENT, SLUGS_PER_DELETE};
use crate::account::UserId;
use crate::history::HistoryEntry;
use crate::link::{Link, LinkState, Slug, Version};
use crate::store::d1::error as d1;
use crate::store::StoreError;
use crate::time::Timestamp;

/// `clicks` is the link's people's clicks since its creation day, summed from the roll-up in
/// the same transaction as the row is written (the roll-up adds to it afterwards, see
/// `store::rollup`): a new, re-created or repaired row starts from the right total, and a
/// newer version recounts it, which also heals a total gone wrong. (`j.value`, not `value`,
/// inside the sum: `clicks_daily` has a column `value` too.) `search_text` (the folded search
/// text, [`search_text`]) comes from Rust; a row at the same version whose `search_text`
/// differs is rewritten too (same KV value, so only that column can change), which is how the
/// sweep fills one migrations/0009 left `NULL`.
const UPSERT_LINKS: &str = "INSERT INTO links \
     (slug, url, user_id, title, state, flag_reason, created_at, updated_at, version, \
      expires_at, archived, redirect_type, forward_query, max_clicks, tags, clicks, \
      search_text) \
     SELECT json_extract(value, '$.slug'), json_extract(value, '$.url'), \
      json_extract(value, '$.user_id'), json_extract(value, '$.title'), \
      json_extract(value, '$.state'), json_extract(value, '$.flag_reason'), \
      json_extract(value, '$.created_at'), json_extract(value, '$.updated_at'), \
      json_extract(value, '$.version'), json_extract(value, '$.expires_at'), \
      json_extract(value, '$.archived'), json_extract(value, '$.redirect_type'), \
      json_extract(value, '$.forward_query'), json_extract(value, '$.max_clicks'), \
      json_extract(value, '$.tags'), \
      (SELECT COALESCE(SUM(c.clicks), 0) FROM clicks_daily c \
       WHERE c.slug = json_extract(j.value, '$.slug') AND c.dimension = 'total' AND c.bot = 0 \
        AND c.day >= substr(json_extract(j.value, '$.created_at'), 1, 10)), \
      json_extract(value, '$.search_text') \
     FROM json_each(?1) j WHERE true \
     ON CONFLICT(slug) DO UPDATE SET \
     url = excluded.url, user_id = excluded.user_id, title = excluded.title, \
     state = excluded.state, flag_reason = excluded.flag_reason, \
     created_at = excluded.created_at, updated_at = excluded.updated_at, \
     version = excluded.version, expires_at = excluded.expires_at, \
     archived = excluded.archived, redirect_type = excluded.redirect_type, \
     forward_query = excluded.forward_query, max_clicks = excluded.max_clicks, \
     tags = excluded.tags, clicks = excluded.clicks, search_text = excluded.search_text \
     WHERE excluded.version > links.version \
      OR (excluded.version = links.version AND links.search_text IS NOT excluded.search_text)";
/// A delete removes the row only if the row is not newer than the delete.
const DELETE_LINK: &str = "DELETE FROM links WHERE slug = ?1 AND version <= ?2";
const DELETE_OLDER_THAN_HEAD: &str = "DELETE FROM links WHERE version < ?1 AND slug IN (";
/// Removes rows of `[slug, version]` pairs, each only at or below its own version.
const DELETE_EXACT: &str = "DELETE FROM links \
     WHERE slug IN (SELECT json_extract(value, '$[0]') FROM json_each(?1)) \
     AND version <= (SELECT json_extract(value, '$[1]') FROM json_each(?1) \
      WHERE json_extract(value, '$[0]') = links.slug)";
/// What the owner's list reads of a row: which link, where it sorts, its clicks. The link
/// itself comes from KV.
const LINK_ROW_COLUMNS: &str = "slug, created_at, updated_at, clicks";
/// The reconciler's view of one KV page's slug range: each row's version, expiry and whether
/// it drifted at its version (its tag rows do not match it, or it has no `search_text`), and
/// the slugs with tag rows but no row. BINARY collation = KV's byte
/// order. `?2` bounds the range from above when `bounded`.
fn versions_sql(bounded: bool) -> String {
    let range = if bounded {
        "slug > ?1 AND slug <= ?2"
    } else {
        "slug > ?1"
    };
    format!(
        "SELECT slug, version, expires_at, tags_drift FROM (\
         SELECT slug, version, expires_at, \
         (CASE WHEN search_text IS NULL THEN 1 ELSE {TAGS_DRIFT} END) AS tags_drift \
         FROM links WHERE {range} \
         UNION ALL {TAG_ONLY_SLUGS} AND {range}) ORDER BY slug"
    )
}
const COUNT_LINKS: &str = "SELECT COUNT(*) AS n FROM links";
const ADMIN_LINKS_HEAD: &str = "SELECT l.slug, l.created_at, l.updated_at, l.clicks, \
     u.email AS owner_email \
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
    search_text: String,
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
            search_text: search_text(
                l.slug.as_str(),
                l.url.as_str(),
                l.title.as_ref().map(|t| t.as_str()),
                l.tags.as_slice(),
            ),
        }
    }
}

/// A row of the owner's link list: which link and where it sorts (see [`LINK_ROW_COLUMNS`]).
#[derive(Debug, Clone, Deserialize)]
pub struct LinkRow {
    pub slug: String,
    pub created_at: String,
    pub updated_at: String,
    /// People's clicks since the link's creation.
    #[serde(default)]
    pub clicks: u64,
}

impl LinkRow {
    /// The cursor after this row in `order`.
    pub fn cursor(&self, order: LinkOrder) -> Option<LinkCursor> {
        LinkCursor::after_row(
            order,
            &self.created_at,
            &self.updated_at,
            self.clicks,
            &self.slug,
        )
    }
}

/// `(slug, version)` of a D1 row, and its expiry, for the reconcile merge-join.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IndexedVersion {
    pub slug: String,
    pub version: u64,
    #[serde(default)]
    pub expires_at: Option<String>,
    /// 1 when the row drifted at its version: its `link_tags` rows do not match its tags, or
    /// it has no `search_text` (or there is no row, only tags). Either way the sweep upserts
    /// it again.
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
    /// Substring of slug, url, title or a tag, case-insensitive.
    pub q: Option<SearchText>,
}

/// A row of the admin's link list: which link, and its owner's email (from the JOIN). Every
/// other field comes from KV.
#[derive(Debug, Clone, Deserialize)]
pub struct AdminLinkRow {
    pub slug: String,
    pub created_at: String,
    #[serde(default)]
    pub updated_at: String,
    #[serde(default)]
    pub clicks: u64,
    pub owner_email: Option<String>,
}

impl AdminLinkRow {
    /// The cursor after this row in `order`.
    pub fn cursor(&self, order: LinkOrder) -> Option<LinkCursor> {
        LinkCursor::after_row(
            order,
            &self.created_at,
            &self.updated_at,
            self.clicks,
            &self.slug,
        )
    }
}

/// Filters of the admin's link list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminLinkFilter {
    /// Substring of slug, url, title or a tag, case-insensitive.
    pub q: Option<SearchText>,
    /// A user id, or an email when it contains `@`.
    pub owner: Option<String>,
    /// `active`, `disabled` or `flagged`.
    pub state: Option<LinkState>,
    pub tags: TagFilter,
}

/// The `WHERE` clauses and parameters of a list, built in order so the parameters number
/// themselves; `p` is the `links` alias (`"l."` or `""`).
pub(super) struct Clauses<'a> {
    p: &'a str,
    pub(super) clauses: Vec<String>,
    pub(super) params: Vec<Param>,
}

impl<'a> Clauses<'a> {
    pub(super) fn new(p: &'a str) -> Self {
        Self {
            p,
            clauses: Vec::new(),
            params: Vec::new(),
        }
    }

    pub(super) fn bind(&mut self, param: Param) -> String {
        self.params.push(param);
        format!("?{}", self.params.len())
    }

    /// `q`: a byte search of the folded text in each row's folded `search_text`. The owner's
    /// sort indexes carry `search_text` (migrations/0009), so a page walks the sort's index,
    /// tests each entry without reading its row and stops at its limit: a common text costs a
    /// few entries, a rare one one pass over the owner's entries; a count reads one index
    /// (BENCHMARKS.md).
    pub(super) fn search(&mut self, q: &SearchText) {
        let n = self.bind(Param::Text(q.folded()));
        self.clauses
            .push(format!("instr({}search_text, {n}) > 0", self.p));
    }

    fn state(&mut self, state: Option<LinkState>) {
        if let Some(state) = state {
            let n = self.bind(Param::Text(state.as_str().to_owned()));
            self.clauses.push(format!("{}state = {n}", self.p));
        }
    }

    pub(super) fn tags(&mut self, tags: &TagFilter) {
        let column = format!("{}slug", self.p);
        if let Some(clause) = tags.clause(&column, &mut self.params) {
            self.clauses.push(clause);
        }
    }

    /// Rows after the cursor in `order`: past its sort value, or at it and past its slug.
    fn after(&mut self, order: LinkOrder, cursor: Option<&LinkCursor>) {
        let Some(c) = cursor else { return };
        let (p, cmp) = (self.p, order.dir.after());
        let slug = self.bind(Param::Text(c.slug.clone()));
        let value = match &c.value {
            SortValue::Time(t) => Some(Param::Text(t.to_rfc3339())),
            SortValue::Clicks(n) => Some(Param::Int(*n)),
            SortValue::None => None,
        };
        match (order.sort.column(), value) {
            (Some(column), Some(value)) => {
                let v = self.bind(value);
                self.clauses.push(format!(
                    "({p}{column} {cmp} {v} OR ({p}{column} = {v} AND {p}slug {cmp} {slug}))"
                ));
            }
            _ => self.clauses.push(format!("{p}slug {cmp} {slug}")),
        }
    }

    pub(super) fn where_sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// `ORDER BY … LIMIT ?` for `order`, ties by slug in the same direction (the index order).
    fn order_limit(&mut self, order: LinkOrder, limit: u32) -> String {
        let (p, dir) = (self.p, order.dir.sql());
        let n = self.bind(Param::Int(u64::from(limit)));
        match order.sort.column() {
            Some(column) => format!(" ORDER BY {p}{column} {dir}, {p}slug {dir} LIMIT {n}"),
            None => format!(" ORDER BY {p}slug {dir} LIMIT {n}"),
        }
    }
}

/// The admin's filters, in the order their parameters bind; whether the owner is matched by
/// e-mail (which needs the JOIN with `users`).
fn admin_clauses(filter: &AdminLinkFilter) -> (Clauses<'static>, bool) {
    let mut c = Clauses::new("l.");
    if let Some(q) = &filter.q {
        c.search(q);
    }
    let mut by_email = false;
    if let Some(owner) = &filter.owner {
        by_email = owner.contains('@');
        let column = if by_email { "u.email" } else { "l.user_id" };
        let value = if by_email {
            owner.to_ascii_lowercase()
        } else {
            owner.clone()
        };
        let n = c.bind(Param::Text(value));
        c.clauses.push(format!("{column} = {n}"));
    }
    c.state(filter.state);
    c.tags(&filter.tags);
    (c, by_email)
}

/// The admin's link list in `order`, keyset after `cursor` (made for that order), filtered,
/// `limit` rows.
pub fn admin_links_query(
    filter: &AdminLinkFilter,
    order: LinkOrder,
    cursor: Option<&LinkCursor>,
    limit: u32,
) -> Query {
    let (mut c, _) = admin_clauses(filter);
    c.after(order, cursor);
    let mut sql = format!("{ADMIN_LINKS_HEAD}{}", c.where_sql());
    sql.push_str(&c.order_limit(order, limit));
    Query {
        sql,
        params: c.params,
    }
}

/// How many links the admin's filters match (the first page's `total`).
pub fn admin_links_count(filter: &AdminLinkFilter) -> Query {
    let (c, by_email) = admin_clauses(filter);
    let join = if by_email {
        " JOIN users u ON u.id = l.user_id"
    } else {
        ""
    };
    Query {
        sql: format!("SELECT COUNT(*) AS n FROM links l{join}{}", c.where_sql()),
        params: c.params,
    }
}

/// The owner's filters, in the order their parameters bind.
fn owner_clauses<'a>(owner: &UserId, filter: &OwnerLinkFilter) -> Clauses<'a> {
    let mut c = Clauses::new("");
    let p = c.p;
    let n = c.bind(Param::Text(owner.as_str().to_owned()));
    c.clauses.push(format!("{p}user_id = {n}"));
    if !filter.include_archived {
        let n = c.bind(Param::Int(u64::from(filter.archived)));
        c.clauses.push(format!("{p}archived = {n}"));
    }
    c.state(filter.state);
    c.tags(&filter.tags);
    if let Some(q) = &filter.q {
        c.search(q);
    }
    c
}

/// The owner's link list in `order`, keyset after `cursor` (made for that order), filtered,
/// `limit` rows.
pub fn owner_links_query(
    owner: &UserId,
    filter: &OwnerLinkFilter,
    order: LinkOrder,
    cursor: Option<&LinkCursor>,
    limit: u32,
) -> Query {
    let mut c = owner_clauses(owner, filter);
    c.after(order, cursor);
    let mut sql = format!("SELECT {LINK_ROW_COLUMNS} FROM links{}", c.where_sql());
    sql.push_str(&c.order_limit(order, limit));
    Query {
        sql,
        params: c.params,
    }
}

/// How many of the owner's links the filters match (the first page's `total`).
pub fn owner_links_count(owner: &UserId, filter: &OwnerLinkFilter) -> Query {
    let c = owner_clauses(owner, filter);
    Query {
        sql: format!("SELECT COUNT(*) AS n FROM links{}", c.where_sql()),
        params: c.params,
    }
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

    /// The count a `*_links_count` query answers.
    pub async fn count(&self, query: &Query) -> Result<u64, StoreError> {
        #[derive(Deserialize)]
        struct Count {
            n: u64,
        }
        let rows: Vec<Count> = self.query_rows(query).await?;
        Ok(rows.first().map_or(0, |c| c.n))
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
    use super::super::link_order::{LinkSort, SortDir};
    use super::super::tags::TagMode;
    use super::*;

    const T: &str = "2026-11-25T12:34:56.789Z";

    fn search(q: &str) -> Option<SearchText> {
        SearchText::parse(q).unwrap()
    }

    fn order(sort: LinkSort, dir: SortDir) -> LinkOrder {
        LinkOrder { sort, dir }
    }

    #[test]
    fn admin_link_query_numbers_its_parameters_in_order() {
        let filter = AdminLinkFilter {
            q: search("EX%"),
            owner: Some("Ada@Example.com".into()),
            state: Some(LinkState::Flagged),
            tags: TagFilter::default(),
        };
        let cursor = LinkCursor::after_row(LinkOrder::default(), T, T, 0, "abc").unwrap();
        let q = admin_links_query(&filter, LinkOrder::default(), Some(&cursor), 21);
        assert!(q
            .sql
            .contains("WHERE instr(l.search_text, ?1) > 0 AND u.email = ?2"));
        assert!(q.sql.contains("u.email = ?2"));
        assert!(q.sql.contains("l.state = ?3"));
        assert!(q
            .sql
            .contains("(l.created_at < ?5 OR (l.created_at = ?5 AND l.slug < ?4))"));
        assert!(q
            .sql
            .ends_with("ORDER BY l.created_at DESC, l.slug DESC LIMIT ?6"));
        assert_eq!(
            q.params,
            vec![
                Param::Text("ex%".into()),
                Param::Text("ada@example.com".into()),
                Param::Text("flagged".into()),
                Param::Text("abc".into()),
                Param::Text(T.into()),
                Param::Int(21),
            ]
        );
        let plain = admin_links_query(&AdminLinkFilter::default(), LinkOrder::default(), None, 10);
        assert!(!plain.sql.contains("WHERE"));
        assert_eq!(plain.params, vec![Param::Int(10)]);
        let by_id = AdminLinkFilter {
            owner: Some("u_x".into()),
            ..Default::default()
        };
        assert!(admin_links_query(&by_id, LinkOrder::default(), None, 1)
            .sql
            .contains("l.user_id = ?1"));
    }

    #[test]
    fn admin_counts_join_users_only_to_match_an_email() {
        let by_email = AdminLinkFilter {
            owner: Some("a@b.c".into()),
            ..Default::default()
        };
        let q = admin_links_count(&by_email);
        assert_eq!(
            q.sql,
            "SELECT COUNT(*) AS n FROM links l JOIN users u ON u.id = l.user_id WHERE u.email = ?1"
        );
        let q = admin_links_count(&AdminLinkFilter {
            q: search("ab"),
            ..Default::default()
        });
        assert_eq!(
            q.sql,
            "SELECT COUNT(*) AS n FROM links l WHERE instr(l.search_text, ?1) > 0"
        );
        assert_eq!(q.params, vec![Param::Text("ab".into())]);
    }

    #[test]
    fn every_sort_pages_by_its_column_then_the_slug_in_one_direction() {
        let owner = UserId::admin();
        let filter = OwnerLinkFilter::default();
        for (sort, column, value) in [
            (
                LinkSort::Created,
                Some("created_at"),
                Some(Param::Text(T.into())),
            ),
            (
                LinkSort::Updated,
                Some("updated_at"),
                Some(Param::Text(T.into())),
            ),
            (LinkSort::Clicks, Some("clicks"), Some(Param::Int(7))),
            (LinkSort::Slug, None, None),
        ] {
            for (dir, cmp, word) in [(SortDir::Asc, ">", "ASC"), (SortDir::Desc, "<", "DESC")] {
                let o = order(sort, dir);
                let c = LinkCursor::after_row(o, T, T, 7, "s1").unwrap();
                let q = owner_links_query(&owner, &filter, o, Some(&c), 11);
                match column {
                    Some(col) => {
                        assert!(
                            q.sql.ends_with(&format!(
                                "AND ({col} {cmp} ?4 OR ({col} = ?4 AND slug {cmp} ?3)) \
                                 ORDER BY {col} {word}, slug {word} LIMIT ?5"
                            )),
                            "{}",
                            q.sql
                        );
                        assert_eq!(q.params[3], value.clone().unwrap());
                    }
                    None => assert!(q
                        .sql
                        .ends_with(&format!("AND slug {cmp} ?3 ORDER BY slug {word} LIMIT ?4"))),
                }
                assert_eq!(q.params[2], Param::Text("s1".into()));
                assert_eq!(q.params.last(), Some(&Param::Int(11)));
            }
        }
    }

    #[test]
    fn owner_list_filters_archive_state_tags_and_search_before_the_cursor() {
        let owner = UserId::admin();
        let q = owner_links_query(
            &owner,
            &OwnerLinkFilter::default(),
            LinkOrder::default(),
            None,
            21,
        );
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
            tags: TagFilter {
                tags: vec!["go".into()],
                mode: TagMode::All,
            },
            q: search("Café"),
            include_archived: false,
        };
        let cursor = LinkCursor::after_row(LinkOrder::default(), T, T, 0, "abc").unwrap();
        let q = owner_links_query(&owner, &filter, LinkOrder::default(), Some(&cursor), 3);
        assert!(q.sql.contains(
            "AND state = ?3 AND slug IN (SELECT slug FROM link_tags WHERE tag IN (?4) \
             GROUP BY slug HAVING COUNT(*) = ?5) \
             AND instr(search_text, ?6) > 0 \
             AND (created_at < ?8 OR (created_at = ?8 AND slug < ?7))"
        ));
        assert_eq!(q.params[5], Param::Text("café".into()));
        // The count has the same filters (and parameters), without cursor, order or limit.
        let count = owner_links_count(&owner, &filter);
        assert_eq!(
            count.sql,
            "SELECT COUNT(*) AS n FROM links \
             WHERE user_id = ?1 AND archived = ?2 AND state = ?3 \
             AND slug IN (SELECT slug FROM link_tags WHERE tag IN (?4) \
             GROUP BY slug HAVING COUNT(*) = ?5) AND instr(search_text, ?6) > 0"
        );
        assert_eq!(count.params[..], q.params[..6]);
    }

    #[test]
    fn every_search_is_a_byte_search_of_the_folded_text_whatever_its_length() {
        for (raw, folded) in [
            ("é", "é"),
            ("A,", "a,"),
            ("S-", "s-"),
            ("EXAMPLE", "example"),
        ] {
            let filter = OwnerLinkFilter {
                q: search(raw),
                ..Default::default()
            };
            let q = owner_links_query(&UserId::admin(), &filter, LinkOrder::default(), None, 2);
            assert_eq!(
                q.sql,
                format!(
                    "SELECT {LINK_ROW_COLUMNS} FROM links WHERE user_id = ?1 AND archived = ?2 \
                     AND instr(search_text, ?3) > 0 ORDER BY created_at DESC, slug DESC LIMIT ?4"
                )
            );
            assert_eq!(q.params[2], Param::Text(folded.into()), "{raw}");
        }
    }

    #[test]
    fn index_rows_carry_their_folded_search_text() {
        use crate::link::{LinkOptions, TargetUrl, Title};
        let link = Link::new(
            Slug::parse("Abc").unwrap(),
            TargetUrl::parse("https://X.example/").unwrap(),
            UserId::admin(),
            LinkOptions {
                title: Some(Title::parse("Café NOIR").unwrap()),
                tags: crate::link::Tags::parse(&["Go", "web"]).unwrap(),
                ..LinkOptions::default()
            },
            Timestamp::from_millis(1_000),
        );
        let json = serde_json::to_value(IndexRow::of(&link)).unwrap();
        assert_eq!(
            json["search_text"],
            "abc\u{1f}https://x.example/\u{1f}café noir\u{1f}go\u{1f}web"
        );
        assert!(UPSERT_LINKS.contains("json_extract(value, '$.search_text')"));
    }

    #[test]
    fn a_row_without_search_text_is_drift_the_upsert_rewrites_at_its_own_version() {
        for bounded in [false, true] {
            assert!(versions_sql(bounded)
                .contains("(CASE WHEN search_text IS NULL THEN 1 ELSE (CASE WHEN"));
        }
        assert!(UPSERT_LINKS.ends_with(
            "WHERE excluded.version > links.version \
             OR (excluded.version = links.version \
             AND links.search_text IS NOT excluded.search_text)"
        ));
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
            let q = owner_links_query(&owner, &filter, LinkOrder::default(), None, 5);
            assert!(q.sql.contains(" WHERE user_id = ?1 ORDER BY"), "{}", q.sql);
            assert!(!q.sql.contains("archived ="), "{}", q.sql);
            assert_eq!(q.params.len(), 2);
        }
    }
}
