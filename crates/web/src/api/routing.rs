//! Routing: `/routing/rules` send a new ticket to a team; `/teams/{id}/routing`
//! is how the team gives tickets to agents (mode, capacity per channel,
//! reassignment when an agent goes offline); `/users/{id}/routing` is an
//! agent's skills, languages and out-of-office.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::policy::Action;
use domain::routing::{AgentProfile, RouteConditions, RoutingRule, TeamRouting, check_profile};
use domain::{DomainError, RoutingRuleId, TeamId, UserId};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(replace_rule, delete_rule))
        .routes(routes!(get_team_routing, set_team_routing))
        .routes(routes!(get_profile, set_profile))
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingRuleInput {
    pub name: String,
    #[serde(default)]
    pub position: i64,
    #[serde(default = "yes")]
    pub active: bool,
    /// e.g. `{"words": ["invoice", "refund"], "channels": ["email"]}`; empty matches every ticket.
    #[serde(default)]
    pub conditions: RouteConditions,
    pub team_id: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoutingRuleList {
    pub rules: Vec<RoutingRule>,
}

pub(crate) async fn checked(
    state: &AppState,
    id: RoutingRuleId,
    input: &RoutingRuleInput,
    created_at: i64,
) -> ApiResult<RoutingRule> {
    let mut errors = Vec::new();
    let name = domain::directory::parse_name("name", &input.name).map_err(|e| errors.push(e)).ok();
    if state.store.team(TeamId(input.team_id)).await?.is_none() {
        errors.push(DomainError::new("team_id", format!("team {} does not exist", input.team_id)));
    }
    for m in &input.conditions.mailbox_ids {
        if state.store.mailbox(*m).await?.is_none() {
            errors.push(DomainError::new("conditions.mailbox_ids", format!("mailbox {m} does not exist")));
        }
    }
    match name {
        Some(name) if errors.is_empty() => Ok(RoutingRule {
            id,
            name,
            position: input.position,
            active: input.active,
            conditions: input.conditions.clone(),
            team_id: TeamId(input.team_id),
            created_at,
            updated_at: state.now(),
        }),
        _ => Err(ApiError::Invalid(errors)),
    }
}

#[utoipa::path(get, path = "/routing/rules", tag = "service rules", responses((status = 200, body = RoutingRuleList)))]
pub async fn list_rules(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<RoutingRuleList>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(RoutingRuleList { rules: state.store.routing_rules().await? }))
}

#[utoipa::path(post, path = "/routing/rules", tag = "service rules", request_body = RoutingRuleInput,
    responses((status = 201, body = RoutingRule), (status = 403), (status = 422)))]
pub async fn create_rule(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<RoutingRuleInput>,
) -> ApiResult<(StatusCode, Json<RoutingRule>)> {
    caller.require(&state, Action::ManageServiceRules).await?;
    let r = checked(&state, RoutingRuleId(0), &body.value, state.now()).await?;
    let id = state.store.create_routing_rule(r.clone()).await?;
    state
        .audit(
            &caller.label(),
            "routing_rule.create",
            &format!("routing_rule:{id}"),
            true,
            serde_json::to_value(&body.value).unwrap_or_default(),
        )
        .await;
    Ok((StatusCode::CREATED, Json(RoutingRule { id, ..r })))
}

#[utoipa::path(put, path = "/routing/rules/{id}", tag = "service rules", params(("id" = i64, Path)), request_body = RoutingRuleInput,
    responses((status = 200, body = RoutingRule), (status = 404), (status = 422)))]
pub async fn replace_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<RoutingRuleInput>,
) -> ApiResult<Json<RoutingRule>> {
    caller.require(&state, Action::ManageServiceRules).await?;
    let current = state.store.routing_rules().await?.into_iter().find(|r| r.id.0 == id).ok_or(ApiError::NotFound)?;
    let r = checked(&state, current.id, &body.value, current.created_at).await?;
    state.store.update_routing_rule(&r).await?;
    state
        .audit(
            &caller.label(),
            "routing_rule.update",
            &format!("routing_rule:{id}"),
            true,
            serde_json::to_value(&body.value).unwrap_or_default(),
        )
        .await;
    Ok(Json(r))
}

