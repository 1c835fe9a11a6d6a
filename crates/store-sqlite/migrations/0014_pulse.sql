-- The agents' anonymous pulse survey (eNPS and a few 1–5 questions).
-- Answers keep no one's id: who has answered is kept apart, only to stop
-- a second answer.

CREATE TABLE pulse_surveys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    questions TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    closes_at INTEGER NOT NULL,
    created_by INTEGER NOT NULL
);

CREATE TABLE pulse_answers (
    id INTEGER PRIMARY KEY,
    pulse_id INTEGER NOT NULL REFERENCES pulse_surveys (id),
    enps INTEGER NOT NULL,
    scores TEXT NOT NULL,
    comment TEXT,
    team_id INTEGER
);
CREATE INDEX pulse_answers_pulse ON pulse_answers (pulse_id);

CREATE TABLE pulse_responses (
    pulse_id INTEGER NOT NULL REFERENCES pulse_surveys (id),
    user_id INTEGER NOT NULL,
    PRIMARY KEY (pulse_id, user_id)
);
