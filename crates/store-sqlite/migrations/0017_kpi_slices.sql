-- A team's or an agent's measured rows are read without scanning the
-- department's: the cockpit reads rows for slices the cells do not hold
-- or that are small (an agent's week among a million tickets' rows).
CREATE INDEX kpi_measures_agent ON kpi_measures (agent_id, measure, at);
CREATE INDEX kpi_measures_team ON kpi_measures (team_id, measure, at);
