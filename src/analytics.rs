//! Click analytics, the pure part: what a click records ([`Click`]), derived in the fetch
//! handler from the request so that nothing identifying leaves it: the user agent becomes
//! [`Agent`] classes, the referrer its host, the IP (with the user agent, a secret salt and the
//! UTC date) a [`visitor_id`] that cannot follow anyone across days.
//!
//! The salt is `ANALYTICS_SALT` when the operator sets one; otherwise each UTC day has its own
//! random salt, made once by the Worker and gone two days later ([`choose_salt`], [`DaySalt`];
//! `track` keeps it), so visitors are counted without any configuration and a day's ids
//! cannot be recomputed once its salt is gone.
//!
//! Also the stats API's parameters ([`DateRange`], [`Group`]) and the Analytics Engine SQL
//! built from them ([`ae_stats_sql`], [`ae_top_sql`]): only typed values reach the SQL text.
//!
//! The Analytics Engine data point's layout is a schema queries depend on; README documents it:
//! index1 = slug; blob1 country, blob2 referrer host, blob3 device, blob4 browser, blob5 OS,
//! blob6 visitor id (empty when not tracked), blob7 owner id; double1 = 1.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::account::UserId;
use crate::link::Slug;
use crate::time::Timestamp;

/// Roll-up dimensions, as `clicks_daily.dimension` stores them.
pub const DIMENSIONS: [&str; 5] = ["country", "referrer", "device", "browser", "os"];
/// The dimension row every click adds once: the total.
pub const TOTAL: &str = "total";
/// Default stats window: the last 30 days through today.
pub const DEFAULT_RANGE_DAYS: u64 = 30;
/// Longest stats window: a roll-up scan stays bounded.
pub const MAX_RANGE_DAYS: u64 = 366;
const DAY_MILLIS: u64 = 86_400_000;

/// What one click records: derived fields only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Click {
    pub slug: String,
    pub owner: String,
    /// UTC date `YYYY-MM-DD`.
    pub day: String,
    pub country: String,
    pub referrer: String,
    pub device: String,
    pub browser: String,
    pub os: String,
    /// Empty when the visitor asked not to be tracked or no salt is configured.
    pub visitor: String,
    pub bot: bool,
}

impl Click {
    /// The Analytics Engine data point's blobs, in the schema's order (see the module doc).
    pub fn blobs(&self) -> [&str; 7] {
        [
            &self.country,
            &self.referrer,
            &self.device,
            &self.browser,
            &self.os,
            &self.visitor,
            &self.owner,
        ]
    }

    /// The value of one roll-up dimension.
    pub fn dimension(&self, name: &str) -> &str {
        match name {
            "country" => &self.country,
            "referrer" => &self.referrer,
            "device" => &self.device,
            "browser" => &self.browser,
            "os" => &self.os,
            _ => "",
        }
    }
}

/// Cloudflare's bot score (1–99) at or below which a request counts as automated.
const BOT_SCORE_MAX: u32 = 29;

/// What a click is derived from: a few request headers and `request.cf` fields, borrowed from
/// the one string the redirect reads them as (see [`RequestFacts::parse`]). Absent is empty.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RequestFacts<'a> {
    pub user_agent: &'a str,
    pub ip: &'a str,
    pub dnt: &'a str,
    pub gpc: &'a str,
    pub referer: &'a str,
    /// `request.cf.country`.
    pub country: &'a str,
    /// `request.cf.botManagement.verifiedBot`.
    pub verified_bot: bool,
    /// `request.cf.botManagement.score`, when the zone has Bot Management.
    pub bot_score: Option<u32>,
}

impl<'a> RequestFacts<'a> {
    /// Separates the fields of the packed form: no header value can hold a line feed.
    pub const SEPARATOR: char = '\n';

