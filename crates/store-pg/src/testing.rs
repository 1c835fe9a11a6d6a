//! A fresh PostgreSQL database per test, made on the server named by
//! `SWITCHBOARD_TEST_PG` (e.g. postgres://postgres@127.0.0.1:5432/test).
//! Returns `None` when the variable is unset, so suites skip PostgreSQL on
//! machines without it; CI sets it.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{AssertSqlSafe, Connection};
use store::StoreError;

static NEXT: AtomicU64 = AtomicU64::new(0);

pub const ENV: &str = "SWITCHBOARD_TEST_PG";

/// The URL of a new, empty database, or `None` if PostgreSQL tests are off.
pub async fn fresh_database() -> Result<Option<String>, StoreError> {
    let Some(admin) = std::env::var(ENV).ok().filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let name = format!("sbtest_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
    let err = |e: sqlx::Error| StoreError::Backend(e.to_string());
    let mut conn = sqlx::PgConnection::connect(&admin).await.map_err(err)?;
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&mut conn).await.map_err(err)?;
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.map_err(err)?;
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
    Ok(Some(format!("{base}/{name}")))
}
