-- The backlog is counted per status, team, agent and age in the database
-- (`open_counts`); with team and agent in the index the department's
-- count reads the index alone.
DROP INDEX kpi_tickets_status;
CREATE INDEX kpi_tickets_status ON kpi_tickets (status, created_at, team_id, agent_id);
