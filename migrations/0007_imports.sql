-- Import jobs (issue 25): one row per upload, counted by the queue consumer chunk by chunk
-- (`UPDATE … SET created = created + ?`: concurrent consumer invocations add atomically), the
-- chunks already counted (a redelivered chunk is never counted twice), and the report of
-- every refused, renamed, skipped or superseded row. Job state, not link state: nothing here is
-- rebuilt from KV, and nothing in KV depends on it.
CREATE TABLE IF NOT EXISTS imports (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,
  -- Who uploaded: the owner, or the admin importing for them.
  created_by TEXT NOT NULL,
  status TEXT NOT NULL,            -- queued | running | done
  format TEXT NOT NULL,
  on_conflict TEXT NOT NULL,       -- skip | overwrite | rename
  dry_run INTEGER NOT NULL,
  -- The host the file was uploaded to: links may not point back at it.
  host TEXT NOT NULL,
  total INTEGER NOT NULL,
  chunks INTEGER NOT NULL,
  chunks_done INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL DEFAULT 0,
  overwritten INTEGER NOT NULL DEFAULT 0,
  renamed INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX IF NOT EXISTS imports_by_owner ON imports (owner_id, created_at);

CREATE TABLE IF NOT EXISTS import_chunks (
  import_id TEXT NOT NULL,
  chunk INTEGER NOT NULL,
  PRIMARY KEY (import_id, chunk)
);

CREATE TABLE IF NOT EXISTS import_rows (
  import_id TEXT NOT NULL,
  line INTEGER NOT NULL,
  slug TEXT,
  outcome TEXT NOT NULL,           -- refused | renamed | skipped | superseded
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (import_id, line)
);
