//! Moves WAL checkpoints off the write path. By default the connection
//! whose commit grows the WAL past 1,000 pages copies it into the database
//! and syncs the file, inside that commit: every few hundred ticket
//! creations one of them waited ~10 ms for the disk, and the writer with
//! it (creations with 1 client: p99 12 ms with, 1 ms without). The writers
//! turn automatic checkpoints off and this thread runs a passive checkpoint
//! (which never blocks writers or readers) a few times a second, with a
//! connection of its own, for as long as the database is open.
//!
//! A passive checkpoint never restarts the log: the next write does, when
//! it finds every frame copied. Under a steady stream of large writes (a
//! rollup rebuild or bulk load at millions of tickets) each write began
//! before the checkpoint finished, so the log never restarted and grew
//! without bound (12 GB in 11 minutes). So when the log passes
//! `TRUNCATE_FRAMES`, the thread takes the write gate (between two
//! writes, in their queue) and truncates it.

use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::Duration;

use rusqlite::Connection;
use store::StoreError;

use crate::owned_writer::backend;

const EVERY: Duration = Duration::from_millis(250);

/// 64 MiB of 4 KiB pages: the size the WAL is otherwise kept to
/// (`journal_size_limit`).
const TRUNCATE_FRAMES: i64 = 16_384;

/// Held by the open database; the thread ends after it is dropped.
pub(crate) struct Checkpointer {
    _alive: Arc<()>,
}

pub(crate) fn start(path: &Path, gate: crate::owned_writer::WriteGate) -> Result<Checkpointer, StoreError> {
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
            // (busy, frames in the log, frames copied)
            let frames = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1));
            let outcome = match frames {
                Ok(frames) if frames > TRUNCATE_FRAMES => {
                    let _turn = futures::executor::block_on(gate.clone().lock_owned());
                    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                }
                other => other.map(|_| ()),
            };
            if let Err(e) = outcome {
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
