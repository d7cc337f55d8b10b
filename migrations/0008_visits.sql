-- Single visits (issue 28, the Shlink-compatible API): one row per click, written by the click
-- consumer in the roll-up's batch and only for a message id that batch recorded, so a
-- redelivered message adds no second row. Derived fields only, as the roll-up keeps them: no
-- user agent, IP or full referrer. Pruned nightly after VISITS_RETENTION_DAYS (default 90).
CREATE TABLE visits (
    id       TEXT PRIMARY KEY,      -- the click's queue message id
    slug     TEXT NOT NULL,
    at       TEXT NOT NULL,         -- click time, RFC 3339 UTC with ms (text order = time order)
    country  TEXT NOT NULL,         -- ISO 3166 alpha-2, '' when unknown
    referrer TEXT NOT NULL,         -- referrer host, '' for none
    device   TEXT NOT NULL,
    browser  TEXT NOT NULL,
    os       TEXT NOT NULL,
    bot      INTEGER NOT NULL       -- 1 = classified as a bot
);
-- A link's visits newest first; pruning by time.
CREATE INDEX visits_by_slug ON visits (slug, at);
CREATE INDEX visits_by_at ON visits (at);
