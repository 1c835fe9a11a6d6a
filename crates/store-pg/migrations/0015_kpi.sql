-- The KPI rollup: each ticket's measured rows (a reply, a solve, a reopen,
-- an SLA outcome …) with the team, agent, channel and priority it had
-- then, and its facts as its events left them. Derived from the events,
-- replaced per ticket as they arrive, rebuilt by `switchboard kpi rebuild`.

CREATE TABLE kpi_tickets (
    ticket_id BIGINT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    priority TEXT NOT NULL,
    team_id BIGINT,
    agent_id BIGINT,
    requester_id BIGINT,
    organization_id BIGINT,
    tags TEXT NOT NULL,
    merged BOOLEAN NOT NULL,
    public_replies BIGINT NOT NULL,
    reopens BIGINT NOT NULL,
    solved_at BIGINT,
    events_seen BIGINT NOT NULL
);
CREATE INDEX kpi_tickets_status ON kpi_tickets (status, created_at);

CREATE TABLE kpi_measures (
    ticket_id BIGINT NOT NULL,
    measure TEXT NOT NULL,
    at BIGINT NOT NULL,
    value BIGINT NOT NULL,
    business BIGINT NOT NULL,
    team_id BIGINT,
    agent_id BIGINT,
    channel TEXT NOT NULL,
    priority TEXT NOT NULL
);
CREATE INDEX kpi_measures_at ON kpi_measures (measure, at);
CREATE INDEX kpi_measures_ticket ON kpi_measures (ticket_id);
