//! The jobs every installation has.

use std::sync::Arc;

use async_trait::async_trait;
use domain::{Job, Millis};
use store::{NewAuditEntry, Store};

use crate::{Handler, JobError};

/// A diagnostic job: writes `job.ping` to the audit log with who ran it,
/// after sleeping `sleep_ms` if the payload asks (to test leases).
pub struct Ping {
    pub store: Arc<dyn Store>,
    pub holder: String,
}

#[async_trait]
impl Handler for Ping {
    async fn run(&self, job: &Job, now: Millis) -> Result<(), JobError> {
        if let Some(ms) = job.payload.get("sleep_ms").and_then(|v| v.as_u64()) {
            tokio::time::sleep(std::time::Duration::from_millis(ms.min(600_000))).await;
        }
        self.store
            .append_audit(NewAuditEntry {
                at: now,
                actor: format!("worker:{}", self.holder),
                action: "job.ping".into(),
                target: format!("job:{}", job.id),
                outcome: "allowed".into(),
                detail: serde_json::json!({ "payload": job.payload, "attempt": job.attempts }),
            })
            .await?;
        Ok(())
    }
}

/// Removes done jobs a week old.
pub struct Cleanup {
    pub store: Arc<dyn Store>,
}

pub const KEEP_DONE_MS: Millis = 7 * 86_400_000;

#[async_trait]
impl Handler for Cleanup {
    async fn run(&self, _: &Job, now: Millis) -> Result<(), JobError> {
        let removed = self.store.delete_done_jobs(now - KEEP_DONE_MS).await?;
        tracing::info!(removed, "old jobs removed");
        Ok(())
    }
}
