//! Switchboard storage on an embedded SQLite file: WAL mode, one writer
//! connection taking `BEGIN IMMEDIATE` (so writers queue instead of failing
//! with "database is locked") and read-only connections for reads (see
//! `reader`). Ticket creations are written by a connection of their own
//! (see `owned_writer`).

mod checkpointer;
mod owned_writer;
mod reader;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::search::{Term, TextQuery};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, ConnectOptions, Row, TypeInfo, ValueRef};
use store::database::TextAudience;
use store::{Database, OwnedWriter, SqlRow, SqlStore, SqlValue, StoreError, TicketChange, Transaction};
use tokio::sync::broadcast;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct Sqlite {
    writer: SqlitePool,
    gate: owned_writer::WriteGate,
    ticket_writer: std::sync::Mutex<Option<owned_writer::TicketWriter>>,
    _checkpointer: checkpointer::Checkpointer,
    readers: reader::Readers,
    changes: broadcast::Sender<TicketChange>,
}

fn backend(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        let message = db.message();
        if db.is_unique_violation() {
            // "UNIQUE constraint failed: customers.email"
            let column = message.rsplit('.').next().unwrap_or("value").to_string();
            return StoreError::Duplicate(column);
        }
        if db.is_foreign_key_violation() {
            return StoreError::MissingReference("a referenced record".into());
        }
    }
    StoreError::Backend(e.to_string())
}

fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .pragma("cache_size", "-16384")
        .pragma("temp_store", "memory")
}

impl Sqlite {
    /// Opens (creating if needed) the database file and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Backend(format!("creating {}: {e}", dir.display())))?;
        }
        // Room for the multi-row INSERT shapes of imports (see the store's
        // `batch`); checkpoints run on a thread of their own (`checkpointer`).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                options(path)
                    // The writer runs migrations, rebuilds and `optimize`
                    // (ANALYZE alone takes seconds on a large store): slow to
                    // it is past 10 s; the readers keep sqlx's 1 s.
                    .log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(10))
                    .statement_cache_capacity(400)
                    .pragma("wal_autocheckpoint", "0")
                    .pragma("journal_size_limit", "67108864"),
            )
            .await
            .map_err(backend)?;
        // A migration that builds an index sorts every row of its table; with
        // temporary data in memory, 30M measured rows held 3.4 GB.
        sqlx::query("PRAGMA temp_store = FILE").execute(&writer).await.map_err(backend)?;
        MIGRATOR.run(&writer).await.map_err(|e| StoreError::Backend(format!("migrating: {e}")))?;
        sqlx::query("PRAGMA temp_store = MEMORY").execute(&writer).await.map_err(backend)?;
        let readers = reader::Readers::open(path)?;
        let (changes, _) = broadcast::channel(1024);
        let gate = owned_writer::WriteGate::default();
        let ticket_writer = owned_writer::open(path, gate.clone(), changes.clone())?;
        let _checkpointer = checkpointer::start(path, gate.clone())?;
        Ok(Self {
            writer,
            gate,
            ticket_writer: std::sync::Mutex::new(Some(ticket_writer)),
            _checkpointer,
            readers,
            changes,
        })
    }

    /// Accepts `sqlite://path` or a plain path.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        Self::open(Path::new(path)).await
    }

    pub fn into_store(self) -> SqlStore {
        SqlStore::new(Arc::new(self))
    }
}

/// Opens the SQLite file and returns the application's storage.
pub async fn open(path: &Path) -> Result<SqlStore, StoreError> {
    Ok(Sqlite::open(path).await?.into_store())
}

