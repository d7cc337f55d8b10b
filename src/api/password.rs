//! A link password hashed for create and PATCH through the runtime's WebCrypto
//! (`password.js`: PBKDF2-SHA256, 100,000 iterations, a random salt), never in the wasm: the
//! runtime's PBKDF2 is native and already there, a Rust one would be code in every isolate's
//! bundle. Checking a guess is the redirect's (`redirect.js`).

use worker::js_sys::Promise;
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen_futures::JsFuture;

use crate::error::ApiError;
use crate::link::{Password, PasswordHash};

#[wasm_bindgen(module = "/src/api/password.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = hash_password)]
    fn hash_password_js(password: &str) -> Result<Promise, JsValue>;
}

/// The stored hash of `password`, with a fresh salt.
pub async fn hash_password(password: &Password) -> Result<PasswordHash, ApiError> {
    let failed = |e: JsValue| ApiError::Internal(format!("hashing a password: {e:?}"));
    let promise = hash_password_js(password.as_str()).map_err(failed)?;
    let value = JsFuture::from(promise).await.map_err(failed)?;
    let text = value
        .as_string()
        .ok_or_else(|| ApiError::Internal("hashing a password: no text".into()))?;
    PasswordHash::parse(&text)
        .map_err(|e| ApiError::Internal(format!("the runtime's password hash is unreadable: {e}")))
}
