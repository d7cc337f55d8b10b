//! [`Version`]: the order of the writes of one record (a link, a user). Pure; no clock of its own
//! (callers pass `now`), never imports `worker`.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// Orders the writes of one slug. It is the write's time in ms, or one more than the previous
/// version when the clock has not moved past it, so it increases with every write and keeps
/// increasing across delete and re-create (a delayed write of an earlier life can never win).
/// Fits in 2^53, so it survives D1's JS-number binding.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Version(u64);

impl Version {
    pub fn new(v: u64) -> Self {
        Self(v)
    }

    pub fn next(previous: Option<Version>, now: Timestamp) -> Self {
        let after_previous = previous.map_or(0, |p| p.0 + 1);
        Self(after_previous.max(now.as_millis()))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_follows_the_clock_and_always_increases() {
        let t = Timestamp::from_millis(5_000);
        assert_eq!(Version::next(None, t).get(), 5_000);
        assert_eq!(Version::next(Some(Version::new(4_000)), t).get(), 5_000);
        // Same millisecond, or a clock behind the last write: still strictly newer.
        assert_eq!(Version::next(Some(Version::new(5_000)), t).get(), 5_001);
        assert_eq!(Version::next(Some(Version::new(9_000)), t).get(), 9_001);
    }
}
