-- A rebuild sums its pages' cells in memory and adds them at the end: until
-- then the cells do not count (readers use the measured rows, and a start
-- after a rebuild that did not finish rebuilds again).
ALTER TABLE kpi_cells_zone ADD COLUMN complete BOOLEAN NOT NULL DEFAULT TRUE;
