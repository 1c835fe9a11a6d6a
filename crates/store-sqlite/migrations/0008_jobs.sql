-- Durable jobs: claimed with a lease (a job whose holder died is claimed
-- again when its lease passes), retried with backoff, dead after their
-- last attempt. An idempotency key makes a job exist once. Schedules
-- enqueue a job per occurrence, keyed by it, so one runs however many
-- nodes notice it is due.

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- queued | running | done | dead
    status TEXT NOT NULL,
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    holder TEXT,
    lease_until INTEGER,
    last_error TEXT,
    idempotency_key TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE UNIQUE INDEX jobs_key ON jobs (idempotency_key);
CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_lease ON jobs (status, lease_until);

CREATE TABLE schedules (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    every_ms INTEGER NOT NULL,
    next_run_at INTEGER NOT NULL
);
