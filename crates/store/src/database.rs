//! The narrow interface a SQL backend implements. Statements use `$1, $2 …`
//! placeholders, which both SQLite and PostgreSQL accept, and the same
//! table names, so the statements in `sql_store` are written once.

use async_trait::async_trait;
use domain::search::TextQuery;
use tokio::sync::broadcast;

use crate::{Result, StoreError, TicketChange};

/// A value bound to or read from a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    /// Text fixed in the program (a status, a kind, a channel): bound
    /// without allocating, which an import of millions of values notices.
    /// Never read back: a row's text is `Text`.
    Name(&'static str),
    Bool(bool),
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Int(v)
    }
}
impl From<f64> for SqlValue {
    fn from(v: f64) -> Self {
        SqlValue::Real(v)
    }
}
impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        SqlValue::Bool(v)
    }
}
impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_string())
    }
}
impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(SqlValue::Null)
    }
}

/// Text as both backends store it: PostgreSQL's `text` cannot hold NUL, so
/// every backend stores U+FFFD in its place (mail and API input may carry
/// NULs; they must not fail a write on one backend only).
pub fn storable_text(v: String) -> String {
    if v.contains('\0') { v.replace('\0', "\u{FFFD}") } else { v }
}

/// One result row, columns in select order.
#[derive(Debug, Clone, Default)]
pub struct SqlRow(pub Vec<SqlValue>);

impl SqlRow {
    fn at(&self, i: usize) -> Result<&SqlValue> {
        self.0.get(i).ok_or_else(|| StoreError::Corrupt(format!("column {i} missing")))
    }

