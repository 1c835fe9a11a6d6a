-- The KPI rollup: each ticket's measured rows (a reply, a solve, a reopen,
-- an SLA outcome …) with the team, agent, channel and priority it had
-- then, and its facts as its events left them. Derived from the events,
-- replaced per ticket as they arrive, rebuilt by `switchboard kpi rebuild`.

CREATE TABLE kpi_tickets (
    ticket_id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    priority TEXT NOT NULL,
    team_id INTEGER,
    agent_id INTEGER,
    requester_id INTEGER,
    organization_id INTEGER,
    tags TEXT NOT NULL,
    merged BOOLEAN NOT NULL,
    public_replies INTEGER NOT NULL,
    reopens INTEGER NOT NULL,
    solved_at INTEGER,
    events_seen INTEGER NOT NULL
);
CREATE INDEX kpi_tickets_status ON kpi_tickets (status, created_at);

CREATE TABLE kpi_measures (
    ticket_id INTEGER NOT NULL,
    measure TEXT NOT NULL,
    at INTEGER NOT NULL,
    value INTEGER NOT NULL,
    business INTEGER NOT NULL,
    team_id INTEGER,
    agent_id INTEGER,
    channel TEXT NOT NULL,
    priority TEXT NOT NULL
);
CREATE INDEX kpi_measures_at ON kpi_measures (measure, at);
CREATE INDEX kpi_measures_ticket ON kpi_measures (ticket_id);
