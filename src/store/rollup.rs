//! [`Rollup`]: the D1 click roll-up (`clicks_daily`, `click_visitors`, `click_messages`), the
//! counts that work without a Cloudflare account, and its SQL.
//!
//! The queue consumer applies a batch of clicks as one D1 batch (one transaction): first it
//! records the batch's message ids under a fresh batch token (`INSERT OR IGNORE`), then it adds
//! only the clicks whose id was recorded under that token. A redelivered message's id is
//! already there under an earlier token, so a retried batch never counts a click twice. The
//! same batch adds people's clicks to `links.clicks` (the lists' count and `clicks` sort) and
//! one `visits` row per click (the Shlink API's single visits, pruned nightly).

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::D1Database;

use super::d1::{error as d1, json_param, run_batch, Rows};
use super::StoreError;
use crate::account::UserId;
use crate::analytics::{Click, DateRange, Group, DIMENSIONS, TOTAL, VARIANT};

/// Roll-up rows per statement (a click makes six); the JSON parameter stays near 100 KB.
const ROWS_PER_STATEMENT: usize = 600;
/// People's clicks per link-total statement (each link scans its chunk once).
const PEOPLE_PER_STATEMENT: usize = 100;

const RECORD_MESSAGES: &str = "INSERT OR IGNORE INTO click_messages (id, day, batch) \
     SELECT json_extract(value, '$.id'), json_extract(value, '$.day'), ?2 FROM json_each(?1)";
const ADD_CLICKS: &str = "INSERT INTO clicks_daily (slug, day, bot, dimension, value, clicks) \
     SELECT json_extract(r.value, '$.slug'), json_extract(r.value, '$.day'), \
      json_extract(r.value, '$.bot'), json_extract(r.value, '$.dimension'), \
      json_extract(r.value, '$.value'), COUNT(*) \
     FROM json_each(?1) r JOIN click_messages m \
      ON m.id = json_extract(r.value, '$.id') AND m.batch = ?2 \
     WHERE true GROUP BY 1, 2, 3, 4, 5 \
     ON CONFLICT(slug, day, bot, dimension, value) DO UPDATE SET clicks = clicks + excluded.clicks";
const ADD_VISITORS: &str = "INSERT OR IGNORE INTO click_visitors (slug, day, bot, visitor) \
     SELECT json_extract(r.value, '$.slug'), json_extract(r.value, '$.day'), \
      json_extract(r.value, '$.bot'), json_extract(r.value, '$.visitor') \
     FROM json_each(?1) r JOIN click_messages m \
      ON m.id = json_extract(r.value, '$.id') AND m.batch = ?2 \
     WHERE json_extract(r.value, '$.visitor') != ''";
/// Adds the batch's newly recorded people's clicks (`?1`: `[{id, slug, day}]`) to their links'
/// `clicks`, each counted only from its link's creation day, as the list counts them. In the
/// same transaction as `ADD_CLICKS`, so `links.clicks` stays the sum the upsert would compute.
const ADD_LINK_CLICKS: &str = "UPDATE links SET clicks = clicks + \
     (SELECT COUNT(*) FROM json_each(?1) r JOIN click_messages m \
       ON m.id = json_extract(r.value, '$.id') AND m.batch = ?2 \
      WHERE json_extract(r.value, '$.slug') = links.slug \
       AND json_extract(r.value, '$.day') >= substr(links.created_at, 1, 10)) \
     WHERE slug IN (SELECT json_extract(value, '$.slug') FROM json_each(?1))";
/// One `visits` row per newly recorded click (`?1`: `[{id, slug, at, country, referrer,
/// device, browser, os, bot, variant}]`), under the same batch token as the counts.
const ADD_VISITS: &str = "INSERT OR IGNORE INTO visits \
     (id, slug, at, country, referrer, device, browser, os, bot, variant) \
     SELECT m.id, json_extract(r.value, '$.slug'), json_extract(r.value, '$.at'), \
      json_extract(r.value, '$.country'), json_extract(r.value, '$.referrer'), \
      json_extract(r.value, '$.device'), json_extract(r.value, '$.browser'), \
      json_extract(r.value, '$.os'), json_extract(r.value, '$.bot'), \
      json_extract(r.value, '$.variant') \
     FROM json_each(?1) r JOIN click_messages m \
      ON m.id = json_extract(r.value, '$.id') AND m.batch = ?2";
