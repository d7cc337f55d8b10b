//! Click analytics end to end (issue 7) with the default backend, the D1 roll-up fed by the
//! click queue (no Cloudflare account configured):
//!
//! - 1,000 redirects of four links with a spread of user agents (people and bots), referrers,
//!   `DNT`/`Sec-GPC` and `CF-Connecting-IP` values, sent from several threads and mixed with
//!   HEADs, 404s and 410s, roll up exactly once the queue drains: per link, per bot class and per
//!   dimension value, with every dimension summing to the total; the stats API and the links'
//!   `clicks` leave bots out unless asked; unique visitors are the distinct (IP, user agent)
//!   pairs of people who did not opt out; no roll-up table holds an IP, a user agent or a full
//!   referrer.
//! - A message delivered again after the consumer counted it (through the Worker's own roll-up
//!   path, the admin's replay of kept clicks) adds nothing, to the counts or to unique
//!   visitors; the same path with new ids adds them, once.
//! - Stats over date ranges (rows for past days written straight to D1), parameter validation,
//!   who may read them; the top links; exact `max_clicks` under 50 concurrent redirects, HEADs
//!   that use nothing up, raising and clearing the limit, and its validation.
//!
//! Each test makes its own users and slugs; background work is polled to a deadline.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{app, group_list, poll_for, random_alnum, random_slug, sql_str, utc_date, Resp, User};
use serde_json::{json, Value};

/// The queue consumer batches for up to 5 s, and retries a batch that fails.
const ROLLUP_DEADLINE: Duration = Duration::from_secs(90);
/// The consumer's longest wait for a batch, plus a margin: after this a late duplicate shows.
const BATCH_WINDOW: Duration = Duration::from_secs(7);
const THREADS: usize = 8;
const DIMENSIONS: [&str; 5] = ["country", "referrer", "device", "browser", "os"];

/// A user agent and the classes the contract puts it in.
struct Agent {
    ua: &'static str,
    device: &'static str,
    browser: &'static str,
    os: &'static str,
    bot: bool,
}

const AGENTS: &[Agent] = &[
    Agent {
        ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        device: "desktop",
        browser: "Chrome",
        os: "Windows",
        bot: false,
    },
    Agent {
        ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        device: "mobile",
        browser: "Safari",
        os: "iOS",
        bot: false,
    },
    Agent {
        ua: "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
        device: "tablet",
        browser: "Safari",
        os: "iOS",
        bot: false,
    },
    Agent {
        ua: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        device: "mobile",
        browser: "Chrome",
        os: "Android",
        bot: false,
    },
    Agent {
        ua: "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        device: "tablet",
        browser: "Chrome",
        os: "Android",
        bot: false,
    },
    Agent {
        ua: "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        device: "desktop",
        browser: "Firefox",
        os: "Linux",
        bot: false,
    },
    Agent {
        ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
        device: "desktop",
        browser: "Edge",
        os: "macOS",
        bot: false,
    },
    Agent {
        ua: "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
        device: "mobile",
        browser: "Samsung Internet",
        os: "Android",
        bot: false,
    },
    Agent {
        ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        device: "bot",
        browser: "Bot",
        os: "Other",
        bot: true,
    },
    Agent {
        ua: "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        device: "bot",
        browser: "Bot",
        os: "Android",
        bot: true,
    },
    Agent {
        ua: "curl/8.4.0",
        device: "bot",
        browser: "Bot",
        os: "Other",
        bot: true,
    },
    // No user agent at all: browsers always send one.
    Agent {
        ua: "",
        device: "bot",
        browser: "Bot",
        os: "Other",
        bot: true,
    },
];

/// `Referer` headers and the host the contract keeps of each ("" for none).
const REFERRERS: &[(Option<&str>, &str)] = &[
    (None, ""),
    (None, ""),
    (
        Some("https://www.google.com/search?q=edgelink+short"),
        "www.google.com",
    ),
    (
        Some("https://News.YCombinator.com/item?id=4242"),
        "news.ycombinator.com",
    ),
    (Some("http://t.co/AbCdEf"), "t.co"),
    (
        Some("https://example.org:8443/blog/post?utm_source=mail#top"),
        "example.org",
    ),
    (
        Some("https://user:pw@mail.example.net/inbox"),
        "mail.example.net",
    ),
];

/// Substrings of what was sent that no roll-up row may hold (besides every IP and user agent).
const PRIVATE_FRAGMENTS: &[&str] = &[
    "Mozilla/",
    "AppleWebKit",
    "KHTML",
    "Gecko/",
    "Windows NT",
    "iPhone OS",
    "Android 1",
    "Googlebot",
    "SamsungBrowser",
    "curl/",
    "/search",
    "q=edgelink",
    "item?id",
    "utm_source",
    "user:pw",
    "/inbox",
];

/// A small deterministic generator (splitmix64), so the spread is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A GET of a live link: a click.
    Click,
    /// A HEAD of a live link: a redirect, not a click.
    Head,
    /// A GET of a slug that does not exist: 404.
    Missing,
    /// A GET of a disabled link: 410.
    Disabled,
}

/// One request of a run.
#[derive(Debug, Clone)]
struct Planned {
    kind: Kind,
    slug: String,
    agent: usize,
    referrer: usize,
    ip: String,
    dnt: Option<&'static str>,
    gpc: bool,
}

impl Planned {
    fn agent(&self) -> &'static Agent {
        &AGENTS[self.agent]
    }

    /// Whether the click gets a visitor id: `DNT: 1` or `Sec-GPC: 1` opt out.
    fn tracked(&self) -> bool {
        self.dnt != Some("1") && !self.gpc
    }

    fn send(&self) -> Resp {
        let method = if self.kind == Kind::Head {
            "HEAD"
        } else {
            "GET"
        };
        let mut headers: Vec<(&str, &str)> = vec![
            ("User-Agent", self.agent().ua),
            ("CF-Connecting-IP", &self.ip),
        ];
        if let Some(referer) = REFERRERS[self.referrer].0 {
            headers.push(("Referer", referer));
        }
        if let Some(dnt) = self.dnt {
            headers.push(("DNT", dnt));
        }
        if self.gpc {
            headers.push(("Sec-GPC", "1"));
        }
        app().request_with_headers(method, &format!("/{}", self.slug), &headers, None)
    }

    fn expected_status(&self) -> u16 {
        match self.kind {
            Kind::Click | Kind::Head => 302,
            Kind::Missing => 404,
            Kind::Disabled => 410,
        }
    }
}

