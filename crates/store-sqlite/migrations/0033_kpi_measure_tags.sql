-- Each measured row once for each of its ticket's tags, keyed by tag, so a
-- combination with a tag the cells do not hold (a tag's VIP tier's high
-- priority) reads the tag's rows alone instead of scanning the
-- department's and testing `tags LIKE` on each. Rewritten with the
-- ticket's measured rows (and their tier by `kpi.retier`); `seq` numbers a
-- ticket's rows, so the key is unique. The table is its own covering
-- index (WITHOUT ROWID); the second index finds a ticket's rows to delete.
CREATE TABLE kpi_measure_tags (
    tag TEXT NOT NULL,
    measure TEXT NOT NULL,
    at INTEGER NOT NULL,
    ticket_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    value INTEGER NOT NULL,
    business INTEGER NOT NULL,
    team_id INTEGER,
    agent_id INTEGER,
    channel TEXT NOT NULL,
    priority TEXT NOT NULL,
    organization_id INTEGER,
    tier TEXT,
    PRIMARY KEY (tag, measure, at, ticket_id, seq)
) WITHOUT ROWID;
INSERT INTO kpi_measure_tags (tag, measure, at, ticket_id, seq, value, business, team_id, agent_id, channel,
                              priority, organization_id, tier)
SELECT DISTINCT j.value, m.measure, m.at, m.ticket_id, m.rowid, m.value, m.business, m.team_id, m.agent_id,
       m.channel, m.priority, m.organization_id, m.tier
FROM kpi_measures m, json_each(m.tags) j;
CREATE INDEX kpi_measure_tags_ticket ON kpi_measure_tags (ticket_id);
ANALYZE kpi_measure_tags;