const PRUNE_VISITS: &str = "DELETE FROM visits WHERE rowid IN \
     (SELECT rowid FROM visits WHERE at < ?1 LIMIT ?2)";
/// `?4` is 1 to include bots (bot IN (0, 1)), else 0.
const TOTAL_CLICKS: &str = "SELECT COALESCE(SUM(clicks), 0) AS n FROM clicks_daily \
     WHERE slug = ?1 AND day BETWEEN ?2 AND ?3 AND dimension = 'total' AND bot IN (0, ?4)";
const UNIQUE_VISITORS: &str = "SELECT COUNT(*) AS n FROM click_visitors \
     WHERE slug = ?1 AND day BETWEEN ?2 AND ?3 AND bot IN (0, ?4)";
const GROUP_BY_DIMENSION: &str = "SELECT value AS key, SUM(clicks) AS clicks FROM clicks_daily \
     WHERE slug = ?1 AND day BETWEEN ?2 AND ?3 AND bot IN (0, ?4) AND dimension = ?5 \
     GROUP BY value ORDER BY clicks DESC, key";
const GROUP_BY_DAY: &str = "SELECT day AS key, SUM(clicks) AS clicks FROM clicks_daily \
     WHERE slug = ?1 AND day BETWEEN ?2 AND ?3 AND bot IN (0, ?4) AND dimension = 'total' \
     GROUP BY day ORDER BY day";
/// The same four over all of an owner's links (`?1` the owner), each link's clicks from its
/// creation day as the lists count them: the account's stats. Visitor ids are the day's, not
/// the link's, so a person who opened three links on a day is one visitor-day.
const OWNER_TOTAL_CLICKS: &str = "SELECT COALESCE(SUM(c.clicks), 0) AS n FROM clicks_daily c \
     JOIN links l ON l.slug = c.slug WHERE l.user_id = ?1 AND c.day BETWEEN ?2 AND ?3 \
      AND c.dimension = 'total' AND c.bot IN (0, ?4) AND c.day >= substr(l.created_at, 1, 10)";
const OWNER_UNIQUE_VISITORS: &str = "SELECT COUNT(*) AS n FROM (SELECT DISTINCT v.day, v.visitor \
     FROM click_visitors v JOIN links l ON l.slug = v.slug WHERE l.user_id = ?1 \
      AND v.day BETWEEN ?2 AND ?3 AND v.bot IN (0, ?4) AND v.day >= substr(l.created_at, 1, 10))";
const OWNER_GROUP_BY_DIMENSION: &str = "SELECT c.value AS key, SUM(c.clicks) AS clicks \
     FROM clicks_daily c JOIN links l ON l.slug = c.slug WHERE l.user_id = ?1 \
      AND c.day BETWEEN ?2 AND ?3 AND c.bot IN (0, ?4) AND c.dimension = ?5 \
      AND c.day >= substr(l.created_at, 1, 10) \
     GROUP BY c.value ORDER BY clicks DESC, key";
const OWNER_GROUP_BY_DAY: &str = "SELECT c.day AS key, SUM(c.clicks) AS clicks \
     FROM clicks_daily c JOIN links l ON l.slug = c.slug WHERE l.user_id = ?1 \
      AND c.day BETWEEN ?2 AND ?3 AND c.bot IN (0, ?4) AND c.dimension = 'total' \
      AND c.day >= substr(l.created_at, 1, 10) \
     GROUP BY c.day ORDER BY c.day";
/// `?5` as `?4` above (1 with bots).
const TOP_LINKS: &str = "SELECT c.slug AS slug, l.url AS url, SUM(c.clicks) AS clicks \
     FROM clicks_daily c JOIN links l ON l.slug = c.slug \
     WHERE l.user_id = ?1 AND c.day BETWEEN ?2 AND ?3 AND c.dimension = 'total' AND c.bot IN (0, ?5) \
      AND c.day >= substr(l.created_at, 1, 10) \
     GROUP BY c.slug ORDER BY clicks DESC, c.slug LIMIT ?4";
