//! The sweep's pure decisions: [`plan`], the merge-join of one KV list page against D1's
//! `(slug, version)` rows for the same slug range, and [`split_expired`], which tells rows of
//! links that expired away from orphans.
//!
//! Never reads a store or the clock: pages, rows and times come in as arguments.

use crate::link::LinkMeta;
use crate::store::index::IndexedVersion;
use crate::time::Timestamp;

/// What one KV page and its D1 range disagree on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// In KV, not in D1.
    pub missing: Vec<String>,
    /// In both; D1's version is older than KV's metadata says, or its tag rows drifted.
    pub stale: Vec<String>,
    /// In KV without metadata (older writers): the value decides.
    pub unknown: Vec<String>,
    /// In D1, not in this KV page: deleted only after KV confirms and the grace window passes.
    pub orphans: Vec<IndexedVersion>,
}

impl Plan {
    /// Slugs whose KV values must be read and upserted.
    pub fn to_read(&self) -> impl Iterator<Item = &String> {
        self.missing.iter().chain(&self.stale).chain(&self.unknown)
    }
}

/// Merge-joins KV keys (with metadata) against D1 rows. Both inputs are in byte order of slug,
/// as KV `list` and D1's `ORDER BY slug` (BINARY collation) return them.
pub fn plan(kv: &[(String, Option<LinkMeta>)], d1: &[IndexedVersion]) -> Plan {
    let mut out = Plan::default();
    let (mut i, mut j) = (0, 0);
    while i < kv.len() || j < d1.len() {
        match (kv.get(i), d1.get(j)) {
            (Some((slug, _)), Some(row)) if slug.as_str() < row.slug.as_str() => {
                out.missing.push(slug.clone());
                i += 1;
            }
            (Some((slug, meta)), Some(row)) if slug.as_str() == row.slug.as_str() => {
                match meta {
                    None => out.unknown.push(slug.clone()),
                    Some(m) if m.version.get() > row.version => out.stale.push(slug.clone()),
                    // Same version, but its tag rows do not match: read and upsert again
                    // (the tags are rewritten under the row's own version).
                    Some(_) if row.tags_drift != 0 => out.stale.push(slug.clone()),
                    Some(_) => {}
                }
                i += 1;
                j += 1;
            }
            (_, Some(row)) => {
                out.orphans.push(row.clone());
                j += 1;
            }
            (Some((slug, _)), None) => {
                out.missing.push(slug.clone());
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// Splits D1 rows missing from KV into those of links past their expiry (KV dropped them on
/// purpose) and the rest.
pub fn split_expired(
    rows: &[IndexedVersion],
    now: Timestamp,
) -> (Vec<IndexedVersion>, Vec<IndexedVersion>) {
    rows.iter().cloned().partition(|r| {
        r.expires_at
            .as_deref()
            .and_then(Timestamp::parse)
            .is_some_and(|at| at <= now)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::Version;

    fn kv(entries: &[(&str, Option<u64>)]) -> Vec<(String, Option<LinkMeta>)> {
        entries
            .iter()
            .map(|(s, v)| {
                (
                    s.to_string(),
                    v.map(|v| LinkMeta {
                        version: Version::new(v),
                        updated_at: Timestamp::from_millis(v),
                    }),
                )
            })
            .collect()
    }

    fn d1(rows: &[(&str, u64)]) -> Vec<IndexedVersion> {
        rows.iter()
            .map(|(s, v)| IndexedVersion {
                slug: s.to_string(),
                version: *v,
                expires_at: None,
                tags_drift: 0,
            })
            .collect()
    }

    #[test]
    fn equal_stores_need_nothing() {
        let p = plan(
            &kv(&[("a", Some(1)), ("b", Some(2))]),
            &d1(&[("a", 1), ("b", 2)]),
        );
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn finds_missing_stale_and_orphans_in_one_pass() {
        let p = plan(
            &kv(&[
                ("b", Some(5)),
                ("c", Some(7)),
                ("e", Some(1)),
                ("g", Some(3)),
            ]),
            &d1(&[("a", 9), ("c", 6), ("d", 2), ("e", 1), ("h", 4)]),
        );
        assert_eq!(p.missing, vec!["b", "g"]);
        assert_eq!(p.stale, vec!["c"]);
        assert_eq!(
            p.orphans
                .iter()
                .map(|r| r.slug.as_str())
                .collect::<Vec<_>>(),
            vec!["a", "d", "h"]
        );
        assert!(p.unknown.is_empty());
    }

    #[test]
    fn a_newer_d1_row_is_not_rolled_back() {
        // KV list metadata can lag a write; the index already has the newer version.
        let p = plan(&kv(&[("a", Some(3))]), &d1(&[("a", 4)]));
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn tag_drift_makes_a_current_row_stale_and_tag_only_slugs_orphans() {
        let mut rows = d1(&[("a", 4), ("b", 4), ("c", 0)]);
        rows[0].tags_drift = 1;
        rows[2].tags_drift = 1;
        // "c" has tag rows but no links row (version 0): KV lacks it, so it is an orphan.
        let p = plan(&kv(&[("a", Some(4)), ("b", Some(4))]), &rows);
        assert_eq!(p.stale, vec!["a"]);
        assert_eq!(p.orphans, vec![rows[2].clone()]);
        // When KV has it, the link row is what is stale.
        let p = plan(&kv(&[("c", Some(2))]), &rows[2..]);
        assert_eq!(p.stale, vec!["c"]);
    }

    #[test]
    fn keys_without_metadata_are_decided_by_their_value() {
        let p = plan(&kv(&[("a", None), ("b", None)]), &d1(&[("a", 1)]));
        assert_eq!(p.unknown, vec!["a"]);
        assert_eq!(p.missing, vec!["b"]);
    }

    #[test]
    fn byte_order_is_case_sensitive_like_kv() {
        // 'Z' (0x5a) sorts before 'a' (0x61): a merge in another order would invent drift.
        let p = plan(
            &kv(&[("Zed", Some(1)), ("abc", Some(1))]),
            &d1(&[("Zed", 1), ("abc", 1)]),
        );
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn empty_sides() {
        assert_eq!(plan(&[], &[]), Plan::default());
        assert_eq!(plan(&kv(&[("a", Some(1))]), &[]).missing, vec!["a"]);
        assert_eq!(plan(&[], &d1(&[("a", 1)])).orphans.len(), 1);
    }

    #[test]
    fn to_read_lists_every_slug_that_needs_its_value() {
        let p = plan(
            &kv(&[("a", Some(2)), ("b", Some(1)), ("c", None)]),
            &d1(&[("a", 1), ("c", 1)]),
        );
        assert_eq!(p.to_read().collect::<Vec<_>>(), vec!["b", "a", "c"]);
    }

    #[test]
    fn rows_past_their_expiry_are_told_from_orphans() {
        let now = Timestamp::from_millis(10_000);
        let row = |slug: &str, expires: Option<u64>| IndexedVersion {
            slug: slug.into(),
            version: 1,
            expires_at: expires.map(|ms| Timestamp::from_millis(ms).to_rfc3339()),
            tags_drift: 0,
        };
        let rows = vec![
            row("a", Some(9_999)),
            row("b", None),
            row("c", Some(10_001)),
            row("d", Some(10_000)),
        ];
        let (expired, others) = split_expired(&rows, now);
        let names = |v: &[IndexedVersion]| v.iter().map(|r| r.slug.clone()).collect::<Vec<_>>();
        assert_eq!(names(&expired), vec!["a", "d"]);
        assert_eq!(names(&others), vec!["b", "c"]);
    }
}
