-- Routing: rules that send new tickets to a team, each team's way of
-- assigning (mode, capacity per channel, where round robin stands), and
-- each agent's skills, languages and leave. An agent's open work is
-- counted from an index, not the tickets.

CREATE TABLE routing_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    conditions TEXT NOT NULL,
    team_id INTEGER NOT NULL REFERENCES teams (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE team_routing (
    team_id INTEGER PRIMARY KEY REFERENCES teams (id),
    settings TEXT NOT NULL,
    last_assignee_id INTEGER
);

CREATE TABLE agent_profiles (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    profile TEXT NOT NULL
);

CREATE INDEX tickets_load ON tickets (assignee_id, status, channel);
