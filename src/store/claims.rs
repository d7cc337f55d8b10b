//! The slug-claim Durable Object (binding `SLUG_CLAIMS`, class `SlugClaim`, one instance per
//! slug) and [`Claims`], the Worker's client for it.
//!
//! The object stores one [`ClaimRecord`] and applies [`claim::decide`] to each request. The
//! runtime delivers a Durable Object's requests one at a time around storage operations (input
//! gates), so a read, decide, write here is atomic: of two concurrent claims, from any two
//! locations, exactly one is granted.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{
    durable_object, DurableObject, Env, Method, ObjectNamespace, Request, RequestInit, Response,
    State,
};

use super::StoreError;
use crate::claim::{self, ClaimOutcome, ClaimRecord, ClaimRequest};
use crate::link::Slug;
use crate::platform::{now, slug_quarantine_millis};

const RECORD_KEY: &str = "claim";
/// The URL is only a carrier: a stub routes by object id, not by host.
const CLAIM_URL: &str = "https://slug-claim.internal/";

#[durable_object]
pub struct SlugClaim {
    state: State,
    env: Env,
}

impl DurableObject for SlugClaim {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let Ok(request) = req.json::<ClaimRequest>().await else {
            return Response::error("bad claim request", 400);
        };
        let storage = self.state.storage();
        let existing: Option<ClaimRecord> = storage.get(RECORD_KEY).await?;
        let (outcome, record) = claim::decide(
            existing.as_ref(),
            &request,
            now(),
            slug_quarantine_millis(&self.env),
        );
        if let Some(record) = record {
            storage.put(RECORD_KEY, record).await?;
        }
        Response::from_json(&outcome)
    }
}

/// The Worker's side: one request to the slug's object per claim or release.
pub struct Claims {
    namespace: ObjectNamespace,
}

impl Claims {
    pub fn new(namespace: ObjectNamespace) -> Self {
        Self { namespace }
    }

    pub async fn request(
        &self,
        slug: &Slug,
        request: &ClaimRequest,
    ) -> Result<ClaimOutcome, StoreError> {
        let fail = |e: &dyn std::fmt::Display| StoreError::Claim(format!("{slug}: {e}"));
        let body = serde_json::to_string(request).map_err(|e| fail(&e))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(JsValue::from_str(&body)));
        let req = Request::new_with_init(CLAIM_URL, &init).map_err(|e| fail(&e))?;
        let stub = self
            .namespace
            .id_from_name(slug.as_str())
            .and_then(|id| id.get_stub())
            .map_err(|e| fail(&e))?;
        let mut resp = stub.fetch_with_request(req).await.map_err(|e| fail(&e))?;
        if resp.status_code() != 200 {
            return Err(fail(&format!("status {}", resp.status_code())));
        }
        #[derive(Deserialize)]
        #[serde(transparent)]
        struct Outcome(ClaimOutcome);
        resp.json::<Outcome>()
            .await
            .map(|o| o.0)
            .map_err(|e| fail(&e))
    }
}