/// Sends every planned request from `THREADS` threads; the responses, in plan order.
fn fire(plan: &[Planned]) -> Vec<Resp> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<Resp>>> = Mutex::new(vec![None; plan.len()]);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(planned) = plan.get(i) else {
                    break;
                };
                let resp = planned.send();
                out.lock().unwrap()[i] = Some(resp);
            });
        }
    });
    out.into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every request answered"))
        .collect()
}

// ---- D1 and API helpers ------------------------------------------------------------------

fn in_list(slugs: &[&str]) -> String {
    slugs
        .iter()
        .map(|s| sql_str(s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of one statement against local D1.
fn d1(sql: &str) -> Vec<Value> {
    app().d1_query(sql)
}

/// The rows of several statements.
fn d1_each<const N: usize>(statements: [&str; N]) -> [Vec<Value>; N] {
    statements.map(d1)
}

fn d1_count(sql: &str) -> u64 {
    let rows = d1(sql);
    rows.first()
        .and_then(|r| r["n"].as_u64())
        .unwrap_or_else(|| panic!("{sql}: no count in {rows:?}"))
}

/// Clicks (people and bots) of these slugs in the roll-up's total rows.
fn rollup_total(slugs: &[&str]) -> u64 {
    d1_count(&format!(
        "SELECT COALESCE(SUM(clicks), 0) AS n FROM clicks_daily \
         WHERE slug IN ({}) AND dimension = 'total'",
        in_list(slugs)
    ))
}

/// Polls until the roll-up's total of `slugs` is `want`; fails at once if it goes over.
#[track_caller]
fn wait_for_total(slugs: &[&str], want: u64) -> Instant {
    let mut last = 0;
    let done = poll_for(ROLLUP_DEADLINE, || {
        last = rollup_total(slugs);
        assert!(
            last <= want,
            "roll-up of {slugs:?} over-counted: {last} clicks, {want} sent"
        );
        (last == want).then(Instant::now)
    });
    done.unwrap_or_else(|| {
        panic!(
            "roll-up total of {slugs:?} should reach {want} within {ROLLUP_DEADLINE:?}; \
             last seen {last}\n--- wrangler log tail ---\n{}",
            app().log_tail(20)
        )
    })
}

/// `(slug, bot, dimension, value)` → clicks over all days, as the roll-up holds them.
type RollupKey = (String, u8, String, String);

fn rollup_rows_sql(slugs: &[&str]) -> String {
    format!(
        "SELECT slug, bot, dimension, value, SUM(clicks) AS clicks FROM clicks_daily \
         WHERE slug IN ({}) GROUP BY slug, bot, dimension, value",
        in_list(slugs)
    )
}

fn parse_rollup_rows(rows: Vec<Value>) -> BTreeMap<RollupKey, u64> {
    rows.into_iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().expect("text column").to_owned();
            let bot = r["bot"].as_u64().expect("bot") as u8;
            let clicks = r["clicks"].as_u64().expect("clicks");
            (
                (text("slug"), bot, text("dimension"), text("value")),
                clicks,
            )
        })
        .collect()
}

fn key(slug: &str, bot: bool, dimension: &str, value: &str) -> RollupKey {
    (
        slug.to_owned(),
        u8::from(bot),
        dimension.to_owned(),
        value.to_owned(),
    )
}

fn stats_path(slug: &str, query: &str) -> String {
    format!("/api/links/{slug}/stats?{query}")
}

/// The stats API's answer (asserting 200).
#[track_caller]
fn stats(token: &str, slug: &str, query: &str) -> Value {
    let resp = app().get(&stats_path(slug, query), Some(token));
    resp.assert_status(200);
    resp.json()
}

/// `groups` as key → clicks (failing on a repeated key).
#[track_caller]
fn groups(stats: &Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for g in stats["groups"].as_array().expect("groups array") {
        let key = g["key"].as_str().expect("group key").to_owned();
        let clicks = g["clicks"].as_u64().expect("group clicks");
        assert!(
            out.insert(key.clone(), clicks).is_none(),
            "group {key:?} twice in {stats}"
        );
    }
    out
}

fn link_clicks(user: &User, slug: &str) -> Value {
    let resp = app().get(&format!("/api/links/{slug}"), Some(&user.api_key));
    resp.assert_status(200);
    resp.json()["clicks"].clone()
}

/// Roll-up rows `(day, bot, dimension, value, clicks)` of `slug`, as the consumer writes them.
fn rollup_insert(slug: &str, rows: &[(&String, u8, &str, &str, u64)]) -> String {
    let values: Vec<String> = rows
        .iter()
        .map(|(day, bot, d, v, n)| {
            format!(
                "({}, {}, {bot}, {}, {}, {n})",
                sql_str(slug),
                sql_str(day),
                sql_str(d),
                sql_str(v)
            )
        })
        .collect();
    format!(
        "INSERT INTO clicks_daily (slug, day, bot, dimension, value, clicks) VALUES {}",
        values.join(", ")
    )
}

fn create(user: &User, body: Value) -> String {
    let link = app().create_link_ok(user, &body);
    link["slug"].as_str().expect("slug").to_owned()
}

fn new_link(user: &User) -> String {
    let slug = random_slug();
    create(
        user,
        json!({ "url": format!("https://example.com/{slug}"), "slug": slug }),
    )
}

/// GETs `slug` `n` times as a person (or a bot) from distinct IPs.
fn click(slug: &str, n: usize, ua: &str) {
    for i in 0..n {
        let ip = format!("192.0.2.{}", 1 + i % 250);
        app()
            .request_with_headers(
                "GET",
                &format!("/{slug}"),
                &[("User-Agent", ua), ("CF-Connecting-IP", &ip)],
                None,
            )
            .assert_status(302);
    }
}

// ---- 1,000 redirects ---------------------------------------------------------------------

/// What a run sent, counted per roll-up row, and the visitors it should leave.
#[derive(Default)]
struct Sent {
    /// `(slug, bot, dimension, value)` for `total` and every dimension but country.
    rows: BTreeMap<RollupKey, u64>,
    /// `(slug, bot)` → distinct (IP, user agent) of tracked clicks.
    visitors: BTreeMap<(String, u8), BTreeSet<(String, String)>>,
}

impl Sent {
    fn count(plan: &[Planned]) -> Self {
        let mut sent = Sent::default();
        for p in plan.iter().filter(|p| p.kind == Kind::Click) {
            let a = p.agent();
            let host = REFERRERS[p.referrer].1;
            for (dimension, value) in [
                ("total", ""),
                ("referrer", host),
                ("device", a.device),
                ("browser", a.browser),
                ("os", a.os),
            ] {
                *sent
                    .rows
                    .entry(key(&p.slug, a.bot, dimension, value))
                    .or_default() += 1;
            }
            if p.tracked() {
                sent.visitors
                    .entry((p.slug.clone(), u8::from(a.bot)))
                    .or_default()
                    .insert((p.ip.clone(), a.ua.to_owned()));
            }
        }
        sent
    }

    fn total(&self, slug: &str, bot: bool) -> u64 {
        self.get(slug, bot, "total", "")
    }

    fn get(&self, slug: &str, bot: bool, dimension: &str, value: &str) -> u64 {
        self.rows
            .get(&key(slug, bot, dimension, value))
            .copied()
            .unwrap_or(0)
    }

    /// value → clicks of one dimension of a slug, people only or everyone.
    fn by_value(&self, slug: &str, dimension: &str, with_bots: bool) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for ((s, bot, d, v), n) in &self.rows {
            if s == slug && d == dimension && (with_bots || *bot == 0) {
                *out.entry(v.clone()).or_default() += n;
            }
        }
        out
    }

    fn visitors(&self, slug: &str, bot: bool) -> u64 {
        self.visitors
            .get(&(slug.to_owned(), u8::from(bot)))
            .map_or(0, |v| v.len() as u64)
    }
}

