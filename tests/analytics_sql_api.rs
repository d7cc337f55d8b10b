//! Stats from the Analytics Engine SQL API (issue 7): with `CF_ACCOUNT_ID` and `CF_API_TOKEN`
//! set, `GET /api/links/{slug}/stats` and `GET /api/stats/top` query the SQL API at
//! `ANALYTICS_SQL_URL` instead of the D1 roll-up.
//!
//! The real API is unreachable from the test machine, so this binary runs a **stand-in**: a
//! small HTTP server on `127.0.0.1` (std `TcpListener`, started before the Worker so its port
//! can go into `ANALYTICS_SQL_URL`). It accepts only `POST /client/v4/accounts/acct123/
//! analytics_engine/sql` with `Authorization: Bearer tok-test`, and answers only a query whose
//! SQL text (whitespace aside) is exactly one a test registered, built here from the contract
//! for the request's parameters: slug, dates (the end exclusive, one day after `to`), the
//! group's column, the bot filter, `FORMAT JSON`, nothing else. Answers follow the API's
//! documented JSON format (`meta`, `data`, `rows`, `rows_before_limit_at_least`), with counts
//! as strings in some answers and numbers in others.
//!
//! Proves: the stats API returns the stand-in's figures (total = the groups' sum,
//! `unique_visitors` from the second query, day keys cut to `YYYY-MM-DD` and sorted); top maps
//! slugs to URLs from KV and leaves out slugs no longer there; bad parameters and strangers are
//! refused before any query; a failing SQL API gives a 5xx JSON error, not a crash.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use common::{group_list, random_slug, shift_date, url_encode, utc_date, Resp, TestApp, User};
use serde_json::{json, Value};

const ACCOUNT: &str = "acct123";
const TOKEN: &str = "tok-test";
const SQL_PATH: &str = "/client/v4/accounts/acct123/analytics_engine/sql";
const DATASET: &str = "edgelink_clicks";

// ---- the stand-in ------------------------------------------------------------------------

/// A request the stand-in received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    sql: String,
    status: u16,
}

struct StandIn {
    port: u16,
    /// Normalized SQL → (status, body).
    answers: Mutex<HashMap<String, (u16, String)>>,
    seen: Mutex<Vec<Seen>>,
}

fn normalize(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl StandIn {
    /// Registers the answer to one query.
    fn answer(&self, sql: &str, status: u16, body: String) {
        self.answers
            .lock()
            .unwrap()
            .insert(normalize(sql), (status, body));
    }

    /// Every request whose SQL mentions `needle`.
    fn seen_with(&self, needle: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.sql.contains(needle))
            .cloned()
            .collect()
    }

    /// Asserts that the queries mentioning `needle` were well-formed API calls and exactly
    /// `want` (as a set).
    #[track_caller]
    fn assert_queries(&self, needle: &str, want: &[String]) {
        let seen = self.seen_with(needle);
        for s in &seen {
            assert_eq!(
                (
                    s.method.as_str(),
                    s.path.as_str(),
                    s.authorization.as_deref()
                ),
                ("POST", SQL_PATH, Some(&*format!("Bearer {TOKEN}"))),
                "request to the SQL API: {s:?}"
            );
            assert_ne!(
                s.status, 422,
                "the stand-in was not told of this query: {s:?}"
            );
        }
        let got: BTreeSet<String> = seen.iter().map(|s| normalize(&s.sql)).collect();
        let want: BTreeSet<String> = want.iter().map(|s| normalize(s)).collect();
        assert_eq!(got, want, "queries mentioning {needle}");
    }

    fn handle(&self, stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut reader = BufReader::new(match stream.try_clone() {
            Ok(s) => s,
            Err(_) => return,
        });
        let Some(RawRequest {
            method,
            path,
            headers,
            body,
        }) = read_request(&mut reader)
        else {
            return;
        };
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let authorization = header("authorization");
        let sql = String::from_utf8_lossy(&body).into_owned();
        let refuse = |status: u16, message: &str| {
            (
                status,
                json!({ "errors": [{ "code": 10000, "message": message }], "success": false })
                    .to_string(),
            )
        };
        let (status, reply) = if method != "POST" {
            refuse(405, "stand-in: only POST")
        } else if path != SQL_PATH {
            refuse(404, "stand-in: unknown path")
        } else if authorization.as_deref() != Some(&*format!("Bearer {TOKEN}")) {
            refuse(401, "stand-in: bad token")
        } else {
            match self.answers.lock().unwrap().get(&normalize(&sql)) {
                Some(answer) => answer.clone(),
                None => refuse(422, "stand-in: unexpected query"),
            }
        };
        self.seen.lock().unwrap().push(Seen {
            method,
            path,
            authorization,
            sql,
            status,
        });
        let mut stream = stream;
        let _ = write!(
            stream,
            "HTTP/1.1 {status} Stand-in\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        );
        let _ = stream.flush();
    }
}

/// One HTTP/1.1 request as the stand-in read it.
struct RawRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads one HTTP/1.1 request (the body by length or chunked).
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<RawRequest> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = header("content-length").and_then(|l| l.parse::<usize>().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some(RawRequest {
        method,
        path,
        headers,
        body,
    })
}

fn stand_in() -> &'static StandIn {
    static STAND_IN: OnceLock<&'static StandIn> = OnceLock::new();
    STAND_IN.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the stand-in");
        let stand_in: &'static StandIn = Box::leak(Box::new(StandIn {
            port: listener.local_addr().expect("stand-in address").port(),
            answers: Mutex::default(),
            seen: Mutex::default(),
        }));
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                thread::spawn(move || stand_in.handle(stream));
            }
        });
        stand_in
    })
}

