//! Admin endpoints: `POST /api/admin/users` creates a user and their first API key.
//! The key is returned once and stored only as a hash; KV holds everything auth needs.

use serde::{Deserialize, Serialize};
use worker::{Context, Env, Request};

use super::{authenticate, json, json_body, require_admin, ApiResult};
use crate::account::{ApiKey, ApiKeyRecord, Email, Role, User, UserId, API_KEY_RANDOM_LEN};
use crate::error::ApiError;
use crate::link::ALPHANUMERIC;
use crate::platform::{kv, now};
use crate::sync::{self, IndexChange};

const USER_ID_RANDOM_LEN: usize = 12;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUserBody {
    email: String,
}

#[derive(Serialize)]
struct CreatedUser<'a> {
    id: &'a UserId,
    email: &'a Email,
    role: Role,
    api_key: &'a str,
}

/// `POST /api/admin/users` `{"email"}` → 201 `{"id","email","role","api_key"}`.
pub async fn create_user(mut req: Request, env: &Env, ctx: &Context) -> ApiResult {
    let kv = kv(env)?;
    let caller = authenticate(&req, env, &kv).await?;
    require_admin(&caller)?;
    let body: CreateUserBody = json_body(&mut req).await?;
    let email = Email::parse(&body.email)?;

    // Admin-only and rare: a KV read-then-write is enough here (D1's UNIQUE(email) backs it).
    if kv.user_id_for_email(&email).await?.is_some() {
        return Err(ApiError::EmailTaken);
    }
    let at = now();
    let user = User {
        id: UserId::from_random(&nanoid::nanoid!(USER_ID_RANDOM_LEN, &ALPHANUMERIC)),
        email,
        role: Role::User,
        created_at: at,
    };
    let key = ApiKey::from_random(&nanoid::nanoid!(API_KEY_RANDOM_LEN, &ALPHANUMERIC));
    let record = ApiKeyRecord {
        hash: key.hash(),
        user_id: user.id.clone(),
        created_at: at,
    };
    kv.put_user(&user, &record).await?;

    let response = json(
        201,
        &CreatedUser {
            id: &user.id,
            email: &user.email,
            role: user.role,
            api_key: key.expose(),
        },
    );
    ctx.wait_until(sync::apply(env.clone(), IndexChange::User(user)));
    response
}
