//! The storage traits implemented once in SQL, over any `Database`.

mod auth;
mod batch;
pub(crate) use batch::{chronological, message_event};
mod directory;
mod feedback;
mod fields;
mod idempotency;
mod import;
pub use import::PreparedImport;
pub use kpi::UntalliedMeasures;
mod integrations;
mod jobs;
mod kpi;
mod kpi_cells;
mod mail;
mod rules;
mod service;
mod tickets;
mod workspace;
mod writer;

use std::sync::Arc;

use crate::{Database, Result, SqlRow, SqlValue, Transaction};

/// Storage on a SQL backend. Cheap to clone.
#[derive(Clone)]
pub struct SqlStore {
    db: Arc<dyn Database>,
    /// Group commit of ticket creations, for single-writer backends.
    writer: Option<tokio::sync::mpsc::Sender<writer::Work>>,
}

impl SqlStore {
    /// Must be called within a Tokio runtime (it may start the writer
    /// thread, which drives its batches on the runtime's handle).
    pub fn new(db: Arc<dyn Database>) -> Self {
        let direct = Self { db: db.clone(), writer: None };
        let writer = db.own_writer().and_then(|own| writer::spawn(direct, own));
        Self { db, writer }
    }

    pub(crate) async fn fetch(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<SqlRow>> {
        self.db.fetch(sql, params).await
    }

    async fn fetch_one(&self, sql: &str, params: Vec<SqlValue>) -> Result<Option<SqlRow>> {
        Ok(self.db.fetch(sql, params).await?.into_iter().next())
    }

    async fn begin(&self) -> Result<Box<dyn Transaction>> {
        self.db.begin().await
    }

    /// Runs one statement in its own transaction.
    async fn execute(&self, sql: &str, params: Vec<SqlValue>) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = tx.execute(sql, params).await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// Numbers parameters as they are added: `$1`, `$2` …
#[derive(Default)]
pub(crate) struct Params {
    pub values: Vec<SqlValue>,
}

impl Params {
    pub fn push(&mut self, v: impl Into<SqlValue>) -> String {
        self.values.push(v.into());
        format!("${}", self.values.len())
    }

    /// `$3, $4, $5` for a list.
    pub fn list<T: Into<SqlValue> + Clone>(&mut self, items: &[T]) -> String {
        items.iter().map(|i| self.push(i.clone())).collect::<Vec<_>>().join(", ")
    }
}

/// An update that must have touched exactly one row.
pub(crate) fn updated(n: u64) -> Result<()> {
    if n == 1 { Ok(()) } else { Err(crate::StoreError::NotFound) }
}

/// The id of the first row, as returned by `INSERT … RETURNING id`.
pub(crate) fn returned_id(rows: &[SqlRow]) -> Result<i64> {
    rows.first().ok_or_else(|| crate::StoreError::Backend("insert returned no id".into()))?.int(0)
}

/// Turns a page of rows into a `Page` with the next cursor, having asked for
/// one row more than the limit to know whether there is a next page.
pub(crate) fn page_by_id<T>(mut items: Vec<T>, limit: u32, id: impl Fn(&T) -> i64) -> crate::Page<T> {
    let limit = limit as usize;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| crate::Cursor { value: id(last), id: id(last) })
    } else {
        None
    };
    crate::Page { items, next }
}
