-- Accounts and moderation (issue "Accounts and the admin API").
-- Users gain the disabled flag and a version, so out-of-order background writes never roll the
-- index back (the same rule as links). Both come from KV, like every other column here.
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- Admin listings, newest first, keyset-paginated.
CREATE INDEX users_newest ON users (created_at DESC, id DESC);
CREATE INDEX links_newest ON links (created_at DESC, slug DESC);
