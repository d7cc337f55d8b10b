//! Moderation rules: [`FlagReason`], the categories an admin flags a link under (the only part
//! of a flag a visitor sees), and [`BlockedHost`], a destination host nobody may link to, which
//! also blocks its subdomains.
//!
//! Pure: the blocklist itself lives in KV (`block:<host>`), one key per host, so that checking a
//! destination is one bulk read of its host and parent domains, however long the list grows.

use serde::{Deserialize, Serialize};

use crate::web_url::WebUrl;

/// Why a link was flagged. Visitors of a flagged link see this category, nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlagReason {
    Spam,
    Phishing,
    Malware,
    Abuse,
    Illegal,
    Other,
}

impl FlagReason {
    pub const ALL: [FlagReason; 6] = [
        FlagReason::Spam,
        FlagReason::Phishing,
        FlagReason::Malware,
        FlagReason::Abuse,
        FlagReason::Illegal,
        FlagReason::Other,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FlagReason::Spam => "spam",
            FlagReason::Phishing => "phishing",
            FlagReason::Malware => "malware",
            FlagReason::Abuse => "abuse",
            FlagReason::Illegal => "illegal",
            FlagReason::Other => "other",
        }
    }
}

/// A host on the blocklist: lower-case, IDNA (punycode) form, no port, no path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct BlockedHost(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidHost(pub String);

impl BlockedHost {
    pub fn parse(raw: &str) -> Result<Self, InvalidHost> {
        let bad =
            || InvalidHost("host must be a domain name or IP address, like example.com".into());
        let raw = raw.trim().trim_end_matches('.');
        if raw.is_empty() || raw.len() > 253 || raw.contains(['/', '@', '?', '#', ' ', ':']) {
            return Err(bad());
        }
        let url = WebUrl::parse(&format!("http://{raw}/")).ok_or_else(bad)?;
        if url.host.is_empty() {
            return Err(bad());
        }
        Ok(Self(url.host.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The keys a destination host is blocked under: itself and each parent domain
/// (`a.b.example.com` → `a.b.example.com`, `b.example.com`, `example.com`, `com`).
/// An IP address is blocked only as itself.
pub fn blocking_candidates(host: &str) -> Vec<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return vec![host];
    }
    let mut out = Vec::new();
    let mut rest = host.as_str();
    loop {
        out.push(rest.to_owned());
        match rest.split_once('.') {
            Some((_, parent)) if !parent.is_empty() => rest = parent,
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_a_closed_list() {
        assert_eq!(FlagReason::parse("phishing"), Some(FlagReason::Phishing));
        assert_eq!(FlagReason::parse("Phishing!"), None);
        assert_eq!(FlagReason::parse("internal note: bad"), None);
        for r in FlagReason::ALL {
            assert_eq!(FlagReason::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(
            BlockedHost::parse("Evil.Example.").unwrap().as_str(),
            "evil.example"
        );
        // Unicode hosts reach this parser already in ASCII form (see `idn`, done by the
        // runtime at the edge; e2e-tested); the ASCII-only IDNA back end refuses them here.
        assert_eq!(
            BlockedHost::parse("XN--BCHER-KVA.example")
                .unwrap()
                .as_str(),
            "xn--bcher-kva.example"
        );
        assert!(BlockedHost::parse("bücher.example").is_err());
        assert_eq!(BlockedHost::parse("10.0.0.1").unwrap().as_str(), "10.0.0.1");
        for bad in [
            "",
            "http://x.com",
            "x.com/path",
            "x.com:80",
            "a b.com",
            "u@x.com",
        ] {
            assert!(BlockedHost::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_host_is_blocked_by_itself_and_its_parents() {
        assert_eq!(
            blocking_candidates("a.b.Example.com"),
            vec!["a.b.example.com", "b.example.com", "example.com", "com"]
        );
        assert_eq!(blocking_candidates("localhost"), vec!["localhost"]);
        assert_eq!(blocking_candidates("10.1.2.3"), vec!["10.1.2.3"]);
        // A parent of the blocked host is not blocked by it.
        assert!(!blocking_candidates("example.com").contains(&"evil.example.com".to_string()));
    }
}
