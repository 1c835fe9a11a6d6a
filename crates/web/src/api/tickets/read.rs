use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::policy::Action;

use super::{TicketView, load, respond, view};
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Caller;

/// A ticket with its messages (customers: public ones only) and, for staff,
/// its full event history. The `ETag` is the version to send in `If-Match`.
#[utoipa::path(get, path = "/tickets/{id}", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket number")),
    responses((status = 200, body = TicketView), (status = 404)))]
pub async fn get_ticket(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Response> {
    let ticket = load(&state, &caller, id, Action::ViewTicket).await?;
    Ok(respond(StatusCode::OK, view(&state, &caller, ticket).await?))
}
