//! Who is calling and what they may do: bearer-token parsing, the built-in admin token check
//! (constant time), and the authorisation rules as pure functions over a [`Caller`].
//!
//! Looking a key up in KV is the shell's job (`api::authenticate`); nothing here does I/O.

use serde::{Deserialize, Serialize};

use crate::account::{ApiKey, KeyHash, Role, UserId};

/// An authenticated caller. Serializable: it travels with each intent to the slug's Durable
/// Object, which decides what the caller may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    pub id: UserId,
    pub role: Role,
}

impl Caller {
    pub fn admin() -> Self {
        Self {
            id: UserId::admin(),
            role: Role::Admin,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Owners act on their own links; admins on every link. Anyone else is told the link does
    /// not exist, so that slugs in use are not revealed.
    pub fn may_manage(&self, owner: &UserId) -> bool {
        self.is_admin() || &self.id == owner
    }
}

/// What a bearer token claims to be, before any store is asked.
#[derive(Debug, PartialEq, Eq)]
pub enum Credential {
    Admin,
    Key(ApiKey),
}

/// Parses `Authorization: Bearer <token>` and classifies the token. `None` means 401.
/// `admin_token` is the configured `ADMIN_TOKEN`; an empty or missing one disables it.
pub fn credential(header: Option<&str>, admin_token: Option<&str>) -> Option<Credential> {
    let header = header?.trim();
    let (scheme, token) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    token_credential(token, admin_token)
}

/// Classifies a bare token (as Shlink clients send it in `X-Api-Key`). `None` means 401.
pub fn token_credential(token: &str, admin_token: Option<&str>) -> Option<Credential> {
    let token = token.trim();
    if token.is_empty() {
        return None;
    }
    if let Some(admin) = admin_token.filter(|t| !t.is_empty()) {
        // Compare digests: constant time, and the lengths never differ.
        if KeyHash::of(token).matches(&KeyHash::of(admin)) {
            return Some(Credential::Admin);
        }
    }
    ApiKey::parse(token).map(Credential::Key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "el_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn admin_token_is_recognised() {
        assert_eq!(
            credential(Some("Bearer s3cret"), Some("s3cret")),
            Some(Credential::Admin)
        );
        assert_eq!(
            credential(Some("bearer   s3cret "), Some("s3cret")),
            Some(Credential::Admin)
        );
    }

    #[test]
    fn wrong_or_missing_tokens_are_rejected() {
        assert_eq!(credential(None, Some("s3cret")), None);
        assert_eq!(credential(Some("Bearer"), Some("s3cret")), None);
        assert_eq!(credential(Some("Bearer "), Some("s3cret")), None);
        assert_eq!(credential(Some("Basic s3cret"), Some("s3cret")), None);
        assert_eq!(credential(Some("Bearer s3cre"), Some("s3cret")), None);
        assert_eq!(credential(Some("Bearer nope"), Some("s3cret")), None);
    }

    #[test]
    fn an_unset_admin_token_admits_nobody() {
        assert_eq!(credential(Some("Bearer "), Some("")), None);
        assert_eq!(credential(Some("Bearer x"), None), None);
    }

    #[test]
    fn key_shaped_tokens_become_key_credentials() {
        let got = credential(Some(&format!("Bearer {KEY}")), Some("s3cret"));
        assert_eq!(got, Some(Credential::Key(ApiKey::parse(KEY).unwrap())));
    }

    #[test]
    fn only_owner_or_admin_may_manage() {
        let owner = UserId::from_random("a");
        let user = Caller {
            id: owner.clone(),
            role: Role::User,
        };
        let other = Caller {
            id: UserId::from_random("b"),
            role: Role::User,
        };
        assert!(user.may_manage(&owner));
        assert!(!other.may_manage(&owner));
        assert!(Caller::admin().may_manage(&owner));
    }
}
