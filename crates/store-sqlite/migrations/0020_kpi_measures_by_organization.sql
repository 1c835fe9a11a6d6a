-- A measured row carries its ticket's organization, as it carries the
-- team and agent, so an organization's cockpit reads that organization's
-- rows through an index instead of every row of the period joined to the
-- ticket's facts. Rows already measured take it from their facts.
ALTER TABLE kpi_measures ADD COLUMN organization_id INTEGER;
UPDATE kpi_measures SET organization_id =
    (SELECT f.organization_id FROM kpi_tickets f WHERE f.ticket_id = kpi_measures.ticket_id);
CREATE INDEX kpi_measures_organization ON kpi_measures (organization_id, measure, at);
