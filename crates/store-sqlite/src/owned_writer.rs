//! The ticket writer's own connection. sqlx runs every SQLite statement on
//! a driver thread and hands the result back, which costs two thread
//! wake-ups per statement; the group-commit writer (the store's `writer`)
//! instead owns this connection on its own thread and runs a whole batch
//! there. Both this connection and sqlx's writer take the same write gate
//! before `BEGIN IMMEDIATE`, so they queue for SQLite's write lock in
//! order instead of sleeping in its busy handler.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use store::{OwnedWriter, SqlRow, SqlValue, StoreError, TicketChange, Transaction};
use tokio::sync::{OwnedMutexGuard, broadcast};

/// Who may write: held for a whole write transaction by both connections.
pub(crate) type WriteGate = Arc<tokio::sync::Mutex<()>>;

pub(crate) struct TicketWriter {
    conn: Arc<Mutex<Connection>>,
    gate: WriteGate,
    changes: broadcast::Sender<TicketChange>,
}

/// Opens the writer's connection with sqlx's settings but a larger cache.
pub(crate) fn open(
    path: &Path,
    gate: WriteGate,
    changes: broadcast::Sender<TicketChange>,
) -> Result<TicketWriter, StoreError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(backend)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(backend)?;
    // Checkpoints run on a thread of their own (see `checkpointer`). A
    // cache of 64 MiB (sqlx's writer keeps 16): the rollup's rows go into
    // five indexes each at scattered places, and a cache that holds more
    // of them wrote 300,000 tickets' rows 30% faster. It grows only as
    // pages are used.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; \
         PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;",
    )
    .map_err(backend)?;
    // Room for every multi-row INSERT shape of the store's `batch`.
    conn.set_prepared_statement_cache_capacity(400);
    Ok(TicketWriter { conn: Arc::new(Mutex::new(conn)), gate, changes })
}

pub(crate) fn backend(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(code, message) = &e
        && code.code == ErrorCode::ConstraintViolation
    {
        match code.extended_code {
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                // "UNIQUE constraint failed: customers.email"
                let column = message.as_deref().and_then(|m| m.rsplit('.').next()).unwrap_or("value");
                return StoreError::Duplicate(column.to_string());
            }
            rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                return StoreError::MissingReference("a referenced record".into());
            }
            _ => {}
        }
    }
    StoreError::Backend(e.to_string())
}

impl OwnedWriter for TicketWriter {
    fn begin(&mut self) -> Result<Box<dyn Transaction>, StoreError> {
        // Waiting blocks this thread, which is the owner's own (tokio's
        // `blocking_lock` refuses inside the owner's `block_on`).
        let gate = futures::executor::block_on(self.gate.clone().lock_owned());
        let conn = self.conn.clone();
        conn.lock()
            .map_err(|_| StoreError::Backend("the ticket writer's connection is poisoned".into()))?
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(backend)?;
        Ok(Box::new(WriterTx { conn, open: true, pending: Vec::new(), changes: self.changes.clone(), _gate: gate }))
    }
}

struct WriterTx {
    conn: Arc<Mutex<Connection>>,
    /// Begun and neither committed nor rolled back.
    open: bool,
    pending: Vec<TicketChange>,
    changes: broadcast::Sender<TicketChange>,
    /// Released after the transaction ends (fields drop after `drop`).
    _gate: OwnedMutexGuard<()>,
}

/// A parameter as SQLite binds it, text without a copy on our side unless
/// it holds a NUL (stored as U+FFFD, see `store::storable_text`); a
/// missing one is NULL.
fn bound(v: Option<&SqlValue>) -> ToSqlOutput<'_> {
    match v {
        Some(SqlValue::Null) | None => ToSqlOutput::Borrowed(ValueRef::Null),
        Some(SqlValue::Int(v)) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
        Some(SqlValue::Real(v)) => ToSqlOutput::Borrowed(ValueRef::Real(*v)),
        Some(SqlValue::Text(t)) if memchr::memchr(0, t.as_bytes()).is_some() => {
            ToSqlOutput::Owned(Value::Text(store::storable_text(t.clone())))
        }
        Some(SqlValue::Text(t)) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        Some(SqlValue::Name(t)) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        Some(SqlValue::Bool(v)) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*v))),
    }
}

