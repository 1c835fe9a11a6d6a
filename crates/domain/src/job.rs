//! Durable background work: a job is a kind (which handler runs it), a JSON
//! payload and a time to run; schedules enqueue a job every interval.
//! Storage claims jobs with leases, so a job held by a node that died is
//! run again once its lease passes.

use serde::{Deserialize, Serialize};

use crate::str_enum::str_enum;
use crate::{JobId, Millis};

str_enum!(
    /// `queued` waits for its time; `running` is held by a node until its
    /// lease ends; `done`; `dead` failed every attempt (shown to admins,
    /// who can retry it).
    JobStatus { Queued = "queued", Running = "running", Done = "done", Dead = "dead" }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub status: JobStatus,
    pub run_at: Millis,
    /// Times it was claimed.
    pub attempts: i64,
    pub max_attempts: i64,
    pub holder: Option<String>,
    pub lease_until: Option<Millis>,
    pub last_error: Option<String>,
    pub idempotency_key: Option<String>,
    pub created_at: Millis,
    pub finished_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: Millis,
    pub max_attempts: i64,
    /// A job with this key exists once: enqueuing it again returns the first.
    pub idempotency_key: Option<String>,
    pub created_at: Millis,
}

impl NewJob {
    /// A job to run at `run_at`, tried up to 8 times.
    pub fn new(kind: &str, payload: serde_json::Value, run_at: Millis, now: Millis) -> Self {
        Self { kind: kind.into(), payload, run_at, max_attempts: 8, idempotency_key: None, created_at: now }
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

/// A recurring job: every `every_ms` from `next_run_at` on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Schedule {
    pub name: String,
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub every_ms: i64,
    pub next_run_at: Millis,
}

impl Schedule {
    /// The occurrence after `due`, skipping those missed while no node ran
    /// (a schedule never runs twice to catch up).
    pub fn next_after(&self, due: Millis, now: Millis) -> Millis {
        let every = self.every_ms.max(1);
        let missed = (now - due).max(0) / every;
        due + (missed + 1) * every
    }

    /// The job one occurrence enqueues; its key makes it exactly one per occurrence.
    pub fn job(&self, due: Millis, now: Millis) -> NewJob {
        NewJob::new(&self.kind, self.payload.clone(), now, now).key(format!("schedule:{}:{due}", self.name))
    }
}

/// When a failed job is tried again: 30 s, doubling, at most an hour.
pub fn retry_delay_ms(attempts: i64) -> Millis {
    let doublings = attempts.clamp(1, 20) - 1;
    (30_000_i64 << doublings).min(3_600_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_skip_what_they_missed_and_backoff_doubles() {
        let s = Schedule {
            name: "n".into(),
            kind: "k".into(),
            payload: serde_json::json!({}),
            every_ms: 60_000,
            next_run_at: 0,
        };
        assert_eq!(s.next_after(0, 0), 60_000);
        assert_eq!(s.next_after(0, 59_999), 60_000);
        assert_eq!(s.next_after(0, 185_000), 240_000, "three missed occurrences run once");
        assert_eq!(s.job(120_000, 130_000).idempotency_key.as_deref(), Some("schedule:n:120000"));
        assert_eq!([1, 2, 3, 8, 50].map(retry_delay_ms), [30_000, 60_000, 120_000, 3_600_000, 3_600_000]);
    }
}
