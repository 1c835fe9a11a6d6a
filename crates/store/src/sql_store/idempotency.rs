//! `Idempotency-Key` bookkeeping, done inside the creating transaction so a
//! retried create returns the first result and never makes a second row.

use super::{SqlStore, returned_id};
use crate::{Created, IdempotencyKey, Result, SqlValue, StoreError, Transaction};

/// The id an earlier request with this key created, if any.
pub(crate) async fn replayed(tx: &mut dyn Transaction, key: &IdempotencyKey) -> Result<Option<i64>> {
    let rows = tx
        .fetch(
            "SELECT resource_id, request_hash FROM idempotency_keys WHERE scope = $1 AND key = $2",
            vec![key.scope.clone().into(), key.key.clone().into()],
        )
        .await?;
    match rows.first() {
        None => Ok(None),
        Some(r) if r.text(1)? == key.request_hash => Ok(Some(r.int(0)?)),
        Some(_) => Err(StoreError::IdempotencyMismatch),
    }
}

pub(crate) async fn remember(tx: &mut dyn Transaction, key: &IdempotencyKey, id: i64, now: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO idempotency_keys (scope, key, resource_id, request_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        vec![key.scope.clone().into(), key.key.clone().into(), id.into(), key.request_hash.clone().into(), now.into()],
    )
    .await?;
    Ok(())
}

/// Runs an insert under an optional idempotency key: replays the earlier
/// result, or inserts and remembers the key, in one transaction.
pub(crate) async fn insert_once(
    store: &SqlStore,
    idem: Option<IdempotencyKey>,
    now: i64,
    sql: &str,
    values: Vec<SqlValue>,
) -> Result<(Box<dyn Transaction>, Created<i64>)> {
    match try_insert_once(store, &idem, now, sql, values.clone()).await {
        // A concurrent request with the same key won the race: replay it.
        Err(StoreError::Duplicate(_)) if idem.is_some() => try_insert_once(store, &idem, now, sql, values).await,
        other => other,
    }
}

async fn try_insert_once(
    store: &SqlStore,
    idem: &Option<IdempotencyKey>,
    now: i64,
    sql: &str,
    values: Vec<SqlValue>,
) -> Result<(Box<dyn Transaction>, Created<i64>)> {
    let mut tx = store.begin().await?;
    if let Some(key) = idem
        && let Some(id) = replayed(tx.as_mut(), key).await?
    {
        return Ok((tx, Created { id, replayed: true }));
    }
    let id = returned_id(&tx.fetch(sql, values).await?)?;
    if let Some(key) = idem {
        remember(tx.as_mut(), key, id, now).await?;
    }
    Ok((tx, Created { id, replayed: false }))
}
