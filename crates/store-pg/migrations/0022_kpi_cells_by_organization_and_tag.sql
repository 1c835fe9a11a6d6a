-- New views of the cells hold each organization's and each tag's rows
-- (with their teams, agents and channels), kept by the ticket's facts
-- (the cockpit of an organization or a tag reads them). Forgetting the
-- zone makes the hourly `kpi.bottlenecks` job rebuild the rollup; until
-- then the cockpit reads the measured rows.
DELETE FROM kpi_cells_zone;
