//! Dashboard sign-in: `POST /api/session` trades an API key (or the admin token) for a session
//! cookie, `GET /api/session` says who the cookie stands for, `DELETE /api/session` signs out.
//!
//! The cookie works on every `/api` route in place of the bearer token ([`super::authenticate`]
//! reads it, with the CSRF rule of [`crate::session::csrf_satisfied`]). A session is checked
//! again on each use ([`signed_in`]): it ends at its expiry, on sign-out, when the key it was
//! made from is revoked, when its user is disabled, and (the admin's) when `ADMIN_TOKEN` changes.

use serde::{Deserialize, Serialize};
use worker::{Context, Request, Response};

use super::ratelimit::count_api_request;
use super::{json_body, key_holder, note_key_use, ApiResult};
use crate::account::{KeyHash, Role, User, UserId};
use crate::app::App;
use crate::auth::{token_credential, Caller, Credential};
use crate::error::ApiError;
use crate::link::ALPHANUMERIC;
use crate::random;
use crate::ratelimit::counted_as;
use crate::route::Method;
use crate::session::{
    clear_cookie, csrf_satisfied, days_secs, session_cookie, set_cookie, SessionId, SessionRecord,
    CSRF_HEADER, SESSION_ID_LEN,
};

/// A session in use: who it stands for, and its record.
pub struct SignedIn {
    pub caller: Caller,
    /// `None` for the built-in admin.
    pub user: Option<User>,
    pub record: SessionRecord,
}

/// The session `id` stands for, checked in full: present, not expired, its credential still
/// valid, its user not disabled. Any failure is 401, as for a bad key.
pub async fn signed_in(id: &SessionId, app: &App, ctx: &Context) -> Result<SignedIn, ApiError> {
    let record = app
        .kv
        .session(&id.hash())
        .await?
        .filter(|r| r.is_live(app.now()))
        .ok_or(ApiError::Unauthorized)?;
    if record.user == UserId::admin() {
        if !record.admin_token_still(app.config.admin_token.as_deref()) {
            return Err(ApiError::Unauthorized);
        }
        return Ok(SignedIn {
            caller: Caller::admin(),
            user: None,
            record,
        });
    }
    let (user, key) = key_holder(&record.key, app).await?;
    if user.id != record.user {
        return Err(ApiError::Unauthorized);
    }
    note_key_use(app, ctx, &key.id);
    Ok(SignedIn {
        caller: Caller {
            id: user.id.clone(),
            role: user.role,
        },
        user: Some(user),
        record,
    })
}

/// The caller of a request that carries the session cookie and no bearer token; `None` when it
/// carries no well-formed session cookie. 403 `csrf_required` for a state change without the
/// CSRF header, before any store is read.
pub async fn cookie_caller(
    req: &Request,
    app: &App,
    ctx: &Context,
) -> Option<Result<Caller, ApiError>> {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let id = session_cookie(header("Cookie").as_deref())?;
    let method = Method::from_name(req.method().as_ref());
    if !csrf_satisfied(method, header(CSRF_HEADER).as_deref()) {
        return Some(Err(ApiError::CsrfRequired));
    }
    let signed_in = match signed_in(&id, app, ctx).await {
        Ok(s) => s,
        Err(e) => return Some(Err(e)),
    };
    // Counted against the key (or admin token) the session was made from, as a bearer request.
    let made_from = (signed_in.record.user != UserId::admin()).then_some(&signed_in.record.key);
    let subject = counted_as(made_from);
    let limit = app.config.api_rate_limit;
    if let Err(e) = count_api_request(&app.api_limiter, limit, subject).await {
        return Some(Err(e));
    }
    Some(Ok(signed_in.caller))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInBody {
    key: String,
}

#[derive(Serialize)]
struct SessionView<'a> {
    role: Role,
    user: Option<UserView<'a>>,
    expires_at: String,
}

