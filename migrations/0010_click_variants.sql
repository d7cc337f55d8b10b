-- Weighted destinations (issue 26, A/B variants): a click records the variant it went to
-- ('1'..'5', the variant's place in the link's `variants`). The roll-up keeps it as one more
-- `clicks_daily.dimension`, 'variant', added only for clicks that went to a variant (no schema
-- change: the dimension column is free text); single visits keep it in this new column, ''
-- for a visit that went to no variant (and for every visit recorded before this migration).
ALTER TABLE visits ADD COLUMN variant TEXT NOT NULL DEFAULT '';
