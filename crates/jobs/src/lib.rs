//! Durable background work. A `Worker` claims due jobs from storage with a
//! lease, runs each through the handler registered for its kind, and
//! records the outcome: done, queued again with backoff, or dead after its
//! last attempt (admins see dead jobs and retry them). A job whose node died
//! is claimed again once its lease passes, so handlers are written to be
//! safe to run twice. Due schedules enqueue one job per occurrence, keyed by
//! it, so however many nodes run a worker, each occurrence runs once.

pub mod alerts;
pub mod approvals;
pub mod automations;
pub mod cockpit;
pub mod digest;
mod handlers;
pub mod insights;
pub mod integrations;
pub mod kpi;
pub mod notices;
pub mod offline;
pub mod report;
pub mod resources;
pub mod roi;
pub mod rules;
pub mod sla;
pub mod surge;
pub mod survey;
pub mod webhook;
mod worker;

pub use handlers::{Cleanup, Ping};
pub use worker::{Handler, JobError, Worker};

/// Job kinds the worker knows without configuration.
pub const PING: &str = "ping";
pub const CLEANUP: &str = "jobs.cleanup";