#[utoipa::path(delete, path = "/routing/rules/{id}", tag = "service rules", params(("id" = i64, Path)), responses((status = 204), (status = 404)))]
pub async fn delete_rule(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    caller.require(&state, Action::ManageServiceRules).await?;
    if !state.store.delete_routing_rule(RoutingRuleId(id)).await? {
        return Err(ApiError::NotFound);
    }
    state
        .audit(&caller.label(), "routing_rule.delete", &format!("routing_rule:{id}"), true, serde_json::Value::Null)
        .await;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/teams/{id}/routing", tag = "service rules", params(("id" = i64, Path)), responses((status = 200, body = TeamRouting), (status = 404)))]
pub async fn get_team_routing(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<TeamRouting>> {
    caller.require(&state, Action::UseWorkspace).await?;
    state.store.team(TeamId(id)).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(state.store.team_routing(TeamId(id)).await?.0))
}

/// Sets how the team assigns: `{"mode": "round_robin", "capacity": {"chat": 3}, "reassign_when_offline": true}`.
#[utoipa::path(put, path = "/teams/{id}/routing", tag = "service rules", params(("id" = i64, Path)), request_body = TeamRouting,
    responses((status = 200, body = TeamRouting), (status = 403), (status = 404), (status = 422)))]
pub async fn set_team_routing(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<TeamRouting>,
) -> ApiResult<Json<TeamRouting>> {
    caller.require(&state, Action::ManageServiceRules).await?;
    let team = state.store.team(TeamId(id)).await?.ok_or(ApiError::NotFound)?;
    // A manager sets the routing of the teams they lead.
    if let domain::Principal::Staff(s) = &caller.principal
        && s.role == domain::Role::Manager
        && !s.led_team_ids.contains(&team.id)
    {
        return Err(ApiError::Forbidden);
    }
    if body.value.capacity.values().any(|c| *c < 0 || *c > 1000) {
        return Err(ApiError::invalid("capacity", "each channel's capacity is 0 to 1000"));
    }
    state.store.set_team_routing(team.id, &body.value).await?;
    state
        .audit(
            &caller.label(),
            "team.routing",
            &format!("team:{id}"),
            true,
            serde_json::to_value(&body.value).unwrap_or_default(),
        )
        .await;
    Ok(Json(body.value))
}

#[utoipa::path(get, path = "/users/{id}/routing", tag = "service rules", params(("id" = i64, Path)), responses((status = 200, body = AgentProfile), (status = 404)))]
pub async fn get_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<AgentProfile>> {
    caller.require(&state, Action::UseWorkspace).await?;
    state.store.user(UserId(id)).await?.ok_or(ApiError::NotFound)?;
    let p = state.store.agent_profiles(&[UserId(id)]).await?.into_iter().next().map(|(_, p)| p).unwrap_or_default();
    Ok(Json(p))
}

/// Sets an agent's skills, languages and out-of-office (managers, admins,
/// and agents for themselves).
#[utoipa::path(put, path = "/users/{id}/routing", tag = "service rules", params(("id" = i64, Path)), request_body = AgentProfile,
    responses((status = 200, body = AgentProfile), (status = 403), (status = 404), (status = 422)))]
pub async fn set_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<AgentProfile>,
) -> ApiResult<Json<AgentProfile>> {
    if caller.staff_id() != Some(UserId(id)) {
        caller.require(&state, Action::ManageServiceRules).await?;
    } else {
        caller.require(&state, Action::UseWorkspace).await?;
    }
    state.store.user(UserId(id)).await?.ok_or(ApiError::NotFound)?;
    let p = check_profile(&body.value).map_err(ApiError::Invalid)?;
    state.store.set_agent_profile(UserId(id), &p).await?;
    Ok(Json(p))
}
