use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::lifecycle::{self, MessageOutcome, TicketPatch};
use domain::policy::Action;
use domain::{AttachmentId, Channel, DomainError, Millis, Principal, Status, Visibility};
use serde::{Deserialize, Serialize};
use store::{NewMessage, StoreError, TicketCreate, TicketWrite};

use super::{TicketView, load, respond, view};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller, IfMatch, etag};
use crate::{AppState, html};

pub(crate) struct MessageInput<'a> {
    pub body: Option<&'a str>,
    pub body_html: Option<&'a str>,
    pub attachment_ids: &'a [i64],
}

/// Builds a message from text and/or HTML: the text is what is searched,
/// the HTML is sanitized before it is stored. Attachments must be the
/// caller's own uploads, not yet attached.
pub(crate) async fn new_message(
    state: &AppState,
    caller: &Caller,
    input: MessageInput<'_>,
    visibility: Visibility,
    channel: Channel,
    now: Millis,
    errors: &mut Vec<DomainError>,
) -> ApiResult<Option<NewMessage>> {
    let (text, html) = match (input.body, input.body_html) {
        (Some(text), html) => (text.to_string(), html.map(html::sanitize).unwrap_or_else(|| html::text_to_html(text))),
        (None, Some(h)) => (html::html_to_text(h), html::sanitize(h)),
        (None, None) => {
            errors.push(DomainError::new("body", "give the message as body (text) or body_html"));
            return Ok(None);
        }
    };
    let text = match domain::message::parse_body(&text) {
        Ok(t) => t,
        Err(e) => {
            errors.push(e);
            return Ok(None);
        }
    };
    for id in input.attachment_ids {
        match state.store.attachment(AttachmentId(*id)).await? {
            Some((_, uploader, None)) if uploader == caller.who => {}
            _ => errors.push(DomainError::new(
                "attachment_ids",
                format!("attachment {id} is not an unattached upload of yours"),
            )),
        }
    }
    let (author_kind, author_id) = (caller.actor().kind, caller.actor().id);
    Ok(Some(NewMessage {
        visibility,
        author_kind,
        author_id,
        channel,
        body_text: text,
        body_html: html,
        metadata: serde_json::json!({}),
        attachment_ids: input.attachment_ids.iter().map(|i| AttachmentId(*i)).collect(),
        created_at: now,
        email: None,
    }))
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMessage {
    pub body: Option<String>,
    pub body_html: Option<String>,
    /// A public reply (default) or an internal note.
    #[serde(default = "yes")]
    pub public: bool,
    #[serde(default)]
    pub attachment_ids: Vec<i64>,
    /// Staff: set the status with the reply (e.g. pending, solved).
    pub status: Option<Status>,
    pub channel: Option<Channel>,
    /// Staff: mail a public reply to the requester, collaborators in copy
    /// (default true; needs an active mailbox; never for chat tickets).
    #[serde(default = "yes")]
    pub send_email: bool,
}

/// Adds a reply or internal note. A customer's reply reopens a pending or
/// solved ticket; on a closed ticket it opens a linked follow-up (201 with
/// the new ticket).
#[utoipa::path(post, path = "/tickets/{id}/messages", tag = "tickets", request_body = AddMessage,
    params(("id" = i64, Path, description = "Ticket number")),
    responses((status = 201, body = TicketView), (status = 404), (status = 412), (status = 422)))]
pub async fn add_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    if_match: IfMatch,
    body: ApiJson<AddMessage>,
) -> ApiResult<Response> {
    let patch = TicketPatch { status: body.value.status, ..Default::default() };
    if patch.status.is_some() && !caller.principal.is_staff() {
        return Err(ApiError::invalid("status", "only staff can set the status"));
    }
    write_message(&state, &caller, id, if_match, &body.value, &patch).await
}

