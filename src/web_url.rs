//! URLs as the WHATWG URL Standard parses them: link destinations, blocklist hosts, and the
//! request's own URL (its origin and query parameters).
//!
//! In the Worker the parser is the runtime's own `URL`, the one `fetch` and browsers follow.
//! It maps Unicode hosts to punycode (UTS #46) and adds nothing to the wasm: the `url` crate
//! with its host parser, IDNA and percent-encoding tables was ~16 KB gzip of it (BENCHMARKS.md,
//! "Bundle"). Natively (unit tests, benches) there is no runtime, so the `url` crate, an
//! implementation of the same standard, stands in. It is built with the ASCII-only IDNA back
//! end (`idna_adapter` 1.0), so natively a Unicode host is refused; the e2e tests cover that
//! path in the runtime.
//!
//! Both parsers answer with the same one line per field (see [`WebUrl::from_fields`]), so a
//! parse crosses the wasm boundary once, and the splitting is tested natively.

/// The parts of a parsed absolute URL that edgelink decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl {
    /// Without the trailing `:`, lower-case: `https`.
    pub scheme: String,
    /// Lower-case, ASCII (punycode) form; IPv6 in brackets; empty when the URL has none.
    pub host: String,
    /// A user name or password is present.
    pub has_credentials: bool,
    /// `https://sho.rt` (with a non-default port); `null` for an opaque origin.
    pub origin: String,
    /// The normalised serialisation: no raw spaces, tabs or line breaks.
    pub href: String,
}

impl WebUrl {
    /// Parses an absolute URL; `None` when the standard refuses it.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::from_fields(&parser::fields(raw)?)
    }

    /// Reads the parser's answer: scheme, host, credentials (`1` or empty) and origin, a line
    /// each, then the href. A parsed URL never holds a line break, so nothing needs escaping.
    fn from_fields(fields: &str) -> Option<Self> {
        let mut lines = fields.splitn(5, '\n');
        let scheme = lines.next()?.to_owned();
        let host = lines.next()?.to_owned();
        let has_credentials = !lines.next()?.is_empty();
        let origin = lines.next()?.to_owned();
        let href = lines.next()?.to_owned();
        Some(Self {
            scheme,
            host,
            has_credentials,
            origin,
            href,
        })
    }
}

/// The first value of a query parameter of `url`, decoded; `None` when absent.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    parser::query_param(url, name)
}

/// Every value of a repeated query parameter of `url`, decoded, in order; empty when absent.
pub fn query_params(url: &str, name: &str) -> Vec<String> {
    parser::query_params(url, name)
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

#[cfg(target_arch = "wasm32")]
mod parser {
    use worker::wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/web_url.js")]
    extern "C" {
        #[wasm_bindgen(js_name = url_fields)]
        pub fn fields(raw: &str) -> Option<String>;
        #[wasm_bindgen(js_name = url_query_param)]
        pub fn query_param(url: &str, name: &str) -> Option<String>;
        /// The values as a JSON array of strings: one string across the boundary.
        #[wasm_bindgen(js_name = url_query_params)]
        pub fn query_params(url: &str, name: &str) -> Option<String>;
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod parser {
    pub fn fields(raw: &str) -> Option<String> {
        let url = url::Url::parse(raw).ok()?;
        let credentials = if url.username().is_empty() && url.password().is_none() {
            ""
        } else {
            "1"
        };
        Some(format!(
            "{}\n{}\n{credentials}\n{}\n{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.origin().ascii_serialization(),
            url.as_str(),
        ))
    }

    pub fn query_param(url: &str, name: &str) -> Option<String> {
        let url = url::Url::parse(url).ok()?;
        let value = url.query_pairs().find(|(k, _)| k == name)?.1;
        Some(value.into_owned())
    }

    pub fn query_params(url: &str, name: &str) -> Option<String> {
        let url = url::Url::parse(url).ok()?;
        let values: Vec<String> = url
            .query_pairs()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .collect();
        serde_json::to_string(&values).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_query_parameters_come_back_in_order() {
        let url = "https://e.com/api/links?tag=a&x=1&tag=B%20c&tag=";
        assert_eq!(query_params(url, "tag"), vec!["a", "B c", ""]);
        assert!(query_params(url, "none").is_empty());
    }

    #[test]
    fn parses_the_parts_a_link_needs() {
        let u = WebUrl::parse("HTTPS://Example.COM:8443/a b?q=1#f").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.host, "example.com");
        assert!(!u.has_credentials);
        assert_eq!(u.origin, "https://example.com:8443");
        assert_eq!(u.href, "https://example.com:8443/a%20b?q=1#f");
    }

    #[test]
    fn credentials_and_hostless_urls_are_visible() {
        assert!(
            WebUrl::parse("https://u:p@example.com/")
                .unwrap()
                .has_credentials
        );
        assert!(
            WebUrl::parse("https://u@example.com/")
                .unwrap()
                .has_credentials
        );
        assert!(
            WebUrl::parse("https://:p@example.com/")
                .unwrap()
                .has_credentials
        );
        let mail = WebUrl::parse("mailto:someone@example.com").unwrap();
        assert_eq!((mail.scheme.as_str(), mail.host.as_str()), ("mailto", ""));
        assert_eq!(mail.origin, "null");
        assert_eq!(WebUrl::parse("not a url"), None);
        assert_eq!(WebUrl::parse("/relative"), None);
    }

    #[test]
    fn a_truncated_answer_is_no_url() {
        assert_eq!(
            WebUrl::from_fields("https\nexample.com\n\nhttps://example.com"),
            None
        );
        assert_eq!(WebUrl::from_fields(""), None);
    }

    #[test]
    fn query_parameters_are_decoded_and_first_wins() {
        let url = "https://s.io/api/links?limit=5&cursor=a%2Bb&limit=9&empty=";
        assert_eq!(query_param(url, "limit").as_deref(), Some("5"));
        assert_eq!(query_param(url, "cursor").as_deref(), Some("a+b"));
        assert_eq!(query_param(url, "empty").as_deref(), Some(""));
        assert_eq!(query_param(url, "missing"), None);
        assert_eq!(
            query_param("https://s.io/x?q=a+b", "q").as_deref(),
            Some("a b")
        );
    }
}
