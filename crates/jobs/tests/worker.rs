//! The worker against real storage, on SQLite and PostgreSQL: each job runs
//! once, failures are retried with backoff and end dead, a run that
//! overstays its lease is cut short, unknown kinds are dead at once, and a
//! schedule seen by two workers enqueues one job per occurrence.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use domain::{Job, JobStatus, Millis, NewJob, Schedule};
use jobs::{Handler, JobError, Worker};
use store::{PageRequest, Store};

const T0: Millis = 1_767_225_600_000;

static NEXT: AtomicU64 = AtomicU64::new(0);

async fn sqlite() -> Arc<dyn Store> {
    let dir = std::env::temp_dir().join(format!(
        "switchboard-jobs-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Arc::new(store_sqlite::open(&dir.join("switchboard.db")).await.unwrap())
}

async fn pg() -> Option<Arc<dyn Store>> {
    let url = store_pg::testing::fresh_database().await.unwrap()?;
    Some(Arc::new(store_pg::connect(&url).await.unwrap()))
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(super::sqlite().await).await;
            }
            #[tokio::test]
            async fn pg() {
                match super::pg().await {
                    Some(store) => super::$name(store).await,
                    None => eprintln!("skipped: SWITCHBOARD_TEST_PG is not set"),
                }
            }
        }
    )*};
}

mod kpi;
mod nps;
mod webhooks;
use kpi::bottlenecks_are_told_once;
use nps::nps_goes_to_a_sample_within_its_interval;
use webhooks::webhooks_deliver_sign_retry_and_switch_off;

on_both_backends!(
    jobs_run_once_retry_and_die,
    schedules_enqueue_once_per_occurrence,
    webhooks_deliver_sign_retry_and_switch_off,
    nps_goes_to_a_sample_within_its_interval,
    bottlenecks_are_told_once
);

#[test]
fn kpi_rollup_equals_recompute_sqlite() {
    kpi::rollup_equals_recompute(false);
}

#[test]
fn kpi_rollup_equals_recompute_pg() {
    kpi::rollup_equals_recompute(true);
}

/// Records each run; fails a job as its payload says.
#[derive(Default)]
struct Recorder {
    runs: Mutex<HashMap<i64, u32>>,
}