/// People's clicks of each `[slug, first day]` pair since that day (a re-created slug does not
/// inherit its earlier life's clicks).
const CLICKS_SINCE: &str = "SELECT json_extract(j.value, '$[0]') AS slug, \
     COALESCE(SUM(c.clicks), 0) AS clicks FROM json_each(?1) j \
     LEFT JOIN clicks_daily c ON c.slug = json_extract(j.value, '$[0]') \
      AND c.day >= json_extract(j.value, '$[1]') AND c.dimension = 'total' AND c.bot = 0 \
     GROUP BY 1";
const PRUNE_MESSAGES: &str = "DELETE FROM click_messages WHERE rowid IN \
     (SELECT rowid FROM click_messages WHERE day < ?1 LIMIT ?2)";

/// One roll-up row a click adds: to the total or to one dimension's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollupRow<'a> {
    pub id: &'a str,
    pub slug: &'a str,
    pub day: &'a str,
    pub bot: u8,
    pub dimension: &'a str,
    pub value: &'a str,
}

/// A click as the visitor statement reads it.
#[derive(Serialize)]
struct VisitorRow<'a> {
    id: &'a str,
    slug: &'a str,
    day: &'a str,
    bot: u8,
    visitor: &'a str,
}

/// A person's click as the link-total statement reads it.
#[derive(Serialize)]
struct PersonClick<'a> {
    id: &'a str,
    slug: &'a str,
    day: &'a str,
}

/// A click as the `visits` statement reads it.
#[derive(Serialize)]
struct VisitRow<'a> {
    id: &'a str,
    slug: &'a str,
    at: String,
    country: &'a str,
    referrer: &'a str,
    device: &'a str,
    browser: &'a str,
    os: &'a str,
    bot: u8,
    variant: &'a str,
}

/// Visit rows per statement: a row is ~250 bytes of JSON, well inside D1's statement size.
const VISITS_PER_STATEMENT: usize = 200;

#[derive(Serialize)]
struct MessageRow<'a> {
    id: &'a str,
    day: &'a str,
}

/// The rows a click adds: one to the total, one per dimension, and one to its variant if it
/// went to one.
pub fn rollup_rows<'a>(id: &'a str, click: &'a Click) -> impl Iterator<Item = RollupRow<'a>> {
    let row = move |dimension: &'a str, value: &'a str| RollupRow {
        id,
        slug: &click.slug,
        day: &click.day,
        bot: u8::from(click.bot),
        dimension,
        value,
    };
    std::iter::once(row(TOTAL, ""))
        .chain(DIMENSIONS.iter().map(move |d| row(d, click.dimension(d))))
        .chain((!click.variant.is_empty()).then(|| row(VARIANT, &click.variant)))
}

/// Whose clicks a stats query counts.
#[derive(Debug, Clone, Copy)]
pub enum ClicksOf<'a> {
    /// One link's: its slug's, from the day `range` starts (the caller cuts the range to the
    /// link's life).
    Link(&'a str),
    /// Every link of the owner's, each from its creation day.
    Owner(&'a UserId),
}

impl ClicksOf<'_> {
    /// The four statements: total, unique visitors, groups by dimension, groups by day.
    fn statements(self) -> [&'static str; 4] {
        match self {
            ClicksOf::Link(_) => [
                TOTAL_CLICKS,
                UNIQUE_VISITORS,
                GROUP_BY_DIMENSION,
                GROUP_BY_DAY,
            ],
            ClicksOf::Owner(_) => [
                OWNER_TOTAL_CLICKS,
                OWNER_UNIQUE_VISITORS,
                OWNER_GROUP_BY_DIMENSION,
                OWNER_GROUP_BY_DAY,
            ],
        }
    }

    /// `?1`: the slug or the owner.
    fn subject(self) -> JsValue {
        match self {
            ClicksOf::Link(slug) => JsValue::from_str(slug),
            ClicksOf::Owner(owner) => JsValue::from_str(owner.as_str()),
        }
    }
}

/// A group of the stats answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCount {
    pub key: String,
    pub clicks: u64,
}

/// A row of the top links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopLink {
    pub slug: String,
    pub url: String,
    pub clicks: u64,
}

#[derive(Deserialize)]
struct Count {
    n: u64,
}

#[derive(Deserialize)]
struct SlugClicks {
    slug: String,
    clicks: u64,
}

/// The roll-up in D1.
pub struct Rollup {
    db: D1Database,
}

