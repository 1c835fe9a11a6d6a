-- Service rules: triggers and automations (one table, by kind), when an
-- automation last acted on a ticket, escalations, approvals, in-app
-- notices, each ticket's assessed priority, and major incidents.

CREATE TABLE service_rules (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    run_on TEXT NOT NULL,
    all_conditions TEXT NOT NULL,
    any_conditions TEXT NOT NULL,
    actions TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One row per rule, ticket and state it acted on, so an automation acts
-- once on a ticket until the ticket changes.
CREATE TABLE rule_firings (
    rule_id INTEGER NOT NULL REFERENCES service_rules (id) ON DELETE CASCADE,
    ticket_id INTEGER NOT NULL,
    mark TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (rule_id, ticket_id, mark)
);

CREATE TABLE escalations (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    tier TEXT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    raised_by INTEGER,
    state TEXT NOT NULL,
    outcome TEXT,
    resolved_by INTEGER,
    created_at INTEGER NOT NULL,
    resolved_at INTEGER
);
CREATE INDEX escalations_state ON escalations (state, id);
CREATE INDEX escalations_ticket ON escalations (ticket_id);

CREATE TABLE approvals (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    kind TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_by INTEGER NOT NULL,
    state TEXT NOT NULL,
    approver_id INTEGER,
    escalated INTEGER NOT NULL DEFAULT 0,
    decided_by INTEGER,
    decision_reason TEXT,
    created_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    decided_at INTEGER
);
CREATE INDEX approvals_state ON approvals (state, id);
CREATE INDEX approvals_ticket ON approvals (ticket_id);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    ticket_id INTEGER,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX notifications_user ON notifications (user_id, id);

CREATE TABLE ticket_priority (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id),
    score INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    assessed_at INTEGER NOT NULL
);

CREATE TABLE major_incidents (
    problem_id INTEGER PRIMARY KEY REFERENCES tickets (id),
    active INTEGER NOT NULL,
    matching TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
