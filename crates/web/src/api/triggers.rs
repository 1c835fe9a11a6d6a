//! `/triggers` and `/automations`: ordered rules of conditions and actions.
//! Triggers run when a person creates or changes a ticket; automations on a
//! schedule, on time conditions (`hours_since_status` …). Managers and
//! admins change them; every agent may read them.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::policy::Action;
use domain::rules::{Condition, RuleAction, RuleKind, RunOn, ServiceRule, check_rule};
use domain::{FieldId, ServiceRuleId};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_triggers, create_trigger))
        .routes(routes!(get_trigger, replace_trigger, delete_trigger))
        .routes(routes!(list_automations, create_automation))
        .routes(routes!(get_automation, replace_automation, delete_automation))
}

fn yes() -> bool {
    true
}

fn both() -> RunOn {
    RunOn::Both
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub name: String,
    /// Lower runs first.
    #[serde(default)]
    pub position: i64,
    #[serde(default = "yes")]
    pub active: bool,
    /// Triggers: `create`, `update` or `both` (default).
    #[serde(default = "both")]
    pub run_on: RunOn,
    /// e.g. `[{"field": "message", "op": "contains", "value": ["refund"]}]`.
    #[serde(default)]
    pub all: Vec<Condition>,
    #[serde(default)]
    pub any: Vec<Condition>,
    /// e.g. `[{"action": "add_tags", "value": ["refund"]}, {"action": "set_team", "value": 2}]`.
    pub actions: Vec<RuleAction>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleList {
    pub rules: Vec<ServiceRule>,
}

/// The custom field keys rules may name.
pub(crate) async fn field_keys(state: &AppState) -> ApiResult<HashMap<String, FieldId>> {
    Ok(state.store.fields().await?.into_iter().map(|f| (f.key, f.id)).collect())
}

/// A rule from input, checked: conditions, actions, and that the teams and
/// users it names exist.
pub(crate) async fn checked(
    state: &AppState,
    kind: RuleKind,
    id: ServiceRuleId,
    input: &RuleInput,
    created_at: i64,
) -> ApiResult<ServiceRule> {
    let r = ServiceRule {
        id,
        kind,
        name: input.name.trim().to_string(),
        position: input.position,
        active: input.active,
        run_on: input.run_on,
        all: input.all.clone(),
        any: input.any.clone(),
        actions: input.actions.clone(),
        created_at,
        updated_at: state.now(),
    };
    let mut errors = check_rule(&r, &field_keys(state).await?).err().unwrap_or_default();
    for (i, a) in r.actions.iter().enumerate() {
        use domain::rules::RuleActionKind::{Assign, SetTeam};
        match (a.action, a.value.as_i64()) {
            (SetTeam, Some(t)) if state.store.team(domain::TeamId(t)).await?.is_none() => {
                errors.push(domain::DomainError::new(format!("actions[{i}]"), format!("team {t} does not exist")));
            }
            (Assign, Some(u)) if state.store.user(domain::UserId(u)).await?.is_none_or(|u| !u.active) => {
                errors.push(domain::DomainError::new(format!("actions[{i}]"), format!("no active user {u}")));
            }
            _ => {}
        }
    }
    if errors.is_empty() { Ok(r) } else { Err(ApiError::Invalid(errors)) }
}

async fn list(state: &AppState, caller: &Caller, kind: RuleKind) -> ApiResult<Json<RuleList>> {
    caller.require(state, Action::UseWorkspace).await?;
    Ok(Json(RuleList { rules: state.store.service_rules(kind).await? }))
}

pub(crate) async fn create(
    state: &AppState,
    caller: &Caller,
    kind: RuleKind,
    input: &RuleInput,
) -> ApiResult<ServiceRule> {
    caller.require(state, Action::ManageServiceRules).await?;
    if state.store.service_rules(kind).await?.len() >= domain::rules::trigger::RULES_MAX {
        return Err(ApiError::invalid("name", format!("at most {} {kind}s", domain::rules::trigger::RULES_MAX)));
    }
    let r = checked(state, kind, ServiceRuleId(0), input, state.now()).await?;
    let id = state.store.create_service_rule(r).await?;
    state
        .audit(
            &caller.label(),
            &format!("{kind}.create"),
            &format!("{kind}:{id}"),
            true,
            serde_json::to_value(input).unwrap_or_default(),
        )
        .await;
    state.store.service_rule(id).await?.ok_or(ApiError::NotFound)
}

async fn find(state: &AppState, kind: RuleKind, id: i64) -> ApiResult<ServiceRule> {
    state.store.service_rule(ServiceRuleId(id)).await?.filter(|r| r.kind == kind).ok_or(ApiError::NotFound)
}

pub(crate) async fn replace(
    state: &AppState,
    caller: &Caller,
    kind: RuleKind,
    id: i64,
    input: &RuleInput,
) -> ApiResult<ServiceRule> {
    caller.require(state, Action::ManageServiceRules).await?;
    let current = find(state, kind, id).await?;
    let r = checked(state, kind, current.id, input, current.created_at).await?;
    state.store.update_service_rule(&r).await?;
    state
        .audit(
            &caller.label(),
            &format!("{kind}.update"),
            &format!("{kind}:{id}"),
            true,
            serde_json::to_value(input).unwrap_or_default(),
        )
        .await;
    Ok(r)
}

pub(crate) async fn delete(state: &AppState, caller: &Caller, kind: RuleKind, id: i64) -> ApiResult<StatusCode> {
    caller.require(state, Action::ManageServiceRules).await?;
    find(state, kind, id).await?;
    state.store.delete_service_rule(ServiceRuleId(id)).await?;
    state
        .audit(&caller.label(), &format!("{kind}.delete"), &format!("{kind}:{id}"), true, serde_json::Value::Null)
        .await;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/triggers", tag = "service rules", responses((status = 200, body = RuleList)))]
pub async fn list_triggers(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<RuleList>> {
    list(&state, &caller, RuleKind::Trigger).await
}

#[utoipa::path(post, path = "/triggers", tag = "service rules", request_body = RuleInput,
    responses((status = 201, body = ServiceRule), (status = 403), (status = 422)))]
pub async fn create_trigger(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<RuleInput>,
) -> ApiResult<(StatusCode, Json<ServiceRule>)> {
    Ok((StatusCode::CREATED, Json(create(&state, &caller, RuleKind::Trigger, &body.value).await?)))
}

#[utoipa::path(get, path = "/triggers/{id}", tag = "service rules", params(("id" = i64, Path)), responses((status = 200, body = ServiceRule), (status = 404)))]
pub async fn get_trigger(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ServiceRule>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(find(&state, RuleKind::Trigger, id).await?))
}

