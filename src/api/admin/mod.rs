//! Admin endpoints (every one needs the admin role; anyone else gets 403):
//! - [`users`]: create, list (with link counts), change role, disable.
//! - [`user_keys`]: a user's API keys: list, issue, revoke.
//! - [`links`]: every link with its owner's email; flag and unflag.
//! - [`blocklist`]: destination hosts nobody may link to.
//! - [`consistency`]: the drift report and a reconcile pass on demand.
//! - [`clicks`]: replaying dead-lettered clicks into the roll-up.

pub mod blocklist;
pub mod clicks;
pub mod consistency;
pub mod links;
pub mod user_keys;
pub mod users;
