//! The per-slug Durable Object (binding `SLUG_CLAIMS`, class `SlugClaim`) that every link write
//! goes through, and [`Claims`], the Worker's client for it.
//!
//! The object stores one [`ClaimRecord`], applies [`claim::decide`] to each request, performs
//! the KV write itself, and only then stores the record, all inside `blockConcurrencyWhile`: no
//! other request for the slug runs in between, from any location. A KV failure leaves the record
//! unchanged (the slug stays free, the version unused) and answers 500.
//!
//! The same object counts the clicks of a link with `max_clicks` (`/click`): one
//! [`ClickCount`] per life of the slug, taken one at a time, so a limit is exact under any
//! concurrency. Only limited links pay this round trip.

use worker::{
    console_error, durable_object, DurableObject, Env, ObjectNamespace, Request, Response, State,
    Storage,
};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{http, StoreError};
use crate::claim::{self, ClaimRecord, Decision, SlugRequest, SlugResponse};
use crate::lifecycle::{take_click, ClickCount};
use crate::link::Slug;
use crate::platform::{kv, link_kv_expiration, now, slug_quarantine_millis};
use crate::time::Timestamp;

const RECORD_KEY: &str = "claim";
const CLICKS_KEY: &str = "clicks";
/// The URL is only a carrier: a stub routes by object id, not by host.
const CLAIM_URL: &str = "https://slug-claim.internal/";
const CLICK_URL: &str = "https://slug-claim.internal/click";

/// `/click`: take one click of at most `limit` for the link's life `life`; with `take: false`
/// only say whether one is left (a HEAD).
#[derive(Debug, Serialize, Deserialize)]
struct ClickRequest {
    life: String,
    limit: u64,
    take: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct ClickAnswer {
    granted: bool,
}

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
        if req.path() == "/click" {
            return self.take_click(req).await;
        }
        let Some(request) = read_json::<SlugRequest>(&mut req).await else {
            return Response::error("bad slug request", 400);
        };
        let storage = self.state.storage();
        let env = self.env.clone();
        let quarantine = slug_quarantine_millis(&self.env);
        // The closure never fails: a rejected blockConcurrencyWhile resets the whole object and
        // fails every request queued behind this one. A failed write answers 500 alone.
        let outcome = self
            .state
            .block_concurrency_while(async move {
                Ok(apply(&storage, &env, &request, quarantine).await)
            })
            .await?;
        match outcome {
            Ok(answer) => Response::from_json(&answer),
            Err(e) => {
                console_error!("slug write failed: {e}");
                Response::error("slug write failed", 500)
            }
        }
    }
}

/// The request's JSON body; `None` when it is not there or does not parse. Read as text and
/// parsed by serde_json, the one JSON reader in the wasm (`Request::json` would parse in JS
/// and convert through serde-wasm-bindgen, a second deserializer for each type).
async fn read_json<T: DeserializeOwned>(req: &mut Request) -> Option<T> {
    serde_json::from_str(&req.text().await.ok()?).ok()
}

impl SlugClaim {
    async fn take_click(&self, mut req: Request) -> worker::Result<Response> {
        let Some(ClickRequest { life, limit, take }) = read_json(&mut req).await else {
            return Response::error("bad click request", 400);
        };
        let storage = self.state.storage();
        let outcome = self
            .state
            .block_concurrency_while(async move {
                // An unreadable count refuses the click (500 → the redirect answers 503): a
                // limit must never be exceeded, so failures close rather than open.
                let granted = match storage.get::<ClickCount>(CLICKS_KEY).await {
                    Ok(current) => match take_click(current.as_ref(), &life, limit) {
                        Some(next) if take => storage.put(CLICKS_KEY, next).await.map(|_| true),
                        Some(_) => Ok(true),
                        None => Ok(false),
                    },
                    Err(e) => Err(e),
                };
                Ok::<_, worker::Error>(granted)
            })
            .await?;
        match outcome {
            Ok(granted) => Response::from_json(&ClickAnswer { granted }),
            Err(e) => {
                console_error!("click count failed: {e}");
                Response::error("click count failed", 500)
            }
        }
    }
}

/// Decides the request, performs its KV effect, then stores the record; the record is left
/// unchanged when the KV write fails.
async fn apply(
    storage: &Storage,
    env: &Env,
    request: &SlugRequest,
    quarantine: u64,
) -> Result<SlugResponse, StoreError> {
    let existing: Option<ClaimRecord> = storage.get(RECORD_KEY).await.map_err(record_err)?;
    match claim::decide(existing.as_ref(), request, now(), quarantine) {
        Decision::Put { link, mut record } => {
            let expiration = link_kv_expiration(env, link.expires_at);
            kv(env)?.put_link(&link, expiration).await?;
            record.dropped_at = expiration.map(|secs| Timestamp::from_millis(secs * 1000));
            storage.put(RECORD_KEY, record).await.map_err(record_err)?;
            Ok(SlugResponse::Written { link })
        }
        Decision::Remove {
            slug,
            version,
            record,
        } => {
            kv(env)?.delete_link(&slug).await?;
            storage.put(RECORD_KEY, record).await.map_err(record_err)?;
            Ok(SlugResponse::Deleted { version })
        }
        Decision::Refuse(answer) => Ok(answer),
    }
}

fn record_err(e: worker::Error) -> StoreError {
    StoreError::Claim(format!("claim record: {e}"))
}

/// The Worker's side: one request to the slug's object per write.
pub struct Claims {
    namespace: ObjectNamespace,
}

impl Claims {
    pub fn new(namespace: ObjectNamespace) -> Self {
        Self { namespace }
    }

    pub async fn send(
        &self,
        slug: &Slug,
        request: &SlugRequest,
    ) -> Result<SlugResponse, StoreError> {
        self.call(slug.as_str(), CLAIM_URL, request).await
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
        let fail = |e: &dyn std::fmt::Display| StoreError::Claim(format!("{slug}: {e}"));
        let body = serde_json::to_string(request).map_err(|e| fail(&e))?;
        let req = http::post(url, &[], &body).map_err(|e| fail(&worker::Error::from(e)))?;
        let stub = self
            .namespace
            .id_from_name(slug)
            .and_then(|id| id.get_stub())
            .map_err(|e| fail(&e))?;
        let mut resp = stub.fetch_with_request(req).await.map_err(|e| fail(&e))?;
        if resp.status_code() != 200 {
            let text = resp.text().await.unwrap_or_default();
            return Err(fail(&format!("status {}: {text}", resp.status_code())));
        }
        resp.json::<A>().await.map_err(|e| fail(&e))
    }
}
