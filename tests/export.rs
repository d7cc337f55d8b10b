//! `GET /api/links/export` against the real Worker: 2,500 links (seeded through the bulk
//! endpoint) exported as CSV and as NDJSON, read back with a real CSV parser and checked field
//! by field against the API's own view, click totals of real redirects included; the list's
//! filters; nobody else's links; the admin's `all=1` with owner e-mails; RFC 4180 quoting.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use common::{app, poll_until, random_slug, sql_str, Resp, User, BACKGROUND_DEADLINE};
use serde_json::{json, Value};

/// The outage test breaks D1 for everyone: the tests of this binary take turns.
static SERIAL: Mutex<()> = Mutex::new(());

const COLUMNS: &str = "slug,url,title,tags,state,archived,redirect_type,forward_query,max_clicks,expires_at,valid_since,created_at,updated_at,clicks,targets,variants,preview,password_hash";
const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

fn export(token: &str, query: &str) -> Resp {
    app().get(&format!("/api/links/export?{query}"), Some(token))
}

/// The rows of a CSV export as header → value maps, read with the `csv` crate (RFC 4180).
fn csv_rows(body: &str, want_header: &str) -> Vec<BTreeMap<String, String>> {
    assert!(
        body.starts_with(&format!("{want_header}\r\n")),
        "header: {:?}",
        body.get(..200)
    );
    let mut reader = csv::ReaderBuilder::new().from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.expect("a well-formed CSV record");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// The NDJSON lines as JSON objects, checking the key order of each.
fn ndjson_rows(body: &str, keys: &[&str]) -> Vec<Value> {
    assert!(body.is_empty() || body.ends_with('\n'));
    body.lines()
        .map(|line| {
            let positions: Vec<usize> = keys
                .iter()
                .map(|k| {
                    line.find(&format!("\"{k}\":"))
                        .unwrap_or_else(|| panic!("{k} in {line}"))
                })
                .collect();
            assert!(
                positions.windows(2).all(|w| w[0] < w[1]),
                "key order: {line}"
            );
            serde_json::from_str(line).expect("an NDJSON line")
        })
        .collect()
}

/// A link as the API shows it, in the export's text form (CSV: empty for null).
fn as_csv_fields(link: &Value) -> BTreeMap<String, String> {
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let tags: Vec<&str> = link["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let mut out = BTreeMap::new();
    for key in [
        "slug",
        "url",
        "title",
        "state",
        "archived",
        "redirect_type",
        "forward_query",
        "max_clicks",
        "expires_at",
        "valid_since",
        "created_at",
        "updated_at",
        "clicks",
        // The smart options' JSON; none of these links has one (tests/smart_links.rs exports them).
        "targets",
        "variants",
        "preview",
        // Never in the API's view (the export is the hash's one way out); these links have none.
        "password_hash",
    ] {
        out.insert(key.to_owned(), text(&link[key]));
    }
    out.insert("tags".into(), tags.join(","));
    out
}

/// Every link of `user` as the list shows it (archived and not), newest first, by slug.
fn api_links(user: &User) -> Vec<Value> {
    let mut all = Vec::new();
    for archived in ["false", "true"] {
        let mut cursor: Option<String> = None;
        loop {
            let mut query = format!("limit=100&archived={archived}");
            if let Some(c) = &cursor {
                query.push_str(&format!("&cursor={c}"));
            }
            let page = app().list_links(&user.api_key, &query);
            all.extend(page["links"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
    }
    all.sort_by(|a, b| {
        let key = |l: &Value| {
            (
                l["created_at"].as_str().unwrap().to_owned(),
                l["slug"].as_str().unwrap().to_owned(),
            )
        };
        key(b).cmp(&key(a))
    });
    all
}

fn d1_count(user: &User) -> usize {
    let rows = app().d1_query(&format!(
        "SELECT COUNT(*) AS n FROM links WHERE user_id = {}",
        sql_str(&user.id)
    ));
    rows[0]["n"].as_u64().unwrap_or(0) as usize
}

/// 2,500 links for `user` through the bulk endpoint, 25 requests of 100, fields varied.
fn seed(user: &User, n: usize) -> Vec<String> {
    let mut slugs = Vec::with_capacity(n);
    for batch in 0..n / 100 {
        let items: Vec<Value> = (0..100)
            .map(|i| {
                let k = batch * 100 + i;
                let slug = format!("ex{k:04}-{}", random_slug());
                slugs.push(slug.clone());
                let mut item =
                    json!({ "url": format!("https://example.com/{k}?a=1,b=2"), "slug": slug });
                if k % 3 == 0 {
                    item["title"] = json!(format!("Title {k}, with \"quotes\""));
                }
                if k % 4 == 0 {
                    item["tags"] = json!(["alpha", format!("t{}", k % 7)]);
                }
                if k % 5 == 0 {
                    item["archived"] = json!(true);
                }
                if k % 6 == 0 {
                    item["state"] = json!("disabled");
                }
                if k % 10 == 1 {
                    item["redirect_type"] = json!(308);
                    item["forward_query"] = json!(false);
                    item["max_clicks"] = json!(50 + k);
                    item["ttl"] = json!(86_400 * 30);
                }
                item
            })
            .collect();
        let body = Value::Array(items).to_string();
        send_batch(user, &body, &slugs[batch * 100..]);
        // The batch's background index write lands before the next batch is sent.
        let want = (batch + 1) * 100;
        poll_until(BACKGROUND_DEADLINE, "batch indexed", || {
            (d1_count(user) == want).then_some(())
        });
    }
    slugs
}

/// The local dev proxy's own answer when the connection to the Worker broke mid-request: a
/// known wrangler dev fault (cloudflare/workers-sdk#14641: the proxy's pooled connection to the
/// Worker meets its 5 s keep-alive timeout; POSTs are not retried by the proxy). Never an answer
/// of the Worker's.
const PROXY_RESET: &str = "Your worker restarted mid-request";

/// Sends one batch, asserting every item created. Under sustained bulk load the local runtime
/// now and then resets the connection to the Worker, and wrangler's proxy answers 503 with
/// [`PROXY_RESET`] (the Worker never answered; the workerd process stays up). Then the batch is
/// sent again: an item created before the reset now answers 409, and counts as created once
/// the API shows it as this user's.
fn send_batch(user: &User, body: &str, slugs: &[String]) {
    for _ in 0..5 {
        let resp = app().post("/api/links/bulk", Some(&user.api_key), body);
        if resp.status == 503 && resp.body.contains(PROXY_RESET) {
            continue;
        }
        resp.assert_status(200);
        for (r, slug) in resp.json()["results"].as_array().unwrap().iter().zip(slugs) {
            if r["status"] == json!(409) {
                let got = app().get(&format!("/api/links/{slug}"), Some(&user.api_key));
                assert_eq!(got.status, 200, "{slug} refused as taken but not ours: {r}");
                continue;
            }
            assert_eq!(r["status"], json!(201), "{r}");
        }
        return;
    }
    panic!("the bulk create kept breaking off");
}

fn click(slug: &str, n: usize) {
    for i in 0..n {
        let resp = app().request_with_headers(
            "GET",
            &format!("/{slug}"),
            &[
                ("User-Agent", BROWSER),
                ("CF-Connecting-IP", &format!("198.51.100.{}", i + 1)),
            ],
            None,
        );
        assert!(matches!(resp.status, 302 | 308), "{slug}: {}", resp.status);
    }
}

#[test]
fn an_export_of_2500_links_matches_the_api_in_both_formats() {
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let user = app().new_user();
    let other = app().new_user();
    let theirs: BTreeSet<String> = (0..3).map(|_| app().new_link(&other)).collect();
    let slugs = seed(&user, 2500);

    // Real redirects, counted by the roll-up.
    let clicked = [(&slugs[1], 3), (&slugs[2], 1), (&slugs[2401], 2)];
    for (slug, n) in clicked {
        click(slug, n);
    }
    for (slug, n) in clicked {
        poll_until(BACKGROUND_DEADLINE * 3, "clicks rolled up", || {
            let got = app()
                .get(&format!("/api/links/{slug}"), Some(&user.api_key))
                .json();
            (got["clicks"] == json!(n)).then_some(())
        });
    }
    let api = api_links(&user);
    assert_eq!(api.len(), 2500);

    // CSV.
    let resp = export(&user.api_key, "format=csv");
    resp.assert_status(200);
    assert!(
        resp.content_type().unwrap().starts_with("text/csv"),
        "{:?}",
        resp.headers
    );
    let disposition = resp.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"edgelink-links-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let rows = csv_rows(&resp.body, COLUMNS);
    assert_eq!(rows.len(), 2500);
    for (row, link) in rows.iter().zip(&api) {
        assert_eq!(row, &as_csv_fields(link), "row of {}", link["slug"]);
    }
    let by_slug: BTreeMap<&str, &BTreeMap<String, String>> =
        rows.iter().map(|r| (r["slug"].as_str(), r)).collect();
    assert_eq!(by_slug[slugs[1].as_str()]["clicks"], "3");
    assert_eq!(by_slug[slugs[2401].as_str()]["clicks"], "2");
    assert_eq!(by_slug[slugs[3].as_str()]["clicks"], "0");
    assert_eq!(by_slug[slugs[0].as_str()]["tags"], "alpha,t0");
    assert!(theirs.iter().all(|s| !by_slug.contains_key(s.as_str())));
    // RFC 4180 on the wire: a title with a comma and quotes is quoted, its quotes doubled; a
    // URL with commas quoted; a row ends in CRLF.
    let raw_row = resp
        .body
        .split("\r\n")
        .find(|l| l.starts_with(&format!("{},", slugs[3])))
        .expect("row of slugs[3]");
    assert!(
        raw_row.starts_with(&format!(
            "{},\"https://example.com/3?a=1,b=2\",\"Title 3, with \"\"quotes\"\"\",",
            slugs[3]
        )),
        "{raw_row}"
    );
    // A title cannot hold a line break (the API refuses control characters), so no field of
    // an export needs a quoted one; the unit tests cover the writer's quoting of it.
    app()
        .create_link(
            &user,
            &json!({ "url": "https://example.com/", "title": "a\nb" }),
        )
        .assert_error(400, "invalid_title");

    // NDJSON: the same links, the same order, typed values.
    let resp = export(&user.api_key, "format=ndjson");
    resp.assert_status(200);
    assert_eq!(resp.content_type(), Some("application/x-ndjson"));
    assert!(resp
        .header("content-disposition")
        .unwrap()
        .ends_with(".ndjson\""));
    let keys: Vec<&str> = COLUMNS.split(',').collect();
    let lines = ndjson_rows(&resp.body, &keys);
    assert_eq!(lines.len(), 2500);
    for (line, link) in lines.iter().zip(&api) {
        for key in &keys {
            assert_eq!(line[key], link[key], "{}.{key}", link["slug"]);
        }
        assert_eq!(line.as_object().unwrap().len(), keys.len());
    }

    // Filters, as the list's; without `archived` every link, archived and not.
    let count = |query: &str, keep: &dyn Fn(&Value) -> bool| {
        let resp = export(&user.api_key, &format!("format=ndjson&{query}"));
        resp.assert_status(200);
        let got: Vec<String> = ndjson_rows(&resp.body, &keys)
            .iter()
            .map(|l| l["slug"].as_str().unwrap().to_owned())
            .collect();
        let want: Vec<String> = api
            .iter()
            .filter(|l| keep(l))
            .map(|l| l["slug"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, want, "{query}");
        got.len()
    };
    assert_eq!(
        count("archived=true", &|l| l["archived"] == json!(true)),
        500
    );
    assert_eq!(
        count("archived=false", &|l| l["archived"] == json!(false)),
        2000
    );
    count("state=disabled", &|l| l["state"] == json!("disabled"));
    count("tag=t3", &|l| {
        l["tags"].as_array().unwrap().contains(&json!("t3"))
    });
    count("tag=alpha&tag=t3&tag_mode=all&archived=false", &|l| {
        let tags = l["tags"].as_array().unwrap();
        tags.contains(&json!("alpha"))
            && tags.contains(&json!("t3"))
            && l["archived"] == json!(false)
    });
    // The list's search and order too (the search helper's parse, shared with the list).
    let q = "T3";
    count(&format!("q={q}"), &|l| {
        let hay = format!(
            "{} {} {} {}",
            l["slug"].as_str().unwrap(),
            l["url"].as_str().unwrap(),
            l["title"].as_str().unwrap_or(""),
            l["tags"]
        )
        .to_lowercase();
        hay.contains(&q.to_lowercase())
    });
    let resp = export(&user.api_key, "format=ndjson&sort=slug&order=asc");
    let got: Vec<String> = ndjson_rows(&resp.body, &keys)
        .iter()
        .map(|l| l["slug"].as_str().unwrap().to_owned())
        .collect();
    let mut want: Vec<String> = api
        .iter()
        .map(|l| l["slug"].as_str().unwrap().to_owned())
        .collect();
    want.sort();
    assert_eq!(got, want, "sort=slug&order=asc");
    export(&user.api_key, "sort=name").assert_error(400, "invalid_sort");
    export(&user.api_key, "format=xml").assert_error(400, "invalid_query");
    export(&user.api_key, "state=bogus").assert_error(400, "invalid_state");
    app()
        .get("/api/links/export", None)
        .assert_error(401, "unauthorized");

    // Another user's export holds only their links.
    let resp = export(&other.api_key, "format=csv");
    let rows = csv_rows(&resp.body, COLUMNS);
    let got: BTreeSet<String> = rows.iter().map(|r| r["slug"].clone()).collect();
    assert_eq!(got, theirs);

    // all=1: the admin's, with the owners; refused to a user.
    export(&user.api_key, "all=1").assert_error(403, "forbidden");
    let admin = app().admin_token();
    let resp = export(admin, &format!("all=1&format=csv&owner={}", other.email));
    resp.assert_status(200);
    assert!(resp
        .header("content-disposition")
        .unwrap()
        .contains("edgelink-all-links-"));
    let rows = csv_rows(&resp.body, &format!("{COLUMNS},owner_id,owner_email"));
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(
            (row["owner_id"].as_str(), row["owner_email"].as_str()),
            (other.id.as_str(), other.email.as_str())
        );
    }
    let resp = export(admin, "all=1&format=ndjson");
    resp.assert_status(200);
    let mut admin_keys = keys.clone();
    admin_keys.extend(["owner_id", "owner_email"]);
    let lines = ndjson_rows(&resp.body, &admin_keys);
    let owners: BTreeMap<&str, (&str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["slug"].as_str().unwrap(),
                (
                    l["owner_id"].as_str().unwrap(),
                    l["owner_email"].as_str().unwrap_or(""),
                ),
            )
        })
        .collect();
    assert!(owners.len() >= 2503);
    assert_eq!(
        owners[slugs[7].as_str()],
        (user.id.as_str(), user.email.as_str())
    );
    for slug in &theirs {
        assert_eq!(
            owners[slug.as_str()],
            (other.id.as_str(), other.email.as_str())
        );
    }
}

#[test]
fn an_index_outage_is_a_503_before_any_byte_and_an_empty_export_is_the_header() {
    let user = app().new_user();
    let resp = export(&user.api_key, "format=csv");
    resp.assert_status(200);
    assert_eq!(
        resp.body,
        format!("{COLUMNS}\r\n"),
        "an empty export is the header alone"
    );
    let resp = export(&user.api_key, "format=ndjson");
    resp.assert_status(200);
    assert_eq!(resp.body, "");

    // D1 down for real: the first page is read before the answer, so the caller gets the
    // JSON error, not a 200 with a broken file. The other test waits meanwhile.
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    app().d1_exec("ALTER TABLE links RENAME TO links_away_export");
    let resp = export(&user.api_key, "format=csv");
    app().d1_exec("ALTER TABLE links_away_export RENAME TO links");
    resp.assert_error(503, "index_unavailable");
    assert!(resp.content_type().unwrap().starts_with("application/json"));
}
