-- The days that have unfolded buckets, for the hourly fold, instead of an
-- index on every bucket row's day: each bucket written paid for that
-- index (a fifth of the rollup's writing time), while a delta touches a
-- handful of days.
DROP INDEX kpi_buckets_day;
CREATE TABLE kpi_bucket_days (
    day BIGINT PRIMARY KEY
);
INSERT INTO kpi_bucket_days (day) SELECT DISTINCT day FROM kpi_buckets;
