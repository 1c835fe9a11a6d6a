//! `/events`: every ticket event in id order, a page at a time: the
//! incremental export a warehouse or an independent check of the KPIs
//! reads (managers and admins).

use axum::Json;
use axum::extract::{Query, State};
use domain::TicketEvent;
use domain::policy::Action;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_events))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportParams {
    /// The last event id already read (0 or absent: from the start).
    pub after: Option<i64>,
    /// Events per page, 1–10,000 (default 1,000).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    pub events: Vec<TicketEvent>,
    /// The `after` of the next page; absent when this one was the last.
    pub next_after: Option<i64>,
}

/// Ticket events with an id above `after`, oldest first.
#[utoipa::path(get, path = "/events", tag = "staff", params(ExportParams),
    responses((status = 200, body = EventPage), (status = 400), (status = 403)))]
pub async fn export_events(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ExportParams>,
) -> ApiResult<Json<EventPage>> {
    caller.require(&state, Action::ViewReports).await?;
    let limit = p.limit.unwrap_or(1_000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 10000"));
    }
    let events = state.store.events_after(p.after.unwrap_or(0).max(0), limit).await?;
    let next_after = (events.len() == limit as usize).then(|| events.last().map(|e| e.id.0)).flatten();
    Ok(Json(EventPage { events, next_after }))
}
