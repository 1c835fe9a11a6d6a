//! `/mail/outbox`: the mail Switchboard sends, queued with its message;
//! admins see what waits, what went and what failed, and why.

use axum::Json;
use axum::extract::{Query, State};
use domain::OutboxStatus;
use domain::policy::Action;
use serde::{Deserialize, Serialize};
use store::{OutboxEntry, PageRequest};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_outbox))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OutboxQuery {
    /// `queued`, `sent` or `failed`.
    pub status: Option<String>,
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutboxList {
    pub entries: Vec<OutboxEntry>,
    /// Pass as `after` for the next page.
    pub next_after: Option<i64>,
}

/// Newest first.
#[utoipa::path(get, path = "/mail/outbox", tag = "mail", params(OutboxQuery),
    responses((status = 200, body = OutboxList), (status = 403), (status = 422)))]
pub async fn list_outbox(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<OutboxQuery>,
) -> ApiResult<Json<OutboxList>> {
    caller.require(&state, Action::ManageMail).await?;
    let status = q.status.as_deref().map(|s| OutboxStatus::parse("status", s)).transpose().map_err(ApiError::from)?;
    let page = state.store.outbox(status, PageRequest { after: q.after, limit: q.limit.unwrap_or(50) }).await?;
    Ok(Json(OutboxList { entries: page.items, next_after: page.next.map(|c| c.id) }))
}
