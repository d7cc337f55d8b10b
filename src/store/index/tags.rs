//! The `link_tags` table: one row per tag of a link, written in the same batch as the link's
//! row and under the same version guard (see [`super::links`]), read by the tag filter of the
//! link lists and by `GET /api/tags`.
//!
//! The tag rows of a slug are replaced only when the `links` row holds exactly the version
//! being written: a write arriving late (its version older than the row's) changes neither the
//! row nor its tags, and a repair at the row's own version rewrites both. The row also carries
//! the tags as JSON (`links.tags`), which lets the sweep find tag drift with one range query.

use serde::Deserialize;

use super::{Index, Param, Query};
use crate::account::UserId;
use crate::store::StoreError;

/// Removes the tag rows of each upserted `{slug, version, tags}` whose `links` row now holds
/// that version (so also after an upsert that changed nothing, as a same-version repair).
pub(super) const CLEAR_UPSERTED_TAGS: &str = "DELETE FROM link_tags WHERE slug IN \
     (SELECT l.slug FROM json_each(?1) r JOIN links l \
      ON l.slug = json_extract(r.value, '$.slug') AND l.version = json_extract(r.value, '$.version'))";
/// Writes the tag rows of the same rows, under the same condition.
pub(super) const INSERT_UPSERTED_TAGS: &str = "INSERT OR IGNORE INTO link_tags (slug, tag) \
     SELECT l.slug, t.value FROM json_each(?1) r JOIN links l \
      ON l.slug = json_extract(r.value, '$.slug') AND l.version = json_extract(r.value, '$.version') \
     JOIN json_each(r.value, '$.tags') t";
/// After a delete: the tag rows of `?1` when its link row is gone.
pub(super) const DELETE_TAGS_OF_GONE: &str = "DELETE FROM link_tags WHERE slug = ?1 \
     AND NOT EXISTS (SELECT 1 FROM links WHERE links.slug = ?1)";
/// After a version-exact delete of `[slug, version]` pairs: their tag rows, where the row went.
pub(super) const DELETE_TAGS_OF_GONE_PAIRS: &str = "DELETE FROM link_tags \
     WHERE slug IN (SELECT json_extract(value, '$[0]') FROM json_each(?1)) \
     AND NOT EXISTS (SELECT 1 FROM links WHERE links.slug = link_tags.slug)";
/// After a multi-slug delete: the same, for the bound slugs (`…IN (?,?,…)`).
pub(super) const DELETE_TAGS_OF_GONE_HEAD: &str = "DELETE FROM link_tags \
     WHERE NOT EXISTS (SELECT 1 FROM links WHERE links.slug = link_tags.slug) AND slug IN (";
/// 1 when a `links` row's tag rows differ from its `tags` column (count differs, or a row
/// carries a tag the column lacks: both sides hold each tag once, so that is equality).
pub(super) const TAGS_DRIFT: &str = "(CASE WHEN \
     (SELECT COUNT(*) FROM link_tags t WHERE t.slug = links.slug) != json_array_length(links.tags) \
     OR EXISTS (SELECT 1 FROM link_tags t WHERE t.slug = links.slug \
      AND t.tag NOT IN (SELECT value FROM json_each(links.tags))) THEN 1 ELSE 0 END)";
/// Slugs in the range with tag rows but no `links` row, as version-0 rows with drift: the
/// sweep then treats them as orphans (or as stale, when KV has the link).
pub(super) const TAG_ONLY_SLUGS: &str = "SELECT DISTINCT slug, 0 AS version, NULL AS expires_at, \
     1 AS tags_drift FROM link_tags WHERE NOT EXISTS \
     (SELECT 1 FROM links WHERE links.slug = link_tags.slug)";
/// The caller's tags with the number of their links and those links' people's clicks, each
/// counted from its link's creation day as the list counts them.
const OWNER_TAGS: &str =
    "SELECT t.tag AS tag, COUNT(*) AS links, COALESCE(SUM(c.clicks), 0) AS clicks \
     FROM links l JOIN link_tags t ON t.slug = l.slug \
     LEFT JOIN (SELECT d.slug AS slug, SUM(d.clicks) AS clicks FROM clicks_daily d \
      JOIN links o ON o.slug = d.slug \
      WHERE o.user_id = ?1 AND d.dimension = 'total' AND d.bot = 0 \
       AND d.day >= substr(o.created_at, 1, 10) GROUP BY d.slug) c ON c.slug = l.slug \
     WHERE l.user_id = ?1 GROUP BY t.tag ORDER BY t.tag LIMIT ?2";

/// The slugs of the links carrying any of the tags `?2` (a JSON array), the owner's (`?1`) or,
/// for `?1` NULL, everyone's, in slug order, at most `?3`.
const TAGGED_SLUGS: &str = "SELECT DISTINCT l.slug AS slug FROM links l \
     JOIN link_tags t ON t.slug = l.slug \
     WHERE (?1 IS NULL OR l.user_id = ?1) AND t.tag IN (SELECT value FROM json_each(?2)) \
     ORDER BY l.slug LIMIT ?3";

