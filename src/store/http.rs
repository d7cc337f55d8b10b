//! The outgoing requests the stores make (to the slug Durable Object, to the Analytics Engine
//! SQL API): a POST of a text body.
//!
//! Built on `web_sys` rather than `worker::RequestInit`: workers-rs converts its `RequestInit`
//! field by field, including every `cf` option (image resizing, minification…), 7 KB of wasm
//! for requests that set none of them.

use worker::wasm_bindgen::JsValue;
use worker::{web_sys, Request};

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
