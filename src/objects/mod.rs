//! The Durable Object classes: entry points the runtime calls, like the Worker's own
//! `fetch`, `queue` and `scheduled` handlers, each in its own module. The Worker never calls
//! their code directly: it sends them requests through the clients in `store`
//! (`store::claims`, `store::email_claims`, `store::day_salt`), which own the wire types.
//!
//! An object reads its configuration and bindings through `app` (`app::config`, `app::kv`),
//! never through anything above it.

pub mod day_salt;
pub mod email_claim;
pub mod slug_claim;
