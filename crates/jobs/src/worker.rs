//! The worker loop: claim, run, record; and the schedules.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::job::retry_delay_ms;
use domain::{Job, Millis};
use store::{Store, StoreError};
use tokio::sync::watch;

/// Why a job did not finish.
#[derive(Debug)]
pub enum JobError {
    /// Try again later (a server was down, a lock was busy).
    Retry(String),
    /// Trying again cannot help (a malformed payload): dead at once.
    Fail(String),
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::Retry(e.to_string())
    }
}

/// Runs the jobs of one kind. A job may run more than once (its node died
/// before recording it), so a handler must be safe to repeat.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn run(&self, job: &Job, now: Millis) -> Result<(), JobError>;
}

pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

pub struct Worker {
    pub store: Arc<dyn Store>,
    pub handlers: HashMap<String, Arc<dyn Handler>>,
    /// Who this worker is, in leases (node and process).
    pub holder: String,
    pub lease_ms: Millis,
    /// Jobs claimed and run at once.
    pub batch: u32,
    /// How long to wait when nothing was due.
    pub idle: Duration,
    pub clock: Clock,
}

impl Worker {
    pub fn handle(mut self, kind: &str, handler: Arc<dyn Handler>) -> Self {
        self.handlers.insert(kind.to_string(), handler);
        self
    }

    /// Enqueues the jobs of due schedules (one per occurrence, whichever
    /// node gets there first); how many this node enqueued.
    pub async fn tick_schedules(&self) -> Result<usize, StoreError> {
        let now = (self.clock)();
        let mut enqueued = 0;
        for s in self.store.schedules().await?.into_iter().filter(|s| s.next_run_at <= now) {
            let next = s.next_after(s.next_run_at, now);
            if self.store.advance_schedule(&s.name, s.next_run_at, next, s.job(s.next_run_at, now)).await? {
                enqueued += 1;
            }
        }
        Ok(enqueued)
    }

    /// Claims one batch of due jobs and runs them; how many ran.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let now = (self.clock)();
        let jobs = self.store.claim_jobs(now, &self.holder, now + self.lease_ms, self.batch).await?;
        let ran = jobs.len();
        futures::future::join_all(jobs.iter().map(|j| self.run_job(j))).await;
        Ok(ran)
    }

    async fn run_job(&self, job: &Job) {
        let outcome = match self.handlers.get(&job.kind) {
            None => Err(JobError::Fail(format!("no handler for jobs of kind {}", job.kind))),
            Some(h) => {
                // A run must end before its lease does, or another node would start it too.
                let limit = Duration::from_millis((self.lease_ms * 9 / 10).max(1) as u64);
                match tokio::time::timeout(limit, h.run(job, (self.clock)())).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(JobError::Retry(format!("did not finish within {} ms", limit.as_millis()))),
                }
            }
        };
        let now = (self.clock)();
        let recorded = match outcome {
            Ok(()) => self.store.complete_job(job.id, &self.holder, now).await,
            Err(JobError::Retry(e)) if job.attempts < job.max_attempts => {
                tracing::warn!(job = %job.id, kind = %job.kind, error = %e, "job failed; it will be retried");
                self.store.fail_job(job.id, &self.holder, &e, Some(now + retry_delay_ms(job.attempts)), now).await
            }
            Err(JobError::Retry(e) | JobError::Fail(e)) => {
                tracing::error!(job = %job.id, kind = %job.kind, error = %e, "job failed for good");
                self.store.fail_job(job.id, &self.holder, &e, None, now).await
            }
        };
        match recorded {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(job = %job.id, "the job's lease passed before it finished; another node has it")
            }
            Err(e) => tracing::error!(job = %job.id, error = %e, "recording a job's outcome failed"),
        }
    }

    /// Runs until `shutdown` turns true: schedules, then jobs, waiting
    /// `idle` whenever nothing was due.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = self.tick_schedules().await {
                tracing::error!(error = %e, "schedules could not be read");
            }
            let ran = match self.run_once().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "claiming jobs failed");
                    0
                }
            };
            if ran == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(self.idle) => {}
                    _ = shutdown.wait_for(|s| *s) => return,
                }
            }
        }
    }
}
