-- Voice of the customer: survey invitations (one per ticket and kind;
-- NPS ones have no ticket), their answers (one per invitation: answering
-- again updates it), customers who asked for no more surveys, and the
-- sentiment of each inbound customer message.

CREATE TABLE survey_invitations (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    scale TEXT NOT NULL,
    ticket_id INTEGER REFERENCES tickets (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    channel TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    answered_at INTEGER
);
CREATE UNIQUE INDEX survey_invitations_ticket ON survey_invitations (ticket_id, kind) WHERE ticket_id IS NOT NULL;
CREATE INDEX survey_invitations_customer ON survey_invitations (customer_id, sent_at);
CREATE INDEX survey_invitations_sent ON survey_invitations (sent_at);

CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    invitation_id INTEGER NOT NULL UNIQUE REFERENCES survey_invitations (id),
    kind TEXT NOT NULL,
    scale TEXT NOT NULL,
    score INTEGER NOT NULL,
    rating TEXT NOT NULL,
    reason TEXT,
    comment TEXT,
    sentiment REAL,
    ticket_id INTEGER REFERENCES tickets (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    agent_id INTEGER,
    team_id INTEGER,
    channel TEXT,
    tier TEXT NOT NULL,
    answered_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    reviewed_at INTEGER,
    reviewed_by INTEGER,
    review_note TEXT
);
CREATE INDEX feedback_answered ON feedback (answered_at);
CREATE INDEX feedback_ticket ON feedback (ticket_id);
CREATE INDEX feedback_customer ON feedback (customer_id);

CREATE TABLE survey_unsubscribes (
    customer_id INTEGER NOT NULL PRIMARY KEY REFERENCES customers (id),
    at INTEGER NOT NULL
);

CREATE TABLE message_sentiments (
    message_id INTEGER NOT NULL PRIMARY KEY REFERENCES messages (id),
    ticket_id INTEGER NOT NULL,
    score REAL NOT NULL,
    label TEXT NOT NULL
);
CREATE INDEX message_sentiments_ticket ON message_sentiments (ticket_id);