    /// The packed form: user agent, IP, DNT, Sec-GPC, Referer, country, verified bot (`1` or
    /// empty) and bot score, in this order, separated by [`Self::SEPARATOR`]. One string is one
    /// boundary crossing where eight header reads would be eight; missing fields are empty.
    pub fn parse(packed: &'a str) -> Self {
        let mut fields = packed.split(Self::SEPARATOR);
        let mut next = || fields.next().unwrap_or("");
        RequestFacts {
            user_agent: next(),
            ip: next(),
            dnt: next(),
            gpc: next(),
            referer: next(),
            country: next(),
            verified_bot: next() == "1",
            bot_score: next().trim().parse().ok(),
        }
    }
}

/// The click a redirect of `slug` (owned by `owner`) records for a request: classes, hashes
/// and hosts only. No visitor id without a salt, or when the visitor opted out.
pub fn click_of(
    facts: &RequestFacts,
    slug: &str,
    owner: &str,
    salt: Option<&str>,
    now: Timestamp,
) -> Click {
    fn present(v: &str) -> Option<&str> {
        Some(v).filter(|v| !v.is_empty())
    }
    let mut agent = classify_user_agent(facts.user_agent);
    let flagged_by_cloudflare =
        facts.verified_bot || facts.bot_score.is_some_and(|score| score <= BOT_SCORE_MAX);
    if flagged_by_cloudflare && !agent.bot {
        agent.bot = true;
        agent.device = "bot";
        agent.browser = "Bot";
    }
    let day = day_of(now);
    let visitor = match (salt, present(facts.ip)) {
        (Some(salt), Some(ip)) if !opted_out(present(facts.dnt), present(facts.gpc)) => {
            visitor_id(ip, facts.user_agent, salt, &day)
        }
        _ => String::new(),
    };
    let country = facts.country;
    Click {
        slug: slug.to_owned(),
        owner: owner.to_owned(),
        day,
        country: if country.len() == 2 && country != "XX" && country != "T1" {
            country.to_owned()
        } else {
            String::new()
        },
        referrer: referrer_host(present(facts.referer)),
        device: agent.device.to_owned(),
        browser: agent.browser.to_owned(),
        os: agent.os.to_owned(),
        visitor,
        bot: agent.bot,
    }
}

/// The classes a user agent falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agent {
    pub device: &'static str,
    pub browser: &'static str,
    pub os: &'static str,
    pub bot: bool,
}

/// Substrings (lower case) of user agents that are not people: crawlers, link previews,
/// monitors and HTTP libraries.
const BOT_MARKERS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "embedly",
    "preview",
    "monitor",
    "headless",
    "lighthouse",
    "curl/",
    "wget/",
    "python-",
    "go-http-client",
    "java/",
    "okhttp",
    "axios/",
    "node-fetch",
    "libwww",
    "httpclient",
    "scrapy",
    "phantomjs",
];

/// Classifies a user agent. An empty one is a bot (browsers always send one).
/// Limits: iPadOS sends a desktop Safari user agent by default and counts as desktop macOS.
pub fn classify_user_agent(ua: &str) -> Agent {
    let ua = ua.to_ascii_lowercase();
    let has = |s: &str| ua.contains(s);
    let bot = ua.trim().is_empty() || BOT_MARKERS.iter().any(|m| has(m));
    let os = if has("windows") {
        "Windows"
    } else if has("iphone") || has("ipad") || has("ipod") {
        "iOS"
    } else if has("android") {
        "Android"
    } else if has("cros") {
        "ChromeOS"
    } else if has("mac os x") || has("macintosh") {
        "macOS"
    } else if has("linux") {
        "Linux"
    } else {
        "Other"
    };
    let browser = if bot {
        "Bot"
    } else if has("edg/") || has("edga/") || has("edgios/") {
        "Edge"
    } else if has("opr/") || has("opera") {
        "Opera"
    } else if has("samsungbrowser") {
        "Samsung Internet"
    } else if has("firefox/") || has("fxios/") {
        "Firefox"
    } else if has("chrome/") || has("crios/") || has("chromium/") {
        "Chrome"
    } else if has("safari/") {
        "Safari"
    } else if has("msie ") || has("trident/") {
        "Internet Explorer"
    } else {
        "Other"
    };
    let device = if bot {
        "bot"
    } else if has("ipad") || has("tablet") || (has("android") && !has("mobile")) {
        "tablet"
    } else if has("mobi") || has("iphone") || has("ipod") {
        "mobile"
    } else {
        "desktop"
    };
    Agent {
        device,
        browser,
        os,
        bot,
    }
}

