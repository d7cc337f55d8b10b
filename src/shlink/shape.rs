//! What the Shlink API answers: a short URL ([`ShortUrl`]), a visit ([`Visit`]) with the
//! stand-in user agent edgelink gives it ([`stand_in_user_agent`]: edgelink keeps the
//! browser and OS classes of a click, never its user agent), and the visit counts
//! ([`VisitsSummary`]). Serialized in Shlink's camelCase.

use serde::Serialize;

/// Visits of a link or of a set of links: all, people's, bots'.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitsSummary {
    pub total: u64,
    pub non_bots: u64,
    pub bots: u64,
}

impl VisitsSummary {
    pub fn of(people: u64, bots: u64) -> Self {
        Self {
            total: people + bots,
            non_bots: people,
            bots,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub valid_since: Option<String>,
    pub valid_until: Option<String>,
    pub max_visits: Option<u64>,
}

/// A short URL as Shlink shows it. edgelink has one domain, no crawlable flag and no
/// redirect rules, so those are constant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShortUrl {
    pub short_code: String,
    pub short_url: String,
    pub long_url: String,
    pub date_created: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub meta: Meta,
    pub visits_summary: VisitsSummary,
    pub forward_query: bool,
    pub domain: Option<String>,
    pub crawlable: bool,
    pub has_redirect_rules: bool,
}

/// Where a visit came from: edgelink records the country only.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitLocation {
    pub country_code: String,
    pub country_name: String,
    pub region_name: String,
    pub city_name: String,
    pub latitude: f64,
    pub longitude: f64,
    pub timezone: String,
    pub is_empty: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Visit {
    pub referer: String,
    pub date: String,
    pub user_agent: String,
    pub visit_location: Option<VisitLocation>,
    pub potential_bot: bool,
}

/// A recorded click, as the `visits` table keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedVisit<'a> {
    pub at: &'a str,
    pub country: &'a str,
    /// The referrer's host, `""` when none.
    pub referrer: &'a str,
    pub browser: &'a str,
    pub os: &'a str,
    pub bot: bool,
}

impl Visit {
    pub fn from_recorded(v: &RecordedVisit) -> Self {
        let country = v.country.trim();
        Visit {
            referer: if v.referrer.is_empty() {
                String::new()
            } else {
                format!("https://{}", v.referrer)
            },
            date: v.at.to_owned(),
            user_agent: stand_in_user_agent(v.browser, v.os, v.bot),
            // Cloudflare's `XX` (unknown) and `T1` (Tor) are no places.
            visit_location: (country.len() == 2 && country != "XX" && country != "T1").then(|| {
                VisitLocation {
                    country_code: country.to_owned(),
                    country_name: country.to_owned(),
                    region_name: String::new(),
                    city_name: String::new(),
                    latitude: 0.0,
                    longitude: 0.0,
                    timezone: String::new(),
                    is_empty: false,
                }
            }),
            potential_bot: v.bot,
        }
    }
}

/// A user agent that bowser (the parser shlink-web-component uses) reads as the recorded
/// browser and OS classes (`analytics::user_agent`'s names), like
/// `Mozilla/5.0 (Windows NT 10.0) Chrome/0`. Versions are 0: edgelink keeps none.
pub fn stand_in_user_agent(browser: &str, os: &str, bot: bool) -> String {
    let platform = match os {
        "Windows" => "Windows NT 10.0",
        "macOS" => "Macintosh; Intel Mac OS X 10_15_7",
        "Linux" => "X11; Linux x86_64",
        "Android" => "Linux; Android 10",
        "iOS" => "iPhone; CPU iPhone OS 17_0 like Mac OS X",
        "ChromeOS" => "X11; CrOS x86_64 0",
        _ => "",
    };
    let product = match browser {
        _ if bot => "Bot/0 (bot)",
        "Chrome" => "Chrome/0",
        "Firefox" => "Firefox/0",
        "Safari" => "Version/0 Safari/0",
        "Edge" => "Chrome/0 Edg/0",
        "Opera" => "Chrome/0 OPR/0",
        "Samsung Internet" => "SamsungBrowser/0 Chrome/0",
        "Internet Explorer" => "Trident/7.0; rv:11.0",
        _ => "",
    };
    let mut ua = String::from("Mozilla/5.0");
    if browser == "Internet Explorer" && !bot {
        ua.push_str(&format!(" (compatible; MSIE 11.0; {platform}; {product})"));
        return ua;
    }
    if !platform.is_empty() {
        ua.push_str(&format!(" ({platform})"));
    }
    if !product.is_empty() {
        ua.push(' ');
        ua.push_str(product);
    }
    ua
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_in_user_agents_name_browser_and_os() {
        assert_eq!(
            stand_in_user_agent("Chrome", "Windows", false),
            "Mozilla/5.0 (Windows NT 10.0) Chrome/0"
        );
        assert_eq!(
            stand_in_user_agent("Firefox", "Linux", false),
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/0"
        );
        assert_eq!(stand_in_user_agent("Other", "Other", false), "Mozilla/5.0");
        assert!(stand_in_user_agent("Bot", "Other", true).contains("bot"));
        // edgelink's own classifier reads the stand-in back as the same classes.
        for (browser, os) in [
            ("Chrome", "Windows"),
            ("Firefox", "macOS"),
            ("Safari", "iOS"),
            ("Edge", "Windows"),
            ("Opera", "Linux"),
            ("Samsung Internet", "Android"),
            ("Chrome", "ChromeOS"),
        ] {
            let agent =
                crate::analytics::classify_user_agent(&stand_in_user_agent(browser, os, false));
            assert_eq!((agent.browser, agent.os), (browser, os));
        }
    }

    #[test]
    fn a_visit_shows_referer_as_https_and_country_as_location() {
        let recorded = RecordedVisit {
            at: "2026-12-07T10:00:00.000Z",
            country: "DE",
            referrer: "news.example",
            browser: "Chrome",
            os: "Windows",
            bot: false,
        };
        let v = serde_json::to_value(Visit::from_recorded(&recorded)).unwrap();
        assert_eq!(v["referer"], "https://news.example");
        assert_eq!(v["date"], "2026-12-07T10:00:00.000Z");
        assert_eq!(v["potentialBot"], false);
        assert_eq!(v["visitLocation"]["countryCode"], "DE");
        let none = Visit::from_recorded(&RecordedVisit {
            country: "XX",
            referrer: "",
            bot: true,
            ..recorded
        });
        assert_eq!(
            (
                none.referer.as_str(),
                none.visit_location,
                none.potential_bot
            ),
            ("", None, true)
        );
    }

    #[test]
    fn summaries_add_people_and_bots() {
        let s = serde_json::to_value(VisitsSummary::of(3, 2)).unwrap();
        assert_eq!(s, serde_json::json!({"total":5,"nonBots":3,"bots":2}));
    }
}
