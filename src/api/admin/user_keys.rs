//! A user's API keys, for the admin: `GET /api/admin/users/{id}/keys` lists them,
//! `POST` issues one (say, for a user who lost theirs: its secret is shown to the admin once,
//! to hand over), `DELETE /api/admin/users/{id}/keys/{key}` revokes one. The same functions as
//! a user's own `/api/keys`, with the owner named by the path instead of the credential.

use worker::{Context, Request};

use crate::account::UserId;
use crate::api::{authenticate_admin, keys, ApiResult};
use crate::app::App;
use crate::error::ApiError;

/// The user the path names, once the caller is known to be an admin: 404 for an id no user
/// has, the built-in admin's among them (it has a token, not keys).
async fn owner(req: &Request, app: &App, ctx: &Context, raw_id: &str) -> Result<UserId, ApiError> {
    authenticate_admin(req, app, ctx).await?;
    let id = UserId::parse(raw_id).ok_or(ApiError::NotFound)?;
    let user = app.kv.user(&id).await?.ok_or(ApiError::NotFound)?;
    Ok(user.id)
}

/// `GET /api/admin/users/{id}/keys` → 200 `{"keys":[{"id","name","created_at","last_used_at"}]}`.
pub async fn list(req: Request, app: &App, ctx: &Context, raw_id: &str) -> ApiResult {
    let owner = owner(&req, app, ctx, raw_id).await?;
    keys::list_of(app, &owner).await
}

/// `POST /api/admin/users/{id}/keys` `{"name"?}` → 201 `{"id","name","created_at","api_key"}`.
pub async fn create(mut req: Request, app: &App, ctx: &Context, raw_id: &str) -> ApiResult {
    let owner = owner(&req, app, ctx, raw_id).await?;
    keys::issue_for(&mut req, app, &owner).await
}

/// `DELETE /api/admin/users/{id}/keys/{key}` → 204; 404 when the user has no such key.
pub async fn revoke(
    req: Request,
    app: &App,
    ctx: &Context,
    raw_id: &str,
    raw_key: &str,
) -> ApiResult {
    let owner = owner(&req, app, ctx, raw_id).await?;
    keys::revoke_of(app, &owner, raw_key).await
}
