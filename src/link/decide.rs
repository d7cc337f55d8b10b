//! The redirect decision: what `GET /<slug>` answers ([`Redirect::decide`]) from the few fields
//! of a stored link a redirect reads ([`StoredRedirect`]). Pure and allocation-free: it runs on
//! the hot path. Never imports `worker`; reads the clock only through the `now` it is handed.

use crate::lifecycle::RedirectType;
use crate::moderation::FlagReason;
use crate::time::Timestamp;

/// A stored link as a redirect reads it: the fields of [`super::Link`]'s JSON that decide what a
/// visitor gets. The destination is not among them: the caller keeps it where it was read.
///
/// On the edge these come from the runtime's `JSON.parse` of the KV value, with their JSON types
/// checked by the JS side of `api::redirect` (`link_shape` in src/api/redirect.js: a field of
/// the wrong type, or a missing `url`, `slug`, `owner` or `created_at`, and there is no
/// `StoredRedirect`: the value is not a link).
/// Their values are checked by [`Redirect::decide`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredRedirect<'a> {
    pub is_active: bool,
    pub flag_reason: Option<&'a str>,
    pub expires_at: Option<&'a str>,
    /// Before this instant the link answers 404, as if it did not exist yet.
    pub valid_since: Option<&'a str>,
    /// The number stored (302 when absent, as `Link` reads it).
    pub redirect_type: u16,
    pub forward_query: bool,
    /// The JSON number stored, if any.
    pub max_clicks: Option<f64>,
}

/// What `GET /<slug>` answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Redirect {
    To(Hop),
    NotFound,
    Unavailable(Unavailable),
}

/// How a redirect sends its visitor on to the stored `url`, and whether its clicks are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    pub redirect_type: RedirectType,
    pub forward_query: bool,
    pub max_clicks: Option<u64>,
}

/// Why a link does not redirect, as its visitors are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// Switched off by its owner.
    Disabled,
    /// Flagged by an admin, with the reason category.
    Flagged(FlagReason),
    /// Past its `expires_at`.
    Expired,
    /// All of its `max_clicks` used.
    LimitReached,
}

impl Redirect {
    /// Decides the redirect from the stored link of `link:<slug>`; `None` is a missing key or a
    /// value that is not a link. A value that [`super::Link`] could not have been read from (a redirect
    /// type, click limit or expiry it does not write) is treated as missing rather than
    /// redirecting anywhere. The clock is read only for a link that has an expiry.
    pub fn decide(stored: Option<StoredRedirect>, now: impl FnOnce() -> Timestamp) -> Self {
        let Some(f) = stored else {
            return Redirect::NotFound;
        };
        let Some(redirect_type) = RedirectType::from_status(f.redirect_type) else {
            return Redirect::NotFound;
        };
        let max_clicks = match f.max_clicks.map(whole_number) {
            None => None,
            Some(None) => return Redirect::NotFound,
            Some(limit) => limit,
        };
        if !f.is_active {
            return Redirect::Unavailable(match f.flag_reason {
                // Only the flag endpoint writes a reason, and it takes categories only; anything
                // else in KV still stops the link, and visitors learn no more than "other".
                Some(reason) => {
                    Unavailable::Flagged(FlagReason::parse(reason).unwrap_or(FlagReason::Other))
                }
                None => Unavailable::Disabled,
            });
        }
        // The clock is read at most once, and only for a link with an expiry or a start.
        let mut clock = Some(now);
        let mut read = None;
        let mut now = move || match clock.take() {
            Some(f) => *read.insert(f()),
            None => read.unwrap_or(Timestamp::from_millis(0)),
        };
        if let Some(raw) = f.valid_since {
            match Timestamp::parse(raw) {
                Some(since) if since <= now() => {}
                _ => return Redirect::NotFound,
            }
        }
        if let Some(raw) = f.expires_at {
            match Timestamp::parse(raw) {
                Some(at) if at > now() => {}
                Some(_) => return Redirect::Unavailable(Unavailable::Expired),
                None => return Redirect::NotFound,
            }
        }
        Redirect::To(Hop {
            redirect_type,
            forward_query: f.forward_query,
            max_clicks,
        })
    }
}

