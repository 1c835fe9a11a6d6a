-- An agent's measured rows with every column a slice reads or filters
-- on, as the team's and the organization's since 0028: a team's agent or
-- an agent's channel (which the cells do not hold) was read by looking
-- each of the agent's rows up in the table. Rows without an agent (a
-- ticket's arrival) are not indexed: no query asks for them.
DROP INDEX kpi_measures_agent;
CREATE INDEX kpi_measures_agent
    ON kpi_measures (agent_id, measure, at, team_id, channel, priority, organization_id, value, business, ticket_id)
    WHERE agent_id IS NOT NULL;
ANALYZE kpi_measures_agent;
