//! Click analytics, the pure part, one concept a file: the click and what it is derived from
//! (click.rs), the user-agent classifier (user_agent.rs), the UTC day (day.rs), the
//! visitor-id salt rules (salt.rs) and the stats API's parameters (params.rs). The Analytics
//! Engine SQL built from those parameters lives beside its client, in `store::ae_sql`.
//!
//! This module only re-exports, so `crate::analytics::X` names every one of them. Nothing here
//! imports `worker`, reads a clock or draws randomness: callers pass `now` and salts in.

mod click;
mod day;
mod params;
mod salt;
mod user_agent;

pub use click::{
    click_of, opted_out, referrer_host, visitor_id, Click, RequestFacts, DIMENSIONS, TOTAL, VARIANT,
};
pub use day::{day_of, is_day};
pub use params::{
    parse_include_bots, unique_visitors, AeDataset, DateRange, Group, DEFAULT_RANGE_DAYS,
    MAX_RANGE_DAYS,
};
pub use salt::{choose_salt, day_salt_expires_at, DaySalt, SaltChoice, DAY_SALT_KEEP_DAYS};
pub use user_agent::{classify_user_agent, is_social_crawler, Agent};
