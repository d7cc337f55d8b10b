//! What the cron does with a pending marker whose repair failed (pure): retry it later, with
//! an exponential backoff, or, after a bounded number of attempts, park it (kept in KV with its
//! last error, listed in the consistency report, retried only by an admin). Also the grouping of
//! one run's markers by what they repair, so that each slug or user succeeds or fails alone.
//!
//! Nothing here reads the clock or a store: times and markers come in as arguments.

use std::ops::RangeInclusive;

use crate::store::kv::{PendingMarker, PendingTarget};
use crate::time::Timestamp;

/// Longest error kept in a marker's metadata (KV allows 1024 bytes of metadata a key).
pub const ERROR_MAX_BYTES: usize = 300;

/// How failed repairs are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Failed attempts after which a marker is parked.
    pub max_attempts: u32,
    /// Wait after the first failure; each further failure doubles it.
    pub base_millis: u64,
    /// The longest wait between two attempts.
    pub max_delay_millis: u64,
}

/// The next step for a marker whose repair just failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again once this time has come.
    RetryAt(Timestamp),
    /// Stop trying: park it.
    Park,
}

impl RetryPolicy {
    /// 8 attempts, 5 minutes doubling up to 6 hours: about 10 hours of tries (a D1 outage,
    /// which the cron tells apart and does not count, is not what this waits out).
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        max_attempts: 8,
        base_millis: 5 * 60 * 1000,
        max_delay_millis: 6 * 60 * 60 * 1000,
    };

    /// Reads `RECONCILE_PENDING_MAX_ATTEMPTS`, `RECONCILE_PENDING_BACKOFF_MS` and
    /// `RECONCILE_PENDING_MAX_BACKOFF_MS`; a missing or out-of-range value keeps the default.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let d = Self::DEFAULT;
        let num = |name: &str, default: u64, range: RangeInclusive<u64>| {
            get(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| range.contains(n))
                .unwrap_or(default)
        };
        const DAY: u64 = 24 * 60 * 60 * 1000;
        let attempts = num(
            "RECONCILE_PENDING_MAX_ATTEMPTS",
            u64::from(d.max_attempts),
            1..=100,
        );
        Self {
            max_attempts: u32::try_from(attempts).unwrap_or(d.max_attempts),
            base_millis: num("RECONCILE_PENDING_BACKOFF_MS", d.base_millis, 0..=DAY),
            max_delay_millis: num(
                "RECONCILE_PENDING_MAX_BACKOFF_MS",
                d.max_delay_millis,
                0..=7 * DAY,
            ),
        }
    }

    /// The wait after the `attempts`-th failure (1-based): `base · 2^(attempts−1)`, capped.
    pub fn delay_after(&self, attempts: u32) -> u64 {
        let doublings = attempts.saturating_sub(1).min(63);
        self.base_millis
            .saturating_mul(1u64 << doublings)
            .min(self.max_delay_millis)
    }

    /// What follows the `attempts`-th failed repair (counting this one), at `now`.
    pub fn after_failure(&self, attempts: u32, now: Timestamp) -> AfterFailure {
        if attempts >= self.max_attempts {
            AfterFailure::Park
        } else {
            let at = now.as_millis().saturating_add(self.delay_after(attempts));
            AfterFailure::RetryAt(Timestamp::from_millis(at))
        }
    }
}

/// Markers grouped by what they repair, in the order each target first appears: the unit that
/// succeeds or fails alone.
pub fn by_target(markers: &[PendingMarker]) -> Vec<(PendingTarget, Vec<&PendingMarker>)> {
    let mut groups: Vec<(PendingTarget, Vec<&PendingMarker>)> = Vec::new();
    for m in markers {
        match groups.iter_mut().find(|(t, _)| *t == m.target) {
            Some((_, ms)) => ms.push(m),
            None => groups.push((m.target.clone(), vec![m])),
        }
    }
    groups
}

