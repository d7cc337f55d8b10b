//! A user's API keys: `POST /api/keys` issues one (the secret is shown once), `GET /api/keys`
//! lists them (never a secret or hash), `DELETE /api/keys/{id}` revokes one. The admin does
//! the same for any user under `/api/admin/users/{id}/keys` ([`super::admin::user_keys`]),
//! through the same three functions of an owner: [`issue_for`], [`list_of`], [`revoke_of`].
//!
//! Keys live in KV only (auth must not need D1). Revocation deletes the credential first: it
//! fails at once in this location and everywhere within KV's propagation window (about 60 s).

use serde::{Deserialize, Serialize};
use worker::{Context, Request};

use super::{authenticate, json, json_body_or_default, no_content, ApiResult};
use crate::account::{
    ApiKey, ApiKeyRecord, KeyId, KeyName, KeySummary, UserId, API_KEY_RANDOM_LEN,
};
use crate::app::App;
use crate::error::ApiError;
use crate::link::ALPHANUMERIC;
use crate::random;
use crate::store::kv::Kv;
use crate::time::Timestamp;

const KEY_ID_RANDOM_LEN: usize = 12;

/// Makes a key for `user` and stores its hash; the returned secret exists nowhere else.
pub async fn issue(
    kv: &Kv,
    user: &UserId,
    name: Option<KeyName>,
    now: Timestamp,
) -> Result<(ApiKey, ApiKeyRecord), ApiError> {
    let key = ApiKey::from_random(&random::token(API_KEY_RANDOM_LEN, &ALPHANUMERIC)?);
    let record = ApiKeyRecord {
        hash: key.hash(),
        user_id: user.clone(),
        created_at: now,
        id: KeyId::from_random(&random::token(KEY_ID_RANDOM_LEN, &ALPHANUMERIC)?),
        name,
    };
    kv.put_api_key(&record).await?;
    Ok((key, record))
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKeyBody {
    name: Option<String>,
}

#[derive(Serialize)]
struct CreatedKey<'a> {
    id: &'a KeyId,
    name: &'a Option<KeyName>,
    created_at: String,
    api_key: &'a str,
}

/// `POST /api/keys` `{"name"?}` → 201 `{"id","name","created_at","api_key"}`.
/// The built-in admin has no keys of its own: it authenticates with `ADMIN_TOKEN`.
pub async fn create(mut req: Request, app: &App, ctx: &Context) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    if caller.id == UserId::admin() {
        return Err(ApiError::Forbidden);
    }
    issue_for(&mut req, app, &caller.id).await
}

/// Issues `owner` a key named by the body and answers with its secret, shown this once.
pub async fn issue_for(req: &mut Request, app: &App, owner: &UserId) -> ApiResult {
    let body: CreateKeyBody = json_body_or_default(req).await?;
    let name = body.name.as_deref().map(KeyName::parse).transpose()?;
    let (key, record) = issue(&app.kv, owner, name, app.now()).await?;
    json(
        201,
        &CreatedKey {
            id: &record.id,
            name: &record.name,
            created_at: record.created_at.to_rfc3339(),
            api_key: key.expose(),
        },
    )
}

#[derive(Serialize)]
struct KeyList {
    keys: Vec<KeySummary>,
}

/// `GET /api/keys` → 200 `{"keys":[{"id","name","created_at","last_used_at"}]}`.
/// `last_used_at` is recorded at most hourly.
pub async fn list(req: Request, app: &App, ctx: &Context) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    list_of(app, &caller.id).await
}

/// `owner`'s keys, oldest first: never a secret or a hash.
pub async fn list_of(app: &App, owner: &UserId) -> ApiResult {
    let keys = app.kv.user_keys(owner).await?;
    json(200, &KeyList { keys })
}

/// `DELETE /api/keys/{id}` → 204. Only the key's owner may revoke it; others get 404.
pub async fn revoke(req: Request, app: &App, ctx: &Context, raw_id: &str) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    revoke_of(app, &caller.id, raw_id).await
}

/// Revokes `owner`'s key `raw_id` (404 when `owner` has no such key). Sessions signed in with
/// it end with it: a session is good only while its key is.
pub async fn revoke_of(app: &App, owner: &UserId, raw_id: &str) -> ApiResult {
    let kv = &app.kv;
    let id = KeyId::parse(raw_id).ok_or(ApiError::NotFound)?;
    let hash = kv
        .user_key_hash(owner, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    kv.revoke_api_key(owner, &id, &hash).await?;
    no_content()
}