/// The Worker, pointed at the stand-in.
fn app() -> &'static TestApp {
    let url = format!(
        "http://127.0.0.1:{}/client/v4/accounts/{{account_id}}/analytics_engine/sql",
        stand_in().port
    );
    common::app_with_vars(&[
        ("CF_ACCOUNT_ID", ACCOUNT),
        ("CF_API_TOKEN", TOKEN),
        ("ANALYTICS_SQL_URL", &url),
    ])
}

// ---- the contract's SQL and the API's answers ----------------------------------------------

fn time_filter(from: &str, to: &str) -> String {
    format!(
        "timestamp >= toDateTime('{from} 00:00:00') AND timestamp < toDateTime('{} 00:00:00')",
        shift_date(to, 1)
    )
}

fn bot_filter(include_bots: bool) -> &'static str {
    if include_bots {
        ""
    } else {
        " AND blob3 != 'bot'"
    }
}

/// A link of `user`'s: its slug, and its owner as its clicks carry it (`blob7`).
struct Owned<'a> {
    slug: &'a str,
    owner: &'a str,
}

impl<'a> Owned<'a> {
    fn of(slug: &'a str, user: &'a User) -> Self {
        Owned {
            slug,
            owner: &user.id,
        }
    }
}

/// The groups query of one link (its slug's clicks while its owner held it).
fn groups_sql(column: &str, link: Owned, from: &str, to: &str, include_bots: bool) -> String {
    format!(
        "SELECT {column} AS key, SUM(_sample_interval) AS clicks FROM {DATASET} \
         WHERE index1 = '{}' AND blob7 = '{}' AND {}{} GROUP BY key ORDER BY clicks DESC \
         FORMAT JSON",
        link.slug,
        link.owner,
        time_filter(from, to),
        bot_filter(include_bots)
    )
}

/// The unique visitors query of one link.
fn visitors_sql(link: Owned, from: &str, to: &str, include_bots: bool) -> String {
    format!(
        "SELECT COUNT(DISTINCT blob6) AS visitors FROM {DATASET} \
         WHERE index1 = '{}' AND blob7 = '{}' AND {}{} AND blob6 != '' FORMAT JSON",
        link.slug,
        link.owner,
        time_filter(from, to),
        bot_filter(include_bots)
    )
}

/// The top links query of one owner.
fn top_sql(owner: &str, from: &str, to: &str, limit: u32, include_bots: bool) -> String {
    format!(
        "SELECT index1 AS slug, SUM(_sample_interval) AS clicks FROM {DATASET} \
         WHERE blob7 = '{owner}' AND {}{} \
         GROUP BY slug ORDER BY clicks DESC LIMIT {limit} FORMAT JSON",
        time_filter(from, to),
        bot_filter(include_bots)
    )
}

/// An answer in the SQL API's JSON format.
fn answer(meta: &[(&str, &str)], data: Value) -> String {
    let rows = data.as_array().map_or(0, Vec::len);
    json!({
        "meta": meta.iter().map(|(name, ty)| json!({ "name": name, "type": ty })).collect::<Vec<_>>(),
        "data": data,
        "rows": rows,
        "rows_before_limit_at_least": rows,
    })
    .to_string()
}