/// `error` shortened to at most [`ERROR_MAX_BYTES`] bytes, on a character boundary.
pub fn short_error(error: &str) -> String {
    if error.len() <= ERROR_MAX_BYTES {
        return error.to_owned();
    }
    let mut end = ERROR_MAX_BYTES - '…'.len_utf8();
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::UserId;
    use crate::link::{Slug, Version};

    const MIN: u64 = 60_000;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let p = RetryPolicy::DEFAULT;
        let delays: Vec<u64> = (1..=8).map(|n| p.delay_after(n) / MIN).collect();
        assert_eq!(delays, vec![5, 10, 20, 40, 80, 160, 320, 360]);
        // Far past the cap, and at absurd counts, it neither overflows nor shrinks.
        assert_eq!(p.delay_after(64), p.max_delay_millis);
        assert_eq!(p.delay_after(u32::MAX), p.max_delay_millis);
        // The attempt that has not failed yet waits nothing extra.
        assert_eq!(p.delay_after(0), p.base_millis);
    }

    #[test]
    fn a_marker_is_retried_until_the_last_attempt_and_then_parked() {
        let p = RetryPolicy {
            max_attempts: 3,
            base_millis: 1000,
            max_delay_millis: 60_000,
        };
        let now = Timestamp::from_millis(10_000);
        assert_eq!(
            p.after_failure(1, now),
            AfterFailure::RetryAt(Timestamp::from_millis(11_000))
        );
        assert_eq!(
            p.after_failure(2, now),
            AfterFailure::RetryAt(Timestamp::from_millis(12_000))
        );
        assert_eq!(p.after_failure(3, now), AfterFailure::Park);
        assert_eq!(p.after_failure(4, now), AfterFailure::Park);
    }

    #[test]
    fn default_tries_for_hours_before_parking() {
        let p = RetryPolicy::DEFAULT;
        let waited: u64 = (1..p.max_attempts).map(|n| p.delay_after(n)).sum();
        assert!(waited >= 6 * 60 * MIN, "{waited}");
        assert!(waited <= 24 * 60 * MIN, "{waited}");
    }

    #[test]
    fn policy_reads_vars_and_keeps_defaults_for_bad_values() {
        let p = RetryPolicy::from_vars(|name| match name {
            "RECONCILE_PENDING_MAX_ATTEMPTS" => Some("3".into()),
            "RECONCILE_PENDING_BACKOFF_MS" => Some("0".into()),
            "RECONCILE_PENDING_MAX_BACKOFF_MS" => Some("-1".into()),
            _ => None,
        });
        assert_eq!(p.max_attempts, 3);
        assert_eq!(p.base_millis, 0);
        assert_eq!(p.max_delay_millis, RetryPolicy::DEFAULT.max_delay_millis);
        let zero = RetryPolicy::from_vars(|name| {
            (name == "RECONCILE_PENDING_MAX_ATTEMPTS").then(|| "0".into())
        });
        assert_eq!(zero.max_attempts, RetryPolicy::DEFAULT.max_attempts);
    }

    #[test]
    fn markers_are_grouped_by_target_in_first_seen_order() {
        let link = |s: &str, v: u64, at: u64| {
            PendingMarker::new(
                PendingTarget::Link(Slug::parse(s).unwrap()),
                Some(Version::new(v)),
                Timestamp::from_millis(at),
            )
        };
        let user = PendingMarker::new(
            PendingTarget::User(UserId::from_random("u1")),
            None,
            Timestamp::from_millis(2),
        );
        let ms = vec![
            link("bbb", 1, 1),
            user.clone(),
            link("aaa", 1, 3),
            link("bbb", 2, 4),
        ];
        let groups = by_target(&ms);
        let shape: Vec<(PendingTarget, usize)> =
            groups.iter().map(|(t, m)| (t.clone(), m.len())).collect();
        assert_eq!(
            shape,
            vec![
                (PendingTarget::Link(Slug::parse("bbb").unwrap()), 2),
                (user.target.clone(), 1),
                (PendingTarget::Link(Slug::parse("aaa").unwrap()), 1),
            ]
        );
    }

    #[test]
    fn long_errors_are_shortened_on_a_character_boundary() {
        assert_eq!(short_error("D1: boom"), "D1: boom");
        let long = "é".repeat(400);
        let short = short_error(&long);
        assert!(short.len() <= ERROR_MAX_BYTES);
        assert!(short.ends_with('…'));
    }
}