#[test]
fn a_thousand_redirects_roll_up_exactly_and_privately() {
    let user = app().new_user();
    let slugs: Vec<String> = (0..4).map(|_| new_link(&user)).collect();
    let slug_refs: Vec<&str> = slugs.iter().map(String::as_str).collect();
    let disabled = new_link(&user);
    app()
        .patch(
            &format!("/api/links/{disabled}"),
            Some(&user.api_key),
            r#"{"state":"disabled"}"#,
        )
        .assert_status(200);
    let missing = random_slug();

    // The plan: 1,000 clicks over the four links (40/30/20/10 %), mixed with 60 HEADs and
    // 20 GETs each of a missing and a disabled link, shuffled.
    let ips: Vec<String> = (0..20)
        .map(|i| format!("198.51.100.{}", 10 + i))
        .chain((1..=4).map(|i| format!("2001:db8:42::{i}")))
        .collect();
    let mut rng = Rng(0x5EED_0007);
    let mut plan: Vec<Planned> = Vec::new();
    let planned = |kind: Kind, slug: &str, rng: &mut Rng| {
        let dnt = match rng.below(12) {
            0 => Some("1"),
            1 => Some("0"),
            _ => None,
        };
        Planned {
            kind,
            slug: slug.to_owned(),
            agent: rng.below(AGENTS.len()),
            referrer: rng.below(REFERRERS.len()),
            ip: ips[rng.below(ips.len())].clone(),
            dnt,
            gpc: rng.below(10) == 0,
        }
    };
    for _ in 0..1000 {
        let slug = match rng.below(10) {
            0..=3 => &slugs[0],
            4..=6 => &slugs[1],
            7 | 8 => &slugs[2],
            _ => &slugs[3],
        };
        plan.push(planned(Kind::Click, slug, &mut rng));
    }
    for i in 0..60 {
        plan.push(planned(Kind::Head, &slugs[i % 4], &mut rng));
    }
    for _ in 0..20 {
        plan.push(planned(Kind::Missing, &missing, &mut rng));
        plan.push(planned(Kind::Disabled, &disabled, &mut rng));
    }
    for i in (1..plan.len()).rev() {
        let j = rng.below(i + 1);
        plan.swap(i, j);
    }
    let clicks: Vec<&Planned> = plan.iter().filter(|p| p.kind == Kind::Click).collect();
    for (i, agent) in AGENTS.iter().enumerate() {
        assert!(
            clicks.iter().any(|p| p.agent == i),
            "the plan should use {:?}",
            agent.ua
        );
    }
    assert!(clicks.iter().any(|p| p.dnt == Some("1")) && clicks.iter().any(|p| p.gpc));

    let started = Instant::now();
    let responses = fire(&plan);
    eprintln!(
        "sent {} requests ({} clicks) in {:.1}s from {THREADS} threads",
        plan.len(),
        clicks.len(),
        started.elapsed().as_secs_f64()
    );
    let wrong: Vec<String> = plan
        .iter()
        .zip(&responses)
        .filter(|(p, r)| r.status != p.expected_status())
        .map(|(p, r)| {
            format!(
                "{} /{} ({:?}) -> {} (want {}): {}",
                r.method,
                p.slug,
                p.kind,
                r.status,
                p.expected_status(),
                r.body.chars().take(120).collect::<String>()
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} responses were not as expected, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );

    let sent = Sent::count(&plan);
    let people_total: u64 = slugs.iter().map(|s| sent.total(s, false)).sum();
    let bots_total: u64 = slugs.iter().map(|s| sent.total(s, true)).sum();
    assert_eq!(people_total + bots_total, 1000);
    eprintln!("sent {people_total} people's clicks and {bots_total} bots'");

    // The queue drains into the roll-up: exactly what was sent, people and bots.
    let settled = wait_for_total(&slug_refs, 1000);
    eprintln!(
        "the roll-up reached 1,000 clicks {:.1}s after the first request",
        started.elapsed().as_secs_f64()
    );
    // Everything the D1 checks below read.
    let not_clicks = in_list(&[&missing, &disabled]);
    let [rows, visitor_rows, not_click_rows, daily_dump, visitors_dump, messages_dump] = d1_each([
        &rollup_rows_sql(&slug_refs),
        &format!(
            "SELECT slug, bot, COUNT(*) AS n FROM click_visitors WHERE slug IN ({}) \
             GROUP BY slug, bot",
            in_list(&slug_refs)
        ),
        &format!(
            "SELECT (SELECT COUNT(*) FROM clicks_daily WHERE slug IN ({not_clicks})) \
             + (SELECT COUNT(*) FROM click_visitors WHERE slug IN ({not_clicks})) AS n"
        ),
        "SELECT * FROM clicks_daily",
        "SELECT * FROM click_visitors",
        "SELECT * FROM click_messages",
    ]);
    let rows = parse_rollup_rows(rows);

    // Every dimension sums to its total, per link and bot class.
    for slug in &slugs {
        for bot in [false, true] {
            let total = rows.get(&key(slug, bot, "total", "")).copied().unwrap_or(0);
            assert_eq!(total, sent.total(slug, bot), "total of {slug} (bot: {bot})");
            for dimension in DIMENSIONS {
                let sum: u64 = rows
                    .iter()
                    .filter(|((s, b, d, _), _)| s == slug && *b == u8::from(bot) && d == dimension)
                    .map(|(_, n)| n)
                    .sum();
                assert_eq!(
                    sum, total,
                    "{dimension} of {slug} (bot: {bot}) should sum to the total"
                );
            }
        }
    }
    // Every row but country's is exactly what was sent (country comes from the local runtime's
    // `request.cf`: one value for every request, a two-letter code or "").
    let without_country: BTreeMap<RollupKey, u64> = rows
        .iter()
        .filter(|((_, _, d, _), _)| d != "country")
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    if without_country != sent.rows {
        let diff: Vec<String> = sent
            .rows
            .keys()
            .chain(without_country.keys())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter(|k| sent.rows.get(*k) != without_country.get(*k))
            .map(|k| {
                format!(
                    "{k:?}: sent {:?}, rolled up {:?}",
                    sent.rows.get(k),
                    without_country.get(k)
                )
            })
            .collect();
        panic!(
            "roll-up differs from what was sent in {} rows: {:#?}",
            diff.len(),
            &diff[..diff.len().min(10)]
        );
    }
    let countries: BTreeSet<&str> = rows
        .keys()
        .filter(|(_, _, d, _)| d == "country")
        .map(|(_, _, _, v)| v.as_str())
        .collect();
    assert!(
        countries.len() == 1
            && countries.iter().all(
                |c| c.is_empty() || (c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
            ),
        "one country value (two letters or empty) for every local request: {countries:?}"
    );
    // Bot rows are exactly the bots sent.
    let bot_rows: u64 = rows
        .iter()
        .filter(|((_, b, d, _), _)| *b == 1 && d == "total")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(bot_rows, bots_total, "bot rows should hold the bots sent");

    // Distinct visitor-days: one per (IP, user agent) of tracked clicks.
    let visitor_rows: BTreeMap<(String, u8), u64> = visitor_rows
        .into_iter()
        .map(|r| {
            (
                (
                    r["slug"].as_str().expect("slug").to_owned(),
                    r["bot"].as_u64().expect("bot") as u8,
                ),
                r["n"].as_u64().expect("n"),
            )
        })
        .collect();
    let want_visitors: BTreeMap<(String, u8), u64> = sent
        .visitors
        .iter()
        .map(|(k, v)| (k.clone(), v.len() as u64))
        .collect();
    assert_eq!(
        visitor_rows, want_visitors,
        "click_visitors per link and bot"
    );

    // The stats API: bots left out unless asked for, groups as sent.
    let today = utc_date(0);
    let day = format!("from={today}&to={today}");
    for slug in &slugs {
        let people = sent.total(slug, false);
        let bots = sent.total(slug, true);
        for group in ["device", "browser", "os", "referrer"] {
            let s = stats(&user.api_key, slug, &format!("{day}&group={group}"));
            assert_eq!(s["slug"], json!(slug));
            assert_eq!(
                (s["from"].as_str(), s["to"].as_str()),
                (Some(&*today), Some(&*today))
            );
            assert_eq!(
                s["total"],
                json!(people),
                "{slug} total (group {group}): {s}"
            );
            assert_eq!(
                groups(&s),
                sent.by_value(slug, group, false),
                "{slug} group={group}: {s}"
            );
            assert_eq!(
                s["unique_visitors"],
                json!(sent.visitors(slug, false)),
                "{slug} unique visitors: {s}"
            );
        }
        let s = stats(&user.api_key, slug, &format!("{day}&group=country"));
        assert_eq!(
            groups(&s).values().sum::<u64>(),
            people,
            "{slug} countries: {s}"
        );

        let s = stats(
            &user.api_key,
            slug,
            &format!("{day}&group=device&include_bots=true"),
        );
        assert_eq!(s["total"], json!(people + bots), "{slug} with bots: {s}");
        assert_eq!(groups(&s), sent.by_value(slug, "device", true), "{s}");
        assert_eq!(groups(&s).get("bot"), Some(&bots).filter(|b| **b > 0));
        assert_eq!(
            s["unique_visitors"],
            json!(sent.visitors(slug, false) + sent.visitors(slug, true)),
            "{slug} unique visitors with bots: {s}"
        );
        let s = stats(&user.api_key, slug, "include_bots=false");
        assert_eq!(s["total"], json!(people));

        // Defaults: the last 30 days through today, grouped by day.
        let s = stats(&user.api_key, slug, "");
        assert_eq!(
            (s["from"].as_str(), s["to"].as_str()),
            (Some(&*utc_date(-29)), Some(&*today)),
            "default window: {s}"
        );
        assert_eq!(group_list(&s), vec![(today.clone(), people)], "{s}");

        assert_eq!(link_clicks(&user, slug), json!(people), "clicks of {slug}");
    }
    assert_eq!(link_clicks(&user, &disabled), json!(0));

    // The list shows the same `clicks` (its D1 rows are written in the background).
    let want_list: BTreeMap<String, Value> = slugs
        .iter()
        .map(|s| (s.clone(), json!(sent.total(s, false))))
        .chain([(disabled.clone(), json!(0))])
        .collect();
    let mut listed = BTreeMap::new();
    let ok = poll_for(common::BACKGROUND_DEADLINE, || {
        listed = app().list_links(&user.api_key, "limit=100")["links"]
            .as_array()
            .expect("links")
            .iter()
            .map(|l| {
                (
                    l["slug"].as_str().unwrap_or("").to_owned(),
                    l["clicks"].clone(),
                )
            })
            .collect();
        (listed == want_list).then_some(())
    });
    assert!(
        ok.is_some(),
        "GET /api/links clicks: want {want_list:?}, got {listed:?}"
    );

    // HEADs, 404s and 410s added nothing (the exact totals above count only the GETs).
    assert_eq!(
        not_click_rows[0]["n"],
        json!(0),
        "roll-up rows for a 404 or a 410"
    );

    // No row of the roll-up tables holds an IP, a user agent or a full referrer.
    let mut needles: Vec<String> = ips.clone();
    needles.extend(
        AGENTS
            .iter()
            .filter(|a| !a.ua.is_empty())
            .map(|a| a.ua.to_owned()),
    );
    needles.extend(REFERRERS.iter().filter_map(|(r, _)| r.map(str::to_owned)));
    needles.extend(PRIVATE_FRAGMENTS.iter().map(|s| s.to_string()));
    for (table, rows) in [
        ("clicks_daily", daily_dump),
        ("click_visitors", visitors_dump),
        ("click_messages", messages_dump),
    ] {
        assert!(!rows.is_empty(), "{table} should have rows to scan");
        for row in &rows {
            for (column, value) in row.as_object().expect("row object") {
                let Some(text) = value.as_str() else {
                    continue;
                };
                if let Some(needle) = needles.iter().find(|n| text.contains(n.as_str())) {
                    panic!("{table}.{column} holds {needle:?}: {row}");
                }
            }
        }
        if table == "click_visitors" {
            for row in &rows {
                let v = row["visitor"].as_str().unwrap_or("");
                assert!(
                    v.len() == 16 && v.bytes().all(|b| b.is_ascii_hexdigit()),
                    "a visitor id is 16 hex characters: {row}"
                );
            }
        }
    }

    // Nothing arrives late: a redelivered or duplicated batch would show by now.
    if let Some(rest) = BATCH_WINDOW.checked_sub(settled.elapsed()) {
        thread::sleep(rest);
    }
    assert_eq!(rollup_total(&slug_refs), 1000, "the roll-up stays at 1,000");
}

// ---- a redelivered message -------------------------------------------------------------

const DEAD_PREFIX: &str = "clicks:dead:";

/// `(id, batch)` of `click_messages` rows, by id.
fn id_batches(rows: Vec<Value>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_owned(),
                r["batch"].as_str().expect("batch").to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// What a redelivery leaves: the roll-up rows of the link, `(id, batch)` of the watched message
/// ids, and the link's people and unique visitors from the stats API.
type AfterRedelivery = (
    BTreeMap<RollupKey, u64>,
    Vec<(String, String)>,
    (Value, Value),
);

/// Delivers these messages again, each as a click on `slug` by its visitor, through the Worker's
/// own roll-up path: each is kept as a dead letter under its message id (`clicks:dead:<id>`, as
/// the dead-letter consumer keeps a click), and the admin's replay applies them with the
/// statements and batch tokens of the queue consumer (`Rollup::apply`), as a retried batch
/// would be. Then reads what [`AfterRedelivery`] holds.
fn redeliver(
    user: &User,
    messages: &[(String, String, String)],
    slug: &str,
    country: &str,
) -> AfterRedelivery {
    for (id, day, visitor) in messages {
        let click = json!({
            "slug": slug, "owner": user.id, "day": day, "country": country, "referrer": "",
            "device": "desktop", "browser": "Chrome", "os": "Windows", "visitor": visitor,
            "bot": false,
        });
        app().kv_put(&format!("{DEAD_PREFIX}{id}"), &click.to_string());
    }
    let resp = app().post("/api/admin/clicks/replay", Some(app().admin_token()), "");
    resp.assert_status(200);
    assert_eq!(
        resp.json(),
        json!({ "replayed": messages.len(), "unreadable": 0, "remaining": false }),
        "every redelivered message went through the roll-up"
    );
    let ids: Vec<&str> = messages.iter().map(|(id, _, _)| id.as_str()).collect();
    let [rollup, batches] = d1_each([
        &rollup_rows_sql(&[slug]),
        &format!(
            "SELECT id, batch FROM click_messages WHERE id IN ({}) ORDER BY id",
            in_list(&ids)
        ),
    ]);
    let s = stats(&user.api_key, slug, "");
    (
        parse_rollup_rows(rollup),
        id_batches(batches),
        (s["total"].clone(), s["unique_visitors"].clone()),
    )
}

/// A visitor id never seen, in the form the Worker writes (16 hex characters: the privacy check
/// of the other tests scans every `click_visitors` row for that form).
fn new_visitor() -> String {
    random_alnum(8)
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_redelivered_message_is_counted_once() {
    let user = app().new_user();
    let slug = new_link(&user);
    let chrome = AGENTS[0].ua;
    click(&slug, 12, chrome);
    // The queue consumer has applied the real batches: the clicks are in D1.
    wait_for_total(&[&slug], 12);
    // The link's rows, and ids the consumer has counted (the newest: most likely this link's
    // own clicks, but any counted id must add nothing).
    let [rows, newest] = d1_each([
        &rollup_rows_sql(&[&slug]),
        "SELECT id, day, batch FROM click_messages ORDER BY rowid DESC LIMIT 12",
    ]);
    let before = parse_rollup_rows(rows);
    let country = before
        .keys()
        .find(|(_, _, d, _)| d == "country")
        .map(|(_, _, _, v)| v.clone())
        .expect("a country row");
    let s = stats(&user.api_key, &slug, "");
    let people_before = (s["total"].clone(), s["unique_visitors"].clone());
    assert_eq!(people_before.0, json!(12), "{s}");
    let counted: Vec<(String, String, String)> = newest
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_owned(),
                r["day"].as_str().expect("day").to_owned(),
                // A visitor never seen: counted, it would add a unique visitor too.
                new_visitor(),
            )
        })
        .collect();
    assert_eq!(counted.len(), 12, "click_messages holds the counted ids");
    let counted_batches = id_batches(newest);

    // Redelivered, twice: counted ids add nothing and keep their first batch.
    for round in 0..2 {
        let (rollup, batches, people) = redeliver(&user, &counted, &slug, &country);
        assert_eq!(
            rollup, before,
            "a redelivered message changed the counts (round {round})"
        );
        assert_eq!(batches, counted_batches, "counted ids keep their batch");
        assert_eq!(people, people_before, "round {round}");
    }
    // One `visits` row per click (the Shlink API's single visits), none for a redelivery.
    let visits = app().d1_query(&format!(
        "SELECT COUNT(*) AS n FROM visits WHERE slug = '{slug}'"
    ));
    assert_eq!(visits[0]["n"], json!(12), "visits rows: {visits:?}");

    // The control: the same path with new ids does add, once.
    let fresh: Vec<(String, String, String)> = (0..3)
        .map(|i| {
            let id = format!("control-{}-{i}", random_alnum(16));
            (id, utc_date(0), new_visitor())
        })
        .collect();
    let mut after = before.clone();
    for (dimension, value) in [
        ("total", ""),
        ("country", country.as_str()),
        ("referrer", ""),
        ("device", "desktop"),
        ("browser", "Chrome"),
        ("os", "Windows"),
    ] {
        *after
            .entry(key(&slug, false, dimension, value))
            .or_default() += 3;
    }
    let unique_before = people_before.1.as_u64().expect("unique_visitors");
    let people_after = (json!(15), json!(unique_before + 3));
    let mut first_batches = Vec::new();
    for round in 0..2 {
        let (rollup, batches, people) = redeliver(&user, &fresh, &slug, &country);
        assert_eq!(rollup, after, "new ids add 3 clicks, once (round {round})");
        assert_eq!(people, people_after, "round {round}");
        assert_eq!(batches.len(), 3, "the new ids are recorded");
        if round == 0 {
            first_batches = batches;
        } else {
            assert_eq!(batches, first_batches, "a redelivery keeps the first batch");
        }
    }
}

// ---- stats over a date range -------------------------------------------------------------

#[test]
fn stats_cover_date_ranges_and_check_their_parameters() {
    let owner = app().new_user();
    let slug = new_link(&owner);
    // A link of 50 days, so every row below is of its life.
    app().backdate_link(&slug, 50);
    let (d3, d10, d40) = (utc_date(-3), utc_date(-10), utc_date(-40));
    // Roll-up rows of past days, as the consumer would have written them.
    let daily_insert = rollup_insert(
        &slug,
        &[
            (&d3, 0, "total", "", 5),
            (&d3, 0, "device", "mobile", 3),
            (&d3, 0, "device", "desktop", 2),
            (&d3, 1, "total", "", 2),
            (&d3, 1, "device", "bot", 2),
            (&d10, 0, "total", "", 7),
            (&d10, 0, "device", "desktop", 7),
            (&d40, 0, "total", "", 11),
            (&d40, 0, "device", "tablet", 11),
        ],
    );
    let visitors = [
        (&d3, 0, "00000000000000a1"),
        (&d3, 0, "00000000000000a2"),
        (&d3, 1, "00000000000000b1"),
        (&d10, 0, "00000000000000a1"),
        (&d40, 0, "00000000000000a3"),
    ];
    let values: Vec<String> = visitors
        .iter()
        .map(|(day, bot, v)| {
            format!(
                "({}, {}, {bot}, {})",
                sql_str(&slug),
                sql_str(day),
                sql_str(v)
            )
        })
        .collect();
    app().d1_write(&format!(
        "{daily_insert};\nINSERT INTO click_visitors (slug, day, bot, visitor) VALUES {}",
        values.join(", ")
    ));

    let token = owner.api_key.as_str();
    let today = utc_date(0);
    let day_list = |v: &[(&String, u64)]| -> Vec<(String, u64)> {
        v.iter().map(|(d, n)| ((*d).clone(), *n)).collect()
    };

    // The default window, the last 30 days through today: day -40 is out.
    let s = stats(token, &slug, "");
    assert_eq!(
        (s["from"].as_str(), s["to"].as_str()),
        (Some(&*utc_date(-29)), Some(&*today)),
        "{s}"
    );
    assert_eq!(s["total"], json!(12), "{s}");
    assert_eq!(
        s["unique_visitors"],
        json!(3),
        "visitor-days of people: {s}"
    );
    assert_eq!(group_list(&s), day_list(&[(&d10, 7), (&d3, 5)]), "{s}");

    // Wider and narrower windows, both ends inclusive.
    let s = stats(token, &slug, &format!("from={d40}&to={today}&group=day"));
    assert_eq!(s["total"], json!(23), "{s}");
    assert_eq!(s["unique_visitors"], json!(4), "{s}");
    assert_eq!(
        group_list(&s),
        day_list(&[(&d40, 11), (&d10, 7), (&d3, 5)]),
        "days ascending: {s}"
    );
    let s = stats(token, &slug, &format!("from={d10}&to={d3}"));
    assert_eq!(
        (s["total"].clone(), group_list(&s)),
        (json!(12), day_list(&[(&d10, 7), (&d3, 5)])),
        "{s}"
    );
    let s = stats(
        token,
        &slug,
        &format!("from={}&to={}", utc_date(-9), utc_date(-4)),
    );
    assert_eq!(
        (
            s["total"].clone(),
            s["unique_visitors"].clone(),
            group_list(&s)
        ),
        (json!(0), json!(0), vec![]),
        "{s}"
    );
    let s = stats(token, &slug, &format!("from={d3}&to={d3}&group=day"));
    assert_eq!(group_list(&s), day_list(&[(&d3, 5)]), "{s}");

    // Bots only when asked for.
    let s = stats(token, &slug, "include_bots=true");
    assert_eq!(s["total"], json!(14), "{s}");
    assert_eq!(s["unique_visitors"], json!(4), "{s}");
    assert_eq!(group_list(&s), day_list(&[(&d10, 7), (&d3, 7)]), "{s}");
    let s = stats(token, &slug, &format!("from={d40}&to={today}&group=device"));
    assert_eq!(
        groups(&s),
        BTreeMap::from([
            ("tablet".to_owned(), 11),
            ("desktop".to_owned(), 9),
            ("mobile".to_owned(), 3)
        ]),
        "{s}"
    );
    assert_eq!(s["total"], json!(23));
    let s = stats(
        token,
        &slug,
        &format!("from={d40}&to={today}&group=device&include_bots=1"),
    );
    assert_eq!(groups(&s).get("bot"), Some(&2), "{s}");

    // `clicks` is the people's clicks of the link's whole life, as the stats count them.
    assert_eq!(link_clicks(&owner, &slug), json!(23));

    // The longest window is 366 days, both ends included.
    let s = stats(token, &slug, &format!("from={}&to={today}", utc_date(-365)));
    assert_eq!(s["total"], json!(23), "{s}");

    // Bad parameters.
    for query in [
        "from=2026-13-01".to_owned(),
        "from=2026-02-30&to=2026-03-01".to_owned(),
        "from=2026-1-5".to_owned(),
        "to=yesterday".to_owned(),
        format!("from={today}&to={d3}"),
        "group=ip".to_owned(),
        "include_bots=maybe".to_owned(),
        format!("from={}&to={today}", utc_date(-366)),
        "from=2025-01-01&to=2026-12-31".to_owned(),
    ] {
        app()
            .get(&stats_path(&slug, &query), Some(token))
            .assert_error(400, "invalid_query");
    }

    // Only the owner and the admin.
    let stranger = app().new_user();
    app()
        .get(&stats_path(&slug, ""), Some(&stranger.api_key))
        .assert_error(404, "not_found");
    app()
        .get(&stats_path(&random_slug(), ""), Some(token))
        .assert_error(404, "not_found");
    let s = stats(
        app().admin_token(),
        &slug,
        &format!("from={d40}&to={today}"),
    );
    assert_eq!(s["total"], json!(23), "admin: {s}");
    let anonymous = app().get(&stats_path(&slug, ""), None);
    assert!(
        anonymous.status == 401,
        "stats without a key: {} {}",
        anonymous.status,
        anonymous.body
    );
}

/// A slug deleted and created again (here by its owner, who may at once; by anyone after the
/// quarantine) keeps its earlier life's clicks: the stats, like the lists' `clicks`, start on
/// the new link's creation day, whatever range is asked for.
#[test]
fn a_links_stats_start_on_the_day_it_was_created() {
    let owner = app().new_user();
    let slug = new_link(&owner);
    let token = owner.api_key.as_str();
    let (today, d2, d20) = (utc_date(0), utc_date(-2), utc_date(-20));
    // The earlier life's clicks (days -20 and -2) and the new link's (today).
    app().d1_write(&rollup_insert(
        &slug,
        &[
            (&d20, 0, "total", "", 40),
            (&d20, 0, "country", "FR", 40),
            (&d2, 0, "total", "", 9),
            (&d2, 0, "country", "FR", 9),
            (&today, 0, "total", "", 3),
            (&today, 0, "country", "DE", 3),
        ],
    ));
    app().d1_write(&format!(
        "INSERT INTO click_visitors (slug, day, bot, visitor) VALUES ({s}, {}, 0, '00000000000000c1'), \
         ({s}, {}, 0, '00000000000000c2')",
        sql_str(&d2),
        sql_str(&today),
        s = sql_str(&slug)
    ));

    let s = stats(token, &slug, "");
    assert_eq!(
        (s["from"].as_str(), s["to"].as_str()),
        (Some(&*utc_date(-29)), Some(&*today)),
        "the range asked for is the range answered: {s}"
    );
    assert_eq!(
        (s["total"].clone(), s["unique_visitors"].clone()),
        (json!(3), json!(1)),
        "{s}"
    );
    assert_eq!(group_list(&s), vec![(today.clone(), 3)], "{s}");
    let s = stats(
        token,
        &slug,
        &format!("from={d20}&to={today}&group=country"),
    );
    assert_eq!(group_list(&s), vec![("DE".to_owned(), 3)], "{s}");
    assert_eq!(s["total"], json!(3), "{s}");
    assert_eq!(
        link_clicks(&owner, &slug),
        s["total"],
        "the link's clicks and its stats agree"
    );
    // A range wholly before the link: nothing, and still the range asked for.
    let s = stats(
        token,
        &slug,
        &format!("from={d20}&to={d2}&include_bots=true"),
    );
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
    // The admin sees the same.
    let s = stats(
        app().admin_token(),
        &slug,
        &format!("from={d20}&to={today}"),
    );
    assert_eq!(s["total"], json!(3), "admin: {s}");
}

/// `GET /api/stats`: every link of the caller's together, each from its creation day (an
/// earlier life's clicks of a re-created slug are not the new link's), a person who opened two
/// links on a day one visitor-day, another user's links never in it.
#[test]
fn account_stats_sum_the_callers_links_each_from_its_creation_day() {
    let owner = app().new_user();
    let other = app().new_user();
    let (a, b, c) = (new_link(&owner), new_link(&owner), new_link(&other));
    app().backdate_link(&a, 20);
    let (today, d5, d10) = (utc_date(0), utc_date(-5), utc_date(-10));
    app().d1_write(&format!(
        "{};\n{};\n{};\nINSERT INTO click_visitors (slug, day, bot, visitor) VALUES \
         ({a}, {d10}, 0, '00000000000000d1'), ({a}, {t}, 0, '00000000000000d2'), \
         ({b}, {t}, 0, '00000000000000d2'), ({c}, {t}, 0, '00000000000000d3')",
        rollup_insert(
            &a,
            &[
                (&d10, 0, "total", "", 4),
                (&d10, 0, "country", "DE", 4),
                (&today, 0, "total", "", 1),
                (&today, 0, "country", "FR", 1),
                (&today, 1, "total", "", 3),
                (&today, 1, "country", "US", 3),
            ],
        ),
        // Day -5 is before `b` was created: an earlier life of its slug.
        rollup_insert(
            &b,
            &[
                (&d5, 0, "total", "", 7),
                (&d5, 0, "country", "DE", 7),
                (&today, 0, "total", "", 2),
                (&today, 0, "country", "DE", 2),
            ],
        ),
        rollup_insert(
            &c,
            &[
                (&today, 0, "total", "", 100),
                (&today, 0, "country", "DE", 100)
            ],
        ),
        a = sql_str(&a),
        b = sql_str(&b),
        c = sql_str(&c),
        d10 = sql_str(&d10),
        t = sql_str(&today),
    ));
    let account = |token: &str, query: &str| {
        let resp = app().get(&format!("/api/stats?{query}"), Some(token));
        resp.assert_status(200);
        resp.json()
    };
    let key = owner.api_key.as_str();
    let s = account(key, "");
    assert_eq!(
        (s["from"].as_str(), s["to"].as_str(), s.get("slug")),
        (Some(&*utc_date(-29)), Some(&*today), None),
        "{s}"
    );
    assert_eq!(
        (s["total"].clone(), s["unique_visitors"].clone()),
        (json!(7), json!(2)),
        "people's clicks of both links, visitor-days: {s}"
    );
    assert_eq!(
        group_list(&s),
        vec![(d10.clone(), 4), (today.clone(), 3)],
        "{s}"
    );
    let s = account(key, "group=country");
    assert_eq!(
        group_list(&s),
        vec![("DE".to_owned(), 6), ("FR".to_owned(), 1)],
        "{s}"
    );
    let s = account(key, "group=country&include_bots=true");
    assert_eq!(s["total"], json!(10), "{s}");
    assert_eq!(groups(&s).get("US"), Some(&3), "{s}");
    let s = account(key, &format!("from={d10}&to={d10}"));
    assert_eq!(s["total"], json!(4), "{s}");
    // Another user's account holds only their own link.
    assert_eq!(account(&other.api_key, "")["total"], json!(100));
    for bad in ["group=variant", "from=2026-13-01", "include_bots=maybe"] {
        app()
            .get(&format!("/api/stats?{bad}"), Some(key))
            .assert_error(400, "invalid_query");
    }
    app().get("/api/stats", None).assert_status(401);
}

// ---- top links ---------------------------------------------------------------------------

#[test]
fn top_lists_the_callers_most_clicked_links() {
    let user = app().new_user();
    let (a, b, c) = (new_link(&user), new_link(&user), new_link(&user));
    let person = AGENTS[1].ua;
    click(&a, 5, person);
    click(&b, 3, person);
    click(&c, 1, person);
    // Bots would put `c` first if they counted.
    click(&c, 8, "curl/8.4.0");
    wait_for_total(&[&a, &b, &c], 17);

    let url = |s: &str| format!("https://example.com/{s}");
    let want = json!([
        { "slug": a, "url": url(&a), "clicks": 5 },
        { "slug": b, "url": url(&b), "clicks": 3 },
        { "slug": c, "url": url(&c), "clicks": 1 },
    ]);
    let top = |query: &str| {
        let resp = app().get(&format!("/api/stats/top?{query}"), Some(&user.api_key));
        resp.assert_status(200);
        resp.json()
    };
    assert_eq!(top("")["links"], want);
    assert_eq!(
        top(&format!("from={}&to={}", utc_date(-1), utc_date(0)))["links"],
        want
    );
    assert_eq!(
        top("limit=2")["links"],
        json!([want[0].clone(), want[1].clone()])
    );
    assert_eq!(top("limit=100")["links"], want);
    // With bots, as the stats count them when asked: `c` leads.
    assert_eq!(
        top("include_bots=true")["links"],
        json!([
            { "slug": c, "url": url(&c), "clicks": 9 },
            { "slug": a, "url": url(&a), "clicks": 5 },
            { "slug": b, "url": url(&b), "clicks": 3 },
        ])
    );
    assert_eq!(top("include_bots=false")["links"], want);
    assert_eq!(
        top(&format!("from={}&to={}", utc_date(-9), utc_date(-1)))["links"],
        json!([])
    );
    for bad in ["limit=0", "limit=101", "limit=-1", "limit=two"] {
        app()
            .get(&format!("/api/stats/top?{bad}"), Some(&user.api_key))
            .assert_error(400, "invalid_limit");
    }
    for bad in ["from=2026-13-01", "include_bots=yes"] {
        app()
            .get(&format!("/api/stats/top?{bad}"), Some(&user.api_key))
            .assert_error(400, "invalid_query");
    }

    // Someone else's top holds none of these.
    let other = app().new_user();
    let resp = app().get("/api/stats/top", Some(&other.api_key));
    resp.assert_status(200);
    assert_eq!(resp.json()["links"], json!([]));
}

// ---- max_clicks --------------------------------------------------------------------------

/// GETs `slug` from `n` threads at once; the responses.
fn concurrent_gets(slug: &str, n: usize) -> Vec<Resp> {
    let barrier = Barrier::new(n);
    thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    app().get_no_redirect(&format!("/{slug}"))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request thread"))
            .collect()
    })
}

