//! Reads outside transactions, on read-only connections of our own, each
//! statement run on a blocking thread. sqlx's SQLite driver copies every
//! value of every row (`sqlite3_value_dup`) and hands the rows over one at
//! a time from its connection's thread, and mapping its rows asked each
//! value's type as a new `String`: a dashboard reading measured rows spent
//! most of its time there. Here rows become `SqlRow`s as they are stepped.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use store::{SqlRow, SqlValue, StoreError};
use tokio::sync::Semaphore;

use crate::owned_writer::{backend, statement_rows};

/// Connections reading at once (as many as sqlx's reader pool had).
const READERS: usize = 8;

#[derive(Clone)]
pub(crate) struct Readers(Arc<Pool>);

struct Pool {
    path: PathBuf,
    /// Open connections not in use; at most `READERS` exist, one per permit.
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl Readers {
    /// Opens one connection now (so a missing or unreadable file fails
    /// here) and the others when reads first overlap.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let first = connect(path)?;
        Ok(Readers(Arc::new(Pool {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![first]),
            permits: Arc::new(Semaphore::new(READERS)),
        })))
    }

    pub(crate) async fn fetch(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<SqlRow>, StoreError> {
        let permit = self.0.permits.clone().acquire_owned().await.map_err(|_| closed())?;
        let pool = self.0.clone();
        let sql = sql.to_string();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = match pool.idle.lock().map_err(|_| closed())?.pop() {
                Some(conn) => conn,
                None => connect(&pool.path)?,
            };
            let rows = statement_rows(&conn, &sql, &params);
            // Freed here, on this thread, not on the caller's.
            drop(params);
            pool.idle.lock().map_err(|_| closed())?.push(conn);
            rows
        })
        .await
        .map_err(|e| StoreError::Backend(format!("a read stopped: {e}")))?
    }
}

fn closed() -> StoreError {
    StoreError::Backend("the SQLite readers are closed".into())
}

/// A read-only connection with the writers' settings that matter to reads.
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(backend)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(backend)?;
    conn.execute_batch("PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;").map_err(backend)?;
    // Room for the store's read shapes (sqlx's default was 100).
    conn.set_prepared_statement_cache_capacity(200);
    Ok(conn)
}
