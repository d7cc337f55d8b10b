//! The outgoing requests the stores make (to the Durable Objects, to the Analytics Engine SQL
//! API): a POST of a text body, and a JSON request to a named object with its JSON answer;
//! and the one way a JSON answer is made from its text, for the API and the objects alike.
//!
//! Built on `web_sys` rather than `worker::RequestInit`: workers-rs converts its `RequestInit`
//! field by field, including every `cf` option (image resizing, minification…), 7 KB of wasm
//! for requests that set none of them.

use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::wasm_bindgen::JsValue;
use worker::{web_sys, ObjectNamespace, Request, Response};

/// `POST url` with `body` and `headers` (name, value).
pub fn post(url: &str, headers: &[(&str, &str)], body: &str) -> Result<Request, JsValue> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    if !headers.is_empty() {
        let h = web_sys::Headers::new()?;
        for (name, value) in headers {
            h.set(name, value)?;
        }
        init.set_headers(&h);
    }
    init.set_body(&JsValue::from_str(body));
    Ok(web_sys::Request::new_with_str_and_init(url, &init)?.into())
}

/// A JSON answer of `status` from already serialised `text`, as workers-rs's
/// `Response::from_json` makes one, without its copy per serialised type in the wasm.
pub fn json_response(status: u16, text: String) -> worker::Result<Response> {
    Ok(Response::builder()
        .with_status(status)
        .with_header("Content-Type", "application/json")?
        .fixed(text.into_bytes()))
}

/// What workers-rs's `from_json` reports for a value that does not serialise.
pub fn unencodable() -> worker::Error {
    worker::Error::Json(("Failed to encode data to json".into(), 500))
}

/// Sends `request` as JSON to the object `name` of `namespace` at `url` (only a carrier: a
/// stub routes by object id) and reads its JSON answer; anything but a 200 is an error with the
/// answer's text. Errors are described for the caller's own error variant.
pub async fn ask_object<Q: Serialize, A: DeserializeOwned>(
    namespace: &ObjectNamespace,
    name: &str,
    url: &str,
    request: &Q,
) -> Result<A, String> {
    let body = serde_json::to_string(request).map_err(|e| e.to_string())?;
    let text = exchange(namespace, name, url, &body).await?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// The round trip of [`ask_object`], apart from its per-type JSON: one copy in the wasm.
async fn exchange(
    namespace: &ObjectNamespace,
    name: &str,
    url: &str,
    body: &str,
) -> Result<String, String> {
    let req = post(url, &[], body).map_err(|e| worker::Error::from(e).to_string())?;
    let stub = namespace
        .id_from_name(name)
        .and_then(|id| id.get_stub())
        .map_err(|e| e.to_string())?;
    let mut resp = stub
        .fetch_with_request(req)
        .await
        .map_err(|e| e.to_string())?;
    let text = resp.text().await.map_err(|e| e.to_string())?;
    if resp.status_code() != 200 {
        return Err(format!("status {}: {text}", resp.status_code()));
    }
    Ok(text)
}
