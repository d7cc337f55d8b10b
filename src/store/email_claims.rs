//! [`EmailClaims`]: the Worker's client for the per-address Durable Object
//! (`objects::email_claim`, class `EmailClaim`) that makes user creation atomic per e-mail
//! address, and the wire types of a create.
//!
//! A 2xx answer means KV has the user; a 5xx answer (an `Err` here) means nothing changed.
//! Never writes KV itself: only the object does.

use serde::{Deserialize, Serialize};
use worker::ObjectNamespace;

use super::{http, StoreError};
use crate::account::User;

/// The URL is only a carrier: a stub routes by object id, not by host.
const CLAIM_URL: &str = "https://email-claim.internal/";

/// A create: the user to write, keyed by its address.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClaimRequest {
    pub user: User,
}

/// The object's answer to a create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailAnswer {
    /// KV has the new user.
    Created,
    /// Another user has the address; nothing was written.
    Taken,
}

/// The Worker's side: one request to the address's object per create.
pub struct EmailClaims {
    namespace: ObjectNamespace,
}

impl EmailClaims {
    pub fn new(namespace: ObjectNamespace) -> Self {
        Self { namespace }
    }

    /// Creates `user` in KV unless another user has the address.
    pub async fn create(&self, user: &User) -> Result<EmailAnswer, StoreError> {
        let address = user.email.as_str();
        let request = ClaimRequest { user: user.clone() };
        http::ask_object(&self.namespace, address, CLAIM_URL, &request)
            .await
            .map_err(|e| StoreError::EmailClaim(format!("{address}: {e}")))
    }
}
