-- Click analytics (issue "Click analytics"): the D1 roll-up fed by the click queue, and the
-- exact click limit's column. Counts work without a Cloudflare account; with one, the stats API
-- can read Analytics Engine instead.
ALTER TABLE links ADD COLUMN max_clicks INTEGER;                          -- NULL = unlimited

-- Clicks per link, UTC day, bot or person, and dimension value. Every click adds one to its
-- ('total', '') row and one to each of country, referrer (host), device, browser and os.
CREATE TABLE clicks_daily (
    slug      TEXT NOT NULL,
    day       TEXT NOT NULL,         -- YYYY-MM-DD (UTC)
    bot       INTEGER NOT NULL,      -- 1 = classified as a bot
    dimension TEXT NOT NULL,         -- 'total' | 'country' | 'referrer' | 'device' | 'browser' | 'os'
    value     TEXT NOT NULL,         -- '' for the total and for unknown values
    clicks    INTEGER NOT NULL,
    PRIMARY KEY (slug, day, bot, dimension, value)
);

-- Distinct visitor ids per link and day (ids are daily hashes: no one is followed across days).
CREATE TABLE click_visitors (
    slug    TEXT NOT NULL,
    day     TEXT NOT NULL,
    bot     INTEGER NOT NULL,
    visitor TEXT NOT NULL,
    PRIMARY KEY (slug, day, bot, visitor)
);

-- Queue message ids already counted, and the batch that counted them: a redelivered message
-- finds its id here and adds nothing. Pruned after a week.
CREATE TABLE click_messages (
    id    TEXT PRIMARY KEY,
    day   TEXT NOT NULL,
    batch TEXT NOT NULL
);
CREATE INDEX click_messages_day ON click_messages (day);
