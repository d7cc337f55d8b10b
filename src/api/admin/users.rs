//! `POST /api/admin/users` (a user and their first API key, shown once), `GET /api/admin/users`
//! (every user with their link count, from D1) and `PATCH /api/admin/users/{id}` (role,
//! disabled). User records live in KV, which auth reads; D1 follows in the background. A create
//! goes through the address's Durable Object (`store::email_claims`): of two creates of one
//! address, however concurrent, one gets 201 and the other 409; a refused or failed create
//! leaves nothing behind (its first key, written before the claim, is revoked again).

use serde::{Deserialize, Serialize};
use worker::{console_error, Context, Request};

use crate::account::{Email, KeyName, Role, User, UserId, UserPatch};
use crate::api::keys;
use crate::api::params::{page, parse_limit};
use crate::api::{authenticate_admin, json, json_body, list_cursor, query_param, ApiResult};
use crate::app::App;
use crate::error::ApiError;
use crate::link::ALPHANUMERIC;
use crate::random;
use crate::store::email_claims::EmailAnswer;
use crate::store::index::{ListCursor, UserRow};
use crate::sync::{self, IndexChange};

const USER_ID_RANDOM_LEN: usize = 12;
const FIRST_KEY_NAME: &str = "default";

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
    disabled: bool,
    created_at: String,
    api_key: &'a str,
}

/// A user as the admin API shows it.
#[derive(Serialize)]
struct UserView<'a> {
    id: &'a UserId,
    email: &'a Email,
    role: Role,
    disabled: bool,
    created_at: String,
}

impl<'a> From<&'a User> for UserView<'a> {
    fn from(u: &'a User) -> Self {
        Self {
            id: &u.id,
            email: &u.email,
            role: u.role,
            disabled: u.disabled,
            created_at: u.created_at.to_rfc3339(),
        }
    }
}

/// `POST /api/admin/users` `{"email"}` → 201 `{"id","email","role","disabled","created_at","api_key"}`.
pub async fn create(mut req: Request, app: &App, ctx: &Context) -> ApiResult {
    authenticate_admin(&req, app, ctx).await?;
    let body: CreateUserBody = json_body(&mut req).await?;
    let email = Email::parse(&body.email)?;

    let id = UserId::from_random(&random::token(USER_ID_RANDOM_LEN, &ALPHANUMERIC)?);
    let user = User::new(id, email, app.now());
    // The key first: it authenticates no one until its user exists, and a key that failed
    // after the user was stored would leave an address taken by a user without a key.
    let name = KeyName::parse(FIRST_KEY_NAME).ok();
    let (key, record) = keys::issue(&app.kv, &user.id, name, app.now()).await?;
    // The address's object writes the user to KV, or refuses: a KV read-then-write here would
    // let two concurrent creates both pass.
    let answer = app.email_claims.create(&user).await;
    if !matches!(answer, Ok(EmailAnswer::Created)) {
        // No user: its key goes again (if that fails too, the key stays unusable).
        if let Err(e) = app
            .kv
            .revoke_api_key(&user.id, &record.id, &record.hash)
            .await
        {
            console_error!("unused key {} of a refused create stays: {e}", record.id);
        }
        return Err(match answer {
            Err(e) => e.into(),
            Ok(_) => ApiError::EmailTaken,
        });
    }

    let response = json(
        201,
        &CreatedUser {
            id: &user.id,
            email: &user.email,
            role: user.role,
            disabled: user.disabled,
            created_at: user.created_at.to_rfc3339(),
            api_key: key.expose(),
        },
    );
    ctx.wait_until(sync::apply(app.clone(), IndexChange::User(user)));
    response
}

#[derive(Serialize)]
struct ListedUser {
    id: String,
    email: String,
    role: String,
    disabled: bool,
    created_at: String,
    link_count: u64,
}

impl From<UserRow> for ListedUser {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            email: r.email,
            role: r.role,
            disabled: r.disabled != 0,
            created_at: r.created_at,
            link_count: r.link_count,
        }
    }
}

#[derive(Serialize)]
struct UserList {
    users: Vec<ListedUser>,
    next_cursor: Option<String>,
}

/// `GET /api/admin/users?limit=&cursor=` → every user, newest first, with link counts (D1).
pub async fn list(req: Request, app: &App, ctx: &Context) -> ApiResult {
    authenticate_admin(&req, app, ctx).await?;
    let limit = parse_limit(query_param(&req, "limit").as_deref())?;
    let cursor = list_cursor(&req)?;
    let rows = app.index.users(cursor.as_ref(), limit + 1).await?;
    let (rows, next_cursor) = page(rows, limit, |r| ListCursor::after_row(&r.created_at, &r.id));
    let users = rows.into_iter().map(ListedUser::from).collect();
    json(200, &UserList { users, next_cursor })
}

/// `PATCH /api/admin/users/{id}` `{"role"?, "disabled"?}` → 200 the user. Effective at once
/// in this location (auth reads the KV record), elsewhere within KV's propagation window.
pub async fn update(mut req: Request, app: &App, ctx: &Context, raw_id: &str) -> ApiResult {
    authenticate_admin(&req, app, ctx).await?;
    let patch: UserPatch = json_body(&mut req).await?;
    let id = UserId::parse(raw_id).ok_or(ApiError::NotFound)?;
    let user = app.kv.user(&id).await?.ok_or(ApiError::NotFound)?;
    let Some(updated) = user.patched(&patch, app.now()) else {
        return json(200, &UserView::from(&user));
    };
    app.kv.put_user(&updated).await?;
    let response = json(200, &UserView::from(&updated));
    ctx.wait_until(sync::apply(app.clone(), IndexChange::User(updated)));
    response
}
