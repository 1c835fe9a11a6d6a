//! Settings of the service rules, one document each: the priority matrix,
//! when the system escalates, approval limits per role, surge detection.
//! Everyone in the workspace reads them; managers and admins change them.

use axum::Json;
use axum::extract::State;
use domain::DomainError;
use domain::policy::Action;
use domain::rules::incident::SurgeRules;
use domain::rules::{ApprovalLimits, EscalationRules, PriorityMatrix};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_priority, set_priority))
        .routes(routes!(get_escalation, set_escalation))
        .routes(routes!(get_approval, set_approval))
        .routes(routes!(get_surge, set_surge))
}

/// A stored settings document, or its default.
pub(crate) async fn read<T: DeserializeOwned + Default>(state: &AppState, key: &str) -> ApiResult<T> {
    Ok(state.store.setting(key).await?.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default())
}

async fn write<T: Serialize>(
    state: &AppState,
    caller: &Caller,
    key: &str,
    value: &T,
    check: Result<(), Vec<DomainError>>,
) -> ApiResult<()> {
    caller.require(state, Action::ManageServiceRules).await?;
    check.map_err(ApiError::Invalid)?;
    let v = serde_json::to_value(value).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.store.set_setting(key, &v).await?;
    state.audit(&caller.label(), &format!("{key}.update"), key, true, v).await;
    Ok(())
}

#[utoipa::path(get, path = "/settings/priority-matrix", tag = "service rules", responses((status = 200, body = PriorityMatrix)))]
pub async fn get_priority(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<PriorityMatrix>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(read(&state, "priority_matrix").await?))
}

/// The urgency × impact matrix (`matrix[urgency][impact]`, low → high) and its thresholds.
#[utoipa::path(put, path = "/settings/priority-matrix", tag = "service rules", request_body = PriorityMatrix,
    responses((status = 200, body = PriorityMatrix), (status = 403), (status = 422)))]
pub async fn set_priority(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<PriorityMatrix>,
) -> ApiResult<Json<PriorityMatrix>> {
    write(&state, &caller, "priority_matrix", &body.value, body.value.check()).await?;
    Ok(Json(body.value))
}

#[utoipa::path(get, path = "/settings/escalation-rules", tag = "service rules", responses((status = 200, body = EscalationRules)))]
pub async fn get_escalation(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<EscalationRules>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(read(&state, "escalation_rules").await?))
}

#[utoipa::path(put, path = "/settings/escalation-rules", tag = "service rules", request_body = EscalationRules,
    responses((status = 200, body = EscalationRules), (status = 403), (status = 422)))]
pub async fn set_escalation(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<EscalationRules>,
) -> ApiResult<Json<EscalationRules>> {
    write(&state, &caller, "escalation_rules", &body.value, body.value.check()).await?;
    Ok(Json(body.value))
}

#[utoipa::path(get, path = "/settings/approval-limits", tag = "service rules", responses((status = 200, body = ApprovalLimits)))]
pub async fn get_approval(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ApprovalLimits>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(read(&state, "approval_limits").await?))
}

#[utoipa::path(put, path = "/settings/approval-limits", tag = "service rules", request_body = ApprovalLimits,
    responses((status = 200, body = ApprovalLimits), (status = 403), (status = 422)))]
pub async fn set_approval(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<ApprovalLimits>,
) -> ApiResult<Json<ApprovalLimits>> {
    let mut check = body.value.check();
    if let Some(u) = body.value.fallback_user_id
        && state.store.user(u).await?.is_none_or(|u| !u.active || u.role == domain::Role::Agent)
    {
        let mut errors = check.err().unwrap_or_default();
        errors.push(DomainError::new("fallback_user_id", "must be an active manager or admin"));
        check = Err(errors);
    }
    write(&state, &caller, "approval_limits", &body.value, check).await?;
    Ok(Json(body.value))
}

#[utoipa::path(get, path = "/settings/surge-rules", tag = "service rules", responses((status = 200, body = SurgeRules)))]
pub async fn get_surge(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<SurgeRules>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(read(&state, "surge_rules").await?))
}

#[utoipa::path(put, path = "/settings/surge-rules", tag = "service rules", request_body = SurgeRules,
    responses((status = 200, body = SurgeRules), (status = 403), (status = 422)))]
pub async fn set_surge(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<SurgeRules>,
) -> ApiResult<Json<SurgeRules>> {
    let check = body.value.check().map_err(|e| vec![e]);
    write(&state, &caller, "surge_rules", &body.value, check).await?;
    Ok(Json(body.value))
}
