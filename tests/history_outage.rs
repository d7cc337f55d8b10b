//! No history version is lost to a D1 outage (issue 6): with the `links` table renamed away
//! under the running Worker, every background batch (index row + history row) fails and leaves
//! a pending marker; after D1 returns, the frequent cron writes the missing history rows, one per
//! version with that version's snapshot, and a second cron pass duplicates nothing. Its own
//! binary: it breaks D1.

mod common;

use std::collections::BTreeMap;

use common::{
    app, expected_d1_row, is_pending_marker_of, poll_for, poll_until, random_slug, sql_str,
    stored_form, version_of, User, BACKGROUND_DEADLINE, D1_LINK_COLUMNS, PENDING_PREFIX,
};
use serde_json::{json, Value};

const FREQUENT: &str = "*/5 * * * *";

/// The `link_history` rows in D1 of each slug, by version (one CLI call for both).
fn d1_histories(slugs: [&str; 2]) -> [Vec<Value>; 2] {
    let rows = app().d1_query(&format!(
        "SELECT slug, version, op, actor, owner, at, link FROM link_history \
         WHERE slug IN ({}, {}) ORDER BY version",
        sql_str(slugs[0]),
        sql_str(slugs[1])
    ));
    slugs.map(|slug| {
        rows.iter()
            .filter(|r| r["slug"] == json!(slug))
            .cloned()
            .collect()
    })
}

/// How many pending markers (`sync:pending:<ms>:link:<slug>:<version>`) each slug has in KV.
fn pending_markers(slugs: [&str; 2]) -> [usize; 2] {
    let names = app().kv_list_names(PENDING_PREFIX);
    slugs.map(|slug| {
        names
            .iter()
            .filter(|name| is_pending_marker_of(name, slug))
            .count()
    })
}

fn versions(rows: &[Value]) -> Vec<u64> {
    rows.iter().map(version_of).collect()
}

/// Asserts the API history of `slug` (newest first) is exactly `answers` (oldest first, the
/// first a create) plus, when `deleted`, a delete row above them holding the last answer.
#[track_caller]
fn assert_history(user: &User, slug: &str, answers: &[Value], deleted: bool) -> Vec<Value> {
    let (rows, _) = app().history_all(&user.api_key, slug, 100);
    let got = versions(&rows);
    let mut want: Vec<u64> = answers.iter().rev().map(version_of).collect();
    let mut expected_snapshots: Vec<&Value> = answers.iter().rev().collect();
    let mut ops: Vec<&str> = vec!["update"; answers.len() - 1];
    ops.push("create");
    if deleted {
        let delete_version = got.first().copied().unwrap_or(0);
        assert!(
            delete_version > want[0],
            "a delete row above version {}: {got:?}",
            want[0]
        );
        want.insert(0, delete_version);
        expected_snapshots.insert(0, answers.last().expect("answers"));
        ops.insert(0, "delete");
    }
    assert_eq!(
        got, want,
        "history of {slug}: exactly the versions the API returned, newest first"
    );
    for ((row, op), snapshot) in rows.iter().zip(&ops).zip(&expected_snapshots) {
        assert_eq!(row["op"], json!(op), "{row}");
        assert_eq!(row["actor"], json!(user.id), "{row}");
        assert_eq!(
            stored_form(&row["link"]),
            stored_form(snapshot),
            "snapshot of version {} ({op}): each version keeps its own snapshot",
            row["version"]
        );
    }
    rows
}

