#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The storage conformance suite on SQLite, each test on its own file.

use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A database file of its own for each test.
fn new_path() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-test-{}", std::process::id()));
    let path = dir.join(format!("t{}.db", NEXT.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_file(&path);
    path
}

async fn fresh() -> Option<store::SqlStore> {
    Some(store_sqlite::open(&new_path()).await.expect("open sqlite"))
}

store::conformance_tests!(sqlite, super::fresh);

/// Writers leave checkpoints to the checkpoint thread: the tickets' pages
/// reach the database file though no writer checkpoints.
#[tokio::test]
async fn checkpoints_run_off_the_write_path() {
    use store::TicketStore;
    let path = new_path();
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

/// Reads run on at most eight read-only connections of the store's own
/// (`reader`): forty at once all answer, each seeing every write committed
/// before it, and a read with a NUL in its text finds what was stored with
/// U+FFFD in its place, as a write stores it.
#[tokio::test]
async fn reads_at_once_all_answer() {
    use store::{DirectoryStore, TicketStore};
    let store = store_sqlite::open(&new_path()).await.unwrap();
    let c = store::conformance::customer(&store, "reads@example.com").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let new = store::conformance::new_ticket(&store::conformance::spec(&format!("read {i}"), "body", c, 0));
        ids.push(store.create_ticket(new, None).await.unwrap().id);
    }
    let reads: Vec<_> = (0..40)
        .map(|i| {
            let (store, id) = (store.clone(), ids[i % 5]);
            tokio::spawn(async move { store.ticket(id).await.unwrap().map(|t| t.subject) })
        })
        .collect();
    for (i, read) in reads.into_iter().enumerate() {
        assert_eq!(read.await.unwrap(), Some(format!("read {}", i % 5)));
    }
    let email = domain::EmailAddress::parse("nul@example.com").unwrap();
    let mut named = domain::Customer::new(&email, "Ada", 0);
    named.email = "n\0ul@example.com".into();
    let stored = store.create_customer(named, None, None).await.unwrap();
    let found = store.customer_by_email("n\0ul@example.com").await.unwrap();
    assert_eq!(found.map(|f| (f.id, f.email)), Some((stored.id, "n\u{FFFD}ul@example.com".to_string())));
}
