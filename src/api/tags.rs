//! The caller's tags: `GET /api/tags` lists them, each with how many of their links carry it
//! and those links' people's clicks, from the D1 index (`link_tags`, the click roll-up);
//! `POST /api/tags/rename` and `DELETE /api/tags` change them on every link of the caller's
//! that carries them (through [`service::tags`]).

use serde::{Deserialize, Serialize};
use worker::{Context, Request};

use super::{authenticate, json, json_body, ApiResult};
use crate::app::App;
use crate::error::ApiError;
use crate::link::{parse_tag, parse_tags, TagEdit, TAGS_MAX};
use crate::service::tags::{self as service, Edited};
use crate::store::index::{owner_tags_query, TagCount, OWNER_TAGS_MAX};
use crate::sync;
use crate::web_url::query_params;

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameBody {
    from: String,
    to: String,
}

#[derive(Serialize)]
struct Failure {
    slug: String,
    code: &'static str,
    message: String,
}

/// What a tag edit answers.
#[derive(Serialize)]
struct EditAnswer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a [String]>,
    /// Links changed.
    links: u64,
    /// More links carried the tags than one edit changes: the same request again goes on.
    more: bool,
    failed: Vec<Failure>,
}

/// `POST /api/tags/rename` `{"from","to"}` → 200 `{"from","to","links","more","failed"}`:
/// `from` becomes `to` on each of the caller's links carrying it (merged where a link carries
/// both).
pub async fn rename(mut req: Request, app: &App, ctx: &Context) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let body: RenameBody = json_body(&mut req).await?;
    let (from, to) = (parse_tag(&body.from)?, parse_tag(&body.to)?);
    if from == to {
        return Err(ApiError::InvalidTags(format!(
            "'{from}' and '{to}' are the same tag"
        )));
    }
    let edit = TagEdit::Rename { from, to };
    let edited = service::edit(app, &caller, Some(&caller.id), edit.clone()).await?;
    answer(app, ctx, &edit, edited)
}

/// `DELETE /api/tags?tag=…` (1 to 10 tags) → 200 `{"tags","links","more","failed"}`: the
/// tags leave each of the caller's links carrying them; the links stay.
pub async fn delete(req: Request, app: &App, ctx: &Context) -> ApiResult {
    let caller = authenticate(&req, app, ctx).await?;
    let raw = query_params(&req.inner().url(), "tag");
    if raw.is_empty() || raw.len() > TAGS_MAX {
        return Err(ApiError::InvalidQuery(format!(
            "name 1 to {TAGS_MAX} tags to delete, each as tag="
        )));
    }
    let edit = TagEdit::Remove {
        tags: parse_tags(&raw)?,
    };
    let edited = service::edit(app, &caller, Some(&caller.id), edit.clone()).await?;
    answer(app, ctx, &edit, edited)
}

fn answer(app: &App, ctx: &Context, edit: &TagEdit, edited: Edited) -> ApiResult {
    if !edited.changes.is_empty() {
        ctx.wait_until(sync::apply_all(app.clone(), edited.changes));
    }
    let failed = edited
        .failed
        .into_iter()
        .map(|(slug, e)| {
            if e.is_server_error() {
                worker::console_error!("tag edit of {slug}: {} {}: {e}", e.status(), e.code());
            }
            Failure {
                slug: slug.to_string(),
                code: e.code(),
                message: e.public_message(),
            }
        })
        .collect();
    let (from, to, tags) = match edit {
        TagEdit::Rename { from, to } => (Some(from.as_str()), Some(to.as_str()), None),
        TagEdit::Remove { tags } => (None, None, Some(tags.as_slice())),
    };
    json(
        200,
        &EditAnswer {
            from,
            to,
            tags,
            links: edited.links,
            more: edited.more,
            failed,
        },
    )
}
