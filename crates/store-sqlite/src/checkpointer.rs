//! Moves WAL checkpoints off the write path. By default the connection
//! whose commit grows the WAL past 1,000 pages copies it into the database
//! and syncs the file, inside that commit: every few hundred ticket
//! creations one of them waited ~10 ms for the disk, and the writer with
//! it (creations with 1 client: p99 12 ms with, 1 ms without). The writers
//! turn automatic checkpoints off and this thread runs a passive checkpoint
//! (which never blocks writers or readers) a few times a second, with a
//! connection of its own, for as long as the database is open.

use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::Duration;

use rusqlite::Connection;
use store::StoreError;

use crate::owned_writer::backend;

const EVERY: Duration = Duration::from_millis(250);

/// Held by the open database; the thread ends after it is dropped.
pub(crate) struct Checkpointer {
    _alive: Arc<()>,
}

pub(crate) fn start(path: &Path) -> Result<Checkpointer, StoreError> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(backend)?;
    let alive = Arc::new(());
    let watch: Weak<()> = Arc::downgrade(&alive);
    let run = move || {
        loop {
            std::thread::sleep(EVERY);
            if watch.upgrade().is_none() {
                return;
            }
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
            }
        }
    };
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(run)
        .map_err(|e| StoreError::Backend(format!("starting the checkpoint thread: {e}")))?;
    Ok(Checkpointer { _alive: alive })
}
