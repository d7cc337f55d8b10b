//! The rules of the visitor-id salt: `ANALYTICS_SALT` when the operator sets one; otherwise each
//! UTC day has its own random salt ([`DaySalt`]), made once by the Worker and gone two days later
//! ([`choose_salt`], [`day_salt_expires_at`]; `track` and `day_salt` keep it), so visitors are
//! counted without any configuration and a day's ids cannot be recomputed once its salt is gone.
//! Pure: never imports `worker`, draws no randomness, reads no clock.

use super::day::parse_day;

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

#[cfg(test)]
mod tests {
    use super::super::{is_day, visitor_id};
    use super::*;
    use crate::time::Timestamp;

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
}
