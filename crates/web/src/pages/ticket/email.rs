//! `/tickets/{id}/messages/{message_id}/html`: an email's HTML as it was
//! sent (already sanitized when stored), for a sandboxed frame on the
//! ticket page. Its own policy forbids scripts, forms and every remote
//! load, and only our own pages may frame it.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use domain::Action;

use crate::AppState;
use crate::api::tickets::{load, view};
use crate::error::ApiError;
use crate::pages::{PageError, Staff};

const FRAME_CSP: &str = "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; \
    frame-ancestors 'self'; form-action 'none'; base-uri 'none'";

pub(crate) async fn html(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path((id, message_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let t = load(&state, &caller, id, Action::ViewTicket).await?;
    let full = view(&state, &caller, t).await?;
    let m = full.messages.into_iter().find(|m| m.id.0 == message_id).ok_or(ApiError::NotFound)?;
    let doc = format!(
        "<!doctype html><meta charset=\"utf-8\"><base target=\"_blank\"><style>body{{font:15px/1.45 system-ui,sans-serif;margin:.5rem;color:#1d1d1b;background:#fff}}img{{max-width:100%}}</style>{}",
        m.body_html
    );
    let mut response = Html(doc).into_response();
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(FRAME_CSP));
    Ok(response)
}
