-- The agent workspace: agents' status (and its history, for occupancy),
-- personal settings, macros and canned responses, saved views, who is on a
-- ticket right now, and instance settings.

CREATE TABLE agent_status (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    -- online | away | offline
    status TEXT NOT NULL,
    since INTEGER NOT NULL
);

-- Append-only: every change of an agent's status.
CREATE TABLE agent_status_changes (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    status TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX agent_status_changes_user ON agent_status_changes (user_id, at);

CREATE TABLE user_preferences (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    preferences TEXT NOT NULL
);

-- owner_id NULL: shared (admin-defined); otherwise the owner's own.
CREATE TABLE macros (
    id INTEGER PRIMARY KEY,
    owner_id INTEGER REFERENCES users (id),
    name TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    public INTEGER NOT NULL DEFAULT 1,
    actions TEXT NOT NULL DEFAULT '{}',
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX macros_owner ON macros (owner_id, name);

-- owner_id NULL: shared with all staff.
CREATE TABLE saved_views (
    id INTEGER PRIMARY KEY,
    owner_id INTEGER REFERENCES users (id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    columns TEXT NOT NULL,
    sort TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX saved_views_owner ON saved_views (owner_id, position);

-- Who has a ticket open (and is typing), refreshed by a heartbeat.
CREATE TABLE ticket_presence (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    typing INTEGER NOT NULL DEFAULT 0,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, user_id)
);

CREATE TABLE instance_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
