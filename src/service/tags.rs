//! Renaming and removing tags across an owner's links. The index names the links carrying the
//! tags; each is then changed by its slug's Durable Object ([`super::links::update`]), which
//! applies the [`TagEdit`] to the newest state of that link, so a concurrent change to a
//! link's other tags is kept and a link that no longer carries them is left as it is.

use futures::stream::{self, StreamExt};

use super::links::{self, WRITES_IN_FLIGHT};
use crate::account::UserId;
use crate::app::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::link::{LinkPatch, Slug, TagEdit};
use crate::store::index::tagged_slugs_query;
use crate::sync::IndexChange;

/// Links one tag edit changes at most: one Durable Object round trip each, well inside an
/// invocation's subrequests. An edit that finds more says so ([`Edited::more`]); the same
/// edit again goes on with the links still carrying the tags.
pub const TAG_EDIT_MAX_LINKS: u32 = 1000;

/// What a tag edit did.
pub struct Edited {
    /// Links changed.
    pub links: u64,
    /// Links the edit could not change, with why.
    pub failed: Vec<(Slug, ApiError)>,
    /// More links than [`TAG_EDIT_MAX_LINKS`] carried the tags: the rest are untouched.
    pub more: bool,
    /// The index changes to make in the background.
    pub changes: Vec<IndexChange>,
}

/// Applies `edit` to the links of `owner` (every link for `None`, the admin's view in the
/// Shlink API) that the index says carry its tags, as `caller`.
pub async fn edit(
    app: &App,
    caller: &Caller,
    owner: Option<&UserId>,
    edit: TagEdit,
) -> Result<Edited, ApiError> {
    let query = tagged_slugs_query(owner, edit.touched(), TAG_EDIT_MAX_LINKS + 1);
    let mut slugs: Vec<Slug> = app
        .index
        .tagged_slugs(&query)
        .await?
        .into_iter()
        .filter_map(|row| Slug::parse(&row.slug).ok())
        .collect();
    let more = slugs.len() > TAG_EDIT_MAX_LINKS as usize;
    slugs.truncate(TAG_EDIT_MAX_LINKS as usize);
    let patch = LinkPatch {
        tag_edit: Some(edit),
        ..LinkPatch::default()
    };
    let outcomes: Vec<_> = stream::iter(slugs)
        .map(|slug| {
            let patch = patch.clone();
            async move {
                let outcome = links::update(&app.claims, caller, &slug, patch, None).await;
                (slug, outcome)
            }
        })
        .buffer_unordered(WRITES_IN_FLIGHT)
        .collect()
        .await;
    let mut edited = Edited {
        links: 0,
        failed: Vec::new(),
        more,
        changes: Vec::new(),
    };
    for (slug, outcome) in outcomes {
        match outcome {
            Ok(written) => {
                if let Some(change) = written.change {
                    edited.links += 1;
                    edited.changes.push(change);
                }
            }
            // Deleted (or no longer the caller's) since the index was written.
            Err(ApiError::NotFound) => {}
            Err(e) => edited.failed.push((slug, e)),
        }
    }
    Ok(edited)
}
