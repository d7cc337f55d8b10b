//! [`LinkPatch`]: an owner's partial update of a link, as it travels to the slug's Durable
//! Object, and [`present`], which keeps an absent field apart from `null`. Applying it is
//! [`super::Link::patched`]'s. Pure: never imports `worker`.

use serde::{Deserialize, Serialize};

use super::{
    LinkOptions, PasswordHash, Preview, TagEdit, Tags, TargetUrl, Targets, Title, Variants,
};
use crate::lifecycle::{OwnerState, RedirectType};
use crate::time::Timestamp;

/// A partial update: `None` leaves a field alone; `title: Some(None)` clears the title and
/// `expires_at: Some(None)` the expiry; `tags: Some(empty)` clears the tags. Travels to the slug's Durable Object as JSON, where an
/// absent field and `null` stay apart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<TargetUrl>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub title: Option<Option<Title>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub expires_at: Option<Option<Timestamp>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_type: Option<RedirectType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_query: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<OwnerState>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub max_clicks: Option<Option<u64>>,
    /// The whole new set; empty clears them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// `Some(None)` clears the start.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub valid_since: Option<Option<Timestamp>>,
    /// `Some(None)` removes them, as for the two below.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub targets: Option<Option<Targets>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub variants: Option<Option<Variants>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub preview: Option<Option<Preview>>,
    /// `Some(None)` removes the password. Only ever the hash: the password itself is hashed
    /// before the patch leaves the API handler.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub password_hash: Option<Option<PasswordHash>>,
    /// A rename or removal of tags across the owner's links, applied after `tags`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_edit: Option<TagEdit>,
}

/// Tells a present field (`Some`, its `null` included as `Some(None)`) from an absent one
/// (`None`, by `#[serde(default)]`), which serde's `Option<Option<T>>` alone cannot.
pub fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl LinkPatch {
    /// The patch that sets every setting: `url` and `options` as a create would. (Destructured,
    /// so that a new option cannot be left out.)
    pub fn setting(url: TargetUrl, options: LinkOptions) -> LinkPatch {
        let LinkOptions {
            title,
            expires_at,
            archived,
            redirect_type,
            forward_query,
            state,
            max_clicks,
            tags,
            valid_since,
            targets,
            variants,
            preview,
            password_hash,
        } = options;
        LinkPatch {
            url: Some(url),
            title: Some(title),
            expires_at: Some(expires_at),
            archived: Some(archived),
            redirect_type: Some(redirect_type),
            forward_query: Some(forward_query),
            state: Some(state),
            max_clicks: Some(max_clicks),
            tags: Some(tags),
            valid_since: Some(valid_since),
            targets: Some(targets),
            variants: Some(variants),
            preview: Some(preview),
            password_hash: Some(password_hash),
            tag_edit: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == LinkPatch::default()
    }

    /// Whether the patch would change nothing of a link carrying `tags`: it is empty, or only
    /// a tag edit touching none of them (the links a tag edit picks from the index may have
    /// moved on; no new version is written for them).
    pub fn changes_nothing(&self, tags: &Tags) -> bool {
        match &self.tag_edit {
            None => self.is_empty(),
            Some(edit) => {
                tags.edited(edit) == *tags
                    && LinkPatch {
                        tag_edit: None,
                        ..self.clone()
                    }
                    .is_empty()
            }
        }
    }
}
