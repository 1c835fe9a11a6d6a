//! `/tickets/{id}/messages/{message_id}/original.eml`: an email message
//! exactly as it arrived, the record of the customer exchange. Staff only.

use axum::extract::{Path, State};
use axum::response::Response;
use domain::MessageId;
use domain::policy::Action;

use super::load;
use crate::AppState;
use crate::api::quarantine::eml;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

#[utoipa::path(get, path = "/tickets/{id}/messages/{message_id}/original.eml", tag = "tickets",
    params(("id" = i64, Path), ("message_id" = i64, Path)),
    responses((status = 200, content_type = "message/rfc822"), (status = 404)))]
pub async fn original_email(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, message_id)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    let ticket = load(&state, &caller, id, Action::ViewInternal).await?;
    let (email, on) = state.store.message_email(MessageId(message_id)).await?.ok_or(ApiError::NotFound)?;
    let key = email.raw_key.filter(|_| on == ticket.id).ok_or(ApiError::NotFound)?;
    eml(&state, &key, &format!("ticket-{}-message-{message_id}.eml", ticket.id)).await
}
