//! Shlink's tag changes: `PUT /tags` `{oldName, newName}` renames a tag and `DELETE
//! /tags?tags[]=` removes tags, on every link in the caller's view (the admin's: every link),
//! through edgelink's tag edit ([`service::tags`]): each link is changed by its slug's Durable
//! Object, KV first, the index in the background. Shlink's answers: 204, 404 `tag-not-found`
//! for an old name no link in view carries, 409 `tag-conflict` for a new name one does.

use serde_json::{Map, Value};
use worker::{Context, Request};

use super::short_urls::owner_in_view;
use super::{no_content, problem_of, ShlinkResult};
use crate::api::json_body;
use crate::app::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::link::{parse_tag, parse_tags, TagEdit};
use crate::service::tags::{self as service, TAG_EDIT_MAX_LINKS};
use crate::shlink::problem::Problem;
use crate::store::index::shlink::tag_stats_query;
use crate::store::index::OWNER_TAGS_MAX;
use crate::sync;
use crate::web_url::query_params;

/// `PUT /tags` `{"oldName","newName"}` → 204.
pub async fn rename(mut req: Request, app: &App, ctx: &Context, caller: &Caller) -> ShlinkResult {
    let body: Map<String, Value> = json_body(&mut req).await.map_err(problem_of)?;
    let name = |field: &str| -> Result<String, Problem> {
        let raw = body
            .get(field)
            .and_then(Value::as_str)
            .ok_or_else(|| Problem::invalid(&[field], format!("{field} must be a tag name")))?;
        parse_tag(raw).map_err(|e| Problem::invalid(&[field], ApiError::from(e).public_message()))
    };
    let (old, new) = (name("oldName")?, name("newName")?);
    let owner = owner_in_view(caller);
    let in_view = app
        .index
        .tag_stats(&tag_stats_query(owner.as_ref(), OWNER_TAGS_MAX))
        .await
        .map_err(|e| problem_of(e.into()))?;
    let exists = |tag: &str| in_view.iter().any(|r| r.tag == tag);
    if !exists(&old) {
        return Err(Problem::TagNotFound { tag: old });
    }
    if old == new {
        return no_content();
    }
    if exists(&new) {
        return Err(Problem::TagConflict {
            old_name: old,
            new_name: new,
        });
    }
    let edit = TagEdit::Rename { from: old, to: new };
    edit_in_view(app, ctx, caller, owner, edit).await
}

/// `DELETE /tags?tags[]=…` → 204; tags no link carries are ignored, as Shlink does.
pub async fn delete(req: &Request, app: &App, ctx: &Context, caller: &Caller) -> ShlinkResult {
    let url = req.inner().url();
    let mut raw = query_params(&url, "tags[]");
    raw.extend(query_params(&url, "tags"));
    let tags = parse_tags(&raw)
        .map_err(|e| Problem::invalid(&["tags"], ApiError::from(e).public_message()))?;
    if tags.is_empty() {
        return no_content();
    }
    if tags.len() > OWNER_TAGS_MAX as usize {
        return Err(Problem::invalid(
            &["tags"],
            format!("at most {OWNER_TAGS_MAX} tags at a time"),
        ));
    }
    let owner = owner_in_view(caller);
    edit_in_view(app, ctx, caller, owner, TagEdit::Remove { tags }).await
}

async fn edit_in_view(
    app: &App,
    ctx: &Context,
    caller: &Caller,
    owner: Option<crate::account::UserId>,
    edit: TagEdit,
) -> ShlinkResult {
    let edited = service::edit(app, caller, owner.as_ref(), edit)
        .await
        .map_err(problem_of)?;
    if !edited.changes.is_empty() {
        ctx.wait_until(sync::apply_all(app.clone(), edited.changes));
    }
    if let Some((_, e)) = edited.failed.into_iter().next() {
        return Err(problem_of(e));
    }
    if edited.more {
        return Err(Problem::Other {
            status: 409,
            code: "tag-edit-incomplete",
            detail: format!(
                "changed {TAG_EDIT_MAX_LINKS} short URLs; more carry the tag: send the request again"
            ),
        });
    }
    no_content()
}
