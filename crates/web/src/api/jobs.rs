//! `/jobs`: the background queue, for admins: what failed for good (the
//! dead letters) with why, and retrying it; a `ping` job to check that
//! workers run.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::policy::Action;
use domain::{Job, JobId, JobStatus, NewJob};
use serde::{Deserialize, Serialize};
use store::PageRequest;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_jobs, enqueue_ping)).routes(routes!(get_job)).routes(routes!(retry))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobParams {
    /// `queued`, `running`, `done` or `dead`.
    pub status: Option<String>,
    /// The last id of the previous page.
    pub after: Option<i64>,
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobList {
    pub jobs: Vec<Job>,
    /// Pass as `after` for the next page.
    pub next_after: Option<i64>,
}

/// Jobs newest first; `?status=dead` for the dead letters.
#[utoipa::path(get, path = "/jobs", tag = "jobs", params(JobParams), responses((status = 200, body = JobList), (status = 403)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<JobParams>,
) -> ApiResult<Json<JobList>> {
    caller.require(&state, Action::ManageJobs).await?;
    let status = p.status.as_deref().map(|s| JobStatus::parse("status", s)).transpose()?;
    let page =
        state.store.jobs(status, PageRequest { after: p.after, limit: p.limit.unwrap_or(50).clamp(1, 200) }).await?;
    Ok(Json(JobList { next_after: page.next.map(|c| c.id), jobs: page.items }))
}

#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs", params(("id" = i64, Path)), responses((status = 200, body = Job), (status = 404)))]
pub async fn get_job(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Job>> {
    caller.require(&state, Action::ManageJobs).await?;
    Ok(Json(state.store.job(JobId(id)).await?.ok_or(ApiError::NotFound)?))
}

/// Queues a dead job again, its attempts reset.
#[utoipa::path(post, path = "/jobs/{id}/retry", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 200, body = Job), (status = 404), (status = 409)))]
pub async fn retry(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Job>> {
    caller.require(&state, Action::ManageJobs).await?;
    let job = state.store.job(JobId(id)).await?.ok_or(ApiError::NotFound)?;
    if !state.store.retry_job(job.id, state.now()).await? {
        return Err(ApiError::Conflict { code: "not_dead", message: format!("job {id} is {}, not dead", job.status) });
    }
    state.audit(&caller.label(), "job.retry", &format!("job:{id}"), true, serde_json::Value::Null).await;
    Ok(Json(state.store.job(job.id).await?.ok_or(ApiError::NotFound)?))
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PingInput {
    /// Run this long first (to see leases at work), at most 600,000.
    pub sleep_ms: Option<u64>,
    /// Run no earlier than this (UTC ms); default now.
    pub run_at: Option<i64>,
    pub idempotency_key: Option<String>,
}

/// Enqueues a `ping`: a worker writes `job.ping` to the audit log, with
/// the node that ran it.
#[utoipa::path(post, path = "/jobs", tag = "jobs", request_body = PingInput, responses((status = 201, body = Job), (status = 403)))]
pub async fn enqueue_ping(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<PingInput>,
) -> ApiResult<(StatusCode, Json<Job>)> {
    caller.require(&state, Action::ManageJobs).await?;
    let now = state.now();
    let mut job = NewJob::new(
        jobs::PING,
        serde_json::json!({ "sleep_ms": body.value.sleep_ms }),
        body.value.run_at.unwrap_or(now),
        now,
    );
    job.idempotency_key = body.value.idempotency_key.clone();
    let id = state.store.enqueue_job(job).await?;
    Ok((StatusCode::CREATED, Json(state.store.job(id).await?.ok_or(ApiError::NotFound)?)))
}
