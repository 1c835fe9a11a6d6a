//! `/tickets/{id}/time`: handle time on a ticket. Agents log their own
//! (a call's or chat's length, the minutes an email took); integrations
//! and leads log on an agent's behalf. Each entry is a `time_logged`
//! event; AHT and occupancy derive from them (docs/METRICS.md).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::{Action, TimeEntry, TimeSource, UserId};
use serde::{Deserialize, Serialize};

use super::load;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogTime {
    /// Seconds of work, at most 86,400; negative corrects an earlier entry
    /// (the agent's time on the ticket may not go below zero).
    pub seconds: i64,
    /// Whose work it was; default the caller. Someone else's needs a manager or admin.
    pub agent_id: Option<i64>,
    /// `agent` (default) or `integration` (telephony, chat: measured, not typed).
    pub source: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// One agent's time on the ticket.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentTime {
    pub agent_id: i64,
    pub ms: i64,
}

/// The ticket's logged time: every entry, and the sums.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TimeSheet {
    pub entries: Vec<TimeEntry>,
    pub by_agent: Vec<AgentTime>,
    pub total_ms: i64,
}

fn sheet(entries: Vec<TimeEntry>) -> TimeSheet {
    let mut by_agent: Vec<AgentTime> = Vec::new();
    for e in &entries {
        match by_agent.iter_mut().find(|a| a.agent_id == e.agent_id.0) {
            Some(a) => a.ms += e.ms,
            None => by_agent.push(AgentTime { agent_id: e.agent_id.0, ms: e.ms }),
        }
    }
    TimeSheet { total_ms: entries.iter().map(|e| e.ms).sum(), entries, by_agent }
}

/// The time logged on the ticket.
#[utoipa::path(get, path = "/tickets/{id}/time", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket number")),
    responses((status = 200, body = TimeSheet), (status = 404)))]
pub async fn time_sheet(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<TimeSheet>> {
    let ticket = load(&state, &caller, id, Action::ViewInternal).await?;
    Ok(Json(sheet(TimeEntry::of_events(&state.store.events(ticket.id).await?))))
}

/// Logs handle time on the ticket; answers with the ticket's time sheet.
/// The ticket's version does not change, so nobody's `If-Match` goes stale.
#[utoipa::path(post, path = "/tickets/{id}/time", tag = "tickets", request_body = LogTime,
    params(("id" = i64, Path, description = "Ticket number")),
    responses((status = 201, body = TimeSheet), (status = 403), (status = 404), (status = 422)))]
pub async fn log_time(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<LogTime>,
) -> ApiResult<(StatusCode, Json<TimeSheet>)> {
    let ticket = load(&state, &caller, id, Action::UpdateTicket).await?;
    let me = caller.staff_id().ok_or(ApiError::Forbidden)?;
    let body = body.value;
    let agent = UserId(body.agent_id.unwrap_or(me.0));
    if agent != me {
        caller.require(&state, Action::LogTimeForOthers).await?;
        match state.store.user(agent).await? {
            Some(u) if u.active => {}
            _ => return Err(ApiError::invalid("agent_id", format!("no active staff member {}", agent.0))),
        }
    }
    let source = match body.source.as_deref() {
        None => TimeSource::Agent,
        Some(raw) => TimeSource::parse("source", raw)?,
    };
    let entry = TimeEntry {
        agent_id: agent,
        ms: body.seconds.saturating_mul(1000),
        source,
        note: body.note.trim().to_string(),
        at: state.now(),
        by: caller.actor(),
    };
    let mut entries = TimeEntry::of_events(&state.store.events(ticket.id).await?);
    let errors = entry.check(&entries);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    state.store.append_events(ticket.id, vec![entry.event()]).await?;
    // The KPI rows now, so the cockpit counts the work at once.
    let business = jobs::kpi::business_clock(state.store.as_ref()).await?;
    jobs::kpi::refresh(state.store.as_ref(), ticket.id, &business).await?;
    entries.push(entry);
    Ok((StatusCode::CREATED, Json(sheet(entries))))
}