/// A groups answer: `(key, clicks)` with clicks as strings (64-bit integers) or numbers.
fn groups_answer(key_type: &str, rows: &[(&str, u64)], as_strings: bool) -> String {
    let data: Vec<Value> = rows
        .iter()
        .map(|(k, n)| {
            let clicks = if as_strings {
                json!(n.to_string())
            } else {
                json!(n)
            };
            json!({ "key": k, "clicks": clicks })
        })
        .collect();
    answer(
        &[("key", key_type), ("clicks", "UInt64")],
        Value::from(data),
    )
}

fn visitors_answer(n: u64, as_string: bool) -> String {
    let v = if as_string {
        json!(n.to_string())
    } else {
        json!(n)
    };
    answer(&[("visitors", "UInt64")], json!([{ "visitors": v }]))
}

// ---- helpers ---------------------------------------------------------------------------

fn new_link(user: &User) -> String {
    let slug = random_slug();
    let link = app().create_link_ok(
        user,
        &json!({ "url": format!("https://example.com/{slug}"), "slug": slug }),
    );
    link["slug"].as_str().expect("slug").to_owned()
}

/// A link three years old: every range these tests ask for lies in its life.
fn old_link(user: &User) -> String {
    let slug = new_link(user);
    app().backdate_link(&slug, 3 * 366);
    slug
}

fn stats_resp(token: &str, slug: &str, query: &str) -> Resp {
    app().get(&format!("/api/links/{slug}/stats?{query}"), Some(token))
}

/// The stats API's answer, asserting 200 (else showing what the stand-in was asked).
#[track_caller]
fn stats(token: &str, slug: &str, query: &str) -> Value {
    let resp = stats_resp(token, slug, query);
    if resp.status != 200 {
        panic!(
            "GET {} -> {}: {}\nthe stand-in was asked:\n{:#?}",
            resp.path,
            resp.status,
            resp.body,
            stand_in().seen_with(slug)
        );
    }
    resp.json()
}