#[utoipa::path(put, path = "/triggers/{id}", tag = "service rules", params(("id" = i64, Path)), request_body = RuleInput,
    responses((status = 200, body = ServiceRule), (status = 404), (status = 422)))]
pub async fn replace_trigger(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<RuleInput>,
) -> ApiResult<Json<ServiceRule>> {
    Ok(Json(replace(&state, &caller, RuleKind::Trigger, id, &body.value).await?))
}

#[utoipa::path(delete, path = "/triggers/{id}", tag = "service rules", params(("id" = i64, Path)), responses((status = 204), (status = 404)))]
pub async fn delete_trigger(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    delete(&state, &caller, RuleKind::Trigger, id).await
}

#[utoipa::path(get, path = "/automations", tag = "service rules", responses((status = 200, body = RuleList)))]
pub async fn list_automations(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<RuleList>> {
    list(&state, &caller, RuleKind::Automation).await
}

#[utoipa::path(post, path = "/automations", tag = "service rules", request_body = RuleInput,
    responses((status = 201, body = ServiceRule), (status = 403), (status = 422)))]
pub async fn create_automation(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<RuleInput>,
) -> ApiResult<(StatusCode, Json<ServiceRule>)> {
    Ok((StatusCode::CREATED, Json(create(&state, &caller, RuleKind::Automation, &body.value).await?)))
}

#[utoipa::path(get, path = "/automations/{id}", tag = "service rules", params(("id" = i64, Path)), responses((status = 200, body = ServiceRule), (status = 404)))]
pub async fn get_automation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ServiceRule>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(find(&state, RuleKind::Automation, id).await?))
}

#[utoipa::path(put, path = "/automations/{id}", tag = "service rules", params(("id" = i64, Path)), request_body = RuleInput,
    responses((status = 200, body = ServiceRule), (status = 404), (status = 422)))]
pub async fn replace_automation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<RuleInput>,
) -> ApiResult<Json<ServiceRule>> {
    Ok(Json(replace(&state, &caller, RuleKind::Automation, id, &body.value).await?))
}

#[utoipa::path(delete, path = "/automations/{id}", tag = "service rules", params(("id" = i64, Path)), responses((status = 204), (status = 404)))]
pub async fn delete_automation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    delete(&state, &caller, RuleKind::Automation, id).await
}
