//! Reconcile benchmark (not a test): 100,000 links with 1 % drift, in the local runtime.
//!
//! `make bench-reconcile` (or `cargo bench --bench reconcile`; set `BENCH_LINKS` to change the
//! size). Starts `wrangler dev` through the e2e harness with the shipped budget, seeds KV with
//! bulk puts (value + metadata, as the API writes them) and D1 with the matching rows, injects
//! 1 % drift into D1 (a third missing rows, a third stale rows, a third orphans), then calls
//! `POST /api/admin/reconcile` until the sweep completes, and prints per-invocation time and
//! KV / D1 operations. Finally it checks that D1 equals KV.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::fs;
use std::time::Instant;

use serde_json::{json, Value};

const STALE_URL: &str = "https://stale.example/";

fn main() {
    let total: usize = std::env::var("BENCH_LINKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let drift_each = total / 300; // 1 % in all, a third per kind
    let app = common::app();
    let owner = app.new_user();
    let dir = app.persist_dir().to_path_buf();
    let base_version: u64 = 1_700_000_000_000;
    let slug = |i: usize| format!("bench-{i:07}");
    let stamp = "2026-01-01T00:00:00.000Z";

    let t = Instant::now();
    for chunk in (0..total).collect::<Vec<_>>().chunks(10_000) {
        let entries: Vec<Value> = chunk
            .iter()
            .map(|&i| {
                let version = base_version + i as u64;
                let link = json!({
                    "slug": slug(i), "url": format!("https://example.com/{i}"), "title": null,
                    "owner": owner.id, "is_active": true, "flag_reason": null,
                    "created_at": stamp, "updated_at": stamp, "version": version,
                });
                json!({
                    "key": format!("link:{}", slug(i)),
                    "value": link.to_string(),
                    "metadata": { "version": version, "updated_at": stamp },
                })
            })
            .collect();
        app.kv_bulk_put(&entries);
    }
    let seeded_kv = t.elapsed();

    let t = Instant::now();
    let mut sql = String::new();
    for chunk in (0..total).collect::<Vec<_>>().chunks(500) {
        sql.push_str("INSERT INTO links (slug, url, user_id, title, state, flag_reason, created_at, updated_at, version) VALUES ");
        let rows: Vec<String> = chunk
            .iter()
            .map(|&i| {
                format!(
                    "('{}','https://example.com/{i}','{}',NULL,'active',NULL,'{stamp}','{stamp}',{})",
                    slug(i),
                    owner.id,
                    base_version + i as u64
                )
            })
            .collect();
        sql.push_str(&rows.join(","));
        sql.push_str(";\n");
    }
    // 1 % drift, spread over the key range.
    let step = total / (3 * drift_each).max(1);
    let picks: Vec<usize> = (0..3 * drift_each).map(|k| k * step).collect();
    let (missing, rest) = picks.split_at(drift_each);
    let (stale, _) = rest.split_at(drift_each);
    let list = |ids: &[usize]| {
        ids.iter()
            .map(|&i| format!("'{}'", slug(i)))
            .collect::<Vec<_>>()
            .join(",")
    };
    for ids in missing.chunks(500) {
        let _ = writeln!(sql, "DELETE FROM links WHERE slug IN ({});", list(ids));
    }
    for ids in stale.chunks(500) {
        let _ = writeln!(
            sql,
            "UPDATE links SET version = version - 1, url = '{STALE_URL}' WHERE slug IN ({});",
            list(ids)
        );
    }
    for k in 0..drift_each {
        let _ = writeln!(
            sql,
            "INSERT INTO links (slug, url, user_id, state, created_at, updated_at, version) \
             VALUES ('bench-{:07}-orphan','https://orphan.example/','{}','active','{stamp}','{stamp}',1000);",
            k * step,
            owner.id
        );
    }
    let file = dir.join("d1-seed.sql");
    fs::write(&file, sql).unwrap();
    app.wrangler_cli_with_deadline(
        &[
            "d1",
            "execute",
            "DB",
            "--local",
            "--file",
            &file.to_string_lossy(),
        ],
        std::time::Duration::from_secs(600),
    )
    .expect("d1 seed");
    let seeded_d1 = t.elapsed();

    println!(
        "seeded {total} links in KV ({:.1}s) and D1 ({:.1}s); drift: {drift_each} missing, {drift_each} stale, {drift_each} orphans",
        seeded_kv.as_secs_f64(),
        seeded_d1.as_secs_f64()
    );
    println!(
        "\ninvocation  pages  scanned  missing  stale  orphans  kv_ops  d1_queries  duration_ms"
    );
    let t = Instant::now();
    let mut invocations = 0;
    let (mut found_missing, mut found_stale, mut found_orphans) = (0, 0, 0);
    let (mut max_kv, mut max_d1) = (0, 0);
    loop {
        invocations += 1;
        let resp = app.post("/api/admin/reconcile", Some(app.admin_token()), "");
        assert_eq!(resp.status, 200, "{}", resp.body);
        let s = resp.json();
        let n = |k: &str| s[k].as_u64().unwrap_or(0);
        assert!(s["errors"].as_array().is_some_and(|e| e.is_empty()), "{s}");
        println!(
            "{invocations:>10}  {:>5}  {:>7}  {:>7}  {:>5}  {:>7}  {:>6}  {:>10}  {:>11}",
            n("pages"),
            n("scanned"),
            n("missing"),
            n("stale"),
            n("orphans"),
            n("kv_ops"),
            n("d1_queries"),
            n("duration_ms")
        );
        found_missing += n("missing");
        found_stale += n("stale");
        found_orphans += n("orphans");
        max_kv = max_kv.max(n("kv_ops"));
        max_d1 = max_d1.max(n("d1_queries"));
        if s["sweep_complete"] == json!(true) {
            break;
        }
    }
    let elapsed = t.elapsed();
    println!(
        "\nfull sweep of {total} links: {invocations} invocations, {:.1}s wall ({:.0} ms per invocation); \
         at most {max_kv} KV operations and {max_d1} D1 queries in one invocation (limits: 1000 / 1000)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / invocations as f64
    );
    println!("repaired: {found_missing} missing, {found_stale} stale, {found_orphans} orphans");

    let rows = app.d1_query("SELECT COUNT(*) AS n, SUM(url = 'https://stale.example/') AS stale, SUM(version = 1000) AS orphans FROM links");
    let row = &rows[0];
    assert_eq!(
        row["n"].as_u64(),
        Some(total as u64),
        "D1 row count after the sweep"
    );
    assert_eq!(row["stale"].as_u64(), Some(0), "stale rows left");
    assert_eq!(row["orphans"].as_u64(), Some(0), "orphan rows left");
    assert_eq!(
        (found_missing, found_stale, found_orphans),
        (drift_each as u64, drift_each as u64, drift_each as u64)
    );
    println!("D1 equals KV: {total} rows, no stale, no orphans");
}