fn pairs(v: &[(&str, u64)]) -> Vec<(String, u64)> {
    v.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// Asserts a 5xx JSON error envelope (no panic page, no empty body).
#[track_caller]
fn assert_server_error(resp: &Resp) {
    assert!(
        (500..600).contains(&resp.status),
        "{} {} should be a 5xx, got {}: {}",
        resp.method,
        resp.path,
        resp.status,
        resp.body
    );
    assert!(
        resp.content_type()
            .is_some_and(|ct| ct.starts_with("application/json")),
        "a JSON error: {:?} {}",
        resp.content_type(),
        resp.body
    );
    assert!(
        resp.error_code().is_some(),
        "an error envelope: {}",
        resp.body
    );
}

// ---- tests -------------------------------------------------------------------------------

#[test]
fn link_stats_are_the_sql_apis_figures() {
    let user = app().new_user();
    let slug = old_link(&user);
    let (from, to) = ("2026-02-20", "2026-02-28");
    let groups = groups_sql("blob1", Owned::of(&slug, &user), from, to, false);
    let visitors = visitors_sql(Owned::of(&slug, &user), from, to, false);
    // Counts as strings in one answer, numbers in the other.
    stand_in().answer(
        &groups,
        200,
        groups_answer("String", &[("DE", 7), ("US", 5), ("", 2)], true),
    );
    stand_in().answer(&visitors, 200, visitors_answer(4, false));

    let s = stats(
        &user.api_key,
        &slug,
        &format!("from={from}&to={to}&group=country"),
    );
    assert_eq!(
        (&s["slug"], &s["from"], &s["to"]),
        (&json!(slug), &json!(from), &json!(to)),
        "{s}"
    );
    assert_eq!(s["total"], json!(14), "total = the groups' sum: {s}");
    assert_eq!(s["unique_visitors"], json!(4), "{s}");
    assert_eq!(
        group_list(&s),
        pairs(&[("DE", 7), ("US", 5), ("", 2)]),
        "{s}"
    );
    // The range ends the day after `to` (2026-03-01), people only.
    assert!(groups.contains("toDateTime('2026-03-01 00:00:00')"));
    stand_in().assert_queries(&slug, &[groups.clone(), visitors.clone()]);

    // The admin reads the same figures; the same two queries.
    let s = stats(
        app().admin_token(),
        &slug,
        &format!("from={from}&to={to}&group=country"),
    );
    assert_eq!(s["total"], json!(14), "admin: {s}");
    stand_in().assert_queries(&slug, &[groups, visitors]);
}

#[test]
fn day_groups_are_dates_in_order_over_the_default_window() {
    let user = app().new_user();
    let slug = old_link(&user);
    let (from, to) = (utc_date(-29), utc_date(0));
    let groups = groups_sql(
        "toStartOfDay(timestamp)",
        Owned::of(&slug, &user),
        &from,
        &to,
        true,
    );
    let visitors = visitors_sql(Owned::of(&slug, &user), &from, &to, true);
    let (d2, d5) = (utc_date(-2), utc_date(-5));
    let at_midnight = |d: &str| format!("{d} 00:00:00");
    stand_in().answer(
        &groups,
        200,
        groups_answer(
            "DateTime",
            &[
                (&at_midnight(&d2), 9),
                (&at_midnight(&to), 6),
                (&at_midnight(&d5), 3),
            ],
            false,
        ),
    );
    stand_in().answer(&visitors, 200, visitors_answer(5, true));

    let s = stats(&user.api_key, &slug, "include_bots=true");
    assert_eq!((&s["from"], &s["to"]), (&json!(from), &json!(to)), "{s}");
    assert_eq!(s["total"], json!(18), "{s}");
    assert_eq!(s["unique_visitors"], json!(5), "visitors as a string: {s}");
    assert_eq!(
        group_list(&s),
        pairs(&[(&d5, 3), (&d2, 9), (&to, 6)]),
        "day keys cut to dates, ascending: {s}"
    );
    stand_in().assert_queries(&slug, &[groups, visitors]);
}

/// A link's stats ask the SQL API only for its own life: from its creation day, and only the
/// clicks its owner's link made (a slug deleted and created again by someone else keeps the
/// earlier clicks apart, even on the same day). A range wholly before the link asks nothing.
#[test]
fn a_links_stats_ask_only_for_its_own_life() {
    let user = app().new_user();
    let slug = new_link(&user);
    let today = utc_date(0);
    let link = || Owned::of(&slug, &user);
    let groups = groups_sql("blob1", link(), &today, &today, false);
    let visitors = visitors_sql(link(), &today, &today, false);
    stand_in().answer(&groups, 200, groups_answer("String", &[("DE", 3)], false));
    stand_in().answer(&visitors, 200, visitors_answer(2, false));

    let s = stats(&user.api_key, &slug, "group=country");
    assert_eq!(
        (s["from"].as_str(), s["to"].as_str()),
        (Some(&*utc_date(-29)), Some(&*today)),
        "the range asked for is the range answered: {s}"
    );
    assert_eq!(
        (s["total"].clone(), s["unique_visitors"].clone()),
        (json!(3), json!(2))
    );
    // The admin's view asks for the owner's clicks too.
    let s = stats(app().admin_token(), &slug, "group=country");
    assert_eq!(s["total"], json!(3), "admin: {s}");

    let (d20, d2) = (utc_date(-20), utc_date(-2));
    let s = stats(&user.api_key, &slug, &format!("from={d20}&to={d2}"));
    assert_eq!(
        (
            s["total"].clone(),
            s["unique_visitors"].clone(),
            group_list(&s)
        ),
        (json!(0), json!(0), vec![]),
        "{s}"
    );
    assert_eq!(
        (s["from"].as_str(), s["to"].as_str()),
        (Some(&*d20), Some(&*d2))
    );
    // The owner's and the admin's reads, and none for the range before the link.
    stand_in().assert_queries(&slug, &[groups, visitors]);
}

/// `GET /api/stats` asks for the owner's clicks across their links (`blob7`), nothing else.
#[test]
fn account_stats_ask_for_the_owners_clicks() {
    let user = app().new_user();
    let (from, to) = (utc_date(-6), utc_date(0));
    let filter = |bots: bool| {
        format!(
            "blob7 = '{}' AND {}{}",
            user.id,
            time_filter(&from, &to),
            bot_filter(bots)
        )
    };
    let groups = format!(
        "SELECT blob4 AS key, SUM(_sample_interval) AS clicks FROM {DATASET} WHERE {} \
         GROUP BY key ORDER BY clicks DESC FORMAT JSON",
        filter(false)
    );
    let visitors = format!(
        "SELECT COUNT(DISTINCT blob6) AS visitors FROM {DATASET} WHERE {} AND blob6 != '' \
         FORMAT JSON",
        filter(false)
    );
    stand_in().answer(
        &groups,
        200,
        groups_answer("String", &[("Firefox", 8), ("Safari", 3)], true),
    );
    stand_in().answer(&visitors, 200, visitors_answer(6, false));
    let resp = app().get(
        &format!("/api/stats?from={from}&to={to}&group=browser"),
        Some(&user.api_key),
    );
    resp.assert_status(200);
    let s = resp.json();
    assert_eq!(
        (s["total"].clone(), s["unique_visitors"].clone()),
        (json!(11), json!(6)),
        "{s}"
    );
    assert_eq!(
        group_list(&s),
        pairs(&[("Firefox", 8), ("Safari", 3)]),
        "{s}"
    );
    stand_in().assert_queries(&format!("blob7 = '{}'", user.id), &[groups, visitors]);
}

/// `(key, clicks)` rows of a groups answer.
type GroupRows = &'static [(&'static str, u64)];

