// The Workers rate limiting binding's one call (src/api/ratelimit.rs says why it is reached
// from JS, src/ratelimit.rs what is limited). `limit({ key })` counts the request against the
// key's fixed one-minute window and says whether it is within the limit; it cannot be read
// without counting.

const missing = new Set();
// Whether this request is over the limit of `limiter` (the binding `name`). A deployment
// without the binding limits nothing (wrangler.toml declares it; a missing one is logged once
// per isolate).
export async function limiter_over(limiter, name, key) {
  if (limiter === undefined || limiter === null || typeof limiter.limit !== "function") {
    if (!missing.has(name)) {
      missing.add(name);
      console.error(`rate limit: no ${name} binding; nothing is limited`);
    }
    return false;
  }
  const { success } = await limiter.limit({ key });
  return success !== true;
}
// [`limiter_over`] for the binding of that name on `env`.
export function over_limit(env, name, key) {
  return limiter_over(env[name], name, key);
}
