//! Internationalised domain names, mapped to their ASCII (punycode) form at the edge.
//!
//! The `url` crate is built with the ASCII-only IDNA back end (`idna_adapter` 1.0): ICU4X's
//! Unicode tables would add ~45 KB gzip to the wasm (BENCHMARKS.md, "Bundle"), and the Workers
//! runtime already carries a WHATWG URL parser that maps Unicode hosts (UTS #46, the same
//! standard). So input that could hold a Unicode host (any non-ASCII byte, or a `%`, since a
//! host may be percent-encoded) is passed once through the runtime's `URL` before the domain
//! types ([`crate::link::TargetUrl`], [`crate::moderation::BlockedHost`]) parse it; they then
//! see ASCII and validate it as always. Natively (unit tests) there is no runtime: the input
//! is left as it is, and a Unicode host is refused by the parser.

use std::borrow::Cow;

/// Characters that make a blocklist entry invalid as a bare host: left to
/// [`crate::moderation::BlockedHost::parse`] to refuse, never "repaired" by `URL`.
const NOT_IN_A_HOST: [char; 6] = ['/', '@', '?', '#', ' ', ':'];

fn may_hold_unicode_host(raw: &str) -> bool {
    !raw.is_ascii() || raw.contains('%')
}

/// A URL as the runtime's `URL` serialises it when it may hold a Unicode host; otherwise (or
/// when `URL` refuses it) unchanged, for the domain type to judge.
pub fn ascii_url(raw: &str) -> Cow<'_, str> {
    if !may_hold_unicode_host(raw) {
        return Cow::Borrowed(raw);
    }
    match runtime::href(raw) {
        Some(href) => Cow::Owned(href),
        None => Cow::Borrowed(raw),
    }
}

/// A bare host in ASCII form when it may be a Unicode one; otherwise unchanged.
pub fn ascii_host(raw: &str) -> Cow<'_, str> {
    let trimmed = raw.trim();
    if !may_hold_unicode_host(trimmed) || trimmed.contains(NOT_IN_A_HOST) || trimmed.is_empty() {
        return Cow::Borrowed(raw);
    }
    match runtime::hostname(trimmed) {
        Some(host) => Cow::Owned(host),
        None => Cow::Borrowed(raw),
    }
}

#[cfg(target_arch = "wasm32")]
mod runtime {
    use worker::wasm_bindgen::prelude::*;

    #[wasm_bindgen(inline_js = r#"
export function url_href(s) {
  try { return new URL(s).href; } catch { return undefined; }
}
export function url_hostname(h) {
  try { return new URL(`http://${h}/`).hostname; } catch { return undefined; }
}
"#)]
    extern "C" {
        fn url_href(s: &str) -> Option<String>;
        fn url_hostname(h: &str) -> Option<String>;
    }

    pub fn href(raw: &str) -> Option<String> {
        url_href(raw)
    }

    pub fn hostname(raw: &str) -> Option<String> {
        url_hostname(raw)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod runtime {
    pub fn href(_raw: &str) -> Option<String> {
        None
    }

    pub fn hostname(_raw: &str) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_input_never_reaches_the_runtime() {
        // Natively the runtime answers nothing, so borrowed output means "left alone".
        for raw in ["https://example.com/a?b=c", "example.com", "x.com/path"] {
            assert!(matches!(ascii_url(raw), Cow::Borrowed(r) if r == raw));
            assert!(matches!(ascii_host(raw), Cow::Borrowed(r) if r == raw));
        }
        assert!(may_hold_unicode_host("bücher.example"));
        assert!(may_hold_unicode_host("https://b%C3%BCcher.example/"));
        assert!(!may_hold_unicode_host("https://example.com/"));
    }
}
