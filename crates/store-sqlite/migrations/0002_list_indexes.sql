-- The sort indexes carry the columns lists filter on most, so a filtered
-- list newest-first is decided inside the index, without reading skipped
-- rows from the table.
DROP INDEX tickets_created;
CREATE INDEX tickets_created ON tickets (created_at, id, status, priority, team_id, assignee_id, tags);
DROP INDEX tickets_updated;
CREATE INDEX tickets_updated ON tickets (updated_at, id, status, priority, team_id, assignee_id, tags);

-- Tags are matched in the ticket's own list now; the side table is unused.
DROP TABLE ticket_tags;