#[track_caller]
fn assert_limit_reached(resp: &Resp) {
    resp.assert_status(410);
    assert!(
        resp.body.contains("Link unavailable") && resp.body.contains("limit reached"),
        "410 page should say the limit is reached: {}",
        resp.body
    );
    assert_eq!(resp.location(), None);
}

fn patch_max_clicks(user: &User, slug: &str, max_clicks: Value) -> Resp {
    app().patch(
        &format!("/api/links/{slug}"),
        Some(&user.api_key),
        &json!({ "max_clicks": max_clicks }).to_string(),
    )
}

#[test]
fn max_clicks_is_exact_under_concurrent_redirects() {
    let user = app().new_user();
    let slug = random_slug();
    let link = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/limited", "slug": slug, "max_clicks": 10 }),
    );
    assert_eq!(link["max_clicks"], json!(10));

    let responses = concurrent_gets(&slug, 50);
    let statuses: BTreeMap<u16, usize> = responses.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r.status).or_default() += 1;
        m
    });
    assert_eq!(
        statuses,
        BTreeMap::from([(302, 10), (410, 40)]),
        "50 concurrent GETs of a max_clicks: 10 link"
    );
    for r in &responses {
        match r.status {
            302 => assert_eq!(r.location(), Some("https://example.com/limited")),
            _ => assert_limit_reached(r),
        }
    }

    // Raising the limit re-opens the link for the difference.
    patch_max_clicks(&user, &slug, json!(12)).assert_status(200);
    for _ in 0..2 {
        app()
            .get_no_redirect(&format!("/{slug}"))
            .assert_status(302);
    }
    assert_limit_reached(&app().get_no_redirect(&format!("/{slug}")));

    // null: unlimited again.
    let resp = patch_max_clicks(&user, &slug, Value::Null);
    resp.assert_status(200);
    assert_eq!(resp.json()["max_clicks"], Value::Null);
    for _ in 0..5 {
        app()
            .get_no_redirect(&format!("/{slug}"))
            .assert_status(302);
    }

    // Only the redirects were clicks: 10 + 2 + 5.
    wait_for_total(&[&slug], 17);
    assert_eq!(link_clicks(&user, &slug), json!(17));
}

