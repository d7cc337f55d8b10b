//! [`Claims`]: the Worker's client for the per-slug Durable Object (`objects::slug_claim`, class
//! `SlugClaim`) that every link write goes through, and the wire types of its two requests.
//!
//! A 2xx answer means KV has the change; a 5xx answer (an `Err` here) means nothing changed.
//! Never writes KV itself: only the object does.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::ObjectNamespace;

use super::{http, StoreError};
use crate::claim::{SlugRequest, SlugResponse};

/// The URL is only a carrier: a stub routes by object id, not by host.
const CLAIM_URL: &str = "https://slug-claim.internal/";
const CLICK_URL: &str = "https://slug-claim.internal/click";

/// `/click`: take one click of at most `limit` for the link's life `life`; with `take: false`
/// only say whether one is left (a HEAD).
#[derive(Debug, Serialize, Deserialize)]
pub struct ClickRequest {
    pub life: String,
    pub limit: u64,
    pub take: bool,
}

/// The object's answer to a [`ClickRequest`].
#[derive(Debug, Serialize, Deserialize)]
pub struct ClickAnswer {
    pub granted: bool,
}

/// The Worker's side: one request to the slug's object per write.
pub struct Claims {
    namespace: ObjectNamespace,
}

impl Claims {
    pub fn new(namespace: ObjectNamespace) -> Self {
        Self { namespace }
    }

    /// Sends one intent to the slug's object; its answer, or an error when nothing changed.
    pub async fn send(&self, request: &SlugRequest) -> Result<SlugResponse, StoreError> {
        self.call(request.slug.as_str(), CLAIM_URL, request).await
    }

    /// Takes one click of a limited link (or, with `take: false`, checks that one is left);
    /// `false` when none is left.
    pub async fn take_click(
        &self,
        slug: &str,
        life: &str,
        limit: u64,
        take: bool,
    ) -> Result<bool, StoreError> {
        let request = ClickRequest {
            life: life.to_owned(),
            limit,
            take,
        };
        let answer: ClickAnswer = self.call(slug, CLICK_URL, &request).await?;
        Ok(answer.granted)
    }

    async fn call<Q: Serialize, A: DeserializeOwned>(
        &self,
        slug: &str,
        url: &str,
        request: &Q,
    ) -> Result<A, StoreError> {
        http::ask_object(&self.namespace, slug, url, request)
            .await
            .map_err(|e| StoreError::Claim(format!("{slug}: {e}")))
    }
}