#[async_trait]
impl Handler for Recorder {
    async fn run(&self, job: &Job, _: Millis) -> Result<(), JobError> {
        *self.runs.lock().unwrap().entry(job.payload["n"].as_i64().unwrap_or(-1)).or_default() += 1;
        match job.payload["fail"].as_str() {
            Some("retry") if job.attempts < 2 => Err(JobError::Retry("not yet".into())),
            Some("always") => Err(JobError::Retry("never".into())),
            Some("fatal") => Err(JobError::Fail("bad payload".into())),
            Some("slow") => {
                tokio::time::sleep(Duration::from_millis(2_000)).await;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn worker(store: &Arc<dyn Store>, clock: &Arc<AtomicI64>, holder: &str, recorder: &Arc<Recorder>) -> Worker {
    let c = clock.clone();
    Worker {
        store: store.clone(),
        handlers: HashMap::new(),
        holder: holder.into(),
        lease_ms: 500,
        batch: 16,
        idle: Duration::from_millis(10),
        clock: Arc::new(move || c.load(Ordering::SeqCst)),
    }
    .handle("record", recorder.clone())
}

async fn jobs_run_once_retry_and_die(store: Arc<dyn Store>) {
    let clock = Arc::new(AtomicI64::new(T0));
    let recorder = Arc::new(Recorder::default());
    let (a, b) = (worker(&store, &clock, "a", &recorder), worker(&store, &clock, "b", &recorder));
    let job = |n: i64, fail: &str| NewJob::new("record", serde_json::json!({ "n": n, "fail": fail }), T0, T0);
    for n in 0..40 {
        store.enqueue_job(job(n, "")).await.unwrap();
    }
    let retry = store.enqueue_job(job(100, "retry")).await.unwrap();
    let always = store.enqueue_job(NewJob { max_attempts: 3, ..job(101, "always") }).await.unwrap();
    let fatal = store.enqueue_job(job(102, "fatal")).await.unwrap();
    let unknown = store.enqueue_job(NewJob::new("nobody.knows", serde_json::json!({}), T0, T0)).await.unwrap();

    // Two workers drain the queue together; every job runs once.
    loop {
        let (x, y) = tokio::join!(a.run_once(), b.run_once());
        if x.unwrap() + y.unwrap() == 0 {
            break;
        }
    }
    let runs = recorder.runs.lock().unwrap().clone();
    assert!((0..40).all(|n| runs.get(&n) == Some(&1)), "{runs:?}");
    let status = |id| {
        let store = store.clone();
        async move { store.job(id).await.unwrap().unwrap() }
    };
    assert_eq!(status(fatal).await.status, JobStatus::Dead, "a fatal error is dead at once");
    assert_eq!(status(unknown).await.status, JobStatus::Dead);
    assert!(status(unknown).await.last_error.unwrap().contains("no handler"));
    let r = status(retry).await;
    assert_eq!((r.status, r.run_at), (JobStatus::Queued, T0 + 30_000), "retried after 30 s");

    // Time passes: the retry succeeds; the other fails to its last attempt.
    for step in 1..=8 {
        clock.store(T0 + step * 3_600_000, Ordering::SeqCst);
        a.run_once().await.unwrap();
    }
    assert_eq!(status(retry).await.status, JobStatus::Done);
    let d = status(always).await;
    assert_eq!((d.status, d.attempts, d.last_error.as_deref()), (JobStatus::Dead, 3, Some("never")));
    let dead = store.jobs(Some(JobStatus::Dead), PageRequest { after: None, limit: 10 }).await.unwrap();
    assert_eq!(dead.items.len(), 3);

    // A run longer than its lease is cut short and retried, not left running.
    clock.store(T0 + 100_000_000, Ordering::SeqCst);
    let slow = store
        .enqueue_job(NewJob::new("record", serde_json::json!({ "n": 200, "fail": "slow" }), T0, T0))
        .await
        .unwrap();
    a.run_once().await.unwrap();
    let s = status(slow).await;
    assert_eq!(s.status, JobStatus::Queued);
    assert!(s.last_error.unwrap().contains("did not finish"));
}

async fn schedules_enqueue_once_per_occurrence(store: Arc<dyn Store>) {
    let clock = Arc::new(AtomicI64::new(T0));
    let recorder = Arc::new(Recorder::default());
    let (a, b) = (worker(&store, &clock, "a", &recorder), worker(&store, &clock, "b", &recorder));
    let s = Schedule {
        name: "tick".into(),
        kind: "record".into(),
        payload: serde_json::json!({ "n": 7 }),
        every_ms: 60_000,
        next_run_at: T0,
    };
    store.ensure_schedule(&s).await.unwrap();
    let mut enqueued = 0;
    for minute in 0..5 {
        clock.store(T0 + minute * 60_000 + 1, Ordering::SeqCst);
        let (x, y) = tokio::join!(a.tick_schedules(), b.tick_schedules());
        enqueued += x.unwrap() + y.unwrap();
        let (x, y) = tokio::join!(a.run_once(), b.run_once());
        x.unwrap();
        y.unwrap();
    }
    assert_eq!(enqueued, 5, "one job a minute, whichever worker saw it");
    assert_eq!(recorder.runs.lock().unwrap().get(&7), Some(&5));
    // Down for an hour: the schedule runs once on return, not sixty times.
    clock.store(T0 + 65 * 60_000, Ordering::SeqCst);
    assert_eq!(a.tick_schedules().await.unwrap() + b.tick_schedules().await.unwrap(), 1);
    assert_eq!(store.schedules().await.unwrap()[0].next_run_at, T0 + 66 * 60_000);
}
