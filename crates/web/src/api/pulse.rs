//! `/pulse`: the agents' anonymous pulse survey. Managers open one (eNPS
//! and up to ten 1–5 statements); each staff member answers once while it
//! is open; results are aggregates, shown only from five answers (and per
//! team only for teams with five of their own).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::policy::Action;
use domain::survey::pulse::{ENPS_QUESTION, Pulse, PulseAnswer, parse_pulse};
use domain::{PulseId, UserId};
use insight::feedback::PulseResults;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_pulses, create_pulse))
        .routes(routes!(answer_pulse))
        .routes(routes!(pulse_results))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PulseInput {
    pub name: String,
    /// Statements answered 1 (strongly disagree) to 5 (strongly agree).
    #[serde(default)]
    pub questions: Vec<String>,
    /// How long it stays open (default 7).
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PulseView {
    #[serde(flatten)]
    pub pulse: Pulse,
    pub enps_question: &'static str,
    pub open: bool,
    /// Whether the caller has answered it.
    pub answered: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PulseList {
    pub pulses: Vec<PulseView>,
}

pub(crate) async fn views(state: &AppState, user: UserId) -> ApiResult<Vec<PulseView>> {
    let now = state.now();
    let mut out = Vec::new();
    for p in state.store.pulses().await? {
        let answered = state.store.pulse_answered(p.id, user).await?;
        out.push(PulseView { open: p.is_open(now), answered, enps_question: ENPS_QUESTION, pulse: p });
    }
    Ok(out)
}

#[utoipa::path(get, path = "/pulse", tag = "feedback", responses((status = 200, body = PulseList), (status = 403)))]
pub async fn list_pulses(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<PulseList>> {
    caller.require(&state, Action::UseWorkspace).await?;
    let user = caller.staff_id().ok_or(ApiError::Forbidden)?;
    Ok(Json(PulseList { pulses: views(&state, user).await? }))
}

#[utoipa::path(post, path = "/pulse", tag = "feedback", request_body = PulseInput,
    responses((status = 201, body = Pulse), (status = 403), (status = 422)))]
pub async fn create_pulse(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<PulseInput>,
) -> ApiResult<(StatusCode, Json<Pulse>)> {
    caller.require(&state, Action::ManageFeedback).await?;
    let now = state.now();
    let i = &body.value;
    let (name, questions, closes_at) =
        parse_pulse(&i.name, &i.questions, now, i.days.unwrap_or(7)).map_err(ApiError::Invalid)?;
    let created_by = caller.staff_id().ok_or(ApiError::Forbidden)?;
    let p = Pulse { id: PulseId(0), name, questions, opened_at: now, closes_at, created_by };
    let id = state.store.create_pulse(p.clone()).await?;
    state.audit(&caller.label(), "pulse.create", &format!("pulse:{id}"), true, json!({ "name": p.name })).await;
    Ok((StatusCode::CREATED, Json(Pulse { id, ..p })))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PulseAnswerInput {
    /// 0–10.
    pub enps: i64,
    /// One 1–5 score per statement, in order.
    #[serde(default)]
    pub scores: Vec<i64>,
    pub comment: Option<String>,
}

pub(crate) async fn answer(state: &AppState, caller: &Caller, id: i64, input: PulseAnswerInput) -> ApiResult<()> {
    caller.require(state, Action::UseWorkspace).await?;
    let user = caller.staff_id().ok_or(ApiError::Forbidden)?;
    let pulse = state.store.pulse(PulseId(id)).await?.ok_or(ApiError::NotFound)?;
    if !pulse.is_open(state.now()) {
        return Err(ApiError::Conflict { code: "closed", message: "this pulse survey is closed".into() });
    }
    // The answer carries the team (for team results of five or more), never the person.
    let team = state.directory().await?.teams.iter().find(|t| t.member_ids.contains(&user)).map(|t| t.id);
    let a = PulseAnswer::parse(&pulse, input.enps, input.scores, input.comment, team).map_err(ApiError::Invalid)?;
    match state.store.answer_pulse(pulse.id, user, a).await {
        Err(store::StoreError::Duplicate(_)) => {
            Err(ApiError::Conflict { code: "already_answered", message: "you have answered this pulse survey".into() })
        }
        other => Ok(other?),
    }
}

/// Answers once; the answer is stored without who gave it.
#[utoipa::path(post, path = "/pulse/{id}/answers", tag = "feedback", request_body = PulseAnswerInput,
    responses((status = 204), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn answer_pulse(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<PulseAnswerInput>,
) -> ApiResult<StatusCode> {
    answer(&state, &caller, id, body.value).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/pulse/{id}/results", tag = "feedback",
    responses((status = 200, body = PulseResults), (status = 403), (status = 404)))]
pub async fn pulse_results(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<PulseResults>> {
    caller.require(&state, Action::ManageFeedback).await?;
    let pulse = state.store.pulse(PulseId(id)).await?.ok_or(ApiError::NotFound)?;
    let answers = state.store.pulse_answers(pulse.id).await?;
    Ok(Json(insight::feedback::pulse_results(pulse.questions.len(), &answers)))
}
