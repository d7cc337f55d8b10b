//! Browser sessions: the dashboard signs in once with an API key (or the admin token) and then
//! carries a cookie instead of the key. What a session is ([`SessionRecord`], kept in KV under
//! the SHA-256 of its id, never the id itself), the cookie both ways ([`session_cookie`],
//! [`set_cookie`], [`clear_cookie`]), when one has ended ([`SessionRecord::is_live`]) and the
//! CSRF rule for requests the cookie authenticates ([`csrf_satisfied`]).
//!
//! Pure: the id is drawn by the shell and passed in; KV is the shell's.

use serde::{Deserialize, Serialize};

use crate::account::{KeyHash, Role, UserId};
use crate::route::Method;
use crate::time::Timestamp;

/// The cookie's name.
pub const COOKIE_NAME: &str = "edgelink_session";
/// The header a state-changing request authenticated by the cookie must carry, set to `1`.
/// A cross-site form cannot set a header, and a cross-site `fetch` that does is preflighted,
/// which this Worker never grants on `/api`; so its presence proves the request is the
/// dashboard's own.
pub const CSRF_HEADER: &str = "X-Edgelink-Csrf";
/// Random characters of a session id: as many as an API key's (≈ 190 bits).
pub const SESSION_ID_LEN: usize = 32;
pub const DEFAULT_SESSION_DAYS: u64 = 14;
/// `SESSION_DAYS` is clamped to this: a year is already longer than a browser should stay
/// signed in without asking again.
pub const MAX_SESSION_DAYS: u64 = 365;
const DAY_SECS: u64 = 24 * 60 * 60;

/// A session's secret id, as the cookie carries it: exactly [`SESSION_ID_LEN`] ASCII letters
/// and digits (anything else is no session, so a forged cookie costs no KV read).
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId(String);

impl SessionId {
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == SESSION_ID_LEN && raw.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What KV stores it under: a leaked KV listing or backup holds no usable cookie.
    pub fn hash(&self) -> KeyHash {
        KeyHash::of(&self.0)
    }
}

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionId(…)")
    }
}

/// What KV keeps under `session:<sha256 hex of id>`: who signed in, with which credential, and
/// until when. The credential's hash is kept so that revoking the key (or rotating
/// `ADMIN_TOKEN`) ends the sessions made from it: each use looks the key up again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The user, or `admin` for the built-in admin.
    pub user: UserId,
    /// `Admin` only for the built-in admin's token; a user's role is read from the user on
    /// each use, so a demotion takes effect at once.
    pub role: Role,
    /// The SHA-256 of the API key or admin token it was made from.
    pub key: KeyHash,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl SessionRecord {
    /// A session made at `now` lasting `days`.
    pub fn new(user: UserId, role: Role, key: KeyHash, now: Timestamp, days: u64) -> Self {
        let expires_at =
            Timestamp::from_millis(now.as_millis().saturating_add(days_secs(days) * 1000));
        Self {
            user,
            role,
            key,
            created_at: now,
            expires_at,
        }
    }

    /// KV drops the record by itself at expiry; this check covers KV's lag in doing so.
    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }

    /// The KV `expiration` (seconds since the epoch), rounded up.
    pub fn kv_expiration(&self) -> u64 {
        self.expires_at.as_millis().div_ceil(1000)
    }

    /// Whether the built-in admin's session still stands for the configured token (`None` when
    /// the admin is disabled): rotating `ADMIN_TOKEN` signs every admin session out.
    pub fn admin_token_still(&self, admin_token: Option<&str>) -> bool {
        admin_token
            .filter(|t| !t.is_empty())
            .is_some_and(|t| KeyHash::of(t).matches(&self.key))
    }
}

/// `SESSION_DAYS` in seconds (the cookie's `Max-Age`).
pub fn days_secs(days: u64) -> u64 {
    days.saturating_mul(DAY_SECS)
}

/// `SESSION_DAYS` as configured: 1 to [`MAX_SESSION_DAYS`], else the default.
pub fn session_days(raw: Option<&str>) -> u64 {
    raw.and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|d| (1..=MAX_SESSION_DAYS).contains(d))
        .unwrap_or(DEFAULT_SESSION_DAYS)
}

/// The session id in a `Cookie` header, if it carries a well-formed one. The first
/// `edgelink_session` wins, as browsers send the most specific path first.
pub fn session_cookie(header: Option<&str>) -> Option<SessionId> {
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .and_then(|(_, value)| SessionId::parse(value.trim().trim_matches('"')))
}

