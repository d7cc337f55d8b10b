//! The write rules every handler shares, between the HTTP shell (`api`) and the stores.
//!
//! - [`links`]: creating, changing and deleting links, by their owners and by admins, always as
//!   an intent sent to the slug's Durable Object, which decides ([`crate::claim`]).
//! - [`imports`]: import jobs: the upload's chunks and the queue consumer that writes them
//!   through [`links`].
//! - [`tags`]: renaming and removing tags across an owner's links, each through [`links`].

pub mod imports;
pub mod links;
pub mod tags;
