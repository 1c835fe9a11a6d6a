#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The storage conformance suite on SQLite, each test on its own file.

use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

async fn fresh() -> Option<store::SqlStore> {
    let dir = std::env::temp_dir().join(format!("switchboard-test-{}", std::process::id()));
    let path = dir.join(format!("t{}.db", NEXT.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_file(&path);
    Some(store_sqlite::open(&path).await.expect("open sqlite"))
}

store::conformance_tests!(sqlite, super::fresh);

/// Writers leave checkpoints to the checkpoint thread: the tickets' pages
/// reach the database file though no writer checkpoints.
#[tokio::test]
async fn checkpoints_run_off_the_write_path() {
    use store::TicketStore;
    let dir = std::env::temp_dir().join(format!("switchboard-test-{}", std::process::id()));
    let path = dir.join(format!("t{}.db", NEXT.fetch_add(1, Ordering::SeqCst)));
    let store = store_sqlite::open(&path).await.unwrap();
    let c = store::conformance::customer(&store, "wal@example.com").await;
    let before = std::fs::metadata(&path).unwrap().len();
    let mut jobs = Vec::new();
    for i in 0..2_000 {
        let store = store.clone();
        let body = "words ".repeat(100);
        let new = store::conformance::new_ticket(&store::conformance::spec(&format!("wal {i}"), &body, c, 0));
        jobs.push(tokio::spawn(async move { store.create_ticket(new, None).await.unwrap() }));
    }
    for job in jobs {
        job.await.unwrap();
    }
    let mut grown = false;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if std::fs::metadata(&path).unwrap().len() > before + 1_000_000 {
            grown = true;
            break;
        }
    }
    assert!(grown, "the database file did not receive the WAL's pages");
}