/// Runs one statement on `conn`, binding `$n` parameters by their
/// number, and returns its rows (used by the writer and the readers).
pub(crate) fn statement_rows(conn: &Connection, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>, StoreError> {
    // In-order placeholders become anonymous: looking a name up scans
    // the statement's list of names, quadratic over a multi-row INSERT.
    let sql = crate::positional(sql, params.len());
    let anonymous = matches!(sql, std::borrow::Cow::Owned(_));
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    for i in 1..=stmt.parameter_count() {
        let n = if anonymous {
            i
        } else {
            stmt.parameter_name(i)
                .and_then(|name| name.trim_start_matches(['$', '?']).parse::<usize>().ok())
                .unwrap_or(i)
        };
        stmt.raw_bind_parameter(i, bound(params.get(n.wrapping_sub(1)))).map_err(backend)?;
    }
    let columns = stmt.column_count();
    let mut out = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(r) = rows.next().map_err(backend)? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match r.get_ref(i).map_err(backend)? {
                ValueRef::Null => SqlValue::Null,
                ValueRef::Integer(v) => SqlValue::Int(v),
                ValueRef::Real(v) => SqlValue::Real(v),
                ValueRef::Text(t) | ValueRef::Blob(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
            });
        }
        out.push(SqlRow(values));
    }
    Ok(out)
}

impl WriterTx {
    /// Runs one statement; returns its rows and the rows it changed.
    fn run(&self, sql: &str, params: Vec<SqlValue>) -> Result<(Vec<SqlRow>, u64), StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Backend("the writer connection is poisoned".into()))?;
        let rows = statement_rows(&conn, sql, &params)?;
        Ok((rows, conn.changes()))
    }

    fn end(&mut self, sql: &str) -> Result<(), StoreError> {
        self.open = false;
        let conn = self.conn.lock().map_err(|_| StoreError::Backend("the writer connection is poisoned".into()))?;
        conn.execute_batch(sql).map_err(backend)
    }
}

impl Drop for WriterTx {
    fn drop(&mut self) {
        if self.open {
            let _ = self.end("ROLLBACK");
        }
    }
}

#[async_trait]
impl Transaction for WriterTx {
    async fn fetch(&mut self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<SqlRow>, StoreError> {
        Ok(self.run(sql, params)?.0)
    }

    async fn execute(&mut self, sql: &str, params: Vec<SqlValue>) -> Result<u64, StoreError> {
        Ok(self.run(sql, params)?.1)
    }

    /// One prepared single-row statement, bound and stepped per row: on
    /// this connection a statement costs no round trip, so many small
    /// steps beat building, parsing and binding one statement of many
    /// rows.
    async fn insert_rows(
        &mut self,
        prefix: &str,
        rows: Vec<Vec<SqlValue>>,
        tail: &str,
        returning_id: bool,
    ) -> Result<Vec<i64>, StoreError> {
        let Some(width) = rows.first().map(Vec::len) else { return Ok(Vec::new()) };
        let conn = self.conn.lock().map_err(|_| StoreError::Backend("the writer connection is poisoned".into()))?;
        let sql = format!("{prefix} VALUES ({}) {tail}", vec!["?"; width].join(", "));
        let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
        let mut ids = Vec::with_capacity(if returning_id { rows.len() } else { 0 });
        for row in &rows {
            if row.len() != width {
                return Err(StoreError::Backend(format!("a row of {} values for {width} columns", row.len())));
            }
            for (i, v) in row.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, bound(Some(v))).map_err(backend)?;
            }
            stmt.raw_execute().map_err(backend)?;
            if returning_id {
                ids.push(conn.last_insert_rowid());
            }
        }
        // Freeing an import's values costs this one writer a quarter of
        // its time; another thread can do it while it writes on.
        if rows.len() >= 100 {
            let _ = std::thread::Builder::new().name("import-free".into()).spawn(move || drop(rows));
        }
        Ok(ids)
    }

    async fn notify(&mut self, change: &TicketChange) -> Result<(), StoreError> {
        self.pending.push(change.clone());
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        if let Err(e) = self.end("COMMIT") {
            // A failed COMMIT can leave the transaction open; end it.
            let _ = self.end("ROLLBACK");
            return Err(e);
        }
        for c in std::mem::take(&mut self.pending) {
            // No subscribers is fine.
            let _ = self.changes.send(c);
        }
        Ok(())
    }
}
