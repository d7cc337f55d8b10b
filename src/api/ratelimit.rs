//! The API's rate limit at work: each authenticated request counted against its API key or
//! admin token by the Workers rate limiting binding (`API_LIMITER`; the limits and what they
//! count are `crate::ratelimit`'s doc).
//!
//! Why through `src/ratelimit.js` and not workers-rs's `RateLimiter` (0.8.7 has one): the
//! redirect's password guesses are counted from JS already (`redirect.js`, where the request
//! is), and one small JS function for both keeps one behaviour for a missing binding (nothing
//! limited, logged once) and skips the serde round trip of `{key}` and `{success}` that the
//! wrapper makes on every API request.

use worker::console_error;
use worker::js_sys::Promise;
use worker::wasm_bindgen::prelude::*;
use worker::wasm_bindgen_futures::JsFuture;

use crate::app::API_LIMITER_BINDING;
use crate::error::ApiError;
use crate::ratelimit::ApiLimit;

#[wasm_bindgen(module = "/src/ratelimit.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn limiter_over(limiter: &JsValue, name: &str, key: &str) -> Result<Promise, JsValue>;
}

/// Counts one API request of `subject` (`crate::ratelimit::api_key`, `counted_as`); 429 when
/// it is over the limit. The binding failing lets the request through (logged): an outage of
/// the limiter must not stop the API.
pub async fn count_api_request(
    limiter: &JsValue,
    limit: ApiLimit,
    subject: (String, &'static str),
) -> Result<(), ApiError> {
    let ApiLimit::PerMinute(n) = limit else {
        return Ok(());
    };
    let (key, per) = subject;
    let counted = match limiter_over(limiter, API_LIMITER_BINDING, &key) {
        Ok(promise) => JsFuture::from(promise).await,
        Err(e) => Err(e),
    };
    match counted.map(|v| v.as_bool()) {
        Ok(Some(true)) => Err(ApiError::RateLimited { limit: n, per }),
        Ok(_) => Ok(()),
        Err(e) => {
            console_error!("rate limit {API_LIMITER_BINDING}: {e:?}");
            Ok(())
        }
    }
}
