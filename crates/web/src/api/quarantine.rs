//! `/mail/quarantine`: mail that could not become a ticket message, kept
//! raw with the reason; admins read it, download it and retry it.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::QuarantineId;
use domain::policy::Action;
use serde::{Deserialize, Serialize};
use store::{PageRequest, QuarantineEntry};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::inbound::{InboundResult, answer};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_quarantine))
        .routes(routes!(get_entry))
        .routes(routes!(original))
        .routes(routes!(retry))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct QuarantineQuery {
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuarantineList {
    pub entries: Vec<QuarantineEntry>,
    /// Pass as `after` for the next page.
    pub next_after: Option<i64>,
}

#[utoipa::path(get, path = "/mail/quarantine", tag = "mail", params(QuarantineQuery),
    responses((status = 200, body = QuarantineList), (status = 403)))]
pub async fn list_quarantine(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<QuarantineQuery>,
) -> ApiResult<Json<QuarantineList>> {
    caller.require(&state, Action::ManageMail).await?;
    let page = state.store.quarantined(PageRequest { after: q.after, limit: q.limit.unwrap_or(50) }).await?;
    Ok(Json(QuarantineList { entries: page.items, next_after: page.next.map(|c| c.id) }))
}

#[utoipa::path(get, path = "/mail/quarantine/{id}", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = QuarantineEntry), (status = 404)))]
pub async fn get_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<QuarantineEntry>> {
    caller.require(&state, Action::ManageMail).await?;
    Ok(Json(state.store.quarantine_entry(QuarantineId(id)).await?.ok_or(ApiError::NotFound)?))
}

pub(crate) async fn eml(state: &AppState, key: &str, name: &str) -> ApiResult<Response> {
    let data = state.read_file(key).await?;
    let mut response = data.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("message/rfc822"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// The message exactly as it arrived.
#[utoipa::path(get, path = "/mail/quarantine/{id}/original.eml", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, content_type = "message/rfc822"), (status = 404)))]
pub async fn original(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Response> {
    caller.require(&state, Action::ManageMail).await?;
    let entry = state.store.quarantine_entry(QuarantineId(id)).await?.ok_or(ApiError::NotFound)?;
    eml(&state, &entry.raw_key, &format!("quarantine-{id}.eml")).await
}

/// Files the message again (after a fix, or when the cause has passed);
/// on success the entry is marked resolved with the message it became.
#[utoipa::path(post, path = "/mail/quarantine/{id}/retry", tag = "mail", params(("id" = i64, Path)),
    responses((status = 201, body = InboundResult), (status = 200, body = InboundResult),
        (status = 202, body = InboundResult), (status = 404)))]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, Json<InboundResult>)> {
    caller.require(&state, Action::ManageMail).await?;
    let entry = state.store.quarantine_entry(QuarantineId(id)).await?.ok_or(ApiError::NotFound)?;
    let mailbox_id = entry.mailbox_id.ok_or_else(|| ApiError::invalid("mailbox", "the entry has no mailbox"))?;
    let mailbox = state.store.mailbox(mailbox_id).await?.ok_or(ApiError::NotFound)?;
    let raw = state.read_file(&entry.raw_key).await?;
    let now = state.now();
    let outcome = state
        .inbox
        .ingest(&mailbox, &raw, now)
        .await
        .map_err(|e| ApiError::Unavailable(format!("filing mail: {e}")))?;
    if let mail::Outcome::Stored { message, .. } | mail::Outcome::Duplicate { message, .. } = &outcome {
        state.store.resolve_quarantine(entry.id, Some(*message), now).await?;
    }
    state
        .audit(&caller.label(), "mail.quarantine.retry", &format!("quarantine:{id}"), true, serde_json::Value::Null)
        .await;
    Ok(answer(outcome))
}