/// The statement with anonymous `?` placeholders when its `$1`, `$2` …
/// appear once each, in order (outside quotes); else unchanged. sqlx asks
/// SQLite for every parameter's name, which scans the statement's list of
/// named parameters: quadratic in their number, and most of the time of a
/// multi-row INSERT. Anonymous parameters have no names to scan.
pub(crate) fn positional(sql: &str, params: usize) -> std::borrow::Cow<'_, str> {
    if params < 16 {
        return std::borrow::Cow::Borrowed(sql);
    }
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let (mut next, mut quoted, mut i, mut copied) = (1usize, false, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'$' if !quoted => {
                let digits = bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                if digits > 0 {
                    let n: usize = sql[i + 1..i + 1 + digits].parse().unwrap_or(0);
                    if n != next {
                        return std::borrow::Cow::Borrowed(sql);
                    }
                    next += 1;
                    out.push_str(&sql[copied..i]);
                    out.push('?');
                    i += 1 + digits;
                    copied = i;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if next - 1 != params {
        return std::borrow::Cow::Borrowed(sql);
    }
    out.push_str(&sql[copied..]);
    std::borrow::Cow::Owned(out)
}

fn bind<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    params: Vec<SqlValue>,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    for p in params {
        q = match p {
            SqlValue::Null => q.bind(None::<i64>),
            SqlValue::Int(v) => q.bind(v),
            SqlValue::Real(v) => q.bind(v),
            SqlValue::Text(v) => q.bind(store::storable_text(v)),
            SqlValue::Name(v) => q.bind(v),
            SqlValue::Bool(v) => q.bind(v),
        };
    }
    q
}

fn row(r: &SqliteRow) -> Result<SqlRow, StoreError> {
    let mut values = Vec::with_capacity(r.columns().len());
    for i in 0..r.columns().len() {
        let raw = r.try_get_raw(i).map_err(backend)?;
        if raw.is_null() {
            values.push(SqlValue::Null);
            continue;
        }
        let kind = raw.type_info().name().to_string();
        values.push(match kind.as_str() {
            "INTEGER" | "BOOLEAN" => SqlValue::Int(r.try_get_unchecked::<i64, _>(i).map_err(backend)?),
            "REAL" => SqlValue::Real(r.try_get_unchecked::<f64, _>(i).map_err(backend)?),
            _ => SqlValue::Text(r.try_get_unchecked::<String, _>(i).map_err(backend)?),
        });
    }
    Ok(SqlRow(values))
}

struct SqliteTx {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    pending: Vec<TicketChange>,
    changes: broadcast::Sender<TicketChange>,
    /// Released after the transaction (fields drop in order).
    _gate: tokio::sync::OwnedMutexGuard<()>,
}

#[async_trait]
impl Transaction for SqliteTx {
    async fn fetch(&mut self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<SqlRow>, StoreError> {
        let q = bind(sqlx::query(AssertSqlSafe(positional(sql, params.len()).into_owned())), params);
        q.fetch_all(&mut *self.tx).await.map_err(backend)?.iter().map(row).collect()
    }

    async fn execute(&mut self, sql: &str, params: Vec<SqlValue>) -> Result<u64, StoreError> {
        let q = bind(sqlx::query(AssertSqlSafe(positional(sql, params.len()).into_owned())), params);
        Ok(q.execute(&mut *self.tx).await.map_err(backend)?.rows_affected())
    }

    async fn notify(&mut self, change: &TicketChange) -> Result<(), StoreError> {
        self.pending.push(change.clone());
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let this = *self;
        this.tx.commit().await.map_err(backend)?;
        for c in this.pending {
            // No subscribers is fine.
            let _ = this.changes.send(c);
        }
        Ok(())
    }
}

/// An FTS5 expression of our tokens; every token is quoted, and tokens are
/// alphanumeric, so user text can never become FTS5 syntax.
fn fts_term(t: &Term) -> String {
    match t {
        Term::Word(w) => format!("\"{w}\""),
        Term::Phrase(ws) => format!("\"{}\"", ws.join(" ")),
    }
}

#[async_trait]
impl Database for Sqlite {
    async fn fetch(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<SqlRow>, StoreError> {
        self.readers.fetch(sql, params).await
    }

    async fn begin(&self) -> Result<Box<dyn Transaction>, StoreError> {
        let gate = self.gate.clone().lock_owned().await;
        let tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        Ok(Box::new(SqliteTx { tx, pending: Vec::new(), changes: self.changes.clone(), _gate: gate }))
    }

    fn text_match(&self, text: &TextQuery, audience: TextAudience, first_param: usize) -> (String, Vec<SqlValue>) {
        let scope = |expr: String| match audience {
            TextAudience::Staff => expr,
            TextAudience::Customer => format!("{{subject body}} : ({expr})"),
        };
        let positive = text.terms.iter().map(fts_term).collect::<Vec<_>>().join(" AND ");
        let negative = text.excluded.iter().map(fts_term).collect::<Vec<_>>().join(" OR ");
        let p = format!("${first_param}");
        match (positive.is_empty(), negative.is_empty()) {
            (false, true) => (
                format!("t.id IN (SELECT rowid FROM ticket_search WHERE ticket_search MATCH {p})"),
                vec![scope(positive).into()],
            ),
            (false, false) => (
                format!("t.id IN (SELECT rowid FROM ticket_search WHERE ticket_search MATCH {p})"),
                vec![scope(format!("({positive}) NOT ({negative})")).into()],
            ),
            _ => (
                format!("t.id NOT IN (SELECT rowid FROM ticket_search WHERE ticket_search MATCH {p})"),
                vec![scope(negative).into()],
            ),
        }
    }

    fn search_key(&self) -> &'static str {
        "rowid"
    }

    fn hashes_groups(&self) -> bool {
        false
    }

    fn own_writer(&self) -> Option<Box<dyn OwnedWriter>> {
        let taken = self.ticket_writer.lock().ok()?.take()?;
        Some(Box::new(taken))
    }

    fn contains(&self, column: &str, param: &str) -> String {
        format!("instr({column}, {param}) > 0")
    }

    async fn optimize(&self) -> Result<(), StoreError> {
        // Merge the FTS5 segments, then let SQLite gather statistics.
        sqlx::query("INSERT INTO ticket_search (ticket_search) VALUES ('optimize')")
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        sqlx::query("ANALYZE").execute(&self.writer).await.map_err(backend)?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.writer).await.map_err(backend)?;
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<TicketChange> {
        self.changes.subscribe()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_in_order_become_anonymous() {
        let p = |sql: &str, n: usize| -> String { super::positional(sql, n).into_owned() };
        let many: String = (1..=20).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let anonymous = vec!["?"; 20].join(", ");
        assert_eq!(p(&format!("VALUES ({many})"), 20), format!("VALUES ({anonymous})"));
        // Repeated, out of order, inside a literal, or fewer than the values: unchanged.
        let repeated = format!("VALUES ({many}, $3)");
        assert_eq!(p(&repeated, 20), repeated);
        let quoted = format!("VALUES ('$1', {many})");
        assert_eq!(p(&quoted, 20), format!("VALUES ('$1', {anonymous})"));
        assert_eq!(p(&format!("VALUES ({many})"), 21), format!("VALUES ({many})"));
        assert_eq!(p("WHERE a = $1", 1), "WHERE a = $1", "few parameters: left alone");
    }
}