/// The host of a `Referer` header, lower case; empty for none (a direct visit) or garbage.
pub fn referrer_host(referer: Option<&str>) -> String {
    let Some(r) = referer else {
        return String::new();
    };
    let Some((_, rest)) = r.split_once("://") else {
        return String::new();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        // IPv6 literal: keep the brackets, drop the port.
        Some(v6) => v6
            .split(']')
            .next()
            .map(|h| format!("[{h}]"))
            .unwrap_or_default(),
        None => host.split(':').next().unwrap_or("").to_owned(),
    };
    if host.len() > 253 || !host.bytes().all(|b| b.is_ascii_graphic()) {
        return String::new();
    }
    host.to_ascii_lowercase()
}

/// A visitor's id for one day: a hash of IP, user agent, the secret salt and the UTC date,
/// so the same person is one visitor within a day and unlinkable across days. 64 bits, hex.
pub fn visitor_id(ip: &str, user_agent: &str, salt: &str, day: &str) -> String {
    let mut h = Sha256::new();
    for part in [ip, user_agent, salt, day] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How long a day's own salt is kept after the day began: through that day and the next (a
/// click recorded just before midnight still finds it), then KV and its Durable Object drop it.
pub const DAY_SALT_KEEP_DAYS: u64 = 2;

/// A UTC day's own visitor-id salt (used when `ANALYTICS_SALT` is not set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySalt {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub salt: String,
}

/// Which salt a click made on `today` is hashed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaltChoice<'a> {
    Use(&'a str),
    /// Not known yet here: today's salt must be fetched (or made) first.
    FetchDaySalt,
}

/// The configured secret when there is one (it overrides everything); else the kept day salt,
/// but only if it is today's: a salt never salts another day than its own.
pub fn choose_salt<'a>(
    configured: Option<&'a str>,
    kept: Option<&'a DaySalt>,
    today: &str,
) -> SaltChoice<'a> {
    match (configured.filter(|s| !s.is_empty()), kept) {
        (Some(secret), _) => SaltChoice::Use(secret),
        (None, Some(k)) if k.day == today && !k.salt.is_empty() => SaltChoice::Use(&k.salt),
        (None, _) => SaltChoice::FetchDaySalt,
    }
}

/// When a day's own salt must be gone: [`DAY_SALT_KEEP_DAYS`] after the day's midnight (UTC),
/// in seconds since the epoch; `None` for a string that is not a day.
pub fn day_salt_expires_at(day: &str) -> Option<u64> {
    parse_day(day).map(|ms| ms / 1000 + DAY_SALT_KEEP_DAYS * 86_400)
}

/// Whether `raw` is a strict `YYYY-MM-DD` date.
pub fn is_day(raw: &str) -> bool {
    parse_day(raw).is_some()
}

/// Unique visitors as the stats answer them: `None` (unknown, JSON `null`) when clicks were
/// counted but not one carried a visitor id (no salt then, or every visitor opted out), so an
/// unknown count never reads as "nobody came". No clicks: 0 visitors, known.
pub fn unique_visitors(clicks: u64, visitors: u64) -> Option<u64> {
    (clicks == 0 || visitors > 0).then_some(visitors)
}

/// Whether the visitor asked not to be tracked (`DNT: 1` or `Sec-GPC: 1`): the click counts,
/// without a visitor id.
pub fn opted_out(dnt: Option<&str>, gpc: Option<&str>) -> bool {
    dnt.map(str::trim) == Some("1") || gpc.map(str::trim) == Some("1")
}

/// A UTC date as `YYYY-MM-DD`.
pub fn day_of(t: Timestamp) -> String {
    t.to_rfc3339()[..10].to_owned()
}

/// A stats window: UTC dates, both inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateRange {
    pub from: String,
    pub to: String,
}

