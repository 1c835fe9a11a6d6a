-- The cells and folded histograms summed per week (Monday to Sunday; day
-- is the Monday's day number), so a period reads its whole weeks from
-- here and only the days before and after them from kpi_cells and
-- kpi_histograms: a quarter is 12 weeks and at most 12 days instead of 91
-- days. Week cells are written with the day cells (hour always 0, arrivals'
-- hours summed); week histograms by the fold, from the same buckets as the
-- day's. Forgetting the zone makes the hourly `kpi.bottlenecks` job
-- rebuild the rollup, which fills them.
CREATE TABLE kpi_week_cells (
    kind TEXT NOT NULL,
    measure TEXT NOT NULL,
    day INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    n INTEGER NOT NULL,
    sum_value INTEGER NOT NULL,
    sum_business INTEGER NOT NULL,
    PRIMARY KEY (kind, measure, day, hour, a, b)
) WITHOUT ROWID;
CREATE TABLE kpi_week_histograms (
    kind TEXT NOT NULL,
    measure TEXT NOT NULL,
    day INTEGER NOT NULL,
    clock TEXT NOT NULL,
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    counts TEXT NOT NULL,
    PRIMARY KEY (kind, measure, day, clock, a, b)
) WITHOUT ROWID;
DELETE FROM kpi_cells_zone;
