-- The owner's recently deleted links (GET /api/deleted-links): their delete rows in the history,
-- newest first. A partial index: only delete rows, by owner and time.
CREATE INDEX link_history_deleted ON link_history (owner, at) WHERE op = 'delete';
