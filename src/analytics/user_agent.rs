//! The user-agent classifier: the device, browser and OS classes ([`Agent`]) a click keeps
//! instead of the user agent itself, and whether it is a bot. Pure: never imports `worker`.

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

/// Substrings (lower case) of the user agents of social networks' and chat apps' link
/// unfurlers: what a link's `preview` is shown to. Each is also a bot. Only names no in-app
/// browser sends: a person tapping a link inside an app must get the redirect.
const SOCIAL_CRAWLERS: &[&str] = &[
    "facebookexternalhit",
    "facebookcatalog",
    "meta-externalagent",
    "twitterbot",
    "linkedinbot",
    "slackbot",
    "slack-imgproxy",
    "discordbot",
    "telegrambot",
    "whatsapp/",
    "skypeuripreview",
    "pinterestbot",
    "redditbot",
    "embedly",
    "iframely",
    "vkshare",
    "mastodon",
    "cardyb",
    "applebot",
    "line-poker",
    "kakaotalk-scrap",
    "mattermost-bot",
    "google-pagerenderer",
];

/// Whether a user agent is a social network's or chat app's link unfurler (Facebook,
/// X/Twitter, LinkedIn, Slack, Discord, Telegram, WhatsApp and the like).
pub fn is_social_crawler(ua: &str) -> bool {
    let ua = ua.to_ascii_lowercase();
    SOCIAL_CRAWLERS.iter().any(|m| ua.contains(m))
}

/// Classifies a user agent. An empty one is a bot (browsers always send one).
/// Limits: iPadOS sends a desktop Safari user agent by default and counts as desktop macOS.
pub fn classify_user_agent(ua: &str) -> Agent {
    let ua = ua.to_ascii_lowercase();
    let has = |s: &str| ua.contains(s);
    let bot = ua.trim().is_empty()
        || BOT_MARKERS.iter().any(|m| has(m))
        || SOCIAL_CRAWLERS.iter().any(|m| has(m));
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    // Real user agents, shared with the click tests.
    pub(crate) const CHROME_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    pub(crate) const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
    pub(crate) const SAFARI_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
    pub(crate) const FIREFOX_LINUX: &str =
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
    pub(crate) const EDGE_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";
    pub(crate) const ANDROID_TABLET: &str = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    pub(crate) const ANDROID_PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
    pub(crate) const GOOGLEBOT: &str =
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

    #[test]
    fn social_crawlers_are_known_and_counted_as_bots() {
        for ua in [
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Twitterbot/1.0",
            "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "TelegramBot (like TwitterBot)",
            "WhatsApp/2.23.20.0 A",
            "Mozilla/5.0 (compatible; Mastodon/4.2.0; +https://mastodon.social/)",
        ] {
            assert!(is_social_crawler(ua), "{ua}");
            assert!(classify_user_agent(ua).bot, "{ua}");
        }
        for ua in [
            CHROME_WIN,
            SAFARI_IPHONE,
            ANDROID_PHONE,
            GOOGLEBOT,
            "curl/8.4.0",
        ] {
            assert!(!is_social_crawler(ua), "{ua}");
        }
    }

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
}
