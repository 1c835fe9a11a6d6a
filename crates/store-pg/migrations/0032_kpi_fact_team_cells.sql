-- An organization's, a tag's and a tier's team are slices of the cells
-- now: `organization_team`, `tag_team` and `tier_team` hold arrivals and
-- the spread of every duration in both clocks (they were cards), and the
-- new views `…_team_agent` (a = fact and team, b = agent) and
-- `…_team_channel` (a the same, b = channel) their agents' cards and
-- channel mix. Forgetting the zone makes the hourly `kpi.bottlenecks` job
-- rebuild the rollup; until then the cockpit reads the measured rows.
DELETE FROM kpi_cells_zone;
