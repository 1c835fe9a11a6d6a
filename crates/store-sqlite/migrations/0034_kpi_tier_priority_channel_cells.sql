-- A tier's priority's channel (`tier_priority_channel`, a = `vip/high`,
-- b = channel) is a slice of the cells now, every measure and the spread
-- of every duration in both clocks (it was that tier's priority's
-- channel mix), with its agents' and teams' cards
-- (`tier_priority_channel_agent`, `tier_priority_channel_team`, a =
-- `vip/high/email`): three large fields the measured rows could answer
-- only by scanning the department's. Forgetting the zone makes the
-- hourly `kpi.bottlenecks` job rebuild the rollup; until then the cockpit
-- reads the measured rows.
DELETE FROM kpi_cells_zone;
