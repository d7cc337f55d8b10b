//! Rate limits, the pure part: which API limit the configuration asks for ([`ApiLimit`]) and
//! what a request is counted by ([`api_key`]). The counting is the Workers rate limiting binding's
//! (`[[ratelimits]]` in wrangler.toml), reached through `api::ratelimit` and `src/ratelimit.js`.
//!
//! Two limits, both over Cloudflare's fixed one-minute windows, counted per Cloudflare location
//! (the binding's scope: a client spread over many locations gets the limit in each):
//! - the API (`/api/…` and the Shlink API under `/rest/`), per API key or admin token: 600 a
//!   minute by default. The binding's limit is fixed in wrangler.toml (`API_LIMITER`), not read
//!   at run time; the `API_RATE_LIMIT` var must say the same number (a JS test checks they
//!   agree), is the number 429 messages name, and `0` or `off` there turns the API limit off.
//! - password guesses, per client (IP) and link (`PASSWORD_LIMITER`, 10 a minute; counted in
//!   `src/api/redirect.js`).
//!
//! Redirects are never limited. Over a limit: 429 with `Retry-After: 60` (the most a window
//! can have left; the binding does not say when the window ends).
//!
//! Pure: no `worker`.

use crate::account::KeyHash;
use crate::auth::Credential;

/// `Retry-After` of a 429: one window.
pub const WINDOW_SECS: u32 = 60;
/// `API_RATE_LIMIT` unset: the binding's limit as shipped.
pub const DEFAULT_API_RATE_LIMIT: u32 = 600;
/// Password guesses a client may make on one link in a window (`PASSWORD_LIMITER`).
pub const PASSWORD_GUESS_LIMIT: u32 = 10;

/// Whether API requests are limited, and the limit's number as the operator set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiLimit {
    Off,
    PerMinute(u32),
}

impl ApiLimit {
    /// The `API_RATE_LIMIT` var: a number of requests a minute (`0` is off), or `off`;
    /// unset or unreadable keeps the default (a typo must not switch the limit off).
    pub fn parse(var: Option<&str>) -> Self {
        let Some(raw) = var.map(str::trim) else {
            return ApiLimit::PerMinute(DEFAULT_API_RATE_LIMIT);
        };
        if raw.eq_ignore_ascii_case("off") {
            return ApiLimit::Off;
        }
        match raw.parse::<u32>() {
            Ok(0) => ApiLimit::Off,
            Ok(n) => ApiLimit::PerMinute(n),
            Err(_) => ApiLimit::PerMinute(DEFAULT_API_RATE_LIMIT),
        }
    }
}

/// What an API request is counted by, and its name in a 429 message: the admin token, or the
/// API key (by a prefix of its hash: the key itself never leaves the request). A key that
/// turns out unknown is counted too, so guessing keys is limited as well.
pub fn api_key(credential: &Credential) -> (String, &'static str) {
    match credential {
        Credential::Admin => counted_as(None),
        Credential::Key(key) => counted_as(Some(&key.hash())),
    }
}

/// [`api_key`] by the key's hash, `None` being the admin token: a dashboard session counts
/// against the key (or token) it was signed in with, so a cookie is no way around the limit.
pub fn counted_as(key: Option<&KeyHash>) -> (String, &'static str) {
    match key {
        None => ("admin".to_owned(), "admin token"),
        Some(hash) => {
            let prefix: String = hash.as_str().chars().take(32).collect();
            (format!("key:{prefix}"), "API key")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::ApiKey;

    #[test]
    fn the_var_sets_the_limit_or_turns_it_off() {
        assert_eq!(ApiLimit::parse(None), ApiLimit::PerMinute(600));
        assert_eq!(ApiLimit::parse(Some(" 120 ")), ApiLimit::PerMinute(120));
        assert_eq!(ApiLimit::parse(Some("0")), ApiLimit::Off);
        assert_eq!(ApiLimit::parse(Some("OFF")), ApiLimit::Off);
        assert_eq!(ApiLimit::parse(Some("lots")), ApiLimit::PerMinute(600));
        assert_eq!(ApiLimit::parse(Some("-1")), ApiLimit::PerMinute(600));
    }

    #[test]
    fn keys_and_the_admin_are_counted_apart() {
        let admin = api_key(&Credential::Admin);
        assert_eq!(admin, ("admin".to_owned(), "admin token"));
        let a = api_key(&Credential::Key(ApiKey::from_random("aaaaaaaa")));
        let b = api_key(&Credential::Key(ApiKey::from_random("bbbbbbbb")));
        assert_ne!(a.0, b.0);
        assert!(a.0.starts_with("key:") && !a.0.contains("aaaa"));
        assert_eq!(a.1, "API key");
    }
}
