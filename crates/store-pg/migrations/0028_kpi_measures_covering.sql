-- A team's and an organization's measured rows, with every column a slice
-- reads or filters on, so a combination the cells do not hold (a team's
-- email, an organization's team …) is read from one index alone. The rows
-- were looked up one by one in the table to test the other filter:
-- seconds at 10M tickets a year, most of it reading table pages. Rows
-- without a team or an organization are not indexed: no query asks for
-- them. (An agent's rows are few; its index stays narrow.)
DROP INDEX kpi_measures_organization;
CREATE INDEX kpi_measures_organization
    ON kpi_measures (organization_id, measure, at)
    INCLUDE (team_id, agent_id, channel, priority, value, business, ticket_id)
    WHERE organization_id IS NOT NULL;
DROP INDEX kpi_measures_team;
CREATE INDEX kpi_measures_team
    ON kpi_measures (team_id, measure, at)
    INCLUDE (agent_id, channel, priority, organization_id, value, business, ticket_id)
    WHERE team_id IS NOT NULL;
