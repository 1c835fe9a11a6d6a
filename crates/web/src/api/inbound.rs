//! `/inbound/email`: raw MIME pushed by a mail provider or forwarder,
//! authenticated by the mailbox's push token (not a staff token).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use domain::{MessageId, QuarantineId, TicketId};
use mail::{IngestError, Outcome};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::accounts::hash_token;
use crate::error::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(push_email))
}

/// What became of the pushed message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InboundResult {
    /// `stored`, `duplicate` (stored before) or `quarantined`.
    pub outcome: &'static str,
    pub ticket_id: Option<TicketId>,
    pub message_id: Option<MessageId>,
    /// Whether the message opened a new ticket.
    pub created: bool,
    pub quarantine_id: Option<QuarantineId>,
    pub reason: Option<String>,
}

/// Files one raw message (`message/rfc822` or any type; the body is the
/// message). 201 stored, 200 already stored, 202 kept in the quarantine;
/// 503 when storage failed, so the sender delivers again later.
#[utoipa::path(post, path = "/inbound/email", tag = "mail",
    request_body(content = String, content_type = "message/rfc822"),
    security(("mailbox_token" = [])),
    responses((status = 201, body = InboundResult), (status = 200, body = InboundResult),
        (status = 202, body = InboundResult), (status = 401), (status = 413), (status = 503)))]
pub async fn push_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<InboundResult>)> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(ApiError::Unauthorized("a mailbox push token is required (Authorization: Bearer sbm_…)"))?;
    let mailbox = state
        .store
        .mailbox_by_token(&hash_token(token.trim()))
        .await?
        .filter(|m| m.active)
        .ok_or(ApiError::Unauthorized("unknown or inactive mailbox token"))?;
    let raw =
        axum::body::to_bytes(body, state.settings.max_email_bytes).await.map_err(|_| ApiError::PayloadTooLarge)?;
    if raw.is_empty() {
        return Err(ApiError::invalid("body", "the message is empty"));
    }
    let outcome = state.inbox.ingest(&mailbox, &raw, state.now()).await.map_err(|e| match e {
        IngestError::Store(s) => ApiError::Unavailable(format!("filing mail: {s}")),
        IngestError::Files(f) => ApiError::Unavailable(format!("filing mail: {f}")),
    })?;
    Ok(answer(outcome))
}

pub(crate) fn answer(outcome: Outcome) -> (StatusCode, Json<InboundResult>) {
    let none = InboundResult {
        outcome: "",
        ticket_id: None,
        message_id: None,
        created: false,
        quarantine_id: None,
        reason: None,
    };
    match outcome {
        Outcome::Stored { ticket, message, created } => (
            StatusCode::CREATED,
            Json(InboundResult {
                outcome: "stored",
                ticket_id: Some(ticket),
                message_id: Some(message),
                created,
                ..none
            }),
        ),
        Outcome::Duplicate { ticket, message } => (
            StatusCode::OK,
            Json(InboundResult { outcome: "duplicate", ticket_id: Some(ticket), message_id: Some(message), ..none }),
        ),
        Outcome::Quarantined { id, reason } => (
            StatusCode::ACCEPTED,
            Json(InboundResult { outcome: "quarantined", quarantine_id: Some(id), reason: Some(reason), ..none }),
        ),
    }
}