#[test]
fn each_group_reads_its_column() {
    let user = app().new_user();
    let slug = old_link(&user);
    // A leap year's February: the end is 2024-03-01.
    let (from, to) = ("2024-02-01", "2024-02-29");
    let cases: [(&str, &str, GroupRows); 4] = [
        ("referrer", "blob2", &[("news.ycombinator.com", 4), ("", 1)]),
        (
            "device",
            "blob3",
            &[("mobile", 8), ("desktop", 3), ("tablet", 1)],
        ),
        ("browser", "blob4", &[("Safari", 6), ("Chrome", 6)]),
        ("os", "blob5", &[("iOS", 2)]),
    ];
    let visitors = visitors_sql(Owned::of(&slug, &user), from, to, false);
    stand_in().answer(&visitors, 200, visitors_answer(2, false));
    let mut want_queries = vec![visitors];
    for (i, (group, column, rows)) in cases.iter().enumerate() {
        let sql = groups_sql(column, Owned::of(&slug, &user), from, to, false);
        assert!(sql.contains("toDateTime('2024-03-01 00:00:00')"));
        stand_in().answer(&sql, 200, groups_answer("String", rows, i % 2 == 0));
        want_queries.push(sql);
        let s = stats(
            &user.api_key,
            &slug,
            &format!("from={from}&to={to}&group={group}&include_bots=false"),
        );
        assert_eq!(group_list(&s), pairs(rows), "group={group}: {s}");
        assert_eq!(
            s["total"],
            json!(rows.iter().map(|(_, n)| n).sum::<u64>()),
            "group={group}: {s}"
        );
        assert_eq!(s["unique_visitors"], json!(2));
    }
    stand_in().assert_queries(&slug, &want_queries);
}

