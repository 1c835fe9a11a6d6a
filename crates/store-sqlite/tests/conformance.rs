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
