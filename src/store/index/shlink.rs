//! What the Shlink API reads from D1: a page of short codes in any of Shlink's orders (by
//! offset, as Shlink pages), visit counts with bots apart (from the click roll-up), the tags
//! with their counts, and a link's single visits (the `visits` table the click consumer
//! writes). The links themselves are read from KV by the handler; these queries only choose
//! and count them. `owner: None` is the admin's view of every link.

use serde::Deserialize;

use super::links::Clauses;
use super::{Index, Param, Query, SearchText, TagFilter};
use crate::account::UserId;
use crate::shlink::params::{Direction, OrderField, ShlinkOrder};
use crate::store::StoreError;

/// A link's bots' clicks since its creation day (`links.clicks` holds the people's).
const BOT_CLICKS: &str = "(SELECT COALESCE(SUM(c.clicks), 0) FROM clicks_daily c \
     WHERE c.slug = links.slug AND c.dimension = 'total' AND c.bot = 1 \
      AND c.day >= substr(links.created_at, 1, 10))";
/// People's and bots' clicks of each `[slug, first day]` pair since that day.
const SUMMARIES: &str = "SELECT json_extract(j.value, '$[0]') AS slug, \
     COALESCE(SUM(CASE WHEN c.bot = 0 THEN c.clicks END), 0) AS people, \
     COALESCE(SUM(CASE WHEN c.bot = 1 THEN c.clicks END), 0) AS bots \
     FROM json_each(?1) j LEFT JOIN clicks_daily c ON c.slug = json_extract(j.value, '$[0]') \
      AND c.day >= json_extract(j.value, '$[1]') AND c.dimension = 'total' GROUP BY 1";
/// Every click of the links in view, each counted from its link's creation day.
const OVERVIEW_HEAD: &str = "SELECT \
     COALESCE(SUM(CASE WHEN c.bot = 0 THEN c.clicks END), 0) AS people, \
     COALESCE(SUM(CASE WHEN c.bot = 1 THEN c.clicks END), 0) AS bots \
     FROM clicks_daily c JOIN links l ON l.slug = c.slug \
     WHERE c.dimension = 'total' AND c.day >= substr(l.created_at, 1, 10)";
/// The tags in view, each with its links and their people's and bots' clicks.
const TAG_STATS_HEAD: &str = "SELECT t.tag AS tag, COUNT(*) AS links, \
     COALESCE(SUM((SELECT SUM(c.clicks) FROM clicks_daily c WHERE c.slug = l.slug \
      AND c.dimension = 'total' AND c.bot = 0 AND c.day >= substr(l.created_at, 1, 10))), 0) \
      AS people, \
     COALESCE(SUM((SELECT SUM(c.clicks) FROM clicks_daily c WHERE c.slug = l.slug \
      AND c.dimension = 'total' AND c.bot = 1 AND c.day >= substr(l.created_at, 1, 10))), 0) \
      AS bots \
     FROM links l JOIN link_tags t ON t.slug = l.slug";
/// The newest links in view with this exact URL (`findIfExists`).
const SAME_URL: &str = "SELECT slug FROM links WHERE url = ?1";
const VISIT_COLUMNS: &str = "at, country, referrer, browser, os, bot";

/// Which links a Shlink list shows: the owner's (every link's for `None`), with Shlink's tag
/// filter and search. Archived links are listed too: Shlink has no archive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShortUrlFilter {
    pub owner: Option<UserId>,
    pub tags: TagFilter,
    pub q: Option<SearchText>,
}

