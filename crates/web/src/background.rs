//! The background worker a node runs: the job kinds it handles and the
//! schedules every installation has.

use std::sync::Arc;
use std::time::Duration;

use domain::{Millis, Schedule};
use store::Store;

use crate::{Clock, Settings};

/// A worker for this node with every job kind registered.
pub fn worker(store: &Arc<dyn Store>, settings: &Settings, holder: &str, clock: Arc<dyn Clock>) -> jobs::Worker {
    jobs::Worker {
        store: store.clone(),
        handlers: Default::default(),
        holder: holder.to_string(),
        lease_ms: settings.job_lease_seconds.max(1) * 1000,
        batch: settings.job_batch.max(1),
        idle: Duration::from_millis(settings.job_poll_ms.max(10)),
        clock: Arc::new(move || clock.now()),
    }
    .handle(jobs::PING, Arc::new(jobs::Ping { store: store.clone(), holder: holder.to_string() }))
    .handle(jobs::CLEANUP, Arc::new(jobs::Cleanup { store: store.clone() }))
}

/// The schedules every installation has, made (or updated) at start.
pub async fn schedules(store: &dyn Store, now: Millis) -> Result<(), store::StoreError> {
    store
        .ensure_schedule(&Schedule {
            name: "jobs.cleanup".into(),
            kind: jobs::CLEANUP.into(),
            payload: serde_json::json!({}),
            every_ms: 86_400_000,
            next_run_at: now + 3_600_000,
        })
        .await
}
