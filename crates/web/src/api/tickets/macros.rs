//! `/tickets/{id}/macros/{macro_id}`: applies a macro: its reply or note,
//! placeholders filled in, and its changes, in one write.

use axum::extract::{Path, State};
use axum::response::Response;
use domain::Action;
use domain::macros::{MacroContext, render_macro};

use super::messages::{AddMessage, write_message};
use super::update::write_patch;
use super::{TicketView, load};
use crate::AppState;
use crate::api::macros::{context_names, usable};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, IfMatch};

/// Fills in macros' placeholders for one ticket and agent (the people
/// they name read once).
pub(crate) struct MacroText {
    ticket: domain::Ticket,
    customer: domain::Customer,
    agent: Option<domain::User>,
}

impl MacroText {
    pub async fn new(state: &AppState, caller: &Caller, ticket: &domain::Ticket) -> ApiResult<Self> {
        let (customer, agent) = context_names(state, ticket, caller.staff_id()).await?;
        Ok(Self { ticket: ticket.clone(), customer, agent })
    }

    pub fn render(&self, body: &str) -> ApiResult<String> {
        let ctx = MacroContext {
            ticket_number: self.ticket.id.0,
            ticket_subject: &self.ticket.subject,
            customer_name: &self.customer.name,
            customer_email: &self.customer.email,
            agent_name: self.agent.as_ref().map(|a| a.name.as_str()).unwrap_or_default(),
            agent_email: self.agent.as_ref().map(|a| a.email.as_str()).unwrap_or_default(),
        };
        Ok(render_macro(body, &ctx)?)
    }
}

/// Applies a macro (shared, or one of yours): its text as a reply or note
/// and its changes, together; `If-Match` as for any change.
#[utoipa::path(post, path = "/tickets/{id}/macros/{macro_id}", tag = "macros",
    params(("id" = i64, Path, description = "Ticket number"), ("macro_id" = i64, Path),
        ("If-Match" = Option<String>, Header, description = "The ETag you read")),
    responses((status = 200, body = TicketView), (status = 201, body = TicketView), (status = 404), (status = 412), (status = 422)))]
pub async fn apply_macro(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, macro_id)): Path<(i64, i64)>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let m = usable(&state, &caller, macro_id).await?;
    if !m.active {
        return Err(ApiError::invalid("macro_id", format!("the macro \"{}\" is switched off", m.name)));
    }
    let me = caller.staff_id().ok_or(ApiError::Forbidden)?;
    let patch = m.actions.patch(me);
    if m.body.trim().is_empty() {
        return write_patch(&state, &caller, id, if_match, &patch).await;
    }
    let ticket = load(&state, &caller, id, Action::ViewTicket).await?;
    let text = MacroText::new(&state, &caller, &ticket).await?.render(&m.body)?;
    let input = AddMessage {
        body: Some(text),
        body_html: None,
        public: m.public,
        attachment_ids: vec![],
        status: None,
        channel: None,
        send_email: true,
    };
    write_message(&state, &caller, id, if_match, &input, &patch).await
}