impl DateRange {
    /// Parses `from` and `to` (`YYYY-MM-DD`); defaults: the last 30 days through today.
    pub fn parse(from: Option<&str>, to: Option<&str>, now: Timestamp) -> Result<Self, String> {
        let date = |raw: &str| -> Result<u64, String> {
            parse_day(raw).ok_or_else(|| format!("'{raw}' is not a date like 2026-11-25"))
        };
        let to_ms = match to {
            Some(raw) => date(raw)?,
            None => now.as_millis() / DAY_MILLIS * DAY_MILLIS,
        };
        let from_ms = match from {
            Some(raw) => date(raw)?,
            None => to_ms.saturating_sub((DEFAULT_RANGE_DAYS - 1) * DAY_MILLIS),
        };
        if from_ms > to_ms {
            return Err("from must not be after to".into());
        }
        if (to_ms - from_ms) / DAY_MILLIS >= MAX_RANGE_DAYS {
            return Err(format!("a range spans at most {MAX_RANGE_DAYS} days"));
        }
        Ok(Self {
            from: day_of(Timestamp::from_millis(from_ms)),
            to: day_of(Timestamp::from_millis(to_ms)),
        })
    }

    /// The first instant after the range (for `timestamp < …`).
    fn end_exclusive(&self) -> String {
        let to = parse_day(&self.to).unwrap_or(0) + DAY_MILLIS;
        day_of(Timestamp::from_millis(to))
    }
}

/// Midnight UTC of a strict `YYYY-MM-DD`, in ms.
fn parse_day(raw: &str) -> Option<u64> {
    let b = raw.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits(0..4)
        || !digits(5..7)
        || !digits(8..10)
    {
        return None;
    }
    let t = Timestamp::parse(&format!("{raw}T00:00:00Z"))?;
    // chrono accepts 2026-02-30? No: it rejects impossible dates; the round trip proves it.
    (day_of(t) == raw).then_some(t.as_millis())
}

/// How the stats groups clicks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Day,
    Country,
    Referrer,
    Device,
    Browser,
    Os,
}

impl Group {
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        Ok(match raw.unwrap_or("day") {
            "day" => Group::Day,
            "country" => Group::Country,
            "referrer" => Group::Referrer,
            "device" => Group::Device,
            "browser" => Group::Browser,
            "os" => Group::Os,
            other => {
                return Err(format!(
                    "group must be day, country, referrer, device, browser or os, not '{other}'"
                ))
            }
        })
    }

    /// The roll-up dimension (`None` for day, which groups the totals).
    pub fn dimension(self) -> Option<&'static str> {
        match self {
            Group::Day => None,
            Group::Country => Some("country"),
            Group::Referrer => Some("referrer"),
            Group::Device => Some("device"),
            Group::Browser => Some("browser"),
            Group::Os => Some("os"),
        }
    }

    /// The Analytics Engine column holding the dimension.
    fn ae_column(self) -> &'static str {
        match self {
            // "2026-11-25 00:00:00"; the caller keeps the date.
            Group::Day => "toStartOfDay(timestamp)",
            Group::Country => "blob1",
            Group::Referrer => "blob2",
            Group::Device => "blob3",
            Group::Browser => "blob4",
            Group::Os => "blob5",
        }
    }
}

/// Analytics Engine SQL for one link's clicks per group (`key`, `clicks`); the total is
/// their sum, since every click has exactly one key. Values in the text are a parsed [`Slug`]
/// and dates from [`DateRange`], which hold only `[A-Za-z0-9_-]` and digits, so no request
/// input reaches the SQL unchecked.
pub fn ae_groups_sql(
    dataset: &AeDataset,
    slug: &Slug,
    range: &DateRange,
    group: Group,
    include_bots: bool,
) -> String {
    format!(
        "SELECT {col} AS key, SUM(_sample_interval) AS clicks FROM {ds} WHERE {filter} \
         GROUP BY key ORDER BY clicks DESC FORMAT JSON",
        col = group.ae_column(),
        ds = dataset.as_str(),
        filter = ae_filter(slug, range, include_bots),
    )
}