/// A short code of a list page and its visit counts.
#[derive(Debug, Clone, Deserialize)]
pub struct ShortUrlRow {
    pub slug: String,
    /// People's clicks since the link's creation.
    pub clicks: u64,
    pub bot_clicks: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ClickSplit {
    pub people: u64,
    pub bots: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SlugClickSplit {
    pub slug: String,
    pub people: u64,
    pub bots: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TagStatsRow {
    pub tag: String,
    pub links: u64,
    pub people: u64,
    pub bots: u64,
}

/// A `visits` row.
#[derive(Debug, Clone, Deserialize)]
pub struct VisitRow {
    pub at: String,
    pub country: String,
    pub referrer: String,
    pub browser: String,
    pub os: String,
    pub bot: u8,
}

/// Which of a link's visits: since `since` (its creation or a later start), up to `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitFilter {
    pub slug: String,
    pub since: String,
    pub until: Option<String>,
    pub exclude_bots: bool,
}

fn filter_clauses<'a>(filter: &ShortUrlFilter) -> Clauses<'a> {
    let mut c = Clauses::new("");
    if let Some(owner) = &filter.owner {
        let n = c.bind(Param::Text(owner.as_str().to_owned()));
        c.clauses.push(format!("user_id = {n}"));
    }
    c.tags(&filter.tags);
    if let Some(q) = &filter.q {
        c.search(q);
    }
    c
}

/// The sort expression of a Shlink order (result columns of the list's `SELECT`).
fn order_expr(field: OrderField) -> &'static str {
    match field {
        OrderField::DateCreated => "created_at",
        OrderField::ShortCode => "slug",
        OrderField::LongUrl => "url",
        OrderField::Title => "title",
        OrderField::Visits => "clicks + bot_clicks",
        OrderField::NonBotVisits => "clicks",
    }
}

/// A page of the short codes in `order` (ties by short code, ascending), `limit` from
/// `offset`.
pub fn short_urls_query(
    filter: &ShortUrlFilter,
    order: ShlinkOrder,
    limit: u32,
    offset: u64,
) -> Query {
    let mut c = filter_clauses(filter);
    let dir = match order.dir {
        Direction::Asc => "ASC",
        Direction::Desc => "DESC",
    };
    let where_sql = c.where_sql();
    let limit = c.bind(Param::Int(u64::from(limit)));
    let offset = c.bind(Param::Int(offset));
    let sort = order_expr(order.field);
    Query {
        sql: format!(
            "SELECT slug, clicks, {BOT_CLICKS} AS bot_clicks FROM links{where_sql} \
             ORDER BY {sort} {dir}, slug ASC LIMIT {limit} OFFSET {offset}"
        ),
        params: c.params,
    }
}

pub fn short_urls_count(filter: &ShortUrlFilter) -> Query {
    let c = filter_clauses(filter);
    Query {
        sql: format!("SELECT COUNT(*) AS n FROM links{}", c.where_sql()),
        params: c.params,
    }
}

fn owner_clause(owner: Option<&UserId>, params: &mut Vec<Param>, keyword: &str) -> String {
    match owner {
        Some(owner) => {
            params.push(Param::Text(owner.as_str().to_owned()));
            format!(" {keyword} l.user_id = ?{}", params.len())
        }
        None => String::new(),
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SlugRow {
    pub slug: String,
}

/// The newest `limit` links in view whose URL is `url`.
pub fn same_url_query(owner: Option<&UserId>, url: &str, limit: u32) -> Query {
    let mut params = vec![Param::Text(url.to_owned())];
    let clause = owner_clause(owner, &mut params, "AND").replace("l.user_id", "user_id");
    params.push(Param::Int(u64::from(limit)));
    Query {
        sql: format!(
            "{SAME_URL}{clause} ORDER BY created_at DESC, slug LIMIT ?{}",
            params.len()
        ),
        params,
    }
}

/// Every click of the links in view, people and bots apart.
pub fn overview_query(owner: Option<&UserId>) -> Query {
    let mut params = Vec::new();
    let clause = owner_clause(owner, &mut params, "AND");
    Query {
        sql: format!("{OVERVIEW_HEAD}{clause}"),
        params,
    }
}

/// The tags in view with their counts, sorted by tag, at most `limit`.
pub fn tag_stats_query(owner: Option<&UserId>, limit: u32) -> Query {
    let mut params = Vec::new();
    let clause = owner_clause(owner, &mut params, "WHERE");
    params.push(Param::Int(u64::from(limit)));
    Query {
        sql: format!(
            "{TAG_STATS_HEAD}{clause} GROUP BY t.tag ORDER BY t.tag LIMIT ?{}",
            params.len()
        ),
        params,
    }
}

fn visit_clauses(filter: &VisitFilter) -> (String, Vec<Param>) {
    let mut params = vec![
        Param::Text(filter.slug.clone()),
        Param::Text(filter.since.clone()),
    ];
    let mut sql = String::from(" WHERE slug = ?1 AND at >= ?2");
    if let Some(until) = &filter.until {
        params.push(Param::Text(until.clone()));
        sql.push_str(&format!(" AND at <= ?{}", params.len()));
    }
    if filter.exclude_bots {
        sql.push_str(" AND bot = 0");
    }
    (sql, params)
}

/// A page of a link's visits, newest first.
pub fn visits_query(filter: &VisitFilter, limit: u32, offset: u64) -> Query {
    let (clauses, mut params) = visit_clauses(filter);
    params.push(Param::Int(u64::from(limit)));
    params.push(Param::Int(offset));
    let n = params.len();
    Query {
        sql: format!(
            "SELECT {VISIT_COLUMNS} FROM visits{clauses} ORDER BY at DESC, id DESC \
             LIMIT ?{} OFFSET ?{n}",
            n - 1
        ),
        params,
    }
}

pub fn visits_count(filter: &VisitFilter) -> Query {
    let (clauses, params) = visit_clauses(filter);
    Query {
        sql: format!("SELECT COUNT(*) AS n FROM visits{clauses}"),
        params,
    }
}

impl Index {
    pub async fn short_urls(&self, query: &Query) -> Result<Vec<ShortUrlRow>, StoreError> {
        self.query_rows(query).await
    }

    /// People's and bots' clicks of each `(slug, first day)`.
    pub async fn click_splits(
        &self,
        slugs: &[(&str, String)],
    ) -> Result<Vec<SlugClickSplit>, StoreError> {
        let pairs: Vec<(&str, &str)> = slugs.iter().map(|(s, d)| (*s, d.as_str())).collect();
        let json = serde_json::to_string(&pairs).map_err(|e| StoreError::Index(e.to_string()))?;
        self.query_rows(&Query {
            sql: SUMMARIES.to_owned(),
            params: vec![Param::Text(json)],
        })
        .await
    }

    pub async fn click_split(&self, query: &Query) -> Result<ClickSplit, StoreError> {
        let rows: Vec<ClickSplit> = self.query_rows(query).await?;
        Ok(rows.into_iter().next().unwrap_or_default())
    }

    pub async fn tag_stats(&self, query: &Query) -> Result<Vec<TagStatsRow>, StoreError> {
        self.query_rows(query).await
    }

    pub async fn slugs(&self, query: &Query) -> Result<Vec<SlugRow>, StoreError> {
        self.query_rows(query).await
    }

    pub async fn visits(&self, query: &Query) -> Result<Vec<VisitRow>, StoreError> {
        self.query_rows(query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::index::TagMode;

    #[test]
    fn a_page_binds_owner_tags_search_then_limit_and_offset() {
        let filter = ShortUrlFilter {
            owner: Some(UserId::admin()),
            tags: TagFilter {
                tags: vec!["a".into()],
                mode: TagMode::Any,
            },
            q: SearchText::parse("exam").unwrap(),
        };
        let order = ShlinkOrder {
            field: OrderField::Visits,
            dir: Direction::Desc,
        };
        let q = short_urls_query(&filter, order, 10, 20);
        assert!(
            q.sql.contains("WHERE user_id = ?1 AND slug IN"),
            "{}",
            q.sql
        );
        assert!(q
            .sql
            .ends_with("ORDER BY clicks + bot_clicks DESC, slug ASC LIMIT ?4 OFFSET ?5"));
        assert_eq!(q.params.len(), 5);
        assert_eq!(q.params[3..], [Param::Int(10), Param::Int(20)]);
        let all = short_urls_query(&ShortUrlFilter::default(), ShlinkOrder::default(), 5, 0);
        assert!(!all.sql.contains("FROM links WHERE"));
        assert!(all
            .sql
            .ends_with("ORDER BY created_at DESC, slug ASC LIMIT ?1 OFFSET ?2"));
        assert_eq!(
            short_urls_count(&filter).sql,
            format!(
                "SELECT COUNT(*) AS n FROM links{}",
                filter_clauses(&filter).where_sql()
            )
        );
    }

    #[test]
    fn every_order_has_its_column() {
        for (field, expr) in [
            (OrderField::LongUrl, "url"),
            (OrderField::Title, "title"),
            (OrderField::ShortCode, "slug"),
            (OrderField::NonBotVisits, "clicks"),
        ] {
            let q = short_urls_query(
                &ShortUrlFilter::default(),
                ShlinkOrder {
                    field,
                    dir: Direction::Asc,
                },
                1,
                0,
            );
            assert!(
                q.sql.contains(&format!("ORDER BY {expr} ASC, slug ASC")),
                "{}",
                q.sql
            );
        }
    }

    #[test]
    fn visits_filter_by_time_and_bots_newest_first() {
        let f = VisitFilter {
            slug: "abc".into(),
            since: "2026-01-01T00:00:00.000Z".into(),
            until: Some("2026-02-01T00:00:00.000Z".into()),
            exclude_bots: true,
        };
        let q = visits_query(&f, 5000, 5000);
        assert!(q
            .sql
            .contains("WHERE slug = ?1 AND at >= ?2 AND at <= ?3 AND bot = 0"));
        assert!(q
            .sql
            .ends_with("ORDER BY at DESC, id DESC LIMIT ?4 OFFSET ?5"));
        let c = visits_count(&VisitFilter {
            until: None,
            exclude_bots: false,
            ..f
        });
        assert_eq!(
            c.sql,
            "SELECT COUNT(*) AS n FROM visits WHERE slug = ?1 AND at >= ?2"
        );
    }

    #[test]
    fn same_url_is_the_owners_newest_first() {
        let q = same_url_query(Some(&UserId::admin()), "https://e.com/", 20);
        assert_eq!(
            q.sql,
            "SELECT slug FROM links WHERE url = ?1 AND user_id = ?2 \
             ORDER BY created_at DESC, slug LIMIT ?3"
        );
        assert!(same_url_query(None, "x", 1)
            .sql
            .ends_with("WHERE url = ?1 ORDER BY created_at DESC, slug LIMIT ?2"));
    }

    #[test]
    fn the_admin_sees_every_links_counts() {
        assert!(!overview_query(None).sql.contains("user_id"));
        let q = overview_query(Some(&UserId::admin()));
        assert!(q.sql.ends_with("AND l.user_id = ?1"));
        let t = tag_stats_query(Some(&UserId::admin()), 1000);
        assert!(t
            .sql
            .contains("WHERE l.user_id = ?1 GROUP BY t.tag ORDER BY t.tag LIMIT ?2"));
        assert!(tag_stats_query(None, 1000).sql.ends_with("LIMIT ?1"));
    }
}