    pub fn int(&self, i: usize) -> Result<i64> {
        match self.at(i)? {
            SqlValue::Int(v) => Ok(*v),
            SqlValue::Bool(b) => Ok(i64::from(*b)),
            other => Err(StoreError::Corrupt(format!("column {i}: expected integer, got {other:?}"))),
        }
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.at(i)? {
            SqlValue::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    pub fn text(&self, i: usize) -> Result<String> {
        self.str(i).map(str::to_string)
    }

    /// A text column borrowed: for words parsed at once (a measure, a
    /// channel), which need no copy of their own.
    pub fn str(&self, i: usize) -> Result<&str> {
        match self.at(i)? {
            SqlValue::Text(v) => Ok(v),
            SqlValue::Name(v) => Ok(v),
            other => Err(StoreError::Corrupt(format!("column {i}: expected text, got {other:?}"))),
        }
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.at(i)? {
            SqlValue::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    pub fn real(&self, i: usize) -> Result<f64> {
        match self.at(i)? {
            SqlValue::Real(v) => Ok(*v),
            SqlValue::Int(v) => Ok(*v as f64),
            other => Err(StoreError::Corrupt(format!("column {i}: expected real, got {other:?}"))),
        }
    }

    pub fn opt_real(&self, i: usize) -> Result<Option<f64>> {
        match self.at(i)? {
            SqlValue::Null => Ok(None),
            _ => self.real(i).map(Some),
        }
    }

    pub fn bool(&self, i: usize) -> Result<bool> {
        match self.at(i)? {
            SqlValue::Bool(b) => Ok(*b),
            SqlValue::Int(v) => Ok(*v != 0),
            other => Err(StoreError::Corrupt(format!("column {i}: expected boolean, got {other:?}"))),
        }
    }
}

/// Which principals' view of the text a search uses: customers never match
/// on internal notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextAudience {
    Staff,
    Customer,
}

#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// Runs a read outside any transaction.
    async fn fetch(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<SqlRow>>;

    /// Starts a write transaction (SQLite: `BEGIN IMMEDIATE`).
    async fn begin(&self) -> Result<Box<dyn Transaction>>;

    /// A SQL condition on `t.id` selecting tickets whose text matches, with
    /// its parameters numbered from `first_param`. The query has at least one
    /// term or exclusion.
    fn text_match(&self, text: &TextQuery, audience: TextAudience, first_param: usize) -> (String, Vec<SqlValue>);

    /// Refreshes planner statistics and compacts the search index, after
    /// bulk imports (statistics from an empty table mislead the planner).
    async fn optimize(&self) -> Result<()>;

    /// The column of `ticket_search` that holds the ticket id (`rowid` for
    /// an FTS5 table).
    fn search_key(&self) -> &'static str;

    /// For a backend with a single writer (SQLite): a write connection for
    /// the group-commit writer to own on a thread of its own, whose
    /// statements run on that thread, so a batch of creations costs no
    /// hand-off between threads per statement. `None` where writers run
    /// concurrently (PostgreSQL): each creation writes on its own.
    fn own_writer(&self) -> Option<Box<dyn OwnedWriter>> {
        None
    }

    /// Appended to a `SELECT` that claims rows for work, so that concurrent
    /// claimers skip each other's rows (PostgreSQL: `FOR UPDATE SKIP
    /// LOCKED`). Empty where writes are serialized anyway.
    fn skip_locked(&self) -> &'static str {
        ""
    }

    /// Appended to a `SELECT` whose rows the transaction must hold until it
    /// ends, so that two writers of the same rows take turns (PostgreSQL:
    /// `FOR UPDATE`). Empty where writes are serialized anyway.
    fn lock_rows(&self) -> &'static str {
        ""
    }

    /// Whether grouping many rows in the database is cheaper than reading
    /// them: PostgreSQL hashes the groups; SQLite groups only by sorting
    /// every row, so reading a covering index and counting in Rust is 2–3×
    /// faster there (`KpiStore::open_counts`).
    fn hashes_groups(&self) -> bool {
        true
    }

    /// A statement that locks a whole table until the transaction ends:
    /// `shared` lets other shared holders in and keeps an exclusive one
    /// out (PostgreSQL: `ROW EXCLUSIVE` / `EXCLUSIVE`). `None` where
    /// writes are serialized anyway.
    fn lock_table(&self, _table: &str, _shared: bool) -> Option<String> {
        None
    }

    /// A condition that `column` contains `param` as a substring.
    fn contains(&self, column: &str, param: &str) -> String;

    /// Changes committed on this node or (PostgreSQL) any node.
    fn subscribe(&self) -> broadcast::Receiver<TicketChange>;
}

#[async_trait]
pub trait Transaction: Send {
    async fn fetch(&mut self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<SqlRow>>;
    async fn execute(&mut self, sql: &str, params: Vec<SqlValue>) -> Result<u64>;
    /// Announces a change; delivered only if the transaction commits.
    async fn notify(&mut self, change: &TicketChange) -> Result<()>;
    async fn commit(self: Box<Self>) -> Result<()>;

    /// Inserts `rows` (each a value for every column of `prefix`,
    /// `INSERT INTO t (a, b)`), with `tail` after the values (an `ON
    /// CONFLICT` clause, or nothing), and returns their `id`s in the order
    /// given if `returning_id`, else nothing. Here as multi-row statements
    /// of at most 200 rows, one round trip each; a backend whose
    /// statements cost no round trip (the SQLite writer's own connection)
    /// binds one prepared row statement instead.
    async fn insert_rows(
        &mut self,
        prefix: &str,
        rows: Vec<Vec<SqlValue>>,
        tail: &str,
        returning_id: bool,
    ) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(if returning_id { rows.len() } else { 0 });
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let mut values = Vec::new();
            let mut groups = Vec::with_capacity(MAX_ROWS);
            for row in rows.by_ref().take(MAX_ROWS) {
                let first = values.len();
                let marks: Vec<String> = (first + 1..=first + row.len()).map(|n| format!("${n}")).collect();
                groups.push(format!("({})", marks.join(", ")));
                values.extend(row);
            }
            let sql = format!("{prefix} VALUES {} {tail}", groups.join(", "));
            if returning_id {
                let mut chunk = Vec::with_capacity(groups.len());
                for row in self.fetch(&format!("{sql} RETURNING id"), values).await? {
                    chunk.push(row.int(0)?);
                }
                // Ids come from a sequence, in the order the rows were given.
                chunk.sort_unstable();
                ids.extend(chunk);
            } else {
                self.execute(&sql, values).await?;
            }
        }
        Ok(ids)
    }
}

/// Rows per multi-row INSERT (`Transaction::insert_rows`): one statement
/// per table for a batch of creations (at most 64), few round trips for
/// imports and the rollup's cells.
const MAX_ROWS: usize = 200;

/// A write connection used from one thread (see `Database::own_writer`).
pub trait OwnedWriter: Send + 'static {
    /// Starts a write transaction, waiting for the backend's write lock.
    /// Its methods complete without waiting on other threads, so the
    /// owner drives them with `block_on`.
    fn begin(&mut self) -> Result<Box<dyn Transaction>>;
}
