//! Reports for senior management: who gets the weekly or monthly report
//! (`/settings/reports`), sending one now (`POST /reports/send`), and a
//! report's figures (`GET /reports/{cadence}`), the resource request
//! (`GET /reports/resources`); the print-ready pages are
//! `/cockpit/report/{cadence}` and `/cockpit/resources`.

use axum::Json;
use axum::extract::{Path, State};
use domain::policy::Action;
use jobs::cockpit::CockpitReport;
use jobs::report::{Cadence, ReportSettings};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_report_settings, set_report_settings))
        .routes(routes!(send_report))
        .routes(routes!(get_report))
        .routes(routes!(get_resource_request))
        .routes(routes!(get_roi))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct RoiQuery {
    /// Days up to now, 7 to 730 (default 90).
    pub days: Option<String>,
}

/// Support cost against the revenue of the customers it kept: churn of
/// customers who contacted support against those who did not.
#[utoipa::path(get, path = "/reports/roi", tag = "reports", params(RoiQuery),
    responses((status = 200, body = jobs::roi::RoiReport), (status = 403), (status = 422)))]
pub async fn get_roi(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Query(q): axum::extract::Query<RoiQuery>,
) -> ApiResult<Json<jobs::roi::RoiReport>> {
    caller.require(&state, Action::ViewReports).await?;
    let days = match q.days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => 90,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|d| (7..=730).contains(d))
            .ok_or_else(|| ApiError::invalid("days", "must be a whole number from 7 to 730"))?,
    };
    Ok(Json(jobs::roi::roi(state.store.as_ref(), state.now(), days).await?))
}

/// The case for staff: load and first-reply SLA of the last 8 weeks and an
/// Erlang C estimate of the first-reply wait with fewer or more agents.
#[utoipa::path(get, path = "/reports/resources", tag = "reports",
    responses((status = 200, body = jobs::resources::ResourceRequest), (status = 403)))]
pub async fn get_resource_request(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<jobs::resources::ResourceRequest>> {
    caller.require(&state, Action::ViewReports).await?;
    Ok(Json(jobs::resources::resource_request(state.store.as_ref(), state.now()).await?))
}

pub(crate) fn cadence(raw: &str) -> ApiResult<Cadence> {
    match raw {
        "weekly" => Ok(Cadence::Weekly),
        "monthly" => Ok(Cadence::Monthly),
        _ => Err(ApiError::invalid("cadence", "must be weekly or monthly")),
    }
}

#[utoipa::path(get, path = "/settings/reports", tag = "reports",
    responses((status = 200, body = ReportSettings), (status = 403)))]
pub async fn get_report_settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ReportSettings>> {
    caller.require(&state, Action::ViewReports).await?;
    Ok(Json(jobs::report::settings(state.store.as_ref()).await?))
}

/// Who gets which report: `{"recipients": [{"email", "every": "weekly" | "monthly"}]}`.
#[utoipa::path(put, path = "/settings/reports", tag = "reports", request_body = ReportSettings,
    responses((status = 200, body = ReportSettings), (status = 403), (status = 422)))]
pub async fn set_report_settings(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<ReportSettings>,
) -> ApiResult<Json<ReportSettings>> {
    caller.require(&state, Action::ViewReports).await?;
    let s = body.value.parse().map_err(ApiError::Invalid)?;
    let v = serde_json::to_value(&s).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.store.set_setting(jobs::report::SETTINGS_KEY, &v).await?;
    state.audit(&caller.label(), "report_settings.update", "report_settings", true, v).await;
    Ok(Json(s))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SendReport {
    /// `weekly` or `monthly`.
    pub every: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportSent {
    /// How many recipients of that cadence it was mailed to.
    pub mailed: usize,
}

/// Mails the last full week's or month's report to its recipients now.
#[utoipa::path(post, path = "/reports/send", tag = "reports", request_body = SendReport,
    responses((status = 200, body = ReportSent), (status = 403), (status = 422), (status = 503)))]
pub async fn send_report(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<SendReport>,
) -> ApiResult<Json<ReportSent>> {
    caller.require(&state, Action::ViewReports).await?;
    let every = cadence(&body.value.every)?;
    let mailed = jobs::report::send(state.store.as_ref(), state.transport.as_deref(), state.now(), every)
        .await
        .map_err(|e| match e {
            jobs::JobError::Retry(m) | jobs::JobError::Fail(m) => ApiError::Unavailable(format!("the report: {m}")),
        })?;
    state
        .audit(&caller.label(), "report.send", "report", true, serde_json::json!({ "every": every, "mailed": mailed }))
        .await;
    Ok(Json(ReportSent { mailed }))
}

/// The last full week's (Monday–Sunday) or month's figures for the department.
#[utoipa::path(get, path = "/reports/{cadence}", tag = "reports", params(("cadence" = String, Path)),
    responses((status = 200, body = CockpitReport), (status = 403), (status = 422)))]
pub async fn get_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<CockpitReport>> {
    caller.require(&state, Action::ViewReports).await?;
    Ok(Json(jobs::report::build(state.store.as_ref(), state.now(), cadence(&raw)?).await?))
}
