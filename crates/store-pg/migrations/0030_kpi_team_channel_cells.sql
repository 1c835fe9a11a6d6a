-- A team's channel is a slice of the cells now: `team_channel` holds the
-- spread of every duration in both clocks, and the new view
-- `team_channel_agent` (a = team and channel, b = agent) its agents' cards.
-- Forgetting the zone makes the hourly `kpi.bottlenecks` job rebuild the
-- rollup; until then the cockpit reads the measured rows.
DELETE FROM kpi_cells_zone;
