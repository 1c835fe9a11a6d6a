-- IMAP fetching: a mailbox's account (settings as JSON, the password apart
-- so it is never shown), and per mailbox where fetching stands: the
-- UIDVALIDITY and last UID stored (so a big mailbox is not re-read), which
-- node holds it (a lease), and its health.

ALTER TABLE mailboxes ADD COLUMN imap TEXT;
ALTER TABLE mailboxes ADD COLUMN imap_password TEXT;

CREATE TABLE mailbox_fetch (
    mailbox_id BIGINT PRIMARY KEY REFERENCES mailboxes (id),
    uid_validity BIGINT,
    last_uid BIGINT NOT NULL DEFAULT 0,
    holder TEXT,
    lease_until BIGINT,
    -- new | ok | failing
    state TEXT NOT NULL DEFAULT 'new',
    last_ok_at BIGINT,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_try_at BIGINT NOT NULL DEFAULT 0,
    fetched BIGINT NOT NULL DEFAULT 0
);
