-- A tag's and a tier's team, and a team's priority, are slices of the
-- cells now: `tag_team`, `tier_team` and `team_priority` hold arrivals and
-- the spread of every duration in both clocks (they were cards), and the
-- new views `tag_team_agent`, `tier_team_agent` and `team_priority_agent`
-- (a = the pair, as `vip/3` or `3/urgent`, b = agent) and
-- `tag_team_channel`, `tier_team_channel` and `team_priority_channel` (a
-- the same, b = channel) their agents' cards and channel mix. Forgetting
-- the zone makes the hourly `kpi.bottlenecks` job rebuild the rollup;
-- until then the cockpit reads the measured rows.
DELETE FROM kpi_cells_zone;
