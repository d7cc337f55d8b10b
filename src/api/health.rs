//! `GET /healthz`: the Worker is up. Touches no store, so it says nothing about KV or D1.

use super::{json, ApiResult};

pub fn get() -> ApiResult {
    json(200, &serde_json::json!({ "status": "ok" }))
}