/// Analytics Engine SQL for one link's unique visitors (`visitors`). Visitor ids change daily,
/// so this counts visitor-days, as the D1 roll-up does.
pub fn ae_visitors_sql(
    dataset: &AeDataset,
    slug: &Slug,
    range: &DateRange,
    include_bots: bool,
) -> String {
    format!(
        "SELECT COUNT(DISTINCT blob6) AS visitors FROM {ds} WHERE {filter} AND blob6 != '' \
         FORMAT JSON",
        ds = dataset.as_str(),
        filter = ae_filter(slug, range, include_bots),
    )
}

fn ae_filter(slug: &Slug, range: &DateRange, include_bots: bool) -> String {
    let bots = if include_bots {
        ""
    } else {
        " AND blob3 != 'bot'"
    };
    format!(
        "index1 = '{slug}' AND timestamp >= toDateTime('{from} 00:00:00') \
         AND timestamp < toDateTime('{end} 00:00:00'){bots}",
        slug = slug.as_str(),
        from = range.from,
        end = range.end_exclusive(),
    )
}

/// Analytics Engine SQL for an owner's most clicked links (people only).
pub fn ae_top_sql(dataset: &AeDataset, owner: &UserId, range: &DateRange, limit: u32) -> String {
    format!(
        "SELECT index1 AS slug, SUM(_sample_interval) AS clicks FROM {ds} \
         WHERE blob7 = '{owner}' AND blob3 != 'bot' \
         AND timestamp >= toDateTime('{from} 00:00:00') AND timestamp < toDateTime('{end} 00:00:00') \
         GROUP BY slug ORDER BY clicks DESC LIMIT {limit} FORMAT JSON",
        ds = dataset.as_str(),
        owner = owner.as_str(),
        from = range.from,
        end = range.end_exclusive(),
    )
}

/// An Analytics Engine dataset name: `[A-Za-z0-9_]`, so it can stand in SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AeDataset(String);