#[derive(Serialize)]
struct UserView<'a> {
    id: &'a UserId,
    email: &'a str,
}

impl<'a> SessionView<'a> {
    fn of(caller: &Caller, user: Option<&'a User>, record: &SessionRecord) -> Self {
        Self {
            role: caller.role,
            user: user.map(|u| UserView {
                id: &u.id,
                email: u.email.as_str(),
            }),
            expires_at: record.expires_at.to_rfc3339(),
        }
    }
}

/// A session answer: never cached, optionally setting or clearing the cookie.
fn session_response(status: u16, body: Option<&SessionView>, cookie: Option<&str>) -> ApiResult {
    let internal = |e: worker::Error| ApiError::Internal(format!("session response: {e}"));
    let mut builder = Response::builder()
        .with_status(status)
        .with_header("Cache-Control", "no-store")
        .map_err(internal)?;
    if let Some(cookie) = cookie {
        builder = builder
            .with_header("Set-Cookie", cookie)
            .map_err(internal)?;
    }
    match body {
        Some(body) => builder.from_json(body).map_err(internal),
        None => Ok(builder.empty()),
    }
}

/// `POST /api/session` `{"key"}` → 200 the session and `Set-Cookie`; 401 for a key that would
/// be refused as a bearer token.
pub async fn create(mut req: Request, app: &App, ctx: &Context) -> ApiResult {
    let body: SignInBody = json_body(&mut req).await?;
    let given = token_credential(&body.key, app.config.admin_token.as_deref())
        .ok_or(ApiError::Unauthorized)?;
    let now = app.now();
    let days = app.config.session_days;
    let (caller, user, record) = match given {
        Credential::Admin => {
            let caller = Caller::admin();
            let key = KeyHash::of(body.key.trim());
            let record = SessionRecord::new(caller.id.clone(), Role::Admin, key, now, days);
            (caller, None, record)
        }
        Credential::Key(key) => {
            let (user, stored) = key_holder(&key.hash(), app).await?;
            note_key_use(app, ctx, &stored.id);
            let caller = Caller {
                id: user.id.clone(),
                role: user.role,
            };
            let record = SessionRecord::new(user.id.clone(), user.role, stored.hash, now, days);
            (caller, Some(user), record)
        }
    };
    let id = SessionId::parse(&random::token(SESSION_ID_LEN, &ALPHANUMERIC)?)
        .ok_or_else(|| ApiError::Internal("a drawn session id is not one".into()))?;
    app.kv.put_session(&id.hash(), &record).await?;
    let view = SessionView::of(&caller, user.as_ref(), &record);
    session_response(200, Some(&view), Some(&set_cookie(&id, days_secs(days))))
}

/// `GET /api/session` → 200 the cookie's session; 401 when there is none or it has ended.
pub async fn get(req: Request, app: &App, ctx: &Context) -> ApiResult {
    let cookie = req.headers().get("Cookie").ok().flatten();
    let id = session_cookie(cookie.as_deref()).ok_or(ApiError::Unauthorized)?;
    let s = signed_in(&id, app, ctx).await?;
    let view = SessionView::of(&s.caller, s.user.as_ref(), &s.record);
    session_response(200, Some(&view), None)
}

/// `DELETE /api/session` → 204 and the cookie cleared; the session is deleted from KV, so the
/// cookie no longer works even where a browser kept it. Idempotent: without a session it only
/// clears the cookie. Needs the CSRF header like any change the cookie makes.
pub async fn delete(req: Request, app: &App, _ctx: &Context) -> ApiResult {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    if let Some(id) = session_cookie(header("Cookie").as_deref()) {
        if !csrf_satisfied(Method::Delete, header(CSRF_HEADER).as_deref()) {
            return Err(ApiError::CsrfRequired);
        }
        app.kv.delete_session(&id.hash()).await?;
    }
    session_response(204, None, Some(&clear_cookie()))
}