#[test]
fn top_maps_slugs_to_urls_from_kv() {
    let user = app().new_user();
    let (a, b, gone) = (new_link(&user), new_link(&user), new_link(&user));
    app()
        .delete(&format!("/api/links/{gone}"), Some(&user.api_key))
        .assert_status(204);
    let (from, to) = (utc_date(-29), utc_date(0));
    let default_top = top_sql(&user.id, &from, &to, 10, false);
    stand_in().answer(
        &default_top,
        200,
        answer(
            &[("slug", "String"), ("clicks", "UInt64")],
            json!([
                { "slug": b, "clicks": "9" },
                { "slug": gone, "clicks": "4" },
                { "slug": a, "clicks": "2" },
            ]),
        ),
    );
    let resp = app().get("/api/stats/top", Some(&user.api_key));
    resp.assert_status(200);
    let url = |s: &str| format!("https://example.com/{s}");
    assert_eq!(
        resp.json(),
        json!({ "links": [
            { "slug": b, "url": url(&b), "clicks": 9 },
            { "slug": a, "url": url(&a), "clicks": 2 },
        ]}),
        "top in the API's order, a deleted link left out"
    );

    let (from2, to2) = ("2025-12-01", "2025-12-31");
    let limited = top_sql(&user.id, from2, to2, 2, false);
    assert!(limited.contains("toDateTime('2026-01-01 00:00:00')"));
    stand_in().answer(
        &limited,
        200,
        answer(
            &[("slug", "String"), ("clicks", "UInt64")],
            json!([{ "slug": a, "clicks": 11 }, { "slug": b, "clicks": 10 }]),
        ),
    );
    let resp = app().get(
        &format!("/api/stats/top?from={from2}&to={to2}&limit=2"),
        Some(&user.api_key),
    );
    resp.assert_status(200);
    assert_eq!(
        resp.json()["links"],
        json!([
            { "slug": a, "url": url(&a), "clicks": 11 },
            { "slug": b, "url": url(&b), "clicks": 10 },
        ])
    );
    // With bots: the query counts them (the Overview's switch).
    let with_bots = top_sql(&user.id, &from, &to, 10, true);
    stand_in().answer(
        &with_bots,
        200,
        answer(
            &[("slug", "String"), ("clicks", "UInt64")],
            json!([{ "slug": a, "clicks": 30 }, { "slug": b, "clicks": 9 }]),
        ),
    );
    let resp = app().get("/api/stats/top?include_bots=true", Some(&user.api_key));
    resp.assert_status(200);
    assert_eq!(
        resp.json()["links"],
        json!([
            { "slug": a, "url": url(&a), "clicks": 30 },
            { "slug": b, "url": url(&b), "clicks": 9 },
        ])
    );
    app()
        .get("/api/stats/top?limit=0", Some(&user.api_key))
        .assert_error(400, "invalid_limit");
    app()
        .get("/api/stats/top?include_bots=maybe", Some(&user.api_key))
        .assert_error(400, "invalid_query");
    stand_in().assert_queries(&user.id, &[default_top, limited, with_bots]);
}

#[test]
fn bad_parameters_and_strangers_never_reach_the_sql_api() {
    let user = app().new_user();
    let slug = new_link(&user);
    for query in [
        format!("from={}", url_encode("2026-01-01' OR '1'='1")),
        format!("to={}", url_encode("2026-01-01 00:00:00')")),
        "from=2026-02-30".to_owned(),
        "group=blob6".to_owned(),
        format!("group={}", url_encode("blob1 AS key, blob6")),
        "include_bots=maybe".to_owned(),
        "from=2026-03-02&to=2026-03-01".to_owned(),
    ] {
        stats_resp(&user.api_key, &slug, &query).assert_error(400, "invalid_query");
    }
    let stranger = app().new_user();
    stats_resp(&stranger.api_key, &slug, "").assert_error(404, "not_found");
    stand_in().assert_queries(&slug, &[]);
}

#[test]
fn a_failing_sql_api_is_a_5xx_json_error() {
    let user = app().new_user();
    let (from, to) = ("2026-01-10", "2026-01-12");
    let query = format!("from={from}&to={to}&group=device");

    // The groups query fails.
    let slug = old_link(&user);
    stand_in().answer(
        &groups_sql("blob3", Owned::of(&slug, &user), from, to, false),
        500,
        json!({ "errors": [{ "message": "internal error" }] }).to_string(),
    );
    assert_server_error(&stats_resp(&user.api_key, &slug, &query));

    // The visitors query fails after the groups answered.
    let slug = old_link(&user);
    stand_in().answer(
        &groups_sql("blob3", Owned::of(&slug, &user), from, to, false),
        200,
        groups_answer("String", &[("mobile", 1)], true),
    );
    stand_in().answer(
        &visitors_sql(Owned::of(&slug, &user), from, to, false),
        500,
        "upstream exploded".to_owned(),
    );
    assert_server_error(&stats_resp(&user.api_key, &slug, &query));

    // A 200 that is not the API's JSON.
    let slug = old_link(&user);
    stand_in().answer(
        &groups_sql("blob3", Owned::of(&slug, &user), from, to, false),
        200,
        "<html>gateway</html>".to_owned(),
    );
    assert_server_error(&stats_resp(&user.api_key, &slug, &query));

    // Top fails.
    let other = app().new_user();
    stand_in().answer(
        &top_sql(&other.id, from, to, 10, false),
        500,
        json!({ "errors": [{ "message": "internal error" }] }).to_string(),
    );
    assert_server_error(&app().get(
        &format!("/api/stats/top?from={from}&to={to}"),
        Some(&other.api_key),
    ));

    // The Worker is still fine.
    app().get("/healthz", None).assert_status(200);
}
