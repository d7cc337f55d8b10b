-- Search by a folded text per row instead of FTS5 (issue 25; BENCHMARKS.md has the figures).
-- `search_text` is slug, url, title and each tag, Unicode-lower-cased and joined by char(31),
-- which no search text can hold: a search is `instr(search_text, folded q)`, walking the sort's
-- index (which carries the text, below) with the page's LIMIT. The index upsert writes it from Rust with the row
-- (src/store/index/link_order.rs `search_text`), so the reconciler's rewrite keeps it right.
ALTER TABLE links ADD COLUMN search_text TEXT;

-- Rows of ASCII only are folded here exactly (`lower()` folds ASCII); any other row stays NULL,
-- which the sweep reads as drift and rewrites from KV with the Rust-folded text. char(1)..char(127)
-- as a GLOB class: a row with a character outside it is not ASCII.
UPDATE links SET search_text = lower(slug || char(31) || url || char(31) || COALESCE(title, '') || COALESCE((SELECT group_concat(char(31) || value, '') FROM json_each(links.tags)), '')) WHERE NOT (slug || url || COALESCE(title, '') || tags) GLOB ('*[^' || char(1) || '-' || char(127) || ']*');

-- The owner's sort indexes carry `search_text` last, so a search walks one of them in order and
-- tests each entry without reading its row (SQLite reads the row only for a match): a rare
-- text costs one pass over the owner's index entries, a common one stops at the page's LIMIT,
-- and a count reads the index alone. Same names and keys as migrations/0003 and 0006.
DROP INDEX links_by_owner_archived_newest;
CREATE INDEX links_by_owner_archived_newest ON links (user_id, archived, created_at DESC, slug DESC, search_text);
DROP INDEX links_by_owner_archived_updated;
CREATE INDEX links_by_owner_archived_updated ON links (user_id, archived, updated_at, slug, search_text);
DROP INDEX links_by_owner_archived_slug;
CREATE INDEX links_by_owner_archived_slug ON links (user_id, archived, slug, search_text);
DROP INDEX links_by_owner_archived_clicks;
CREATE INDEX links_by_owner_archived_clicks ON links (user_id, archived, clicks, slug, search_text);

-- The trigram index and the triggers that kept it are no longer read.
DROP TRIGGER links_fts_insert;
DROP TRIGGER links_fts_delete;
DROP TRIGGER links_fts_update;
DROP TABLE links_fts;
