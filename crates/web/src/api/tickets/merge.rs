use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::lifecycle;
use domain::policy::Action;
use serde::{Deserialize, Serialize};
use store::TicketWrite;

use super::{TicketView, load, respond, view};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeTicket {
    /// The ticket that receives this one's messages.
    pub target_id: i64,
}

/// Merges this ticket into `target_id`: its messages move to the target and
/// it is closed with a pointer (`merged_into`). Answers with the target.
#[utoipa::path(post, path = "/tickets/{id}/merge", tag = "tickets", request_body = MergeTicket,
    params(("id" = i64, Path, description = "The ticket to merge away")),
    responses((status = 200, body = TicketView), (status = 404), (status = 409), (status = 422)))]
pub async fn merge_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<MergeTicket>,
) -> ApiResult<Response> {
    let source = load(&state, &caller, id, Action::MergeTickets).await?;
    let target = match load(&state, &caller, body.value.target_id, Action::MergeTickets).await {
        Err(ApiError::NotFound) => {
            return Err(ApiError::invalid("target_id", format!("ticket {} does not exist", body.value.target_id)));
        }
        other => other?,
    };
    let ((s, se), (t, te)) = lifecycle::merge(&source, &target, caller.actor(), state.now())?;
    state
        .store
        .merge_tickets(
            TicketWrite { ticket: s, expected_version: source.version, events: se, messages: vec![] },
            TicketWrite { ticket: t, expected_version: target.version, events: te, messages: vec![] },
        )
        .await?;
    let target = state.store.ticket(target.id).await?.ok_or(ApiError::NotFound)?;
    Ok(respond(StatusCode::OK, view(&state, &caller, target).await?))
}
