-- edgelink D1 index. KV is the source of truth; every row here can be rebuilt from KV.
-- Timestamps: RFC 3339 UTC with milliseconds, e.g. 2026-11-25T12:34:56.789Z (sorts as text).
-- Ids are TEXT: JS numbers are exact only up to 2^53.

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL DEFAULT 'user',   -- 'user' | 'admin'
    created_at  TEXT NOT NULL
);

CREATE TABLE links (
    slug        TEXT PRIMARY KEY,               -- case-sensitive; BINARY collation = KV list byte order
    url         TEXT NOT NULL,
    user_id     TEXT NOT NULL,                  -- owner; 'admin' for the built-in admin
    title       TEXT,
    state       TEXT NOT NULL DEFAULT 'active', -- 'active' | 'disabled' | 'flagged'
    flag_reason TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     INTEGER NOT NULL                -- from KV; upserts apply only when newer
);

-- "A user's links, newest first", keyset-paginated on (created_at, slug).
CREATE INDEX links_by_owner_newest ON links (user_id, created_at DESC, slug DESC);
