//! The link domain, one concept a file: [`Slug`] (slug.rs), [`TargetUrl`] (url.rs), [`Title`]
//! (title.rs), [`Tags`] (tags.rs), [`Password`] and [`PasswordHash`] (password.rs), the record [`Link`] and its decisions (record.rs), the owner's [`LinkPatch`]
//! (patch.rs) and the redirect decision [`Redirect::decide`] (decide.rs). Each value is parsed
//! once at the edge so that stores, sync and reconcile can trust it.
//!
//! This module only re-exports, so `crate::link::X` names every one of them. Nothing here
//! imports `worker`, reads a clock or draws randomness: callers pass `now` and generated slugs.

mod decide;
mod password;
mod patch;
mod record;
mod slug;
mod tags;
mod title;
mod url;

pub use decide::{Hop, Redirect, StoredRedirect, Unavailable};
pub use password::{
    Password, PasswordHash, HASH_PREFIX, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS,
    PBKDF2_MAX_ITERATIONS, SINK_HASH_PREFIX,
};
pub use patch::{present, LinkPatch};
pub use record::{Link, LinkMeta, LinkOptions, LinkState};
pub use slug::{
    Slug, ALPHANUMERIC, GENERATED_SLUG_LEN, RESERVED_SLUGS, SLUG_MAX_LEN, SLUG_MIN_LEN,
};
pub use tags::{parse_tag, Tags, TAGS_MAX, TAG_MAX_CHARS};
pub use title::{Title, TITLE_MAX_CHARS};
pub use url::{TargetUrl, URL_MAX_LEN};

// Their homes are below `link` (shared with `lifecycle` and `account`); named here too so that
// `crate::link::{Version, InvalidLink, …}` keeps working.
pub use crate::invalid::{InvalidLink, SAFE_INTEGER_MAX};
pub use crate::version::Version;
