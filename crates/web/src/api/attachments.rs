//! `/attachments`: upload a file first (raw body), then name its id in a
//! message's `attachment_ids`. Files live in the object store (a local
//! directory by default).

use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::AttachmentId;
use domain::message::Attachment;
use domain::policy::Action;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use serde::Deserialize;
use store::NewAttachment;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::accounts::random_secret;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

pub fn router() -> OpenApiRouter<AppState> {
    // The upload enforces its own, larger limit (max_attachment_bytes).
    OpenApiRouter::new().routes(routes!(upload)).routes(routes!(download)).layer(DefaultBodyLimit::disable())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name as the user sees it.
    pub file_name: String,
}

fn clean_file_name(raw: &str) -> Result<String, ApiError> {
    let name: String =
        raw.rsplit(['/', '\\']).next().unwrap_or_default().chars().filter(|c| !c.is_control() && *c != '"').collect();
    let name = name.trim().to_string();
    if name.is_empty() || name.len() > 255 {
        return Err(ApiError::invalid("file_name", "must be 1 to 255 characters"));
    }
    Ok(name)
}

/// Uploads a file (the request body, with its Content-Type).
#[utoipa::path(post, path = "/attachments", tag = "tickets", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Attachment), (status = 413)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    caller.require(&state, Action::CreateTicket).await?;
    let file_name = clean_file_name(&p.file_name)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let bytes =
        axum::body::to_bytes(body, state.settings.max_attachment_bytes).await.map_err(|_| ApiError::PayloadTooLarge)?;
    if bytes.is_empty() {
        return Err(ApiError::invalid("body", "the file is empty"));
    }
    let now = state.now();
    let year =
        jiff::Timestamp::from_millisecond(now).map(|t| t.strftime("%Y").to_string()).unwrap_or_else(|_| "0".into());
    let key = format!("{year}/{}", random_secret());
    let size = bytes.len() as i64;
    state
        .files
        .put(&ObjectPath::from(key.as_str()), PutPayload::from(bytes))
        .await
        .map_err(|e| ApiError::Internal(format!("storing attachment: {e}")))?;
    let attachment = state
        .store
        .create_attachment(NewAttachment {
            uploader: caller.who,
            file_name,
            content_type,
            size,
            storage_key: key,
            created_at: now,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(attachment)))
}

/// Downloads a file: its uploader, or anyone who may see the message it is on.
#[utoipa::path(get, path = "/attachments/{id}", tag = "tickets", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404)))]
pub async fn download(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Response> {
    let (attachment, uploader, ticket) = state.store.attachment(AttachmentId(id)).await?.ok_or(ApiError::NotFound)?;
    let allowed = match ticket {
        None => uploader == caller.who,
        Some(ticket_id) => {
            let ticket = state.store.ticket(ticket_id).await?.ok_or(ApiError::NotFound)?;
            caller.require_ticket(&state, Action::ViewTicket, &ticket).await?;
            // Customers see attachments of public messages only.
            let messages = state.store.messages(ticket_id, caller.principal.is_staff()).await?;
            messages.iter().any(|m| m.attachments.iter().any(|a| a.id == attachment.id))
        }
    };
    if !allowed {
        return Err(ApiError::NotFound);
    }
    let data = state.read_file(&attachment.storage_key).await?;
    let mut response = data.into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&attachment.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        attachment.file_name.replace(|c: char| !c.is_ascii(), "_")
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    Ok(response)
}
