-- A team's measured rows keyed by tier and priority too, as PostgreSQL's
-- 0035: with a full 30-day window at 10M tickets a year a team's tier's
-- priority read the team's ~170,000 rows of the month from the team's
-- index and kept one in twenty (p50 659 ms). The other columns a slice
-- reads follow in the key (SQLite has no INCLUDE).
CREATE INDEX kpi_measures_team_tier_priority
    ON kpi_measures (team_id, tier, priority, measure, at, agent_id, channel, organization_id, value, business)
    WHERE team_id IS NOT NULL;
ANALYZE kpi_measures_team_tier_priority;
