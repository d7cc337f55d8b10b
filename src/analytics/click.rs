//! What one click records ([`Click`]), derived in the fetch handler from the request
//! ([`click_of`], [`RequestFacts`]) so that nothing identifying leaves it: the user agent becomes
//! classes ([`super::user_agent`]), the referrer its host, the IP (with the user agent, a salt
//! and the UTC date) a [`visitor_id`] that cannot follow anyone across days. Pure: never
//! imports `worker`, reads no clock (`at` is passed in).
//!
//! The Analytics Engine data point's layout is a schema queries depend on; docs/analytics.md documents it:
//! index1 = slug; blob1 country, blob2 referrer host, blob3 device, blob4 browser, blob5 OS,
//! blob6 visitor id (empty when not tracked), blob7 owner id, blob8 variant (`1`–`5`, empty
//! when the visit went to no variant); double1 = 1.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::day::day_of;
use super::user_agent::classify_user_agent;
use crate::time::Timestamp;

/// Roll-up dimensions, as `clicks_daily.dimension` stores them.
pub const DIMENSIONS: [&str; 5] = ["country", "referrer", "device", "browser", "os"];

/// The dimension row every click adds once: the total.
pub const TOTAL: &str = "total";

/// The roll-up dimension of the A/B variant a click went to: a row only for clicks that went
/// to one (most links have none, and would pay a row per click for nothing).
pub const VARIANT: &str = "variant";

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
    /// When the click happened (the `visits` row's time); absent in clicks queued before it
    /// was recorded, which then count from their day's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    /// The variant the visit went to (`1`–`5`); empty for none, and absent from the queue
    /// message then, as in messages queued before variants.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
}

impl Click {
    /// The Analytics Engine data point's blobs, in the schema's order (see the module doc).
    pub fn blobs(&self) -> [&str; 8] {
        [
            &self.country,
            &self.referrer,
            &self.device,
            &self.browser,
            &self.os,
            &self.visitor,
            &self.owner,
            &self.variant,
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
            VARIANT => &self.variant,
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
        at: Some(now),
        variant: String::new(),
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

/// Whether the visitor asked not to be tracked (`DNT: 1` or `Sec-GPC: 1`): the click counts,
/// without a visitor id.
pub fn opted_out(dnt: Option<&str>, gpc: Option<&str>) -> bool {
    dnt.map(str::trim) == Some("1") || gpc.map(str::trim) == Some("1")
}

#[cfg(test)]
mod tests {
    use super::super::day::DAY_MILLIS;
    use super::super::user_agent::tests::*;
    use super::*;

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
                "u1",
                ""
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
            at: None,
            variant: "3".into(),
        };
        let values: Vec<&str> = DIMENSIONS.iter().map(|d| c.dimension(d)).collect();
        assert_eq!(values, vec!["DE", "x.io", "mobile", "Safari", "iOS"]);
        assert_eq!(c.dimension(VARIANT), "3");
    }
}
