//! `GET /`: the short-link host's front page is the dashboard (served from the static assets
//! at `/dashboard/`), or wherever `HOME_URL` says.

use worker::Response;

use super::ApiResult;
use crate::app::App;
use crate::error::ApiError;

/// 302, not 301: `HOME_URL` may change, and browsers keep permanent redirects.
pub fn get(app: &App) -> ApiResult {
    Response::builder()
        .with_status(302)
        .with_header("Location", &app.config.home_url)
        .map(|b| b.empty())
        .map_err(|e| ApiError::Internal(format!("home redirect: {e}")))
}
