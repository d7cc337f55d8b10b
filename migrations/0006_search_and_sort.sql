-- Search and sorting of the link lists (issue 25). Everything here is derived: `clicks` from
-- the roll-up (clicks_daily), `links_fts` from the links rows by the triggers below, so a row
-- the reconciler rewrites from KV brings both back with it.

-- People's clicks since the link's creation day: the list's `clicks` and the `clicks` sort.
-- The index upsert sets it from clicks_daily when it writes a row; the click roll-up adds to
-- it in the same transaction as it adds to clicks_daily.
ALTER TABLE links ADD COLUMN clicks INTEGER NOT NULL DEFAULT 0;
UPDATE links SET clicks = (SELECT COALESCE(SUM(c.clicks), 0) FROM clicks_daily c WHERE c.slug = links.slug AND c.dimension = 'total' AND c.bot = 0 AND c.day >= substr(links.created_at, 1, 10));

-- Keyset pagination for every sort of the owner's list (ties by slug, scanned either way).
CREATE INDEX links_by_owner_archived_updated ON links (user_id, archived, updated_at, slug);
CREATE INDEX links_by_owner_archived_slug ON links (user_id, archived, slug);
CREATE INDEX links_by_owner_archived_clicks ON links (user_id, archived, clicks, slug);
-- ... and of the admin's (the slug sort walks the primary key).
CREATE INDEX links_updated ON links (updated_at, slug);
CREATE INDEX links_clicks ON links (clicks, slug);

-- `q`: substrings of slug, url, title and tags (one per line, so a match never spans two tags),
-- case-insensitive. Trigrams answer any substring of three characters or more. Contentless:
-- only rowids come back, and each trigger removes exactly what it indexed.
CREATE VIRTUAL TABLE links_fts USING fts5(slug, url, title, tags, content = '', tokenize = 'trigram case_sensitive 0');
INSERT INTO links_fts (rowid, slug, url, title, tags) SELECT rowid, slug, url, title, (SELECT group_concat(value, char(10)) FROM json_each(links.tags)) FROM links;

-- One line per trigger body statement: the runners split migrations at a ';' that ends a line.
CREATE TRIGGER links_fts_insert AFTER INSERT ON links BEGIN
  INSERT INTO links_fts (rowid, slug, url, title, tags) VALUES (new.rowid, new.slug, new.url, new.title, (SELECT group_concat(value, char(10)) FROM json_each(new.tags))); END;
CREATE TRIGGER links_fts_delete AFTER DELETE ON links BEGIN
  INSERT INTO links_fts (links_fts, rowid, slug, url, title, tags) VALUES ('delete', old.rowid, old.slug, old.url, old.title, (SELECT group_concat(value, char(10)) FROM json_each(old.tags))); END;
-- Only the searched columns: the roll-up's click updates leave the index alone.
CREATE TRIGGER links_fts_update AFTER UPDATE OF slug, url, title, tags ON links BEGIN
  INSERT INTO links_fts (links_fts, rowid, slug, url, title, tags) VALUES ('delete', old.rowid, old.slug, old.url, old.title, (SELECT group_concat(value, char(10)) FROM json_each(old.tags))); INSERT INTO links_fts (rowid, slug, url, title, tags) VALUES (new.rowid, new.slug, new.url, new.title, (SELECT group_concat(value, char(10)) FROM json_each(new.tags))); END;
