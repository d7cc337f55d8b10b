//! The Durable Object classes: entry points the runtime calls, like the Worker's own
//! `fetch`, `queue` and `scheduled` handlers, each in its own module. The Worker never calls
//! their code directly: it sends them requests through the clients in `store`
//! (`store::claims`, `store::email_claims`, `store::day_salt`), which own the wire types.
//!
//! An object reads its configuration and bindings through `app` (`app::config`, `app::kv`),
//! never through anything above it.

pub mod day_salt;
pub mod email_claim;
pub mod slug_claim;

use std::future::Future;
use std::pin::Pin;

use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{console_error, Request, Response, State};

use crate::store::{http, StoreError};

/// The request's JSON body; `None` when it is not there or does not parse. Read as text and
/// parsed by serde_json, the one JSON reader in the wasm (`Request::json` would parse in JS
/// and convert through serde-wasm-bindgen, a second deserializer for each type).
async fn read_json<T: DeserializeOwned>(req: &mut Request) -> Option<T> {
    serde_json::from_str(&req.text().await.ok()?).ok()
}

/// Answers a request of an object: its JSON body read as `Q` (else 400), `work` run on it with
/// no other request of the object in between (`blockConcurrencyWhile`), and its answer as
/// JSON, or 500 with the failure logged under `what`. The closure never fails: a rejected
/// `blockConcurrencyWhile` resets the whole object and fails every request queued behind this
/// one, where a failed step should answer 500 alone.
async fn one_at_a_time<Q, A, F>(
    state: &State,
    mut req: Request,
    what: &str,
    work: impl FnOnce(Q) -> F,
) -> worker::Result<Response>
where
    Q: DeserializeOwned,
    A: Serialize + 'static,
    F: Future<Output = Result<A, StoreError>> + 'static,
{
    let Some(request) = read_json::<Q>(&mut req).await else {
        return Response::error(format!("bad {what} request"), 400);
    };
    let work = work(request);
    // The answer as JSON text (`None`: it does not serialise), so that what follows is one
    // copy in the wasm whatever the object, not one per request type.
    exclusive(
        state,
        what,
        Box::pin(async move {
            let answer = work.await?;
            Ok(serde_json::to_string(&answer).ok())
        }),
    )
    .await
}

type Work = Pin<Box<dyn Future<Output = Result<Option<String>, StoreError>>>>;

/// [`one_at_a_time`] from the request on: `work` inside `blockConcurrencyWhile`, its JSON
/// answered as workers-rs's `Response::from_json` would answer it.
async fn exclusive(state: &State, what: &str, work: Work) -> worker::Result<Response> {
    let outcome = state
        .block_concurrency_while(async move { Ok(work.await) })
        .await?;
    match outcome {
        Ok(Some(json)) => http::json_response(200, json),
        Ok(None) => Err(http::unencodable()),
        Err(e) => {
            console_error!("{what} failed: {e}");
            Response::error(format!("{what} failed"), 500)
        }
    }
}
