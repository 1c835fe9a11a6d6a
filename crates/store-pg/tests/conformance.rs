#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The storage conformance suite on PostgreSQL, each test in a database of
//! its own. Runs when SWITCHBOARD_TEST_PG names a server (CI sets it).

async fn fresh() -> Option<store::SqlStore> {
    let url = store_pg::testing::fresh_database().await.expect("create test database")?;
    Some(store_pg::connect(&url).await.expect("connect postgres"))
}

store::conformance_tests!(pg, super::fresh);
