//! A fresh PostgreSQL database per test, made on the server named by
//! `SWITCHBOARD_TEST_PG` (e.g. postgres://postgres@127.0.0.1:5432/test).
//! Returns `None` when the variable is unset, so suites skip PostgreSQL on
//! machines without it; CI sets it.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{AssertSqlSafe, Connection};
use store::StoreError;

static NEXT: AtomicU64 = AtomicU64::new(0);
static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub const ENV: &str = "SWITCHBOARD_TEST_PG";

/// The URL of a new, empty database, or `None` if PostgreSQL tests are off.
pub async fn fresh_database() -> Result<Option<String>, StoreError> {
    let Some(admin) = std::env::var(ENV).ok().filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let name = format!("sbtest_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
    let err = |e: sqlx::Error| StoreError::Backend(e.to_string());
    let mut conn = sqlx::PgConnection::connect(&admin).await.map_err(err)?;
    // Only on a server on this machine, where a process number says
    // whether the test process that made a database still runs.
    let local = ["@127.0.0.1", "@localhost", "@[::1]"].iter().any(|h| admin.contains(h));
    if local && std::path::Path::new("/proc/self").exists() && !SWEPT.swap(true, Ordering::SeqCst) {
        sweep(&mut conn).await.map_err(err)?;
    }
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&mut conn).await.map_err(err)?;
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.map_err(err)?;
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
    Ok(Some(format!("{base}/{name}")))
}

/// Drops the databases that test processes which have ended left behind
/// (a test's database is kept while its process runs, for a failing test
/// to be looked at), once per process.
async fn sweep(conn: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'sbtest\\_%'").fetch_all(&mut *conn).await?;
    for (name,) in names {
        let pid = name.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        let ended =
            pid.is_some_and(|p| p != std::process::id() && !std::path::Path::new(&format!("/proc/{p}")).exists());
        if ended {
            // Another process may be sweeping it at the same moment.
            let _ = sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&mut *conn).await;
        }
    }
    Ok(())
}
