-- A team's measured rows keyed by tier and priority too, so a team's
-- tier's priority (and a fourth field with it: its channel) reads that
-- combination's rows only. From the team's index (tier and priority in
-- its INCLUDE) PostgreSQL scanned every row of the team's period and kept
-- one in twenty: 187-256 ms p99 at 10M tickets a year, over the cockpit's
-- 200 ms target. SQLite reads those rows within the target (its 0035 is
-- empty): each index costs the embedded writer.
CREATE INDEX kpi_measures_team_tier_priority
    ON kpi_measures (team_id, tier, priority, measure, at)
    INCLUDE (agent_id, channel, organization_id, value, business)
    WHERE team_id IS NOT NULL;
ANALYZE kpi_measures;
