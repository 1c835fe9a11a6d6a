//! `/sla/policies`: ordered SLA policies (conditions → targets, counted in
//! a calendar's business hours or around the clock); `GET
//! /tickets/{id}/sla` is a ticket's targets as they stand. Managers and
//! admins change policies; a change re-checks every unsolved ticket.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::policy::Action;
use domain::sla::{SlaConditions, SlaPolicy, SlaTarget, TicketSla, check_policy};
use domain::{CalendarId, DomainError, SlaPolicyId, Status};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_policies, create_policy))
        .routes(routes!(get_policy, replace_policy, delete_policy))
        .routes(routes!(ticket_sla))
        .routes(routes!(ticket_priority))
}

fn default_pause() -> Vec<Status> {
    vec![Status::Pending, Status::OnHold]
}

fn default_warn() -> i64 {
    75
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    pub name: String,
    /// Lower first; the first policy whose conditions hold applies.
    #[serde(default)]
    pub position: i64,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub conditions: SlaConditions,
    /// e.g. `[{"kind": "first_reply", "minutes": 60, "business_hours": true}]`.
    pub targets: Vec<SlaTarget>,
    /// The business hours; none: around the clock.
    pub calendar_id: Option<i64>,
    /// Statuses that stop the clocks (default pending and on hold).
    #[serde(default = "default_pause")]
    pub pause_on: Vec<Status>,
    /// A warning at this share of a target (default 75).
    #[serde(default = "default_warn")]
    pub warn_percent: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PolicyList {
    pub policies: Vec<SlaPolicy>,
}

pub(crate) async fn checked(
    state: &AppState,
    id: SlaPolicyId,
    input: &PolicyInput,
    created_at: i64,
) -> ApiResult<SlaPolicy> {
    let mut conditions = input.conditions.clone();
    let p = SlaPolicy {
        id,
        name: input.name.trim().to_string(),
        position: input.position,
        active: input.active,
        conditions: {
            conditions.tags = domain::ticket::parse_tags(&conditions.tags).unwrap_or(conditions.tags.clone());
            conditions
        },
        targets: input.targets.clone(),
        calendar_id: input.calendar_id.map(CalendarId),
        pause_on: input.pause_on.clone(),
        warn_percent: input.warn_percent,
        created_at,
        updated_at: state.now(),
    };
    let mut errors = check_policy(&p).err().unwrap_or_default();
    if let Some(c) = p.calendar_id
        && state.store.calendar(c).await?.is_none()
    {
        errors.push(DomainError::new("calendar_id", format!("calendar {c} does not exist")));
    }
    if errors.is_empty() { Ok(p) } else { Err(ApiError::Invalid(errors)) }
}

#[utoipa::path(get, path = "/sla/policies", tag = "service rules", responses((status = 200, body = PolicyList)))]
pub async fn list_policies(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<PolicyList>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(PolicyList { policies: state.store.sla_policies().await? }))
}

#[utoipa::path(post, path = "/sla/policies", tag = "service rules", request_body = PolicyInput,
    responses((status = 201, body = SlaPolicy), (status = 403), (status = 422)))]
pub async fn create_policy(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<PolicyInput>,
) -> ApiResult<(StatusCode, Json<SlaPolicy>)> {
    caller.require(&state, Action::ManageServiceRules).await?;
    let p = checked(&state, SlaPolicyId(0), &body.value, state.now()).await?;
    let id = state.store.create_sla_policy(p).await?;
    state.store.enqueue_job(jobs::sla::reapply(state.now())).await?;
    state
        .audit(
            &caller.label(),
            "sla_policy.create",
            &format!("sla_policy:{id}"),
            true,
            serde_json::to_value(&body.value).unwrap_or_default(),
        )
        .await;
    let made = state.store.sla_policies().await?.into_iter().find(|p| p.id == id).ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(made)))
}

async fn find(state: &AppState, id: i64) -> ApiResult<SlaPolicy> {
    state.store.sla_policies().await?.into_iter().find(|p| p.id.0 == id).ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/sla/policies/{id}", tag = "service rules", params(("id" = i64, Path)), responses((status = 200, body = SlaPolicy), (status = 404)))]
pub async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<SlaPolicy>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(find(&state, id).await?))
}

/// Replaces a policy; every unsolved ticket's SLA is checked again.
#[utoipa::path(put, path = "/sla/policies/{id}", tag = "service rules", params(("id" = i64, Path)), request_body = PolicyInput,
    responses((status = 200, body = SlaPolicy), (status = 404), (status = 422)))]
pub async fn replace_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<PolicyInput>,
) -> ApiResult<Json<SlaPolicy>> {
    caller.require(&state, Action::ManageServiceRules).await?;
    let current = find(&state, id).await?;
    let p = checked(&state, current.id, &body.value, current.created_at).await?;
    state.store.update_sla_policy(&p).await?;
    state.store.enqueue_job(jobs::sla::reapply(state.now())).await?;
    state
        .audit(
            &caller.label(),
            "sla_policy.update",
            &format!("sla_policy:{id}"),
            true,
            serde_json::to_value(&body.value).unwrap_or_default(),
        )
        .await;
    Ok(Json(p))
}

#[utoipa::path(delete, path = "/sla/policies/{id}", tag = "service rules", params(("id" = i64, Path)), responses((status = 204), (status = 404)))]
pub async fn delete_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(&state, Action::ManageServiceRules).await?;
    if !state.store.delete_sla_policy(SlaPolicyId(id)).await? {
        return Err(ApiError::NotFound);
    }
    state.store.enqueue_job(jobs::sla::reapply(state.now())).await?;
    state.audit(&caller.label(), "sla_policy.delete", &format!("sla_policy:{id}"), true, serde_json::Value::Null).await;
    Ok(StatusCode::NO_CONTENT)
}

/// A ticket's SLA now: the policy that applies, each target with its
/// status (`running`, `paused`, `met`, `breached`, `waiting`) and due
/// time. Evaluated at the moment of asking; `state` is `null` when no
/// policy applies.
#[utoipa::path(get, path = "/tickets/{id}/sla", tag = "service rules", params(("id" = i64, Path)), responses((status = 200, body = TicketSla), (status = 404)))]
pub async fn ticket_sla(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<TicketSla>> {
    let t = super::tickets::load(&state, &caller, id, Action::ViewTicket).await?;
    if !caller.principal.is_staff() {
        return Err(ApiError::Forbidden);
    }
    let (sla, _) = jobs::sla::current(state.store.as_ref(), t.id, state.now()).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(sla))
}

/// Why the ticket has its priority: urgency, impact, score and reasons as
/// the priority matrix assessed them when it arrived (404 when it did not).
#[utoipa::path(get, path = "/tickets/{id}/priority", tag = "service rules", params(("id" = i64, Path)),
    responses((status = 200, body = domain::rules::PriorityOutcome), (status = 404)))]
pub async fn ticket_priority(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<domain::rules::PriorityOutcome>> {
    let t = super::tickets::load(&state, &caller, id, Action::ViewTicket).await?;
    if !caller.principal.is_staff() {
        return Err(ApiError::Forbidden);
    }
    Ok(Json(state.store.ticket_priority(t.id).await?.ok_or(ApiError::NotFound)?))
}
