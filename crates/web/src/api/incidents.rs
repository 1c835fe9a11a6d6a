//! Major incidents. `PUT /tickets/{id}/major-incident` makes a ticket a
//! problem that gathers incidents (active: agents see a banner and new
//! tickets matching its words or tags are linked by themselves);
//! `POST /incidents/{id}/link` links tickets in bulk; `POST
//! /incidents/{id}/solve` gives every linked open incident the chosen reply
//! and solves it, with the problem, in one transaction.

use axum::Json;
use axum::extract::{Path, Query, State};
use domain::event::NewEvent;
use domain::lifecycle::{self, MessageOutcome, TicketPatch};
use domain::policy::Action;
use domain::rules::incident::{IncidentMatch, MajorIncident, Surge};
use domain::{Actor, EventKind, Status, Ticket, TicketType, Visibility};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::TicketWrite;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tickets::messages::{MessageInput, new_message};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

/// Most tickets one link or solve request touches.
pub const BULK_MAX: usize = 5000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_incidents))
        .routes(routes!(set_major_incident))
        .routes(routes!(link_incidents))
        .routes(routes!(solve_incident))
        .routes(routes!(list_surges))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MajorIncidentInput {
    pub active: bool,
    #[serde(default)]
    pub matching: IncidentMatch,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    pub ticket_ids: Vec<i64>,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SolveInput {
    /// The public reply every linked incident gets.
    pub reply: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentList {
    pub incidents: Vec<MajorIncident>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkOutcome {
    /// Tickets changed.
    pub changed: usize,
    /// Tickets left as they were (already linked, solved, or closed).
    pub skipped: usize,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ActiveFilter {
    /// Only active ones (default true).
    pub active: Option<bool>,
}

#[utoipa::path(get, path = "/incidents", tag = "service rules", params(ActiveFilter), responses((status = 200, body = IncidentList)))]
pub async fn list_incidents(
    State(state): State<AppState>,
    caller: Caller,
    Query(f): Query<ActiveFilter>,
) -> ApiResult<Json<IncidentList>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(IncidentList { incidents: state.store.major_incidents(f.active.unwrap_or(true)).await? }))
}

pub(crate) async fn set(
    state: &AppState,
    caller: &Caller,
    id: i64,
    input: &MajorIncidentInput,
) -> ApiResult<MajorIncident> {
    caller.require(state, Action::ManageServiceRules).await?;
    let t = super::tickets::load(state, caller, id, Action::UpdateTicket).await?;
    input.matching.check().map_err(|e| ApiError::Invalid(vec![e]))?;
    if t.problem_id.is_some() {
        return Err(ApiError::invalid("id", "an incident linked to a problem cannot be a problem itself"));
    }
    let now = state.now();
    let existing = state.store.major_incident(t.id).await?;
    let m = MajorIncident {
        problem_id: t.id,
        title: t.subject.clone(),
        active: input.active,
        matching: input.matching.clone(),
        linked: 0,
        created_at: existing.as_ref().map_or(now, |e| e.created_at),
    };
    let becomes = existing.as_ref().is_none_or(|e| e.active != input.active);
    // The ticket becomes a problem and records the change in one write,
    // read again if a rules job or an agent wrote it meanwhile.
    for attempt in 0..5 {
        let current = state.store.ticket(t.id).await?.ok_or(ApiError::NotFound)?;
        let patch = TicketPatch {
            ticket_type: (current.ticket_type != TicketType::Problem).then_some(TicketType::Problem),
            ..Default::default()
        };
        let (mut next, mut events) = lifecycle::apply_patch(&current, &patch, caller.actor(), now)?;
        if becomes {
            events.push(NewEvent::change(
                now,
                caller.actor(),
                EventKind::MajorIncidentChanged,
                "major_incident",
                json!({ "active": existing.as_ref().map(|e| e.active) }),
                json!({ "active": input.active }),
            ));
        }
        if events.is_empty() {
            break;
        }
        next.version = current.version + 1;
        next.updated_at = now;
        let write = TicketWrite { ticket: next, expected_version: current.version, events, messages: vec![] };
        match state.store.write_ticket(write).await {
            Ok(()) => break,
            Err(store::StoreError::VersionConflict) if attempt < 4 => continue,
            Err(e) => return Err(e.into()),
        }
    }
    state.store.save_major_incident(&m).await?;
    state
        .audit(
            &caller.label(),
            "major_incident.set",
            &format!("ticket:{id}"),
            true,
            serde_json::to_value(input).unwrap_or_default(),
        )
        .await;
    state.store.major_incident(t.id).await?.ok_or(ApiError::NotFound)
}

#[utoipa::path(put, path = "/tickets/{id}/major-incident", tag = "service rules", params(("id" = i64, Path)), request_body = MajorIncidentInput,
    responses((status = 200, body = MajorIncident), (status = 403), (status = 404), (status = 422)))]
