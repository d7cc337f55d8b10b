-- Link lifecycle (issue "Link lifecycle"): expiry, archive, redirect options, and the change log.
-- Like every other links column, the new ones mirror the KV value and are rebuilt from it.
ALTER TABLE links ADD COLUMN expires_at TEXT;                              -- RFC 3339 UTC ms, NULL = never
ALTER TABLE links ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;         -- hidden from the default list
ALTER TABLE links ADD COLUMN redirect_type INTEGER NOT NULL DEFAULT 302;  -- 301 | 302 | 307 | 308
ALTER TABLE links ADD COLUMN forward_query INTEGER NOT NULL DEFAULT 1;

-- The owner's default list shows unarchived links, newest first; `archived=true` the others.
CREATE INDEX links_by_owner_archived_newest ON links (user_id, archived, created_at DESC, slug DESC);

-- One row per version of a link: created, updated (owner or admin) or deleted. Written in the same
-- D1 batch as the index row (or by the cron from a pending marker); never rebuilt, never dropped.
-- `HISTORY = "off"` stops the writes only.
CREATE TABLE link_history (
    slug     TEXT NOT NULL,
    version  INTEGER NOT NULL,
    op       TEXT NOT NULL,      -- 'create' | 'update' | 'delete'
    actor    TEXT NOT NULL,      -- user id of who made the change ('admin' for the built-in admin)
    owner    TEXT NOT NULL,      -- the link's owner at this version: whose history it is
    at       TEXT NOT NULL,      -- RFC 3339 UTC ms
    link     TEXT NOT NULL,      -- the link as JSON (for a delete: its last state)
    PRIMARY KEY (slug, version)
);

-- Retention pruning walks the oldest rows first.
CREATE INDEX link_history_at ON link_history (at);
