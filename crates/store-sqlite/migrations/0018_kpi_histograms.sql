-- Closed days' duration buckets folded into one row per day, view,
-- measure and clock (`counts`: "lower_s:n" pairs), so a month of a big
-- department's spreads is a few hundred rows instead of hundreds of
-- thousands. Recent days stay in kpi_buckets (additive, concurrent
-- writers) until the hourly fold; a read sums both.
CREATE TABLE kpi_histograms (
    kind TEXT NOT NULL,
    measure TEXT NOT NULL,
    day INTEGER NOT NULL,
    clock TEXT NOT NULL,
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    counts TEXT NOT NULL,
    PRIMARY KEY (kind, measure, day, clock, a, b)
) WITHOUT ROWID;
CREATE INDEX kpi_buckets_day ON kpi_buckets (day);