pub async fn set_major_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<MajorIncidentInput>,
) -> ApiResult<Json<MajorIncident>> {
    Ok(Json(set(&state, &caller, id, &body.value).await?))
}

async fn problem(state: &AppState, caller: &Caller, id: i64) -> ApiResult<(Ticket, MajorIncident)> {
    let t = super::tickets::load(state, caller, id, Action::UpdateTicket).await?;
    let m = state.store.major_incident(t.id).await?.ok_or(ApiError::NotFound)?;
    Ok((t, m))
}

pub(crate) async fn link(state: &AppState, caller: &Caller, id: i64, ids: &[i64]) -> ApiResult<BulkOutcome> {
    caller.require(state, Action::UseWorkspace).await?;
    let (p, _) = problem(state, caller, id).await?;
    if ids.is_empty() || ids.len() > BULK_MAX {
        return Err(ApiError::invalid("ticket_ids", format!("1 to {BULK_MAX} tickets")));
    }
    let now = state.now();
    for _ in 0..5 {
        let mut writes = Vec::new();
        let mut skipped = 0;
        for tid in ids {
            let t = super::tickets::load(state, caller, *tid, Action::UpdateTicket).await?;
            if t.id == p.id
                || t.problem_id == Some(p.id)
                || t.status == Status::Closed
                || t.ticket_type == TicketType::Problem
            {
                skipped += 1;
                continue;
            }
            let patch = TicketPatch {
                problem_id: Some(Some(p.id)),
                ticket_type: Some(TicketType::Incident),
                ..Default::default()
            };
            let (next, events) = lifecycle::apply_patch(&t, &patch, caller.actor(), now)?;
            writes.push(TicketWrite { ticket: next, expected_version: t.version, events, messages: vec![] });
        }
        let changed = writes.len();
        if changed == 0 {
            return Ok(BulkOutcome { changed, skipped });
        }
        // All or none; a ticket changed meanwhile: read them again.
        match state.store.write_tickets(writes).await {
            Ok(()) => return Ok(BulkOutcome { changed, skipped }),
            Err(store::StoreError::VersionConflict) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict {
        code: "conflict",
        message: "the tickets kept changing; nothing was linked, try again".into(),
    })
}

#[utoipa::path(post, path = "/incidents/{id}/link", tag = "service rules", params(("id" = i64, Path)), request_body = LinkInput,
    responses((status = 200, body = BulkOutcome), (status = 404), (status = 409), (status = 422)))]
pub async fn link_incidents(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<LinkInput>,
) -> ApiResult<Json<BulkOutcome>> {
    Ok(Json(link(&state, &caller, id, &body.value.ticket_ids).await?))
}

