-- Outgoing integrations: Slack and generic webhooks, and the log of every
-- delivery attempt with the receiver's answer.

CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    only_bad_ratings INTEGER NOT NULL,
    secret TEXT NOT NULL,
    active INTEGER NOT NULL,
    failures_in_a_row INTEGER NOT NULL DEFAULT 0,
    disabled_reason TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
