//! Switchboard storage on PostgreSQL, for several `serve` nodes on one
//! database. Changes are announced with `pg_notify` inside the writing
//! transaction (so they are delivered only on commit) and every node
//! listens, so live updates reach clients of all nodes.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::search::{Term, TextQuery};
use futures::TryStreamExt;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{
    PgArgumentBuffer, PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow, PgTypeInfo, PgValueRef, Postgres,
};
use sqlx::{AssertSqlSafe, Row, TypeInfo, ValueRef};
use store::database::TextAudience;
use store::{Database, SqlRow, SqlStore, SqlValue, StoreError, TicketChange, Transaction};
use tokio::sync::broadcast;

pub mod testing;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The channel every node listens on.
const CHANNEL: &str = "switchboard_ticket_changes";

pub struct Pg {
    pool: PgPool,
    changes: broadcast::Sender<TicketChange>,
}

fn backend(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            // Index "customers_email" or constraint "api_tokens_token_hash_key".
            let name = db.constraint().unwrap_or("value");
            let name = db.table().and_then(|t| name.strip_prefix(&format!("{t}_"))).unwrap_or(name);
            return StoreError::Duplicate(name.trim_end_matches("_key").to_string());
        }
        if db.is_foreign_key_violation() {
            return StoreError::MissingReference("a referenced record".into());
        }
    }
    StoreError::Backend(e.to_string())
}

impl Pg {
    /// Connects, applies migrations and starts listening for changes.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse().map_err(backend)?;
        Self::connect_with(options).await
    }

    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(backend)?;
        // Several nodes may start at once; the migrator takes an advisory lock.
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Backend(format!("migrating: {e}")))?;
        let (changes, _) = broadcast::channel(1024);
        let mut listener = PgListener::connect_with(&pool).await.map_err(backend)?;
        listener.listen(CHANNEL).await.map_err(backend)?;
        let tx = changes.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(n) => match serde_json::from_str::<TicketChange>(n.payload()) {
                        Ok(change) => {
                            let _ = tx.send(change);
                        }
                        Err(e) => tracing::warn!(error = %e, "unreadable change notification"),
                    },
                    // PgListener reconnects by itself on the next recv.
                    Err(e) => {
                        tracing::warn!(error = %e, "change listener lost its connection; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Self { pool, changes })
    }

    pub fn into_store(self) -> SqlStore {
        SqlStore::new(Arc::new(self))
    }
}

/// Connects to PostgreSQL and returns the application's storage.
pub async fn connect(url: &str) -> Result<SqlStore, StoreError> {
    Ok(Pg::connect(url).await?.into_store())
}

/// A NULL whose type PostgreSQL infers from where it is used.
struct UntypedNull;

impl sqlx::Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(sqlx::postgres::types::Oid(0))
    }
}

