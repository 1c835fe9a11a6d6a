-- Switchboard core schema, SQLite. Times are UTC Unix milliseconds.
-- The PostgreSQL migration of the same number creates the same tables.

CREATE TABLE organizations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    domains TEXT NOT NULL DEFAULT '[]',
    tier TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    shares_tickets INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX organizations_name ON organizations (name);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT,
    organization_id INTEGER REFERENCES organizations (id),
    tier TEXT NOT NULL,
    annual_value_cents INTEGER,
    tags TEXT NOT NULL DEFAULT '[]',
    time_zone TEXT,
    locale TEXT,
    external_id TEXT,
    password_hash TEXT,
    churned_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX customers_email ON customers (email);
CREATE UNIQUE INDEX customers_external_id ON customers (external_id);
CREATE INDEX customers_organization ON customers (organization_id, id);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    reports_to INTEGER REFERENCES users (id),
    time_zone TEXT,
    password_hash TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_reports_to ON users (reports_to);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    lead_id INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX teams_name ON teams (name);

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE custom_fields (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '[]',
    required INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX custom_fields_key ON custom_fields (key);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    priority INTEGER NOT NULL,
    type TEXT NOT NULL,
    channel TEXT NOT NULL,
    requester_id INTEGER NOT NULL REFERENCES customers (id),
    organization_id INTEGER REFERENCES organizations (id),
    assignee_id INTEGER REFERENCES users (id),
    team_id INTEGER REFERENCES teams (id),
    tags TEXT NOT NULL DEFAULT '[]',
    custom_fields TEXT NOT NULL DEFAULT '{}',
    problem_id INTEGER REFERENCES tickets (id),
    merged_into INTEGER REFERENCES tickets (id),
    follow_up_of INTEGER REFERENCES tickets (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    solved_at INTEGER,
    version INTEGER NOT NULL
);
-- Ticket numbers start at 1000 so #12 is never mistaken for a count.
INSERT INTO sqlite_sequence (name, seq) VALUES ('tickets', 999);
CREATE INDEX tickets_created ON tickets (created_at, id);
CREATE INDEX tickets_updated ON tickets (updated_at, id);
CREATE INDEX tickets_status ON tickets (status, created_at, id);
CREATE INDEX tickets_team ON tickets (team_id, created_at, id);
CREATE INDEX tickets_assignee ON tickets (assignee_id, created_at, id);
CREATE INDEX tickets_requester ON tickets (requester_id, created_at, id);
CREATE INDEX tickets_organization ON tickets (organization_id, created_at, id);
CREATE INDEX tickets_problem ON tickets (problem_id);

CREATE TABLE ticket_tags (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    tag TEXT NOT NULL,
    PRIMARY KEY (tag, ticket_id)
);
CREATE INDEX ticket_tags_ticket ON ticket_tags (ticket_id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    visibility TEXT NOT NULL,
    author_kind TEXT NOT NULL,
    author_id INTEGER,
    channel TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_ticket ON messages (ticket_id, created_at, id);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    message_id INTEGER REFERENCES messages (id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    storage_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    uploader_kind TEXT NOT NULL,
    uploader_id INTEGER NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);

CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id INTEGER,
    kind TEXT NOT NULL,
    field TEXT,
    from_value TEXT NOT NULL,
    to_value TEXT NOT NULL,
    UNIQUE (ticket_id, seq)
);
CREATE INDEX ticket_events_at ON ticket_events (at, id);

-- Full text: our own tokens, so both backends match the same words.
-- body holds public messages, notes the internal ones.
CREATE VIRTUAL TABLE ticket_search USING fts5 (subject, body, notes, tokenize = 'unicode61 remove_diacritics 0');

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    principal_kind TEXT NOT NULL,
    principal_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);

CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    resource_id INTEGER NOT NULL,
    request_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
