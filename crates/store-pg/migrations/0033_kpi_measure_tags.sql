-- Each measured row once for each of its ticket's tags, keyed by tag, so a
-- combination with a tag the cells do not hold (a tag's VIP tier's high
-- priority) reads the tag's rows alone instead of scanning the
-- department's and testing `tags LIKE` on each. Rewritten with the
-- ticket's measured rows (and their tier by `kpi.retier`); `seq` numbers a
-- ticket's rows, so the key is unique. The key includes every column a
-- slice reads (an index-only scan); the second index finds a ticket's
-- rows to delete.
CREATE TABLE kpi_measure_tags (
    tag TEXT NOT NULL,
    measure TEXT NOT NULL,
    at BIGINT NOT NULL,
    ticket_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    value BIGINT NOT NULL,
    business BIGINT NOT NULL,
    team_id BIGINT,
    agent_id BIGINT,
    channel TEXT NOT NULL,
    priority TEXT NOT NULL,
    organization_id BIGINT,
    tier TEXT,
    PRIMARY KEY (tag, measure, at, ticket_id, seq)
        INCLUDE (value, business, team_id, agent_id, channel, priority, organization_id, tier)
);
INSERT INTO kpi_measure_tags (tag, measure, at, ticket_id, seq, value, business, team_id, agent_id, channel,
                              priority, organization_id, tier)
SELECT t.tag, m.measure, m.at, m.ticket_id, row_number() OVER (PARTITION BY m.ticket_id, t.tag ORDER BY m.at),
       m.value, m.business, m.team_id, m.agent_id, m.channel, m.priority, m.organization_id, m.tier
FROM kpi_measures m,
     LATERAL (SELECT DISTINCT j AS tag FROM jsonb_array_elements_text(m.tags::jsonb) j) t
WHERE m.tags IS NOT NULL AND m.tags <> '[]';
CREATE INDEX kpi_measure_tags_ticket ON kpi_measure_tags (ticket_id);
ANALYZE kpi_measure_tags;