/// Adds a message and makes the changes that go with it (a status with a
/// reply, a macro's changes) in one write; `input.status` is ignored, the
/// patch says what changes. A stale `If-Match` is 412 with the ticket now.
pub(crate) async fn write_message(
    state: &AppState,
    caller: &Caller,
    id: i64,
    if_match: IfMatch,
    input: &AddMessage,
    patch: &TicketPatch,
) -> ApiResult<Response> {
    let visibility = if input.public { Visibility::Public } else { Visibility::Internal };
    let action = if input.public { Action::ReplyPublic } else { Action::AddInternalNote };
    let staff = matches!(caller.principal, Principal::Staff(_));
    let channel = input.channel.unwrap_or(if staff { Channel::Api } else { Channel::Web });
    for attempt in 0..3 {
        let current = load(state, caller, id, Action::ViewTicket).await?;
        caller.require_ticket(state, action, &current).await?;
        if let Some(v) = if_match.0
            && v != current.version
        {
            return Err(stale(state, caller, current).await?);
        }
        let now = state.now();
        let mut errors = Vec::new();
        let message = new_message(
            state,
            caller,
            MessageInput {
                body: input.body.as_deref(),
                body_html: input.body_html.as_deref(),
                attachment_ids: &input.attachment_ids,
            },
            visibility,
            channel,
            now,
            &mut errors,
        )
        .await?;
        let (Some(mut message), true) = (message, errors.is_empty()) else {
            return Err(ApiError::Invalid(errors));
        };
        if staff && input.public && input.send_email && current.channel != Channel::Chat {
            // Queued in the outbox with the message, in its transaction.
            message.email = mail::outbound::reply_identity(state.store.as_ref(), &current).await?;
        }
        match lifecycle::add_message(&current, visibility, caller.actor(), now)? {
            MessageOutcome::FollowUp => {
                let (ticket, events) =
                    lifecycle::open_ticket(lifecycle::follow_up_of(&current, channel), caller.actor(), now)?;
                let new_id = state
                    .store
                    .create_follow_up(
                        TicketCreate { ticket, events, messages: vec![message], new_requester: None },
                        current.id,
                        now,
                    )
                    .await?;
                let ticket = state.store.ticket(new_id).await?.ok_or(ApiError::NotFound)?;
                return Ok(respond(StatusCode::CREATED, view(state, caller, ticket).await?));
            }
            MessageOutcome::Added { ticket, mut events } => {
                let mut ticket = ticket;
                if *patch != TicketPatch::default() {
                    let (next, more) = lifecycle::apply_patch(&ticket, patch, caller.actor(), now)?;
                    ticket = next;
                    // One write: keep the version one step ahead of the read.
                    ticket.version = current.version + 1;
                    events.extend(more);
                }
                let write = TicketWrite { ticket, expected_version: current.version, events, messages: vec![message] };
                match state.store.write_ticket(write).await {
                    Ok(()) => {}
                    Err(StoreError::VersionConflict) if if_match.0.is_none() && attempt < 2 => {
                        continue;
                    }
                    Err(StoreError::VersionConflict) => {
                        let fresh = load(state, caller, id, Action::ViewTicket).await?;
                        return Err(stale(state, caller, fresh).await?);
                    }
                    Err(e) => return Err(e.into()),
                }
                let ticket = state.store.ticket(current.id).await?.ok_or(ApiError::NotFound)?;
                return Ok(respond(StatusCode::CREATED, view(state, caller, ticket).await?));
            }
        }
    }
    Err(ApiError::Conflict { code: "conflict", message: "the ticket kept changing; try again".into() })
}

/// A 412 carrying the ticket as it is now.
pub(crate) async fn stale(state: &AppState, caller: &Caller, current: domain::Ticket) -> ApiResult<ApiError> {
    let tag = etag(current.version);
    let view = view(state, caller, current).await?;
    Ok(ApiError::Stale { current: serde_json::to_value(view).unwrap_or_default(), etag: tag })
}
