-- A tag's measured rows keyed by tier and priority too, so a tag's tier's
-- priority (a combination the cells do not hold) reads that combination's
-- rows only. From the tag's key PostgreSQL scanned every row of the tag's
-- two periods and kept one in twenty-five: p50 197-216 ms, p99 211-274 at
-- 10M tickets a year with full 30-day windows, over the cockpit's 200 ms
-- target. SQLite reads those rows within the target (its 0037 is empty):
-- each index costs the embedded writer.
CREATE INDEX kpi_measure_tags_tier_priority
    ON kpi_measure_tags (tag, tier, priority, measure, at)
    INCLUDE (value, business, team_id, agent_id, channel, organization_id);
ANALYZE kpi_measure_tags;