#[test]
fn history_survives_a_d1_outage_without_gaps_or_duplicates() {
    let user = app().new_user();
    let (deleted, kept) = (random_slug(), random_slug());

    // Before the outage: create + 2 updates of each, recorded.
    let mut answers: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for slug in [&deleted, &kept] {
        let mut list = vec![app().create_link_ok(
            &user,
            &json!({ "url": format!("https://example.com/{slug}/0"), "slug": slug }),
        )];
        for i in 1..=2 {
            list.push(app().patch_link_ok(
                &user,
                slug,
                json!({ "url": format!("https://example.com/{slug}/{i}") }),
            ));
        }
        answers.insert(slug.as_str(), list);
    }
    let both = [deleted.as_str(), kept.as_str()];
    poll_until(
        BACKGROUND_DEADLINE,
        "3 history rows each before the outage",
        || (d1_histories(both).map(|h| h.len()) == [3, 3]).then_some(()),
    );
    assert_eq!(pending_markers(both), [0, 0]);

    // The outage: 3 updates of each, and the delete of one.
    app().d1_exec("ALTER TABLE links RENAME TO links_away");
    for slug in [&deleted, &kept] {
        for i in 3..=5 {
            let body = match i {
                3 => json!({ "title": format!("t{i}") }),
                4 => json!({ "ttl": 3600, "redirect_type": 307 }),
                _ => json!({ "url": format!("https://example.com/{slug}/{i}"), "archived": true }),
            };
            let answer = app().patch_link_ok(&user, slug, body);
            answers.get_mut(slug.as_str()).unwrap().push(answer);
        }
    }
    app()
        .delete(&format!("/api/links/{deleted}"), Some(&user.api_key))
        .assert_status(204);
    // Redirects are unaffected (update 4 made it a 307).
    let resp = app().get_no_redirect(&format!("/{kept}"));
    resp.assert_status(307);
    assert_eq!(
        resp.location(),
        Some(format!("https://example.com/{kept}/5").as_str())
    );

    // Every failed write (4 + 3) left its own marker before D1 returns.
    let mut seen = [0, 0];
    let marked = poll_for(BACKGROUND_DEADLINE, || {
        seen = pending_markers(both);
        (seen == [4, 3]).then_some(())
    });
    assert!(
        marked.is_some(),
        "each failed background write should leave a pending marker: want 4 for {deleted} and 3 \
         for {kept}, got {seen:?}"
    );
    app().d1_exec("ALTER TABLE links_away RENAME TO links");
    assert_eq!(
        d1_histories(both).map(|h| h.len()),
        [3, 3],
        "link_history changed before the cron ran"
    );

    // The frequent cron repairs the history in full.
    app().run_cron(FREQUENT);
    let mut last = [vec![], vec![]];
    let repaired = poll_for(BACKGROUND_DEADLINE, || {
        last = d1_histories(both).map(|h| versions(&h));
        (last[0].len() >= 7 && last[1].len() >= 6).then_some(())
    });
    assert!(
        repaired.is_some(),
        "after the cron: 7 history rows for the deleted link and 6 for the kept one; got {last:?}"
    );
    let deleted_rows = assert_history(&user, &deleted, &answers[deleted.as_str()], true);
    let kept_rows = assert_history(&user, &kept, &answers[kept.as_str()], false);

    // D1: one row per version; the index row follows the newest write.
    let d1_before = d1_histories(both);
    assert_eq!(d1_before[0].len(), 7, "{:#?}", d1_before[0]);
    assert_eq!(d1_before[1].len(), 6, "{:#?}", d1_before[1]);
    let mut api_versions: Vec<u64> = versions(&deleted_rows);
    api_versions.reverse();
    assert_eq!(versions(&d1_before[0]), api_versions);
    let mut api_versions: Vec<u64> = versions(&kept_rows);
    api_versions.reverse();
    assert_eq!(versions(&d1_before[1]), api_versions);
    let index = |slug: &str| {
        app()
            .d1_query(&format!(
                "SELECT {D1_LINK_COLUMNS} FROM links WHERE slug = {}",
                sql_str(slug)
            ))
            .into_iter()
            .next()
    };
    let newest_kept = answers[kept.as_str()].last().unwrap();
    let mut last_index = None;
    let indexed = poll_for(BACKGROUND_DEADLINE, || {
        last_index = index(&kept);
        (last_index.as_ref() == Some(&expected_d1_row(newest_kept))).then_some(())
    });
    assert!(
        indexed.is_some(),
        "the index row of {kept} should be its newest write {}; got {last_index:?}",
        expected_d1_row(newest_kept)
    );
    assert_eq!(
        index(&deleted),
        None,
        "the deleted link's index row is gone"
    );

    // A second pass duplicates nothing; no markers remain.
    app().run_cron(FREQUENT);
    let d1_after = d1_histories(both);
    assert_eq!(
        d1_after, d1_before,
        "a second cron pass changed link_history"
    );
    assert_history(&user, &deleted, &answers[deleted.as_str()], true);
    assert_eq!(
        pending_markers(both),
        [0, 0],
        "every marker of the outage was cleared"
    );
}