/// A public reply and `solved` for one ticket, as one write.
async fn reply_and_solve(
    state: &AppState,
    caller: &Caller,
    t: &Ticket,
    message: &store::NewMessage,
    now: i64,
) -> ApiResult<TicketWrite> {
    let actor: Actor = caller.actor();
    let MessageOutcome::Added { ticket, mut events } = lifecycle::add_message(t, Visibility::Public, actor, now)?
    else {
        return Err(ApiError::invalid("id", "closed"));
    };
    let (mut next, more) = lifecycle::apply_patch(
        &ticket,
        &TicketPatch { status: Some(Status::Solved), ..Default::default() },
        actor,
        now,
    )?;
    events.extend(more);
    next.version = t.version + 1;
    let mut m = message.clone();
    if t.channel != domain::Channel::Chat {
        m.email = mail::outbound::reply_identity(state.store.as_ref(), t).await?;
    }
    Ok(TicketWrite { ticket: next, expected_version: t.version, events, messages: vec![m] })
}

pub(crate) async fn solve(state: &AppState, caller: &Caller, id: i64, reply: &str) -> ApiResult<BulkOutcome> {
    caller.require(state, Action::UseWorkspace).await?;
    let (p, m) = problem(state, caller, id).await?;
    let now = state.now();
    let mut errors = Vec::new();
    let message = new_message(
        state,
        caller,
        MessageInput { body: Some(reply), body_html: None, attachment_ids: &[] },
        Visibility::Public,
        domain::Channel::Api,
        now,
        &mut errors,
    )
    .await?;
    let (Some(message), true) = (message, errors.is_empty()) else { return Err(ApiError::Invalid(errors)) };
    // One transaction: every incident and the problem, or none of them. A
    // ticket changed meanwhile (a rules job, an agent) fails it; it is
    // rebuilt from the fresh tickets and tried again.
    let mut outcome = None;
    for _ in 0..5 {
        let mut writes = Vec::new();
        let mut skipped = 0;
        for tid in state.store.linked_incidents(p.id).await? {
            let Some(t) = state.store.ticket(tid).await? else { continue };
            if !t.status.is_unsolved() {
                skipped += 1;
                continue;
            }
            writes.push(reply_and_solve(state, caller, &t, &message, now).await?);
        }
        let changed = writes.len();
        let problem = state.store.ticket(p.id).await?.ok_or(ApiError::NotFound)?;
        if problem.status.is_unsolved() {
            writes.push(reply_and_solve(state, caller, &problem, &message, now).await?);
        }
        match state.store.write_tickets(writes).await {
            Ok(()) => {
                outcome = Some((changed, skipped));
                break;
            }
            Err(store::StoreError::VersionConflict) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            Err(e) => return Err(e.into()),
        }
    }
    let Some((changed, skipped)) = outcome else {
        return Err(ApiError::Conflict {
            code: "conflict",
            message: "linked tickets kept changing; nothing was solved, try again".into(),
        });
    };
    state.store.save_major_incident(&MajorIncident { active: false, ..m }).await?;
    state
        .audit(
            &caller.label(),
            "major_incident.solve",
            &format!("ticket:{}", p.id),
            true,
            json!({ "incidents": changed }),
        )
        .await;
    Ok(BulkOutcome { changed, skipped })
}

#[utoipa::path(post, path = "/incidents/{id}/solve", tag = "service rules", params(("id" = i64, Path)), request_body = SolveInput,
    responses((status = 200, body = BulkOutcome), (status = 404), (status = 409), (status = 422)))]
pub async fn solve_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<SolveInput>,
) -> ApiResult<Json<BulkOutcome>> {
    Ok(Json(solve(&state, &caller, id, &body.value.reply).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SurgeList {
    pub surges: Vec<Surge>,
}

/// Tags arriving far above their usual rate now (see `/settings/surge-rules`).
#[utoipa::path(get, path = "/incidents/surges", tag = "service rules", responses((status = 200, body = SurgeList)))]
pub async fn list_surges(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<SurgeList>> {
    caller.require(&state, Action::ManageServiceRules).await?;
    let rules = jobs::surge::surge_rules(state.store.as_ref()).await?;
    Ok(Json(SurgeList { surges: jobs::surge::surges(state.store.as_ref(), &rules, state.now()).await? }))
}
