//! `/tickets/{id}/presence`: who else has the ticket open, and who is
//! typing. The workspace sends a heartbeat every few seconds; one missed
//! for `PRESENCE_MS` means the agent has left.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::Action;
use serde::{Deserialize, Serialize};

use super::load;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

/// How long a heartbeat counts.
pub const PRESENCE_MS: i64 = 30_000;

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The agent is writing a reply or note.
    #[serde(default)]
    pub typing: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Viewer {
    pub user_id: i64,
    pub name: String,
    pub typing: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Presence {
    /// Other staff on the ticket now (not the caller).
    pub others: Vec<Viewer>,
    /// The ticket's version, so a page can tell it changed.
    pub version: i64,
}

/// Says the caller has the ticket open (and whether typing); answers who
/// else does.
#[utoipa::path(post, path = "/tickets/{id}/presence", tag = "tickets", request_body = Heartbeat,
    params(("id" = i64, Path, description = "Ticket number")), responses((status = 200, body = Presence), (status = 404)))]
pub async fn heartbeat(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<Heartbeat>,
) -> ApiResult<Json<Presence>> {
    caller.require(&state, Action::UseWorkspace).await?;
    let me = caller.staff_id().ok_or(ApiError::Forbidden)?;
    let ticket = load(&state, &caller, id, Action::ViewTicket).await?;
    let now = state.now();
    state.store.touch_presence(ticket.id, me, body.value.typing, now).await?;
    let mut others = Vec::new();
    for (user, typing, _) in state.store.presence(ticket.id, now - PRESENCE_MS).await? {
        if user != me {
            let name = state.store.user(user).await?.map(|u| u.name).unwrap_or_default();
            others.push(Viewer { user_id: user.0, name, typing });
        }
    }
    Ok(Json(Presence { others, version: ticket.version }))
}

/// The caller closed the ticket.
#[utoipa::path(delete, path = "/tickets/{id}/presence", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket number")), responses((status = 204), (status = 404)))]
pub async fn leave(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    caller.require(&state, Action::UseWorkspace).await?;
    let me = caller.staff_id().ok_or(ApiError::Forbidden)?;
    let ticket = load(&state, &caller, id, Action::ViewTicket).await?;
    state.store.leave_ticket(ticket.id, me).await?;
    Ok(StatusCode::NO_CONTENT)
}
