//! `/calendars`: business hours (an IANA zone, opening hours per weekday,
//! holidays) that SLA policies count in. Managers and admins.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::policy::Action;
use domain::{BusinessClock, Calendar, CalendarId, Holiday, OpenHours};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_calendars, create_calendar))
        .routes(routes!(get_calendar, replace_calendar))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarInput {
    pub name: String,
    /// IANA, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// e.g. `[{"day": "monday", "from": "09:00", "to": "17:00"}, …]`; several a day for breaks.
    pub hours: Vec<OpenHours>,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CalendarList {
    pub calendars: Vec<Calendar>,
}

/// The calendar the input describes, checked.
pub(crate) fn checked(id: CalendarId, input: &CalendarInput, created_at: i64, now: i64) -> ApiResult<Calendar> {
    let name = domain::directory::parse_name("name", &input.name);
    let c = Calendar {
        id,
        name: name.clone().unwrap_or_default(),
        time_zone: input.time_zone.trim().to_string(),
        hours: input.hours.clone(),
        holidays: input.holidays.clone(),
        created_at,
        updated_at: now,
    };
    let mut errors = BusinessClock::new(&c).err().unwrap_or_default();
    if let Err(e) = name {
        errors.insert(0, e);
    }
    if errors.is_empty() { Ok(c) } else { Err(ApiError::Invalid(errors)) }
}

#[utoipa::path(get, path = "/calendars", tag = "service rules", responses((status = 200, body = CalendarList)))]
pub async fn list_calendars(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<CalendarList>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(CalendarList { calendars: state.store.calendars().await? }))
}

#[utoipa::path(post, path = "/calendars", tag = "service rules", request_body = CalendarInput,
    responses((status = 201, body = Calendar), (status = 403), (status = 422)))]
pub async fn create_calendar(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<CalendarInput>,
) -> ApiResult<(StatusCode, Json<Calendar>)> {
    caller.require(&state, Action::ManageServiceRules).await?;
    let now = state.now();
    let c = checked(CalendarId(0), &body.value, now, now)?;
    let id = state.store.create_calendar(c).await?;
    state.audit(&caller.label(), "calendar.create", &format!("calendar:{id}"), true, serde_json::Value::Null).await;
    Ok((StatusCode::CREATED, Json(state.store.calendar(id).await?.ok_or(ApiError::NotFound)?)))
}

#[utoipa::path(get, path = "/calendars/{id}", tag = "service rules", params(("id" = i64, Path)), responses((status = 200, body = Calendar), (status = 404)))]
pub async fn get_calendar(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Calendar>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(state.store.calendar(CalendarId(id)).await?.ok_or(ApiError::NotFound)?))
}

/// Replaces a calendar; every unsolved ticket's SLA is checked again.
#[utoipa::path(put, path = "/calendars/{id}", tag = "service rules", params(("id" = i64, Path)), request_body = CalendarInput,
    responses((status = 200, body = Calendar), (status = 404), (status = 422)))]
pub async fn replace_calendar(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<CalendarInput>,
) -> ApiResult<Json<Calendar>> {
    caller.require(&state, Action::ManageServiceRules).await?;
    let current = state.store.calendar(CalendarId(id)).await?.ok_or(ApiError::NotFound)?;
    let now = state.now();
    let c = checked(current.id, &body.value, current.created_at, now)?;
    state.store.update_calendar(&c).await?;
    state.store.enqueue_job(jobs::sla::reapply(now)).await?;
    state.audit(&caller.label(), "calendar.update", &format!("calendar:{id}"), true, serde_json::Value::Null).await;
    Ok(Json(c))
}
