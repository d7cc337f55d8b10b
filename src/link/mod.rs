//! The link domain, one concept a file: [`Slug`] (slug.rs), [`TargetUrl`] (url.rs), [`Title`]
//! (title.rs), [`Tags`] (tags.rs), [`Password`] and [`PasswordHash`] (password.rs), the record
//! [`Link`] and its decisions (record.rs), the owner's [`LinkPatch`] (patch.rs), the redirect
//! decision [`Redirect::decide`] (decide.rs), and the smart options: [`Targets`] by device and
//! country (targets.rs), weighted [`Variants`] (variants.rs), a social [`Preview`] (preview.rs),
//! and which destination a visit gets ([`choose_destination`], destination.rs). Each value is parsed
//! once at the edge so that stores, sync and reconcile can trust it.
//!
//! This module only re-exports, so `crate::link::X` names every one of them. Nothing here
//! imports `worker`, reads a clock or draws randomness: callers pass `now` and generated slugs.

mod decide;
mod destination;
mod password;
mod patch;
mod preview;
mod record;
mod slug;
mod tags;
mod targets;
mod title;
mod url;
mod variants;

pub use decide::{Hop, Redirect, StoredRedirect, Unavailable};
pub use destination::{
    choose_destination, Destination, StoredOptions, StoredPreview, StoredTargets, StoredVariant,
};
pub use password::{
    Password, PasswordHash, HASH_PREFIX, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS,
    PBKDF2_MAX_ITERATIONS, SINK_HASH_PREFIX,
};
pub use patch::{present, LinkPatch};
pub use preview::{Preview, PREVIEW_DESCRIPTION_MAX_CHARS, PREVIEW_TITLE_MAX_CHARS};
pub use record::{Link, LinkMeta, LinkOptions, LinkState};
pub use slug::{
    Slug, ALPHANUMERIC, GENERATED_SLUG_LEN, RESERVED_SLUGS, SLUG_MAX_LEN, SLUG_MIN_LEN,
};
pub use tags::{parse_tag, parse_tags, TagEdit, Tags, TAGS_MAX, TAG_MAX_CHARS};
pub use targets::{Country, Device, Targets, COUNTRIES_MAX};
pub use title::{Title, TITLE_MAX_CHARS};
pub use url::{TargetUrl, URL_MAX_LEN};
pub use variants::{
    pick_weighted, variant_bucket, Variant, Variants, VARIANTS_MAX, VARIANTS_MIN, WEIGHT_MAX,
    WEIGHT_MIN,
};

// Their homes are below `link` (shared with `lifecycle` and `account`); named here too so that
// `crate::link::{Version, InvalidLink, …}` keeps working.
pub use crate::invalid::{InvalidLink, SAFE_INTEGER_MAX};
pub use crate::version::Version;
