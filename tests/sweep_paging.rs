//! The nightly KV -> D1 sweep pages through every KV list page within a per-invocation budget
//! (`RECONCILE_MAX_PAGES = 1`), resumes from its checkpoint on the next pass, repairs missing,
//! stale and orphan rows, and is idempotent. Its own binary: it floods and edits shared D1 state.

mod common;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use common::{
    app, app_with_vars, describe_diff, expected_d1_row, poll_for, poll_until, sql_str, User,
    D1_LINK_COLUMNS,
};
use serde_json::{json, Value};

const NIGHTLY: &str = "0 3 * * *";
const FREQUENT: &str = "*/5 * * * *";
const LINKS: usize = 1150;
const THREADS: usize = 8;

fn slug(i: usize) -> String {
    format!("sw-{i:04}")
}

/// The whole `links` table, by slug.
fn d1_table() -> BTreeMap<String, Value> {
    app()
        .d1_query(&format!(
            "SELECT {D1_LINK_COLUMNS} FROM links ORDER BY slug"
        ))
        .into_iter()
        .map(|row| (row["slug"].as_str().expect("slug").to_owned(), row))
        .collect()
}

fn orphan_sql(slug: &str, user: &User) -> String {
    format!(
        "INSERT INTO links (slug, url, user_id, title, state, flag_reason, created_at, updated_at, version) \
         VALUES ({}, 'https://orphan.example/', {}, NULL, 'active', NULL, \
         '2020-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z', 1000)",
        sql_str(slug),
        sql_str(&user.id)
    )
}

fn in_list(slugs: &[String]) -> String {
    slugs
        .iter()
        .map(|s| sql_str(s))
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn nightly_sweep_pages_within_budget_resumes_and_repairs_all_drift() {
    let app = app_with_vars(&[("RECONCILE_MAX_PAGES", "1")]);
    let user = app.new_user();

    // Arrange: 1,150 links (two KV list pages of 1,000), created by 8 clients in parallel.
    let created: Mutex<BTreeMap<String, Value>> = Mutex::new(BTreeMap::new());
    thread::scope(|s| {
        for t in 0..THREADS {
            let (user, created) = (&user, &created);
            s.spawn(move || {
                for i in (t..LINKS).step_by(THREADS) {
                    let body =
                        json!({ "url": format!("https://example.com/sweep/{i}"), "slug": slug(i) });
                    let link = app.create_link_ok(user, &body);
                    created.lock().unwrap().insert(slug(i), link);
                }
            });
        }
    });
    let created = created.into_inner().unwrap();
    assert_eq!(created.len(), LINKS);
    let want: BTreeMap<String, Value> = created
        .iter()
        .map(|(slug, link)| (slug.clone(), expected_d1_row(link)))
        .collect();
    poll_until(
        Duration::from_secs(60),
        "all 1,150 links indexed in D1",
        || {
            let rows = app.d1_query(&format!(
                "SELECT COUNT(*) AS n FROM links WHERE user_id = {}",
                sql_str(&user.id)
            ));
            (rows[0]["n"].as_u64() == Some(LINKS as u64)).then_some(())
        },
    );
    let indexed = d1_table();
    assert_eq!(
        indexed,
        want,
        "D1 before drift: {}",
        describe_diff(&want, &indexed)
    );

    // Make drift. Page 1 holds sw-0000..sw-0999, page 2 sw-1000..sw-1149.
    let missing_p1: Vec<String> = [0, 1, 500].map(slug).to_vec();
    let missing_p2: Vec<String> = (1125..1145).map(slug).collect();
    let stale_p1: Vec<String> = [100, 200, 300, 400, 600].map(slug).to_vec();
    let stale_p2: Vec<String> = [1100, 1110, 1120, 1146, 1149].map(slug).to_vec();
    let (orphan_first, orphan_last) = ("0orphan-a", "zzzz-orphan");
    let missing_all: Vec<String> = missing_p1.iter().chain(&missing_p2).cloned().collect();
    let stale_all: Vec<String> = stale_p1.iter().chain(&stale_p2).cloned().collect();
    app.d1_exec(&format!(
        "DELETE FROM links WHERE slug IN ({})",
        in_list(&missing_all)
    ));
    app.d1_exec(&format!(
        "UPDATE links SET version = 1, url = 'https://stale.example/' WHERE slug IN ({})",
        in_list(&stale_all)
    ));
    app.d1_exec(&orphan_sql(orphan_first, &user));
    app.d1_exec(&orphan_sql(orphan_last, &user));
    let drifted = d1_table();
    assert_eq!(
        drifted.len(),
        LINKS - missing_all.len() + 2,
        "drift applied"
    );
    assert_eq!(drifted[&stale_p2[0]]["version"], json!(1), "drift applied");

    // Act 1: the nightly cron starts a sweep; one page per invocation.
    app.run_cron(NIGHTLY);

    // Page 1 is repaired...
    let page1_ok = |rows: &BTreeMap<String, Value>| {
        missing_p1
            .iter()
            .chain(&stale_p1)
            .all(|s| rows.get(s) == Some(&want[s]))
    };
    let after_first = poll_for(Duration::from_secs(20), || {
        let rows = d1_table();
        page1_ok(&rows).then_some(rows)
    })
    .unwrap_or_else(|| {
        panic!(
            "the nightly pass did not repair page 1 (missing {missing_p1:?}, stale {stale_p1:?}): {}",
            describe_diff(&want, &d1_table())
        )
    });
    assert!(
        !after_first.contains_key(orphan_first),
        "orphan {orphan_first} sorts before page 1's last key; page 1 should delete it"
    );
    // ...but page 2 is not yet: the budget of one page held.
    for s in &missing_p2 {
        assert!(
            !after_first.contains_key(s),
            "{s} (page 2) was repaired by the first pass: RECONCILE_MAX_PAGES=1 not honoured"
        );
    }
    for s in &stale_p2 {
        assert_eq!(
            after_first[s]["version"],
            json!(1),
            "{s} (page 2) was repaired by the first pass: RECONCILE_MAX_PAGES=1 not honoured"
        );
    }
    assert!(
        after_first.contains_key(orphan_last),
        "orphan {orphan_last} (after page 2) was deleted by the first pass"
    );

    // Act 2: the frequent cron resumes the sweep from its checkpoint and finishes it.
    app.run_cron(FREQUENT);

    // Assert: D1 equals KV exactly, orphans gone.
    let repaired = poll_for(Duration::from_secs(20), || {
        let rows = d1_table();
        (rows == want).then_some(rows)
    })
    .unwrap_or_else(|| {
        panic!(
            "after the resumed sweep D1 should equal KV: {}",
            describe_diff(&want, &d1_table())
        )
    });

    // KV itself is what the API returned (the sweep must not touch it).
    for s in [&slug(0), &slug(1130), &slug(1149)] {
        let current = app.get(&format!("/api/links/{s}"), Some(&user.api_key));
        current.assert_status(200);
        assert_eq!(
            common::stored_form(&current.json()),
            common::stored_form(&created[s])
        );
    }

    // Idempotent: a new nightly sweep, and its continuation, change nothing.
    app.run_cron(NIGHTLY);
    let again = d1_table();
    assert!(
        again == repaired,
        "nightly re-run changed D1: {}",
        describe_diff(&repaired, &again)
    );
    app.run_cron(FREQUENT);
    let again = d1_table();
    assert!(
        again == repaired,
        "frequent re-run changed D1: {}",
        describe_diff(&repaired, &again)
    );
}
