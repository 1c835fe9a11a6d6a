-- Lists are read newest-change first within a few statuses. Newer SQLite
-- planners chose the status index for `status IN (…)` and then sorted every
-- matching ticket (not seeing the LIMIT): a view of open tickets sorted
-- 140,000 rows at a million. Without it they scan the covering sort index
-- and stop after a page. An agent's own tickets by last change get an index
-- of their own.
DROP INDEX tickets_status;
CREATE INDEX tickets_assignee_updated ON tickets (assignee_id, updated_at, id, status);
