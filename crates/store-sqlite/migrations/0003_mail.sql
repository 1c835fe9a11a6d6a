-- Email: mailboxes, the email identity of messages (threading and
-- exactly-once ingest), collaborators, the quarantine and instance secrets.

CREATE TABLE mailboxes (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL,
    name TEXT NOT NULL,
    team_id INTEGER REFERENCES teams (id),
    token_hash TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX mailboxes_address ON mailboxes (address);
CREATE UNIQUE INDEX mailboxes_token_hash ON mailboxes (token_hash);

CREATE TABLE message_emails (
    message_id INTEGER PRIMARY KEY REFERENCES messages (id),
    mailbox_id INTEGER REFERENCES mailboxes (id),
    direction TEXT NOT NULL,
    header_message_id TEXT,
    in_reply_to TEXT,
    refs TEXT NOT NULL DEFAULT '[]',
    from_address TEXT NOT NULL,
    to_addresses TEXT NOT NULL DEFAULT '[]',
    cc_addresses TEXT NOT NULL DEFAULT '[]',
    subject TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    raw_key TEXT
);
CREATE INDEX message_emails_header ON message_emails (header_message_id);
CREATE UNIQUE INDEX message_emails_content_hash ON message_emails (content_hash);

CREATE TABLE ticket_collaborators (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    PRIMARY KEY (ticket_id, customer_id)
);

CREATE TABLE mail_quarantine (
    id INTEGER PRIMARY KEY,
    mailbox_id INTEGER REFERENCES mailboxes (id),
    content_hash TEXT NOT NULL,
    raw_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    reason TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    resolved_at INTEGER,
    resolved_message_id INTEGER REFERENCES messages (id)
);
CREATE UNIQUE INDEX mail_quarantine_content_hash ON mail_quarantine (content_hash);

CREATE TABLE instance_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
