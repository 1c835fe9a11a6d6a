//! `/tickets/bulk`: one change to many tickets (assign, status, priority,
//! tags, a macro, a merge). Each ticket is written in its own transaction
//! through the same rules as a single change; the answer says, per ticket,
//! whether it was changed and why not.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::macros::apply_macro;
use super::merge::{MergeTicket, merge_ticket};
use super::update::{UpdateTicket, checked_patch, write_patch};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller, IfMatch};

/// Most tickets one bulk request changes.
pub const BULK_MAX: usize = 100;

/// Exactly one of `changes`, `macro_id` and `merge_into`.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkChange {
    pub ticket_ids: Vec<i64>,
    /// Fields to change on every ticket, as in `PATCH /tickets/{id}`.
    pub changes: Option<UpdateTicket>,
    /// A macro to apply to every ticket.
    pub macro_id: Option<i64>,
    /// Merge every ticket into this one.
    pub merge_into: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkOutcome {
    pub ticket_id: i64,
    pub ok: bool,
    /// Why it was not changed: the error's code and message.
    pub code: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    pub results: Vec<BulkOutcome>,
    pub changed: usize,
}

/// Applies one change to up to 100 tickets, each in its own transaction.
/// A ticket the caller may not see or change is reported, not fatal.
#[utoipa::path(post, path = "/tickets/bulk", tag = "tickets", request_body = BulkChange,
    responses((status = 200, body = BulkResult), (status = 400), (status = 422)))]
pub async fn bulk_change(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<BulkChange>,
) -> ApiResult<Json<BulkResult>> {
    let input = &body.value;
    let mut ids: Vec<i64> = Vec::with_capacity(input.ticket_ids.len());
    for id in &input.ticket_ids {
        if !ids.contains(id) {
            ids.push(*id);
        }
    }
    if ids.is_empty() {
        return Err(ApiError::invalid("ticket_ids", "choose at least one ticket"));
    }
    if ids.len() > BULK_MAX {
        return Err(ApiError::invalid("ticket_ids", format!("at most {BULK_MAX} tickets at once")));
    }
    let asked = [input.changes.is_some(), input.macro_id.is_some(), input.merge_into.is_some()];
    if asked.iter().filter(|a| **a).count() != 1 {
        return Err(ApiError::invalid("changes", "give exactly one of changes, macro_id and merge_into"));
    }
    // Checked once: a bad field fails the request before any ticket changes.
    let patch = match &input.changes {
        Some(c) => Some(checked_patch(&state, &caller, c).await?),
        None => None,
    };
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        let done = if let Some(p) = &patch {
            write_patch(&state, &caller, id, IfMatch(None), p).await
        } else if let Some(m) = input.macro_id {
            apply_macro(State(state.clone()), caller.clone(), Path((id, m)), IfMatch(None)).await
        } else if let Some(target) = input.merge_into {
            let merge = ApiJson { value: MergeTicket { target_id: target }, raw: bytes::Bytes::new() };
            merge_ticket(State(state.clone()), caller.clone(), Path(id), merge).await
        } else {
            Err(ApiError::invalid("changes", "nothing to do"))
        };
        results.push(match done {
            Ok(_) => BulkOutcome { ticket_id: id, ok: true, code: None, message: None },
            Err(e) => {
                BulkOutcome { ticket_id: id, ok: false, code: Some(e.code().into()), message: Some(e.describe()) }
            }
        });
    }
    let changed = results.iter().filter(|r| r.ok).count();
    Ok(Json(BulkResult { results, changed }))
}
