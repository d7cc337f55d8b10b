// The Worker's binding names, as the JS glue reads them off `env`: wrangler.toml declares them
// and `src/app.rs` names them for the Rust side (tests/js/bindings.test.mjs checks this file
// against wrangler.toml; `app::tests` checks the Rust side). Names only, no code: importing this
// costs nothing at run time (esbuild bundles one module graph).

// Workers KV namespace: the source of truth, read by every redirect.
export const LINKS = "LINKS";
// Analytics Engine dataset: one data point per click.
export const CLICKS = "CLICKS";
// Queue feeding the D1 click roll-up.
export const CLICK_QUEUE = "CLICK_QUEUE";
// Rate limiting: API requests per key (src/ratelimit.rs) and password guesses per client and
// link (src/api/redirect.js).
export const API_LIMITER = "API_LIMITER";
export const PASSWORD_LIMITER = "PASSWORD_LIMITER";
