//! Escalations: `POST /tickets/{id}/escalations` raises a ticket to the
//! manager (agents) or the head of support (managers), with a required
//! reason; `GET /escalations` is the escalation queue of the tickets the
//! caller may see; `POST /escalations/{id}/resolve` records the outcome.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::event::NewEvent;
use domain::policy::Action;
use domain::rules::escalation::parse_reason;
use domain::rules::{Escalation, EscalationSource, EscalationState, EscalationTier};
use domain::{EscalationId, EventKind, Role, TicketId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(escalate_ticket))
        .routes(routes!(list_escalations))
        .routes(routes!(resolve_escalation))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateInput {
    pub reason: String,
    /// Default: `manager` from an agent, `head` from a manager.
    pub tier: Option<EscalationTier>,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    /// What was done (required).
    pub outcome: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EscalationFilter {
    /// `open` (default) or `resolved`.
    pub state: Option<String>,
    pub ticket_id: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EscalationList {
    pub escalations: Vec<Escalation>,
}

/// Raises the ticket; 409 when an escalation to that tier is already open.
pub(crate) async fn raise(state: &AppState, caller: &Caller, id: i64, input: &EscalateInput) -> ApiResult<Escalation> {
    let t = super::tickets::load(state, caller, id, Action::UpdateTicket).await?;
    let reason = parse_reason(&input.reason).map_err(|e| ApiError::Invalid(vec![e]))?;
    let role = match &caller.principal {
        domain::Principal::Staff(s) => s.role,
        domain::Principal::Customer(_) => return Err(ApiError::Forbidden),
    };
    let tier = input.tier.unwrap_or(if role == Role::Agent { EscalationTier::Manager } else { EscalationTier::Head });
    let open = state.store.escalations(Some(EscalationState::Open), Some(t.id), 100).await?;
    if open.iter().any(|e| e.tier == tier) {
        return Err(ApiError::Conflict {
            code: "already_escalated",
            message: format!("an escalation to the {tier} is already open on this ticket"),
        });
    }
    let made = jobs::notices::escalate(
        state.store.as_ref(),
        &t,
        tier,
        EscalationSource::Manual,
        &reason,
        caller.staff_id(),
        state.now(),
    )
    .await?
    .ok_or(ApiError::Conflict { code: "already_escalated", message: "already escalated".into() })?;
    state.store.escalation(made).await?.ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/tickets/{id}/escalations", tag = "service rules", params(("id" = i64, Path)), request_body = EscalateInput,
    responses((status = 201, body = Escalation), (status = 404), (status = 409), (status = 422)))]
pub async fn escalate_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<EscalateInput>,
) -> ApiResult<(StatusCode, Json<Escalation>)> {
    Ok((StatusCode::CREATED, Json(raise(&state, &caller, id, &body.value).await?)))
}

/// Escalations of tickets the caller may see, newest first (at most 500).
pub(crate) async fn visible(
    state: &AppState,
    caller: &Caller,
    st: Option<EscalationState>,
    ticket: Option<TicketId>,
) -> ApiResult<Vec<Escalation>> {
    caller.require(state, Action::UseWorkspace).await?;
    let mut out = Vec::new();
    for e in state.store.escalations(st, ticket, 500).await? {
        if let Some(t) = state.store.ticket(e.ticket_id).await?
            && caller.require_ticket(state, Action::ViewTicket, &t).await.is_ok()
        {
            out.push(e);
        }
    }
    Ok(out)
}

#[utoipa::path(get, path = "/escalations", tag = "service rules", params(EscalationFilter), responses((status = 200, body = EscalationList)))]
pub async fn list_escalations(
    State(state): State<AppState>,
    caller: Caller,
    Query(f): Query<EscalationFilter>,
) -> ApiResult<Json<EscalationList>> {
    let st = match f.state.as_deref() {
        None | Some("") => Some(EscalationState::Open),
        Some("all") => None,
        Some(s) => Some(EscalationState::parse("state", s).map_err(|e| ApiError::Invalid(vec![e]))?),
    };
    Ok(Json(EscalationList { escalations: visible(&state, &caller, st, f.ticket_id.map(TicketId)).await? }))
}

pub(crate) async fn resolve(state: &AppState, caller: &Caller, id: i64, outcome: &str) -> ApiResult<Escalation> {
    caller.require(state, Action::ManageServiceRules).await?;
    let e = state.store.escalation(EscalationId(id)).await?.ok_or(ApiError::NotFound)?;
    super::tickets::load(state, caller, e.ticket_id.0, Action::ViewTicket).await?;
    let outcome =
        parse_reason(outcome).map_err(|_| ApiError::invalid("outcome", "say what was done (at least 3 characters)"))?;
    if e.state != EscalationState::Open {
        return Err(ApiError::Conflict { code: "resolved", message: "this escalation is already resolved".into() });
    }
    let now = state.now();
    let done = Escalation {
        state: EscalationState::Resolved,
        outcome: Some(outcome.clone()),
        resolved_by: caller.staff_id(),
        resolved_at: Some(now),
        ..e
    };
    let event = NewEvent::change(
        now,
        caller.actor(),
        EventKind::EscalationResolved,
        "escalation",
        json!({ "tier": done.tier }),
        json!({ "escalation_id": done.id, "outcome": outcome }),
    );
    if !state.store.resolve_escalation(&done, event).await? {
        return Err(ApiError::Conflict { code: "resolved", message: "this escalation is already resolved".into() });
    }
    if let (Some(by), Some(t)) = (done.raised_by, state.store.ticket(done.ticket_id).await?) {
        let text = format!("#{} escalation resolved: {}", t.id, done.outcome.clone().unwrap_or_default());
        state.store.notify(vec![jobs::notices::notice(by, "escalation", text, &t, now)]).await?;
    }
    Ok(done)
}

#[utoipa::path(post, path = "/escalations/{id}/resolve", tag = "service rules", params(("id" = i64, Path)), request_body = ResolveInput,
    responses((status = 200, body = Escalation), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn resolve_escalation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<ResolveInput>,
) -> ApiResult<Json<Escalation>> {
    Ok(Json(resolve(&state, &caller, id, &body.value.outcome).await?))
}