#[test]
fn head_uses_no_click_and_bots_use_them_too() {
    let user = app().new_user();
    let slug = random_slug();
    create(
        &user,
        json!({ "url": "https://example.com/two", "slug": slug, "max_clicks": 2 }),
    );
    for _ in 0..5 {
        app().head(&format!("/{slug}")).assert_status(302);
    }
    for _ in 0..2 {
        app()
            .get_no_redirect(&format!("/{slug}"))
            .assert_status(302);
    }
    assert_limit_reached(&app().get_no_redirect(&format!("/{slug}")));
    // Once none is left, a HEAD says so too (it asks without taking).
    app().head(&format!("/{slug}")).assert_status(410);

    // A bot's GET uses one up as well: a user agent can be faked.
    let slug = random_slug();
    create(
        &user,
        json!({ "url": "https://example.com/bots", "slug": slug, "max_clicks": 3 }),
    );
    click(&slug, 3, "curl/8.4.0");
    assert_limit_reached(&app().get_no_redirect(&format!("/{slug}")));
}

#[test]
fn max_clicks_must_be_a_whole_number_from_one_or_null() {
    let user = app().new_user();
    let slug = new_link(&user);
    for bad in [
        json!(0),
        json!(-1),
        json!(1.5),
        json!("10"),
        json!(true),
        json!([3]),
    ] {
        app()
            .create_link(
                &user,
                &json!({ "url": "https://example.com/x", "max_clicks": bad }),
            )
            .assert_error(400, "invalid_max_clicks");
        patch_max_clicks(&user, &slug, bad).assert_error(400, "invalid_max_clicks");
    }
    let resp = app().get(&format!("/api/links/{slug}"), Some(&user.api_key));
    assert_eq!(
        resp.json()["max_clicks"],
        Value::Null,
        "rejected updates change nothing"
    );
    let created = app().create_link_ok(
        &user,
        &json!({ "url": "https://example.com/x", "max_clicks": null }),
    );
    assert_eq!(created["max_clicks"], Value::Null);
}