/// Tags one `GET /api/tags` answers at most (the owner's distinct tags; ten per link).
pub const OWNER_TAGS_MAX: u32 = 1000;

/// Whether a link must carry any or all of the filter's tags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TagMode {
    #[default]
    Any,
    All,
}

/// The lists' tag filter: normalised, distinct tags (at most [`crate::link::TAGS_MAX`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagFilter {
    pub tags: Vec<String>,
    pub mode: TagMode,
}

impl TagFilter {
    /// The `AND …` clause restricting `slug_column` to links carrying the tags, binding its
    /// parameters after those already in `params`; `None` when the filter is empty.
    pub fn clause(&self, slug_column: &str, params: &mut Vec<Param>) -> Option<String> {
        if self.tags.is_empty() {
            return None;
        }
        let mut marks = Vec::with_capacity(self.tags.len());
        for tag in &self.tags {
            params.push(Param::Text(tag.clone()));
            marks.push(format!("?{}", params.len()));
        }
        let tags = marks.join(", ");
        Some(match self.mode {
            TagMode::Any => {
                format!("{slug_column} IN (SELECT slug FROM link_tags WHERE tag IN ({tags}))")
            }
            TagMode::All => {
                params.push(Param::Int(self.tags.len() as u64));
                format!(
                    "{slug_column} IN (SELECT slug FROM link_tags WHERE tag IN ({tags}) \
                     GROUP BY slug HAVING COUNT(*) = ?{})",
                    params.len()
                )
            }
        })
    }
}

/// One tag of `GET /api/tags`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct TagCount {
    pub tag: String,
    pub links: u64,
    pub clicks: u64,
}

/// The owner's tags, sorted by tag, at most `limit`.
pub fn owner_tags_query(owner: &UserId, limit: u32) -> Query {
    Query {
        sql: OWNER_TAGS.to_owned(),
        params: vec![
            Param::Text(owner.as_str().to_owned()),
            Param::Int(u64::from(limit)),
        ],
    }
}

/// A slug the index names.
#[derive(Debug, Clone, Deserialize)]
pub struct SlugRow {
    pub slug: String,
}

/// The links carrying any of `tags`: `owner`'s, or everyone's for `None`; at most `limit`.
pub fn tagged_slugs_query(owner: Option<&UserId>, tags: &[String], limit: u32) -> Query {
    // A JSON array of strings cannot fail to serialize.
    let tags = serde_json::to_string(tags).unwrap_or_else(|_| "[]".into());
    Query {
        sql: TAGGED_SLUGS.to_owned(),
        params: vec![
            owner.map_or(Param::Null, |o| Param::Text(o.as_str().to_owned())),
            Param::Text(tags),
            Param::Int(u64::from(limit)),
        ],
    }
}

impl Index {
    /// The slugs of a [`tagged_slugs_query`].
    pub async fn tagged_slugs(&self, query: &Query) -> Result<Vec<SlugRow>, StoreError> {
        self.query_rows(query).await
    }

    /// The owner's tags with their link and click counts (see [`owner_tags_query`]).
    pub async fn owner_tags(&self, query: &Query) -> Result<Vec<TagCount>, StoreError> {
        self.query_rows(query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_filter_binds_after_earlier_parameters() {
        let mut params = vec![Param::Text("u".into())];
        let any = TagFilter {
            tags: vec!["a".into(), "b".into()],
            mode: TagMode::Any,
        };
        assert_eq!(
            any.clause("l.slug", &mut params).unwrap(),
            "l.slug IN (SELECT slug FROM link_tags WHERE tag IN (?2, ?3))"
        );
        let mut params = vec![Param::Text("u".into())];
        let all = TagFilter {
            mode: TagMode::All,
            ..any
        };
        let sql = all.clause("slug", &mut params).unwrap();
        assert!(sql.ends_with("WHERE tag IN (?2, ?3) GROUP BY slug HAVING COUNT(*) = ?4)"));
        assert_eq!(params.last(), Some(&Param::Int(2)));
        assert_eq!(TagFilter::default().clause("slug", &mut params), None);
    }

    #[test]
    fn tagged_slugs_are_the_owners_or_everyones() {
        let q = tagged_slugs_query(Some(&UserId::admin()), &["a".into(), "b\"c".into()], 9);
        assert!(q.sql.contains("(?1 IS NULL OR l.user_id = ?1)"));
        assert_eq!(
            q.params,
            vec![
                Param::Text("admin".into()),
                Param::Text(r#"["a","b\"c"]"#.into()),
                Param::Int(9)
            ]
        );
        assert_eq!(tagged_slugs_query(None, &[], 1).params[0], Param::Null);
    }

    #[test]
    fn owner_tags_are_the_callers_only() {
        let q = owner_tags_query(&UserId::admin(), 7);
        assert!(q
            .sql
            .contains("WHERE l.user_id = ?1 GROUP BY t.tag ORDER BY t.tag LIMIT ?2"));
        assert_eq!(q.params, vec![Param::Text("admin".into()), Param::Int(7)]);
    }
}
