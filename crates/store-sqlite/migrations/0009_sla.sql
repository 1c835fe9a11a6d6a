-- Service levels: calendars of business hours, ordered SLA policies, and
-- each ticket's SLA as last evaluated (for the "at risk" and "breached"
-- views and the ticket page). The events record every warning, breach and
-- fulfilment; this table is a cache of them and of the clocks.

CREATE TABLE calendars (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    hours TEXT NOT NULL,
    holidays TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE sla_policies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    conditions TEXT NOT NULL,
    targets TEXT NOT NULL,
    calendar_id INTEGER REFERENCES calendars (id),
    pause_on TEXT NOT NULL,
    warn_percent INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE ticket_sla (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id),
    ticket_version INTEGER NOT NULL,
    state TEXT,
    at_risk INTEGER NOT NULL DEFAULT 0,
    breached INTEGER NOT NULL DEFAULT 0,
    due_at INTEGER,
    evaluated_at INTEGER NOT NULL
);
CREATE INDEX ticket_sla_at_risk ON ticket_sla (at_risk);
CREATE INDEX ticket_sla_breached ON ticket_sla (breached);
