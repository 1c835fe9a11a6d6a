//! `/me`: who the caller is, their status and notification preferences.

use axum::Json;
use axum::extract::State;
use domain::policy::Action;
use domain::{AgentStatus, Customer, Millis, NotificationPrefs, Principal, TeamId, User, UserId};
use serde::{Deserialize, Serialize};
use store::PrincipalRef;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(get_status, set_status))
        .routes(routes!(get_preferences, set_preferences))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// `staff` or `customer`.
    pub kind: String,
    pub user: Option<User>,
    pub customer: Option<Customer>,
    pub team_ids: Vec<TeamId>,
    pub led_team_ids: Vec<TeamId>,
    pub report_ids: Vec<UserId>,
}

/// The signed-in staff user or customer, with what decides their access.
#[utoipa::path(get, path = "/me", tag = "auth", responses((status = 200, body = Me), (status = 401)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Me>> {
    Ok(Json(match (&caller.principal, caller.who) {
        (Principal::Staff(p), PrincipalRef::Staff(id)) => Me {
            kind: "staff".into(),
            user: Some(state.store.user(id).await?.ok_or(ApiError::NotFound)?),
            customer: None,
            team_ids: p.team_ids.clone(),
            led_team_ids: p.led_team_ids.clone(),
            report_ids: p.report_ids.clone(),
        },
        (_, PrincipalRef::Customer(id)) => Me {
            kind: "customer".into(),
            user: None,
            customer: state.store.customer(id).await?,
            team_ids: vec![],
            led_team_ids: vec![],
            report_ids: vec![],
        },
        (Principal::Customer(_), PrincipalRef::Staff(_)) => return Err(ApiError::NotFound),
    }))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    pub status: AgentStatus,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatusView {
    pub status: AgentStatus,
    /// When it was set (absent: never set, so offline).
    pub since: Option<Millis>,
}

/// The status of a staff user: never set means offline.
pub(crate) async fn status_of(state: &AppState, user: UserId) -> ApiResult<StatusView> {
    let found = state.store.agent_statuses().await?.into_iter().find(|(u, _, _)| *u == user);
    Ok(match found {
        Some((_, status, since)) => StatusView { status, since: Some(since) },
        None => StatusView { status: AgentStatus::Offline, since: None },
    })
}

async fn workspace_user(state: &AppState, caller: &Caller) -> ApiResult<UserId> {
    caller.require(state, Action::UseWorkspace).await?;
    caller.staff_id().ok_or(ApiError::Forbidden)
}

/// The caller's status: online, away or offline. Routing gives work to
/// online agents; every change is kept for occupancy.
#[utoipa::path(get, path = "/me/status", tag = "auth", responses((status = 200, body = StatusView), (status = 403)))]
pub async fn get_status(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<StatusView>> {
    let user = workspace_user(&state, &caller).await?;
    Ok(Json(status_of(&state, user).await?))
}

/// Sets the caller's status.
#[utoipa::path(put, path = "/me/status", tag = "auth", request_body = StatusInput,
    responses((status = 200, body = StatusView), (status = 400), (status = 403)))]
pub async fn set_status(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<StatusInput>,
) -> ApiResult<Json<StatusView>> {
    let user = workspace_user(&state, &caller).await?;
    crate::background::set_status(state.store.as_ref(), user, body.value.status, state.now()).await?;
    Ok(Json(status_of(&state, user).await?))
}

/// What the workspace notifies the caller of.
#[utoipa::path(get, path = "/me/preferences", tag = "auth", responses((status = 200, body = NotificationPrefs)))]
pub async fn get_preferences(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<NotificationPrefs>> {
    let user = workspace_user(&state, &caller).await?;
    Ok(Json(state.store.preferences(user).await?))
}

/// Replaces the caller's notification preferences (absent fields take their defaults).
#[utoipa::path(put, path = "/me/preferences", tag = "auth", request_body = NotificationPrefs,
    responses((status = 200, body = NotificationPrefs), (status = 400)))]
pub async fn set_preferences(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<NotificationPrefs>,
) -> ApiResult<Json<NotificationPrefs>> {
    let user = workspace_user(&state, &caller).await?;
    state.store.set_preferences(user, &body.value).await?;
    Ok(Json(body.value))
}
