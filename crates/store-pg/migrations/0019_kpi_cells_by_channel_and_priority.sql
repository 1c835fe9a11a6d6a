-- The channel views of the cells now hold every measure, and new views
-- hold each priority's (the cockpit of a channel or a priority reads
-- them). Forgetting the zone makes the hourly `kpi.bottlenecks` job
-- rebuild the rollup; until then the cockpit reads the measured rows.
DELETE FROM kpi_cells_zone;
