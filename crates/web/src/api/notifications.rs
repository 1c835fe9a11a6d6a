//! `/me/notifications`: the caller's in-app notices (escalations raised to
//! them, approvals to decide or decided, trigger messages, surges), and
//! `POST /me/notifications/read` to mark them all read.

use axum::Json;
use axum::extract::{Query, State};
use domain::notification::Notification;
use domain::policy::Action;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_notifications)).routes(routes!(read_notifications))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct NoticeFilter {
    /// Only unread ones.
    pub unread: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationList {
    pub unread: i64,
    /// Newest first, at most 100.
    pub notifications: Vec<Notification>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MarkedRead {
    pub marked: u64,
}

#[utoipa::path(get, path = "/me/notifications", tag = "me", params(NoticeFilter), responses((status = 200, body = NotificationList)))]
pub async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
    Query(f): Query<NoticeFilter>,
) -> ApiResult<Json<NotificationList>> {
    caller.require(&state, Action::UseWorkspace).await?;
    let me = caller.staff_id().ok_or(ApiError::Forbidden)?;
    Ok(Json(NotificationList {
        unread: state.store.unread_notifications(me).await?,
        notifications: state.store.notifications(me, f.unread.unwrap_or(false), 100).await?,
    }))
}

#[utoipa::path(post, path = "/me/notifications/read", tag = "me", responses((status = 200, body = MarkedRead)))]
pub async fn read_notifications(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<MarkedRead>> {
    caller.require(&state, Action::UseWorkspace).await?;
    let me = caller.staff_id().ok_or(ApiError::Forbidden)?;
    Ok(Json(MarkedRead { marked: state.store.mark_notifications_read(me, state.now()).await? }))
}
