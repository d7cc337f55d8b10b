-- Tags (issue 25): the owner's labels of a link. KV's value (`tags`, a JSON array) is the truth;
-- D1 mirrors it twice, both written in the same versioned batch as the link row:
-- `links.tags` (the same JSON array, so the sweep can tell whether the tag rows match it) and
-- one `link_tags` row per tag (the index the tag filter and GET /api/tags read).
ALTER TABLE links ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';

CREATE TABLE link_tags (
    slug TEXT NOT NULL,
    tag  TEXT NOT NULL,      -- lower-cased, 1-32 characters, no whitespace or commas
    PRIMARY KEY (slug, tag)
);

-- The tag filter and the per-tag counts start from the tag.
CREATE INDEX link_tags_by_tag ON link_tags (tag, slug);
