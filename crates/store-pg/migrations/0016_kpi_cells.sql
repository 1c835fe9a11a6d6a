-- The rollup's pre-aggregated cells (domain::kpi::cells): measured rows
-- summed per view, subject (a, b), measure, local day and (arrivals only)
-- local hour, and duration values counted per bucket. Kept as each
-- ticket's rows are replaced (new tally minus old), in the zone recorded
-- in kpi_cells_zone; rebuilt by `switchboard kpi rebuild`.

CREATE TABLE kpi_cells (
    kind TEXT NOT NULL,
    measure TEXT NOT NULL,
    day BIGINT NOT NULL,
    hour BIGINT NOT NULL,
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    n BIGINT NOT NULL,
    sum_value BIGINT NOT NULL,
    sum_business BIGINT NOT NULL,
    PRIMARY KEY (kind, measure, day, hour, a, b)
);

CREATE TABLE kpi_buckets (
    kind TEXT NOT NULL,
    measure TEXT NOT NULL,
    day BIGINT NOT NULL,
    clock TEXT NOT NULL,
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    lower_ms BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (kind, measure, day, clock, a, b, lower_ms)
);

-- The time zone whose local days the cells count; none until a rebuild.
CREATE TABLE kpi_cells_zone (
    zone TEXT NOT NULL
);