impl AeDataset {
    pub const DEFAULT: &'static str = "edgelink_clicks";

    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses `include_bots`: absent or `false` → false, `true` → true.
pub fn parse_include_bots(raw: Option<&str>) -> Result<bool, String> {
    match raw {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(format!("include_bots must be true or false, not '{other}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(day: &str, salt: &str) -> DaySalt {
        DaySalt {
            day: day.into(),
            salt: salt.into(),
        }
    }

    #[test]
    fn the_configured_salt_overrides_the_day_salt() {
        let k = kept("2026-12-07", "day-salt");
        assert_eq!(
            choose_salt(Some("secret"), Some(&k), "2026-12-07"),
            SaltChoice::Use("secret")
        );
        assert_eq!(
            choose_salt(Some("secret"), None, "2026-12-07"),
            SaltChoice::Use("secret")
        );
        // An empty secret is no secret.
        assert_eq!(
            choose_salt(Some(""), Some(&k), "2026-12-07"),
            SaltChoice::Use("day-salt")
        );
    }

    #[test]
    fn a_day_salt_salts_only_its_own_day() {
        let k = kept("2026-12-07", "monday");
        assert_eq!(
            choose_salt(None, Some(&k), "2026-12-07"),
            SaltChoice::Use("monday")
        );
        assert_eq!(
            choose_salt(None, Some(&k), "2026-12-08"),
            SaltChoice::FetchDaySalt
        );
        assert_eq!(
            choose_salt(None, Some(&k), "2026-12-06"),
            SaltChoice::FetchDaySalt
        );
        assert_eq!(
            choose_salt(None, None, "2026-12-07"),
            SaltChoice::FetchDaySalt
        );
        assert_eq!(
            choose_salt(None, Some(&kept("2026-12-07", "")), "2026-12-07"),
            SaltChoice::FetchDaySalt
        );
    }

    #[test]
    fn salts_differ_between_days_and_so_do_a_visitors_ids() {
        // Each day's salt is drawn afresh (as the Durable Object draws it): two days never
        // share one, and one visitor's ids on the two days cannot be linked.
        let alphabet: Vec<char> = ('a'..='z').chain('0'..='9').collect();
        let monday = kept("2026-12-07", &crate::random::token(43, &alphabet).unwrap());
        let tuesday = kept("2026-12-08", &crate::random::token(43, &alphabet).unwrap());
        assert_ne!(monday.salt, tuesday.salt);
        let salt_of = |d: &DaySalt, today: &str| match choose_salt(None, Some(d), today) {
            SaltChoice::Use(s) => s.to_owned(),
            SaltChoice::FetchDaySalt => panic!("{d:?} not usable on {today}"),
        };
        let id_monday = visitor_id(
            "203.0.113.9",
            "UA",
            &salt_of(&monday, "2026-12-07"),
            "2026-12-07",
        );
        let id_tuesday = visitor_id(
            "203.0.113.9",
            "UA",
            &salt_of(&tuesday, "2026-12-08"),
            "2026-12-08",
        );
        assert_ne!(id_monday, id_tuesday);
    }

    #[test]
    fn a_day_salt_expires_two_days_after_its_midnight() {
        let midnight = Timestamp::parse("2026-12-07T00:00:00Z")
            .unwrap()
            .as_millis()
            / 1000;
        assert_eq!(
            day_salt_expires_at("2026-12-07"),
            Some(midnight + 2 * 86_400)
        );
        assert_eq!(day_salt_expires_at("2026-12-7"), None);
        assert_eq!(day_salt_expires_at("../x"), None);
        assert!(is_day("2026-12-07"));
        assert!(!is_day("2026-02-30"));
    }

    #[test]
    fn unique_visitors_are_unknown_rather_than_zero_when_no_click_carried_an_id() {
        assert_eq!(unique_visitors(0, 0), Some(0));
        assert_eq!(unique_visitors(5, 0), None);
        assert_eq!(unique_visitors(5, 2), Some(2));
    }

    #[test]
    fn request_facts_parse_the_packed_form_in_order() {
        let f = RequestFacts::parse("UA x\n203.0.113.9\n1\n\nhttps://r.example/p\nDE\n1\n12");
        assert_eq!(
            f,
            RequestFacts {
                user_agent: "UA x",
                ip: "203.0.113.9",
                dnt: "1",
                gpc: "",
                referer: "https://r.example/p",
                country: "DE",
                verified_bot: true,
                bot_score: Some(12),
            }
        );
        // Short or empty input leaves the rest empty instead of failing.
        assert_eq!(RequestFacts::parse(""), RequestFacts::default());
        assert_eq!(RequestFacts::parse("a\nb").ip, "b");
    }

    #[test]
    fn click_of_derives_classes_hosts_and_a_daily_visitor() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        let facts = RequestFacts {
            user_agent: firefox,
            ip: "203.0.113.9",
            referer: "https://News.Example:443/a?b",
            country: "DE",
            bot_score: Some(80),
            ..RequestFacts::default()
        };
        let day1 = Timestamp::from_millis(DAY_MILLIS * 20_000 + 5);
        let c = click_of(&facts, "abc", "u1", Some("salt"), day1);
        assert_eq!(
            (c.slug.as_str(), c.owner.as_str(), c.day.as_str()),
            ("abc", "u1", "2024-10-04")
        );
        assert_eq!(c.country, "DE");
        assert_eq!(c.referrer, "news.example");
        assert_eq!(
            (c.device.as_str(), c.os.as_str(), c.bot),
            ("desktop", "Linux", false)
        );
        assert_eq!(
            c.visitor,
            visitor_id("203.0.113.9", firefox, "salt", "2024-10-04")
        );
        assert_eq!(
            c.blobs(),
            [
                "DE",
                "news.example",
                "desktop",
                c.browser.as_str(),
                "Linux",
                c.visitor.as_str(),
                "u1"
            ]
        );
        // Another day, another id; no salt or an opt-out, none.
        let day2 = Timestamp::from_millis(DAY_MILLIS * 20_001 + 5);
        assert_ne!(
            click_of(&facts, "abc", "u1", Some("salt"), day2).visitor,
            c.visitor
        );
        assert_eq!(click_of(&facts, "abc", "u1", None, day1).visitor, "");
        for opt_out in [
            RequestFacts { dnt: "1", ..facts },
            RequestFacts { gpc: "1", ..facts },
        ] {
            assert_eq!(
                click_of(&opt_out, "abc", "u1", Some("salt"), day1).visitor,
                ""
            );
        }
        // Placeholder countries are left out.
        for cc in ["XX", "T1", "", "DEU"] {
            let f = RequestFacts {
                country: cc,
                ..facts
            };
            assert_eq!(click_of(&f, "abc", "u1", None, day1).country, "", "{cc}");
        }
    }

    #[test]
    fn cloudflare_bot_management_marks_a_browser_user_agent_as_a_bot() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
        let at = Timestamp::from_millis(0);
        let person = RequestFacts {
            user_agent: chrome,
            bot_score: Some(30),
            ..RequestFacts::default()
        };
        assert!(!click_of(&person, "s", "o", None, at).bot);
        for bot in [
            RequestFacts {
                bot_score: Some(29),
                ..person
            },
            RequestFacts {
                verified_bot: true,
                bot_score: None,
                ..person
            },
        ] {
            let c = click_of(&bot, "s", "o", None, at);
            assert_eq!(
                (c.bot, c.device.as_str(), c.browser.as_str()),
                (true, "bot", "Bot")
            );
        }
    }

    const CHROME_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
    const SAFARI_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
    const FIREFOX_LINUX: &str =
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
    const EDGE_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";
    const ANDROID_TABLET: &str = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    const ANDROID_PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
    const GOOGLEBOT: &str =
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

    #[test]
    fn user_agents_fall_in_device_browser_and_os_classes() {
        let cases = [
            (CHROME_WIN, "desktop", "Chrome", "Windows", false),
            (SAFARI_IPHONE, "mobile", "Safari", "iOS", false),
            (SAFARI_IPAD, "tablet", "Safari", "iOS", false),
            (FIREFOX_LINUX, "desktop", "Firefox", "Linux", false),
            (EDGE_MAC, "desktop", "Edge", "macOS", false),
            (ANDROID_TABLET, "tablet", "Chrome", "Android", false),
            (ANDROID_PHONE, "mobile", "Chrome", "Android", false),
            (GOOGLEBOT, "bot", "Bot", "Other", true),
            ("curl/8.4.0", "bot", "Bot", "Other", true),
            ("", "bot", "Bot", "Other", true),
            ("python-requests/2.31", "bot", "Bot", "Other", true),
        ];
        for (ua, device, browser, os, bot) in cases {
            assert_eq!(
                classify_user_agent(ua),
                Agent {
                    device,
                    browser,
                    os,
                    bot
                },
                "{ua}"
            );
        }
    }

    #[test]
    fn referrers_keep_only_the_host() {
        assert_eq!(
            referrer_host(Some("https://News.Example.com/a/b?q=secret#x")),
            "news.example.com"
        );
        assert_eq!(referrer_host(Some("http://user:pw@x.io:8080/p")), "x.io");
        assert_eq!(referrer_host(Some("https://[::1]:80/")), "[::1]");
        assert_eq!(referrer_host(None), "");
        assert_eq!(referrer_host(Some("not a url")), "");
        assert_eq!(referrer_host(Some("https://a b/")), "");
    }

    #[test]
    fn visitor_ids_are_stable_within_a_day_and_change_across_days_and_salts() {
        let a = visitor_id("1.2.3.4", CHROME_WIN, "salt", "2026-11-25");
        assert_eq!(a.len(), 16);
        assert_eq!(a, visitor_id("1.2.3.4", CHROME_WIN, "salt", "2026-11-25"));
        assert_ne!(a, visitor_id("1.2.3.4", CHROME_WIN, "salt", "2026-11-26"));
        assert_ne!(a, visitor_id("1.2.3.4", CHROME_WIN, "pepper", "2026-11-25"));
        assert_ne!(a, visitor_id("1.2.3.5", CHROME_WIN, "salt", "2026-11-25"));
        assert!(!a.contains("1.2.3.4"));
    }

    #[test]
    fn do_not_track_and_gpc_opt_out() {
        assert!(opted_out(Some("1"), None));
        assert!(opted_out(None, Some("1")));
        assert!(!opted_out(Some("0"), None));
        assert!(!opted_out(None, None));
    }

    #[test]
    fn date_ranges_default_to_thirty_days_and_reject_bad_dates() {
        let now = Timestamp::parse("2026-11-25T15:00:00Z").unwrap();
        let r = DateRange::parse(None, None, now).unwrap();
        assert_eq!(
            (r.from.as_str(), r.to.as_str()),
            ("2026-10-27", "2026-11-25")
        );
        let r = DateRange::parse(Some("2026-11-01"), Some("2026-11-01"), now).unwrap();
        assert_eq!(r.end_exclusive(), "2026-11-02");
        for (from, to) in [
            (Some("2026-11-31"), None),
            (Some("2026-1-01"), None),
            (Some("yesterday"), None),
            (Some("2026-11-02"), Some("2026-11-01")),
            (Some("2020-01-01"), Some("2026-01-01")),
            (None, Some("2026-02-30")),
            (Some("2026-11-01'--"), None),
        ] {
            assert!(DateRange::parse(from, to, now).is_err(), "{from:?} {to:?}");
        }
    }

    #[test]
    fn groups_parse_and_map_to_dimensions() {
        assert_eq!(Group::parse(None).unwrap(), Group::Day);
        assert_eq!(Group::parse(Some("os")).unwrap().dimension(), Some("os"));
        assert!(Group::parse(Some("ip")).is_err());
        assert!(parse_include_bots(Some("true")).unwrap());
        assert!(parse_include_bots(Some("yes")).is_err());
    }

    #[test]
    fn ae_sql_holds_only_typed_values() {
        let ds = AeDataset::parse("edgelink_clicks").unwrap();
        let slug = Slug::parse("launch").unwrap();
        let range = DateRange::parse(
            Some("2026-11-01"),
            Some("2026-11-30"),
            Timestamp::from_millis(0),
        )
        .unwrap();
        let sql = ae_groups_sql(&ds, &slug, &range, Group::Country, false);
        assert!(sql.starts_with("SELECT blob1 AS key, SUM(_sample_interval) AS clicks"));
        assert!(sql.contains("FROM edgelink_clicks WHERE index1 = 'launch'"));
        assert!(sql.contains("timestamp >= toDateTime('2026-11-01 00:00:00')"));
        assert!(sql.contains("timestamp < toDateTime('2026-12-01 00:00:00')"));
        assert!(sql.contains("AND blob3 != 'bot'"));
        assert!(!ae_groups_sql(&ds, &slug, &range, Group::Day, true).contains("!= 'bot'"));
        let v = ae_visitors_sql(&ds, &slug, &range, false);
        assert!(v.starts_with("SELECT COUNT(DISTINCT blob6) AS visitors"));
        assert!(v.contains("AND blob6 != ''"));
        let top = ae_top_sql(&ds, &UserId::admin(), &range, 10);
        assert!(top.contains("WHERE blob7 = 'admin'") && top.contains("LIMIT 10"));
        assert!(AeDataset::parse("x; DROP").is_none());
    }

    #[test]
    fn clicks_expose_their_dimensions() {
        let c = Click {
            slug: "abc".into(),
            owner: "u".into(),
            day: "2026-11-25".into(),
            country: "DE".into(),
            referrer: "x.io".into(),
            device: "mobile".into(),
            browser: "Safari".into(),
            os: "iOS".into(),
            visitor: String::new(),
            bot: false,
        };
        let values: Vec<&str> = DIMENSIONS.iter().map(|d| c.dimension(d)).collect();
        assert_eq!(values, vec!["DE", "x.io", "mobile", "Safari", "iOS"]);
    }
}
