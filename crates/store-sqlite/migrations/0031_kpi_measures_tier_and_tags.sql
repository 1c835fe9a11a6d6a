-- A measured row carries its ticket's tier and tags too (the ticket's
-- now, as its organization: rewritten when the ticket is measured again,
-- the tier also when `kpi.retier` moves it), and the team's, agent's and
-- organization's indexes hold them, so a tier's or a tag's team (or agent)
-- is read from one index instead of looking each row's ticket up in
-- `kpi_tickets`.
ALTER TABLE kpi_measures ADD COLUMN tier TEXT;
ALTER TABLE kpi_measures ADD COLUMN tags TEXT;
UPDATE kpi_measures SET (tier, tags) =
    (SELECT f.tier, f.tags FROM kpi_tickets f WHERE f.ticket_id = kpi_measures.ticket_id);
DROP INDEX kpi_measures_organization;
CREATE INDEX kpi_measures_organization
    ON kpi_measures (organization_id, measure, at, team_id, agent_id, channel, priority, value, business, ticket_id,
                     tier, tags)
    WHERE organization_id IS NOT NULL;
DROP INDEX kpi_measures_team;
CREATE INDEX kpi_measures_team
    ON kpi_measures (team_id, measure, at, agent_id, channel, priority, organization_id, value, business, ticket_id,
                     tier, tags)
    WHERE team_id IS NOT NULL;
DROP INDEX kpi_measures_agent;
CREATE INDEX kpi_measures_agent
    ON kpi_measures (agent_id, measure, at, team_id, channel, priority, organization_id, value, business, ticket_id,
                     tier, tags)
    WHERE agent_id IS NOT NULL;
ANALYZE kpi_measures_organization;
ANALYZE kpi_measures_team;
ANALYZE kpi_measures_agent;