/// The `Set-Cookie` value that signs a browser in. `HttpOnly`: page scripts never see it;
/// `SameSite=Strict`: no other site's page sends it; `Secure`: never over plain HTTP (browsers
/// treat `localhost` as secure, so local development works).
pub fn set_cookie(id: &SessionId, max_age_secs: u64) -> String {
    format!(
        "{COOKIE_NAME}={}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={max_age_secs}",
        id.expose()
    )
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE_NAME}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0")
}

/// Whether a request the cookie authenticates may go on: reads always; a state-changing
/// method only with `X-Edgelink-Csrf: 1`. Requests with a bearer token never reach this
/// (a cross-site page cannot attach one).
pub fn csrf_satisfied(method: Method, header: Option<&str>) -> bool {
    match method {
        Method::Get | Method::Head => true,
        // Any other method (PUT, OPTIONS…) is treated as a change: the safe default.
        Method::Post | Method::Patch | Method::Delete | Method::Other => {
            header.is_some_and(|v| v.trim() == "1")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "abcdefghijklmnopqrstuvwxyz012345";

    #[test]
    fn ids_are_32_alphanumerics() {
        assert!(SessionId::parse(ID).is_some());
        for bad in [
            "",
            "short",
            &ID[1..],
            &format!("{ID}x"),
            "abcdefghijklmnopqrstuvwxyz01234-",
        ] {
            assert!(SessionId::parse(bad).is_none(), "{bad:?}");
        }
        assert!(!format!("{:?}", SessionId::parse(ID).unwrap()).contains("abc"));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let id = |h: &str| session_cookie(Some(h)).map(|s| s.expose().to_owned());
        assert_eq!(id(&format!("edgelink_session={ID}")), Some(ID.into()));
        assert_eq!(
            id(&format!("a=1; edgelink_session={ID}; b=2")),
            Some(ID.into())
        );
        assert_eq!(id(&format!("edgelink_session=\"{ID}\"")), Some(ID.into()));
        assert_eq!(id(&format!("xedgelink_session={ID}")), None);
        assert_eq!(id("edgelink_session=nope"), None);
        assert_eq!(id("edgelink_session="), None);
        assert_eq!(id(""), None);
        assert_eq!(session_cookie(None), None);
    }

    #[test]
    fn cookies_set_and_clear_with_every_attribute() {
        let id = SessionId::parse(ID).unwrap();
        assert_eq!(
            set_cookie(&id, 1_209_600),
            format!(
                "edgelink_session={ID}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=1209600"
            )
        );
        assert!(clear_cookie().starts_with("edgelink_session=;"));
        assert!(clear_cookie().ends_with("Max-Age=0"));
    }

    #[test]
    fn state_changes_by_cookie_need_the_csrf_header() {
        for m in [Method::Get, Method::Head] {
            assert!(csrf_satisfied(m, None));
        }
        for m in [Method::Post, Method::Patch, Method::Delete, Method::Other] {
            assert!(!csrf_satisfied(m, None), "{m:?}");
            assert!(!csrf_satisfied(m, Some("0")), "{m:?}");
            assert!(!csrf_satisfied(m, Some("")), "{m:?}");
            assert!(csrf_satisfied(m, Some("1")), "{m:?}");
            assert!(csrf_satisfied(m, Some(" 1 ")), "{m:?}");
        }
    }

    #[test]
    fn sessions_end_at_their_expiry() {
        let now = Timestamp::from_millis(1_000_000);
        let s = SessionRecord::new(UserId::admin(), Role::Admin, KeyHash::of("t"), now, 14);
        assert_eq!(s.expires_at.as_millis(), 1_000_000 + 14 * 86_400_000);
        assert!(s.is_live(now));
        assert!(s.is_live(Timestamp::from_millis(s.expires_at.as_millis() - 1)));
        assert!(!s.is_live(s.expires_at));
        assert_eq!(s.kv_expiration(), (1_000_000 + 14 * 86_400_000) / 1000);
    }

    #[test]
    fn admin_sessions_end_when_the_token_changes() {
        let now = Timestamp::from_millis(0);
        let s = SessionRecord::new(UserId::admin(), Role::Admin, KeyHash::of("t"), now, 1);
        assert!(s.admin_token_still(Some("t")));
        assert!(!s.admin_token_still(Some("t2")));
        assert!(!s.admin_token_still(Some("")));
        assert!(!s.admin_token_still(None));
    }

    #[test]
    fn session_days_are_bounded() {
        assert_eq!(session_days(None), 14);
        assert_eq!(session_days(Some("7")), 7);
        assert_eq!(session_days(Some(" 30 ")), 30);
        assert_eq!(session_days(Some("0")), 14);
        assert_eq!(session_days(Some("366")), 14);
        assert_eq!(session_days(Some("x")), 14);
        assert_eq!(days_secs(14), 1_209_600);
    }
}
