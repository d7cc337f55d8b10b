//! Moderation rules: [`FlagReason`], the categories an admin flags a link under (the only part
//! of a flag a visitor sees), and [`BlockedHost`], a destination host nobody may link to, which
//! also blocks its subdomains.
//!
//! Pure: the blocklist itself lives in KV (`block:<host>`), one key per host, so that checking a
//! destination is a bulk read of its host and every parent domain (one read for up to 100
//! labels, two for the deepest name DNS allows), however long the list grows. Hosts are
//! compared in one form ([`canonical_host`]), so no spelling of an address escapes its entry.

use std::net::{Ipv4Addr, Ipv6Addr};

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
    /// A domain name, an IPv4 address or an IPv6 address (bare, or in brackets as a URL
    /// writes it), without port or path; kept in [`canonical_host`] form.
    pub fn parse(raw: &str) -> Result<Self, InvalidHost> {
        let bad =
            || InvalidHost("host must be a domain name or IP address, like example.com".into());
        let raw = raw.trim().trim_end_matches('.');
        let bare = raw
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .unwrap_or(raw);
        if bare.contains(':') {
            let ip: Ipv6Addr = bare.parse().map_err(|_| bad())?;
            return Ok(Self(canonical_host(&format!("[{ip}]"))));
        }
        if raw.is_empty() || raw.len() > 253 || raw.contains(['/', '@', '?', '#', ' ', ':']) {
            return Err(bad());
        }
        let url = WebUrl::parse(&format!("http://{raw}/")).ok_or_else(bad)?;
        if url.host.is_empty() {
            return Err(bad());
        }
        Ok(Self(canonical_host(&url.host)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest host name DNS can carry written out (RFC 1035: 255 octets on the wire). With
/// labels of at least one character, this also bounds a host to [`HOST_MAX_LABELS`] labels.
pub const HOST_MAX_LEN: usize = 253;
/// The most labels a DNS name can have (`a.a.…a`, 253 characters).
pub const HOST_MAX_LABELS: usize = HOST_MAX_LEN.div_ceil(2);

/// A host as one key, for the blocklist and the shortener's own-host check: lower case, no
/// trailing dot; an IPv6 literal in brackets in RFC 5952 form (as the URL Standard writes it);
/// and an IPv6 literal that reaches an IPv4 address as that address: IPv4-mapped
/// (`[::ffff:1.2.3.4]`, which a dual-stack client connects to over IPv4) and NAT64's
/// well-known prefix (`[64:ff9b::1.2.3.4]`, RFC 6052). IPv4's other spellings (`0x7f000001`,
/// `2130706433`) are already dotted: the URL Standard's parser writes them so.
pub fn canonical_host(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let ip = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<Ipv6Addr>().ok());
    match ip {
        Some(ip) => match embedded_ipv4(ip) {
            Some(v4) => v4.to_string(),
            None => format!("[{ip}]"),
        },
        None => host,
    }
}

/// The IPv4 address an IPv6 address stands for, when it is one that reaches IPv4.
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    const NAT64: [u16; 6] = [0x64, 0xff9b, 0, 0, 0, 0];
    ip.to_ipv4_mapped().or_else(|| {
        let [.., a, b, c, d] = ip.octets();
        (ip.segments()[..6] == NAT64).then(|| Ipv4Addr::new(a, b, c, d))
    })
}

/// The keys a destination host is blocked under: itself and every parent domain
/// (`a.b.example.com` → `a.b.example.com`, `b.example.com`, `example.com`, `com`), all of
/// them, so no depth of subdomain escapes a blocked parent. An IP address is blocked only as
/// itself. A host longer than DNS allows (no resolver could reach it) has no candidates: it
/// is refused, so the list is bounded by [`HOST_MAX_LABELS`].
pub fn blocking_candidates(host: &str) -> Result<Vec<String>, InvalidHost> {
    let host = canonical_host(host);
    if host.len() > HOST_MAX_LEN {
        return Err(InvalidHost(format!(
            "url host is longer than {HOST_MAX_LEN} characters, which DNS cannot resolve"
        )));
    }
    if host.starts_with('[') || host.parse::<Ipv4Addr>().is_ok() {
        return Ok(vec![host]);
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
    Ok(out)
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
    fn an_address_has_one_form_however_it_is_written() {
        for (spelled, canonical) in [
            ("[::ffff:5db8:d822]", "93.184.216.34"),
            ("[::FFFF:93.184.216.34]", "93.184.216.34"),
            ("[0:0:0:0:0:ffff:5db8:d822]", "93.184.216.34"),
            ("[64:ff9b::5db8:d822]", "93.184.216.34"),
            ("[2001:DB8:0:0::ABCD]", "[2001:db8::abcd]"),
            ("[::1]", "[::1]"),
            ("93.184.216.34", "93.184.216.34"),
            ("Example.COM.", "example.com"),
        ] {
            assert_eq!(canonical_host(spelled), canonical, "{spelled}");
        }
        for (raw, stored) in [
            ("2001:db8::abcd", "[2001:db8::abcd]"),
            ("[2001:0db8::ABCD]", "[2001:db8::abcd]"),
            ("::ffff:93.184.216.34", "93.184.216.34"),
            ("[::ffff:5db8:d822]", "93.184.216.34"),
        ] {
            assert_eq!(BlockedHost::parse(raw).unwrap().as_str(), stored, "{raw}");
        }
        for bad in [
            "[2001:db8::abcd]:80",
            "2001:db8::g",
            "[example.com]",
            "[::1",
        ] {
            assert!(BlockedHost::parse(bad).is_err(), "{bad:?}");
        }
        // A mapped address is checked under the IPv4 entry.
        assert_eq!(
            blocking_candidates("[::ffff:5db8:d822]").unwrap(),
            vec!["93.184.216.34"]
        );
        assert_eq!(
            blocking_candidates("[2001:db8::abcd]").unwrap(),
            vec!["[2001:db8::abcd]"]
        );
    }

    #[test]
    fn a_host_is_blocked_by_itself_and_its_parents() {
        assert_eq!(
            blocking_candidates("a.b.Example.com").unwrap(),
            vec!["a.b.example.com", "b.example.com", "example.com", "com"]
        );
        assert_eq!(blocking_candidates("localhost").unwrap(), vec!["localhost"]);
        assert_eq!(blocking_candidates("10.1.2.3").unwrap(), vec!["10.1.2.3"]);
        assert_eq!(blocking_candidates("[::1]").unwrap(), vec!["[::1]"]);
        // A parent of the blocked host is not blocked by it.
        assert!(!blocking_candidates("example.com")
            .unwrap()
            .contains(&"evil.example.com".to_string()));
    }

    #[test]
    fn every_parent_is_a_candidate_however_deep_the_host() {
        // 101 labels of `a` above `evil.example`: the blocked parent is still on the list
        // (it used to be cut after the first 100 candidates).
        let host = format!("{}evil.example", "a.".repeat(101));
        let candidates = blocking_candidates(&host).unwrap();
        assert_eq!(candidates.len(), 103);
        assert_eq!(candidates[0], host);
        assert!(candidates.contains(&"evil.example".to_string()));
        assert_eq!(candidates.last().map(String::as_str), Some("example"));

        // The deepest name DNS allows: 127 one-letter labels, 253 characters.
        let deepest = format!("{}a", "a.".repeat(HOST_MAX_LABELS - 1));
        assert_eq!(deepest.len(), HOST_MAX_LEN);
        assert_eq!(
            blocking_candidates(&deepest).unwrap().len(),
            HOST_MAX_LABELS
        );
        // Each candidate is a parent of the one before it.
        let c = blocking_candidates(&deepest).unwrap();
        assert!(c.windows(2).all(|w| w[0].ends_with(&format!(".{}", w[1]))));
    }

    #[test]
    fn a_host_longer_than_dns_allows_is_refused() {
        let too_long = format!("{}a", "a.".repeat(HOST_MAX_LABELS));
        assert_eq!(too_long.len(), HOST_MAX_LEN + 2);
        assert!(blocking_candidates(&too_long).is_err());
        assert!(blocking_candidates(&format!("{}.example", "x".repeat(250))).is_err());
        // A trailing dot is not part of the length.
        let deepest = format!("{}a.", "a.".repeat(HOST_MAX_LABELS - 1));
        assert!(blocking_candidates(&deepest).is_ok());
    }
}