impl Rollup {
    pub fn new(db: D1Database) -> Self {
        Self { db }
    }

    /// Adds a batch of clicks (with their queue message ids) exactly once, in one D1 batch.
    /// `token` must be new for every call (the batch's identity).
    pub async fn apply(&self, clicks: &[(String, Click)], token: &str) -> Result<(), StoreError> {
        if clicks.is_empty() {
            return Ok(());
        }
        let token = JsValue::from_str(token);
        let messages: Vec<MessageRow> = clicks
            .iter()
            .map(|(id, c)| MessageRow { id, day: &c.day })
            .collect();
        let mut statements = vec![self
            .db
            .prepare(RECORD_MESSAGES)
            .bind(&[json_param(&messages)?, token.clone()])
            .map_err(d1)?];
        let rows: Vec<RollupRow> = clicks
            .iter()
            .flat_map(|(id, c)| rollup_rows(id, c))
            .collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            statements.push(
                self.db
                    .prepare(ADD_CLICKS)
                    .bind(&[json_param(chunk)?, token.clone()])
                    .map_err(d1)?,
            );
        }
        let people: Vec<PersonClick> = clicks
            .iter()
            .filter(|(_, c)| !c.bot)
            .map(|(id, c)| PersonClick {
                id,
                slug: &c.slug,
                day: &c.day,
            })
            .collect();
        for chunk in people.chunks(PEOPLE_PER_STATEMENT) {
            statements.push(
                self.db
                    .prepare(ADD_LINK_CLICKS)
                    .bind(&[json_param(chunk)?, token.clone()])
                    .map_err(d1)?,
            );
        }
        let visitors: Vec<VisitorRow> = clicks
            .iter()
            .filter(|(_, c)| !c.visitor.is_empty())
            .map(|(id, c)| VisitorRow {
                id,
                slug: &c.slug,
                day: &c.day,
                bot: u8::from(c.bot),
                visitor: &c.visitor,
            })
            .collect();
        if !visitors.is_empty() {
            statements.push(
                self.db
                    .prepare(ADD_VISITORS)
                    .bind(&[json_param(&visitors)?, token.clone()])
                    .map_err(d1)?,
            );
        }
        let visits: Vec<VisitRow> = clicks
            .iter()
            .map(|(id, c)| VisitRow {
                id,
                slug: &c.slug,
                // A click queued before clicks carried their time counts from its day's start.
                at: c
                    .at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| format!("{}T00:00:00.000Z", c.day)),
                country: &c.country,
                referrer: &c.referrer,
                device: &c.device,
                browser: &c.browser,
                os: &c.os,
                bot: u8::from(c.bot),
                variant: &c.variant,
            })
            .collect();
        for chunk in visits.chunks(VISITS_PER_STATEMENT) {
            statements.push(
                self.db
                    .prepare(ADD_VISITS)
                    .bind(&[json_param(chunk)?, token.clone()])
                    .map_err(d1)?,
            );
        }
        run_batch(&self.db, statements).await
    }

    /// `(total, unique visitors, groups)` of a link's or an owner's clicks over a range.
    pub async fn stats(
        &self,
        of: ClicksOf<'_>,
        range: &DateRange,
        group: Group,
        include_bots: bool,
    ) -> Result<(u64, u64, Vec<GroupCount>), StoreError> {
        let [total_sql, unique_sql, by_dimension, by_day] = of.statements();
        let base = [
            of.subject(),
            JsValue::from_str(&range.from),
            JsValue::from_str(&range.to),
            JsValue::from_f64(if include_bots { 1.0 } else { 0.0 }),
        ];
        let total = self.count(total_sql, &base).await?;
        let unique = self.count(unique_sql, &base).await?;
        let statement = match group.dimension() {
            None => self.db.prepare(by_day).bind(&base),
            Some(dimension) => {
                let mut params = base.to_vec();
                params.push(JsValue::from_str(dimension));
                self.db.prepare(by_dimension).bind(&params)
            }
        }
        .map_err(d1)?;
        let groups = statement.rows::<GroupCount>().await?;
        Ok((total, unique, groups))
    }

    /// The owner's most clicked links over a range (people only unless `include_bots`).
    pub async fn top(
        &self,
        owner: &UserId,
        range: &DateRange,
        limit: u32,
        include_bots: bool,
    ) -> Result<Vec<TopLink>, StoreError> {
        self.db
            .prepare(TOP_LINKS)
            .bind(&[
                JsValue::from_str(owner.as_str()),
                JsValue::from_str(&range.from),
                JsValue::from_str(&range.to),
                JsValue::from_f64(f64::from(limit)),
                JsValue::from_f64(if include_bots { 1.0 } else { 0.0 }),
            ])
            .map_err(d1)?
            .rows::<TopLink>()
            .await
    }

    /// People's clicks of each `(slug, first day)` since that day, in one query.
    pub async fn clicks_since(
        &self,
        links: &[(&str, String)],
    ) -> Result<std::collections::HashMap<String, u64>, StoreError> {
        if links.is_empty() {
            return Ok(Default::default());
        }
        let pairs: Vec<(&str, &str)> = links.iter().map(|(s, d)| (*s, d.as_str())).collect();
        let json = serde_json::to_string(&pairs).map_err(|e| StoreError::Index(e.to_string()))?;
        let rows = self
            .db
            .prepare(CLICKS_SINCE)
            .bind(&[JsValue::from_str(&json)])
            .map_err(d1)?
            .rows::<SlugClicks>()
            .await?;
        Ok(rows.into_iter().map(|r| (r.slug, r.clicks)).collect())
    }

    /// Removes at most `limit` visits from before `cutoff`: how many it removed.
    pub async fn prune_visits(&self, cutoff: &str, limit: u32) -> Result<u64, StoreError> {
        let params = [
            JsValue::from_str(cutoff),
            JsValue::from_f64(f64::from(limit)),
        ];
        self.deleted(PRUNE_VISITS, &params).await
    }

    /// Forgets message ids of clicks before `day` (a redelivery that late is not expected),
    /// at most `limit` rows; returns how many went.
    pub async fn prune_messages(&self, day: &str, limit: u32) -> Result<u64, StoreError> {
        let params = [JsValue::from_str(day), JsValue::from_f64(f64::from(limit))];
        self.deleted(PRUNE_MESSAGES, &params).await
    }

    /// Runs a bounded delete: how many rows it removed.
    async fn deleted(&self, sql: &str, params: &[JsValue]) -> Result<u64, StoreError> {
        let result = self
            .db
            .prepare(sql)
            .bind(params)
            .map_err(d1)?
            .run()
            .await
            .map_err(d1)?;
        Ok(result
            .meta()
            .map_err(d1)?
            .and_then(|m| m.changes)
            .unwrap_or(0) as u64)
    }

    async fn count(&self, sql: &str, params: &[JsValue]) -> Result<u64, StoreError> {
        let rows = self
            .db
            .prepare(sql)
            .bind(params)
            .map_err(d1)?
            .rows::<Count>()
            .await?;
        Ok(rows.first().map_or(0, |c| c.n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_click_adds_its_total_and_one_row_per_dimension() {
        let c = Click {
            slug: "abc".into(),
            owner: "u".into(),
            day: "2026-11-25".into(),
            country: "DE".into(),
            referrer: "".into(),
            device: "mobile".into(),
            browser: "Safari".into(),
            os: "iOS".into(),
            visitor: "v".into(),
            bot: true,
            at: None,
            variant: String::new(),
        };
        let rows: Vec<RollupRow> = rollup_rows("m1", &c).collect();
        assert_eq!(rows.len(), 6);
        let b = Click {
            variant: "2".into(),
            ..c.clone()
        };
        let with_variant: Vec<RollupRow> = rollup_rows("m2", &b).collect();
        assert_eq!(with_variant.len(), 7);
        assert_eq!(
            (with_variant[6].dimension, with_variant[6].value),
            ("variant", "2")
        );
        assert_eq!((rows[0].dimension, rows[0].value), ("total", ""));
        assert!(rows
            .iter()
            .all(|r| r.bot == 1 && r.id == "m1" && r.slug == "abc"));
        let dims: Vec<(&str, &str)> = rows[1..].iter().map(|r| (r.dimension, r.value)).collect();
        assert_eq!(
            dims,
            vec![
                ("country", "DE"),
                ("referrer", ""),
                ("device", "mobile"),
                ("browser", "Safari"),
                ("os", "iOS")
            ]
        );
    }
}
