//! [`TargetUrl`]: where a link points, parsed and normalised once at the edge so that stores,
//! sync and reconcile can trust it. Pure: never imports `worker`; the URL Standard's parser is
//! reached through [`crate::web_url`].

use serde::{Deserialize, Serialize};

use crate::invalid::InvalidLink;
use crate::moderation::{canonical_host, HOST_MAX_LEN};
use crate::web_url::WebUrl;

pub const URL_MAX_LEN: usize = 2048;

/// Where a link points: an absolute http(s) URL with a host and no credentials, stored in the
/// WHATWG URL Standard's normalised form (so a `Location` header can never carry raw spaces or
/// CRLF), as the runtime's `URL` serialises it ([`crate::web_url`]); Unicode hosts in punycode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TargetUrl(String);

impl TargetUrl {
    /// Parses a destination. `own_host` is the shortener's own host: a link to it would loop.
    pub fn parse_for(raw: &str, own_host: &str) -> Result<Self, InvalidLink> {
        let (url, host) = Self::parse_inner(raw)?;
        // `own_host` is the Host header's: `[::1]:8787`, `example.com:8787`, `example.com`.
        let own = match own_host.find(']') {
            Some(end) if own_host.starts_with('[') => &own_host[..=end],
            _ => own_host.split(':').next().unwrap_or(own_host),
        };
        if !own.is_empty() && canonical_host(&host) == canonical_host(own) {
            return Err(InvalidLink::Url(
                "url must not point at the shortener itself".into(),
            ));
        }
        Ok(url)
    }

    /// Parses a stored destination (no own-host check: the host is not known when reading).
    pub fn parse(raw: &str) -> Result<Self, InvalidLink> {
        Self::parse_inner(raw).map(|(url, _)| url)
    }

    fn parse_inner(raw: &str) -> Result<(Self, String), InvalidLink> {
        let bad = |why: &str| InvalidLink::Url(why.to_owned());
        if raw.len() > URL_MAX_LEN {
            return Err(bad("url is longer than 2048 bytes"));
        }
        let url = WebUrl::parse(raw.trim())
            .ok_or_else(|| bad("url must be an absolute http or https URL"))?;
        if !matches!(url.scheme.as_str(), "http" | "https") {
            return Err(bad("url must use http or https"));
        }
        if url.host.is_empty() {
            return Err(bad("url must have a host"));
        }
        if url.has_credentials {
            return Err(bad("url must not contain a user name or password"));
        }
        // No resolver could reach a longer host; refusing it here also bounds the blocklist's
        // parent-domain candidates (`moderation::blocking_candidates`).
        if url.host.trim_end_matches('.').len() > HOST_MAX_LEN {
            return Err(InvalidLink::Url(format!(
                "url host is longer than {HOST_MAX_LEN} characters, which DNS cannot resolve"
            )));
        }
        let WebUrl {
            href: normalised,
            host,
            ..
        } = url;
        if normalised.len() > URL_MAX_LEN {
            return Err(bad("url is longer than 2048 bytes"));
        }
        Ok((Self(normalised), host))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The destination's host (lower-case, IDNA form), for the blocklist.
    pub fn host(&self) -> String {
        WebUrl::parse(&self.0).map(|u| u.host).unwrap_or_default()
    }
}

impl TryFrom<String> for TargetUrl {
    type Error = InvalidLink;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TargetUrl::parse(&s)
    }
}

impl From<TargetUrl> for String {
    fn from(u: TargetUrl) -> Self {
        u.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_accepts_http_and_https_and_normalises() {
        assert_eq!(
            TargetUrl::parse("https://Example.COM").unwrap().as_str(),
            "https://example.com/"
        );
        assert_eq!(
            TargetUrl::parse("http://example.com/a b?q=1#f")
                .unwrap()
                .as_str(),
            "http://example.com/a%20b?q=1#f"
        );
    }

    #[test]
    fn url_rejects_what_is_not_an_absolute_web_url() {
        let long = format!("https://example.com/{}", "a".repeat(3000));
        for bad in [
            "",
            "example.com",
            "/relative",
            "ftp://example.com",
            "javascript:alert(1)",
            "data:text/html,hi",
            "http://",
            "https://user:pw@example.com",
            "https://user@example.com",
            long.as_str(),
        ] {
            assert!(
                matches!(TargetUrl::parse(bad), Err(InvalidLink::Url(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn url_must_not_point_at_the_shortener() {
        assert!(TargetUrl::parse_for("https://sho.rt/x", "sho.rt").is_err());
        assert!(TargetUrl::parse_for("http://SHO.RT:8080/x", "sho.rt:443").is_err());
        assert!(TargetUrl::parse_for("https://example.com/x", "sho.rt").is_ok());
        // An address in another spelling is the same host.
        assert!(TargetUrl::parse_for("http://[::ffff:7f00:1]:8787/x", "127.0.0.1:8787").is_err());
        assert!(TargetUrl::parse_for("http://[0:0::1]/x", "[::1]:8787").is_err());
        assert!(TargetUrl::parse_for("http://[::2]/x", "[::1]:8787").is_ok());
    }

    #[test]
    fn a_host_longer_than_dns_allows_is_no_url() {
        let at_most = format!("https://{}.com/", "a".repeat(249));
        assert!(TargetUrl::parse(&at_most).is_ok());
        let longer = format!("https://{}.com/", "a".repeat(250));
        assert!(matches!(TargetUrl::parse(&longer), Err(InvalidLink::Url(m)) if m.contains("253")));
    }

    #[test]
    fn url_host_is_normalised() {
        assert_eq!(
            TargetUrl::parse("https://A.Example.com/x").unwrap().host(),
            "a.example.com"
        );
    }
}
