-- SQLite's 0036 adds the index PostgreSQL's 0035 added (a team's measured
-- rows keyed by tier and priority too); nothing changes here. It keeps
-- the two backends' version numbers the same.
SELECT 1;