/// A JSON number as the `u64` serde would have read: whole, not negative, and exact (JSON
/// numbers reach Rust through JS doubles, exact up to 2^53).
fn whole_number(n: f64) -> Option<u64> {
    // 2^53. `as` saturates and drops the fraction; the checks make the conversion exact.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    ((0.0..=EXACT).contains(&n) && n.fract() == 0.0).then_some(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the JS side's `link_shape` reads from a fresh link's JSON (tests/js/redirect.test.mjs
    /// checks that side on real stored values): active, no flag, no expiry, 302, forwarding.
    fn plain() -> StoredRedirect<'static> {
        StoredRedirect {
            is_active: true,
            flag_reason: None,
            expires_at: None,
            valid_since: None,
            redirect_type: 302,
            forward_query: true,
            max_clicks: None,
        }
    }

    fn at(now: u64) -> impl FnOnce() -> Timestamp {
        move || Timestamp::from_millis(now)
    }

    #[test]
    fn redirect_decision_reads_only_state_expiry_and_options() {
        assert_eq!(
            Redirect::decide(Some(plain()), at(2)),
            Redirect::To(Hop {
                redirect_type: RedirectType::Found,
                forward_query: true,
                max_clicks: None,
            })
        );
        let off = StoredRedirect {
            is_active: false,
            ..plain()
        };
        assert_eq!(
            Redirect::decide(Some(off), at(2)),
            Redirect::Unavailable(Unavailable::Disabled)
        );
        let flagged = |reason| StoredRedirect {
            is_active: false,
            flag_reason: Some(reason),
            ..plain()
        };
        assert_eq!(
            Redirect::decide(Some(flagged("spam")), at(2)),
            Redirect::Unavailable(Unavailable::Flagged(FlagReason::Spam))
        );
        assert_eq!(
            Redirect::decide(Some(flagged("<b>odd</b>")), at(2)),
            Redirect::Unavailable(Unavailable::Flagged(FlagReason::Other))
        );
        assert_eq!(
            Redirect::decide(None, || unreachable!()),
            Redirect::NotFound
        );
    }

    #[test]
    fn redirect_decision_honours_expiry_type_and_query_option() {
        let l = StoredRedirect {
            expires_at: Some("1970-01-01T00:00:00.100Z"),
            redirect_type: 308,
            forward_query: false,
            max_clicks: Some(5.0),
            ..plain()
        };
        assert_eq!(
            Redirect::decide(Some(l), at(99)),
            Redirect::To(Hop {
                redirect_type: RedirectType::Permanent,
                forward_query: false,
                max_clicks: Some(5),
            })
        );
        assert_eq!(
            Redirect::decide(Some(l), at(100)),
            Redirect::Unavailable(Unavailable::Expired)
        );
        // A link without an expiry never reads the clock.
        assert!(matches!(
            Redirect::decide(Some(plain()), || unreachable!()),
            Redirect::To(_)
        ));
    }

    #[test]
    fn before_valid_since_a_link_is_not_found_and_after_it_redirects() {
        let l = StoredRedirect {
            valid_since: Some("1970-01-01T00:00:00.100Z"),
            expires_at: Some("1970-01-01T00:00:00.200Z"),
            ..plain()
        };
        assert_eq!(Redirect::decide(Some(l), at(99)), Redirect::NotFound);
        assert!(matches!(
            Redirect::decide(Some(l), at(100)),
            Redirect::To(_)
        ));
        assert_eq!(
            Redirect::decide(Some(l), at(200)),
            Redirect::Unavailable(Unavailable::Expired)
        );
        let bad = StoredRedirect {
            valid_since: Some("soon"),
            ..plain()
        };
        assert_eq!(Redirect::decide(Some(bad), at(1)), Redirect::NotFound);
    }

    #[test]
    fn a_value_link_could_not_have_written_is_no_link() {
        // The values `link_shape` lets through (their JSON types are right) that `Link` could
        // not have written; the wrong JSON types are the JS side's (tests/js/redirect.test.mjs).
        for bad in [
            StoredRedirect {
                redirect_type: 303,
                ..plain()
            },
            StoredRedirect {
                redirect_type: 0,
                ..plain()
            },
            StoredRedirect {
                max_clicks: Some(-1.0),
                ..plain()
            },
            StoredRedirect {
                max_clicks: Some(1.5),
                ..plain()
            },
            StoredRedirect {
                max_clicks: Some(1e300),
                ..plain()
            },
            StoredRedirect {
                max_clicks: Some(f64::NAN),
                ..plain()
            },
            StoredRedirect {
                expires_at: Some("tomorrow"),
                ..plain()
            },
        ] {
            assert_eq!(
                Redirect::decide(Some(bad), at(2)),
                Redirect::NotFound,
                "{bad:?}"
            );
        }
        // The largest click limit a JSON number holds exactly still counts.
        assert_eq!(
            Redirect::decide(
                Some(StoredRedirect {
                    max_clicks: Some(9_007_199_254_740_992.0),
                    ..plain()
                }),
                at(2)
            ),
            Redirect::To(Hop {
                redirect_type: RedirectType::Found,
                forward_query: true,
                max_clicks: Some(1 << 53),
            })
        );
    }
}
