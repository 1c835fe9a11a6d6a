-- The rollup's pre-aggregated cells (domain::kpi::cells): measured rows
-- summed per view, subject (a, b), measure, local day and (arrivals only)
-- local hour, and duration values counted per bucket. Kept as each
-- ticket's rows are replaced (new tally minus old), in the zone recorded
-- in kpi_cells_zone; rebuilt by `switchboard kpi rebuild`.

CREATE TABLE kpi_cells (
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

CREATE TABLE kpi_buckets (
    kind TEXT NOT NULL,
    measure TEXT NOT NULL,
    day INTEGER NOT NULL,
    clock TEXT NOT NULL,
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    lower_ms INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (kind, measure, day, clock, a, b, lower_ms)
) WITHOUT ROWID;

-- The time zone whose local days the cells count; none until a rebuild.
CREATE TABLE kpi_cells_zone (
    zone TEXT NOT NULL
);
