//! `/tickets`: create with the first message, list and search, read with
//! messages and events, update fields (with `If-Match`), add replies and
//! notes, merge, link to a problem, log handle time.

pub(crate) mod bulk;
mod create;
mod fields;
mod list;
pub(crate) mod macros;
pub(crate) mod merge;
pub(crate) mod messages;
mod original;
mod presence;
mod read;
pub(crate) mod time;
pub(crate) mod update;

pub(crate) use create::check_assignment;
pub(crate) use list::ticket_query;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::{Message, Ticket, TicketEvent, TicketId};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, etag};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create::create_ticket, list::list_tickets))
        .routes(routes!(list::search))
        .routes(routes!(read::get_ticket, update::update_ticket))
        .routes(routes!(messages::add_message))
        .routes(routes!(merge::merge_ticket))
        .routes(routes!(original::original_email))
        .routes(routes!(macros::apply_macro))
        .routes(routes!(bulk::bulk_change))
        .routes(routes!(presence::heartbeat, presence::leave))
        .routes(routes!(time::log_time, time::time_sheet))
}

/// A ticket with its conversation; `events` only for staff.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketView {
    pub ticket: Ticket,
    pub messages: Vec<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<TicketEvent>>,
}

/// Loads a ticket the caller may see; 404 otherwise.
pub(crate) async fn load(state: &AppState, caller: &Caller, id: i64, action: domain::Action) -> ApiResult<Ticket> {
    let ticket = state.store.ticket(TicketId(id)).await?.ok_or(ApiError::NotFound)?;
    caller.require_ticket(state, action, &ticket).await?;
    Ok(ticket)
}

pub(crate) async fn view(state: &AppState, caller: &Caller, ticket: Ticket) -> ApiResult<TicketView> {
    let staff = caller.principal.is_staff();
    let messages = state.store.messages(ticket.id, staff).await?;
    let events = if staff { Some(state.store.events(ticket.id).await?) } else { None };
    Ok(TicketView { ticket, messages, events })
}

/// The JSON view with its `ETag`.
pub(crate) fn respond(status: axum::http::StatusCode, view: TicketView) -> Response {
    let tag = etag(view.ticket.version);
    let mut response = (status, axum::Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}
