//! `GET /api/tags`: the caller's tags, each with how many of their links carry it and those
//! links' people's clicks, from the D1 index (`link_tags`, the click roll-up).

use serde::Serialize;
use worker::{Context, Request};

use super::{authenticate, json, ApiResult};
use crate::app::App;
use crate::store::index::{owner_tags_query, TagCount, OWNER_TAGS_MAX};

#[derive(Serialize)]
struct TagList {
    tags: Vec<TagCount>,
}

/// `GET /api/tags` → `{"tags":[{"tag","links","clicks"}]}`, sorted by tag (at most
/// [`OWNER_TAGS_MAX`]).
pub async fn list(req: Request, app: &App, ctx: &Context) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let query = owner_tags_query(&caller.id, OWNER_TAGS_MAX);
    let tags = app.index.owner_tags(&query).await?;
    json(200, &TagList { tags })
}