impl sqlx::Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(&self, _buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Ok(IsNull::Yes)
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn bind(mut q: PgQuery<'_>, params: Vec<SqlValue>) -> PgQuery<'_> {
    for p in params {
        q = match p {
            SqlValue::Null => q.bind(UntypedNull),
            SqlValue::Int(v) => q.bind(v),
            SqlValue::Real(v) => q.bind(v),
            SqlValue::Text(v) => q.bind(store::storable_text(v)),
            SqlValue::Name(v) => q.bind(v),
            SqlValue::Bool(v) => q.bind(v),
        };
    }
    q
}

/// How a column's value is read into a `SqlValue`.
#[derive(Clone, Copy)]
enum Column {
    Int8,
    Int4,
    Int2,
    Bool,
    Float8,
    Float4,
    Text,
}

fn row(r: &PgRow) -> Result<SqlRow, StoreError> {
    let mut values = Vec::with_capacity(r.len());
    for i in 0..r.len() {
        let raw = r.try_get_raw(i).map_err(backend)?;
        if raw.is_null() {
            values.push(SqlValue::Null);
            continue;
        }
        // Decoded straight from the value the type names (no name copied,
        // no second look-up and type check per value): a cockpit slice
        // read from rows maps ~150,000 rows of 8 values.
        let column = match raw.type_info().name() {
            "INT8" => Column::Int8,
            "INT4" => Column::Int4,
            "INT2" => Column::Int2,
            "BOOL" => Column::Bool,
            "FLOAT8" => Column::Float8,
            "FLOAT4" => Column::Float4,
            _ => Column::Text,
        };
        values.push(match column {
            Column::Int8 => SqlValue::Int(decode::<i64>(raw)?),
            Column::Int4 => SqlValue::Int(i64::from(decode::<i32>(raw)?)),
            Column::Int2 => SqlValue::Int(i64::from(decode::<i16>(raw)?)),
            Column::Bool => SqlValue::Bool(decode::<bool>(raw)?),
            Column::Float8 => SqlValue::Real(decode::<f64>(raw)?),
            Column::Float4 => SqlValue::Real(f64::from(decode::<f32>(raw)?)),
            Column::Text => SqlValue::Text(decode::<String>(raw)?),
        });
    }
    Ok(SqlRow(values))
}

fn decode<'r, T: sqlx::Decode<'r, Postgres>>(raw: PgValueRef<'r>) -> Result<T, StoreError> {
    T::decode(raw).map_err(|e| StoreError::Backend(format!("decoding a value: {e}")))
}

struct PgTx {
    tx: sqlx::Transaction<'static, Postgres>,
}

#[async_trait]
impl Transaction for PgTx {
    async fn fetch(&mut self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<SqlRow>, StoreError> {
        let q = bind(sqlx::query(AssertSqlSafe(sql.to_string())), params);
        q.fetch_all(&mut *self.tx).await.map_err(backend)?.iter().map(row).collect()
    }

    async fn execute(&mut self, sql: &str, params: Vec<SqlValue>) -> Result<u64, StoreError> {
        let q = bind(sqlx::query(AssertSqlSafe(sql.to_string())), params);
        Ok(q.execute(&mut *self.tx).await.map_err(backend)?.rows_affected())
    }

    async fn notify(&mut self, change: &TicketChange) -> Result<(), StoreError> {
        let payload = serde_json::to_string(change).map_err(|e| StoreError::Backend(e.to_string()))?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(backend)
    }
}

/// A tsquery of our tokens; tokens are alphanumeric and quoted, so user
/// text never becomes tsquery syntax. Customers match weight A only
/// (subject and public messages).
fn ts_term(t: &Term, weight: &str) -> String {
    match t {
        Term::Word(w) => format!("'{w}'{weight}"),
        Term::Phrase(ws) => {
            format!("({})", ws.iter().map(|w| format!("'{w}'{weight}")).collect::<Vec<_>>().join(" <-> "))
        }
    }
}

#[async_trait]
impl Database for Pg {
    async fn fetch(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<SqlRow>, StoreError> {
        // A task of its own, so reads made at once (the cockpit's two
        // periods) receive and map their rows on as many cores; joined in
        // one task they took turns on one. Rows are mapped as they arrive.
        let pool = self.pool.clone();
        let sql = sql.to_string();
        tokio::spawn(async move {
            let q = bind(sqlx::query(AssertSqlSafe(sql)), params);
            q.fetch(&pool).map_err(backend).and_then(|r| std::future::ready(row(&r))).try_collect().await
        })
        .await
        .map_err(|e| StoreError::Backend(format!("reading rows: {e}")))?
    }

    async fn begin(&self) -> Result<Box<dyn Transaction>, StoreError> {
        let tx = self.pool.begin().await.map_err(backend)?;
        Ok(Box::new(PgTx { tx }))
    }

    fn text_match(&self, text: &TextQuery, audience: TextAudience, first_param: usize) -> (String, Vec<SqlValue>) {
        let weight = match audience {
            TextAudience::Staff => "",
            TextAudience::Customer => ":A",
        };
        let mut parts: Vec<String> = text.terms.iter().map(|t| ts_term(t, weight)).collect();
        parts.extend(text.excluded.iter().map(|t| format!("!{}", ts_term(t, weight))));
        (
            format!(
                "t.id IN (SELECT s.ticket_id FROM ticket_search s WHERE s.document @@ to_tsquery('simple', ${first_param}))"
            ),
            vec![parts.join(" & ").into()],
        )
    }

    fn search_key(&self) -> &'static str {
        "ticket_id"
    }

    fn skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }

    fn lock_rows(&self) -> &'static str {
        " FOR UPDATE"
    }

    fn lock_table(&self, table: &str, shared: bool) -> Option<String> {
        let mode = if shared { "ROW EXCLUSIVE" } else { "EXCLUSIVE" };
        Some(format!("LOCK TABLE {table} IN {mode} MODE"))
    }

    fn contains(&self, column: &str, param: &str) -> String {
        format!("strpos({column}, {param}) > 0")
    }

    async fn optimize(&self) -> Result<(), StoreError> {
        // VACUUM also empties the GIN index's pending list. The rollup's
        // tables too: after a rebuild or a bulk load, a plan made without
        // their statistics picks the wrong index (a team's agent's rows:
        // 483 ms by the team's index, 0.1 ms by the agent's).
        sqlx::query(
            "VACUUM (ANALYZE) tickets, ticket_search, messages, ticket_events, kpi_tickets, kpi_measures, \
             kpi_measure_tags, kpi_cells, kpi_buckets, kpi_bucket_days, kpi_histograms, kpi_week_cells, kpi_week_histograms",
        )
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<TicketChange> {
        self.changes.subscribe()
    }
}
