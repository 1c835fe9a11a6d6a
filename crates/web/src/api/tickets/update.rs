use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::lifecycle::{self, TicketPatch};
use domain::policy::Action;
use domain::{CustomerId, OrganizationId, Priority, Status, TeamId, TicketId, TicketType, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{StoreError, TicketWrite};

use super::create::{check_assignment, check_problem};
use super::messages::stale;
use super::{TicketView, fields, load, respond, view};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller, IfMatch};

/// Fields to change; send only those that change. `null` clears an
/// optional field.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTicket {
    pub subject: Option<String>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    #[serde(rename = "type")]
    pub ticket_type: Option<TicketType>,
    pub requester_id: Option<i64>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<i64>)]
    pub organization_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<Option<i64>>,
    /// Replaces all tags.
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub add_tags: Vec<String>,
    #[serde(default)]
    pub remove_tags: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom_fields: BTreeMap<String, Value>,
    /// Links this incident to a problem ticket (`null` unlinks).
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<i64>)]
    pub problem_id: Option<Option<i64>>,
}

/// Changes fields. Send `If-Match` with the ETag you read: if the ticket
/// changed since, the answer is 412 with its current state and nothing is
/// written. Every change is recorded as an event with before and after.
#[utoipa::path(patch, path = "/tickets/{id}", tag = "tickets", request_body = UpdateTicket,
    params(("id" = i64, Path, description = "Ticket number"), ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses((status = 200, body = TicketView), (status = 404), (status = 412), (status = 422)))]
pub async fn update_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    if_match: IfMatch,
    body: ApiJson<UpdateTicket>,
) -> ApiResult<Response> {
    let patch = checked_patch(&state, &caller, &body.value).await?;
    write_patch(&state, &caller, id, if_match, &patch).await
}

/// The patch an update asks for, every reference checked (422 naming each
/// field that is wrong).
pub(crate) async fn checked_patch(state: &AppState, caller: &Caller, input: &UpdateTicket) -> ApiResult<TicketPatch> {
    let mut errors = Vec::new();
    let subject = match &input.subject {
        Some(s) => domain::ticket::parse_subject(s).map_err(|e| errors.push(e)).ok(),
        None => None,
    };
    let defs = state.fields().await?;
    let custom = fields::resolve(&defs, &input.custom_fields).map_err(|e| errors.extend(e)).unwrap_or_default();
    check_assignment(state, input.assignee_id.flatten(), input.team_id.flatten(), &mut errors).await?;
    if let Some(Some(p)) = input.problem_id {
        check_problem(state, caller, p, &mut errors).await?;
    }
    if let Some(r) = input.requester_id
        && state.store.customer(CustomerId(r)).await?.is_none()
    {
        errors.push(domain::DomainError::new("requester_id", format!("customer {r} does not exist")));
    }
    if let Some(Some(o)) = input.organization_id
        && state.store.organization(OrganizationId(o)).await?.is_none()
    {
        errors.push(domain::DomainError::new("organization_id", format!("organization {o} does not exist")));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let patch = TicketPatch {
        subject,
        status: input.status,
        priority: input.priority,
        ticket_type: input.ticket_type,
        requester_id: input.requester_id.map(CustomerId),
        organization_id: input.organization_id.map(|o| o.map(OrganizationId)),
        assignee_id: input.assignee_id.map(|a| a.map(UserId)),
        team_id: input.team_id.map(|t| t.map(TeamId)),
        tags: input.tags.clone(),
        add_tags: input.add_tags.clone(),
        remove_tags: input.remove_tags.clone(),
        custom_fields: custom,
        problem_id: input.problem_id.map(|p| p.map(TicketId)),
    };
    Ok(patch)
}

/// Writes a checked patch (fields, a macro's changes), retrying a lost race
/// when the caller sent no `If-Match`; 412 with the ticket now otherwise.
pub(crate) async fn write_patch(
    state: &AppState,
    caller: &Caller,
    id: i64,
    if_match: IfMatch,
    patch: &TicketPatch,
) -> ApiResult<Response> {
    for attempt in 0..3 {
        let current = load(state, caller, id, Action::UpdateTicket).await?;
        if let Some(v) = if_match.0
            && v != current.version
        {
            return Err(stale(state, caller, current).await?);
        }
        let (next, events) = lifecycle::apply_patch(&current, patch, caller.actor(), state.now())?;
        if events.is_empty() {
            return Ok(respond(StatusCode::OK, view(state, caller, current).await?));
        }
        // The ticket may move out of the caller's sight (e.g. to another
        // team); that is allowed, it is their change.
        match state
            .store
            .write_ticket(TicketWrite { ticket: next, expected_version: current.version, events, messages: vec![] })
            .await
        {
            Ok(()) => {
                let ticket = state.store.ticket(current.id).await?.ok_or(ApiError::NotFound)?;
                return Ok(respond(StatusCode::OK, view(state, caller, ticket).await?));
            }
            Err(StoreError::VersionConflict) if if_match.0.is_none() && attempt < 2 => continue,
            Err(StoreError::VersionConflict) => {
                let fresh = load(state, caller, id, Action::ViewTicket).await?;
                return Err(stale(state, caller, fresh).await?);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict { code: "conflict", message: "the ticket kept changing; try again".into() })
}
