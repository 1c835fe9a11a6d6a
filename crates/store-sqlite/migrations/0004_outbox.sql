-- Outgoing mail: every outbound email identity is a send waiting in the
-- outbox, created in the same transaction as its message. Mailboxes get an
-- optional auto-reply template.

CREATE TABLE mail_outbox (
    message_id INTEGER PRIMARY KEY REFERENCES messages (id),
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    -- queued | sent | failed
    status TEXT NOT NULL DEFAULT 'queued',
    -- reply (by an agent) | auto_reply (an acknowledgement)
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_recipient ON mail_outbox (recipient, kind, created_at);

ALTER TABLE mailboxes ADD COLUMN auto_reply TEXT;
