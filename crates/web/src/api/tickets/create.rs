use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use domain::lifecycle::{self, NewTicket};
use domain::policy::Action;
use domain::{
    Channel, Customer, CustomerId, DomainError, EmailAddress, Principal, Priority, Status, TeamId, TicketId,
    TicketType, UserId, Visibility,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::TicketCreate;

use super::messages::{MessageInput, new_message};
use super::{TicketView, fields, respond, view};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller, IdempotencyHeader};

fn yes() -> bool {
    true
}

/// The customer a staff member opens a ticket for, found or created by email.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequesterInput {
    pub email: String,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicket {
    pub subject: String,
    /// The first message as plain text (or give `body_html`).
    pub body: Option<String>,
    pub body_html: Option<String>,
    /// A public reply (default) or an internal note.
    #[serde(default = "yes")]
    pub public: bool,
    pub requester_id: Option<i64>,
    pub requester: Option<RequesterInput>,
    pub priority: Option<Priority>,
    #[serde(rename = "type")]
    pub ticket_type: Option<TicketType>,
    pub channel: Option<Channel>,
    pub status: Option<Status>,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Values by field key (or id).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom_fields: BTreeMap<String, Value>,
    /// For an incident: its problem ticket.
    pub problem_id: Option<i64>,
    /// Files uploaded with POST /attachments, to attach to the first message.
    #[serde(default)]
    pub attachment_ids: Vec<i64>,
}

/// Who a new ticket is for: a known customer, or one the store finds by
/// email or creates with the ticket.
enum Requester {
    Known(Customer),
    ByEmail(Customer),
}

impl Requester {
    fn customer(&self) -> &Customer {
        match self {
            Requester::Known(c) | Requester::ByEmail(c) => c,
        }
    }
}

/// Finds the requester; one given by email is found or created by the store
/// in the ticket's own transaction.
async fn requester(
    state: &AppState,
    caller: &Caller,
    input: &CreateTicket,
    errors: &mut Vec<DomainError>,
) -> ApiResult<Option<Requester>> {
    if let Principal::Customer(c) = &caller.principal {
        if input.requester_id.is_some_and(|r| r != c.customer_id.0) || input.requester.is_some() {
            errors.push(DomainError::new("requester", "customers open tickets for themselves"));
        }
        return Ok(state.store.customer(c.customer_id).await?.map(Requester::Known));
    }
    match (&input.requester_id, &input.requester) {
        (Some(id), _) => {
            let found = state.store.customer(CustomerId(*id)).await?;
            if found.is_none() {
                errors.push(DomainError::new("requester_id", format!("customer {id} does not exist")));
            }
            Ok(found.map(Requester::Known))
        }
        (None, Some(r)) => {
            let email = match EmailAddress::parse(&r.email) {
                Ok(e) => e,
                Err(e) => {
                    errors.push(DomainError::new("requester.email", e.message));
                    return Ok(None);
                }
            };
            // The store finds the customer with this email in the ticket's
            // transaction, or creates it (one lookup per batch of creates).
            let name =
                r.name.clone().unwrap_or_else(|| email.as_str().split('@').next().unwrap_or_default().to_string());
            let name = match domain::directory::parse_name("requester.name", &name) {
                Ok(n) => n,
                Err(e) => {
                    errors.push(e);
                    return Ok(None);
                }
            };
            Ok(Some(Requester::ByEmail(Customer::new(&email, &name, state.now()))))
        }
        (None, None) => {
            errors.push(DomainError::new("requester_id", "give requester_id or requester {email, name}"));
            Ok(None)
        }
    }
}

/// Checks that referenced staff, teams and problems exist.
pub(crate) async fn check_assignment(
    state: &AppState,
    assignee: Option<i64>,
    team: Option<i64>,
    errors: &mut Vec<DomainError>,
) -> ApiResult<()> {
    if let Some(a) = assignee {
        match state.store.user(UserId(a)).await? {
            Some(u) if u.active => {}
            Some(_) => errors.push(DomainError::new("assignee_id", format!("user {a} is deactivated"))),
            None => errors.push(DomainError::new("assignee_id", format!("user {a} does not exist"))),
        }
    }
    if let Some(t) = team
        && state.store.team(TeamId(t)).await?.is_none()
    {
        errors.push(DomainError::new("team_id", format!("team {t} does not exist")));
    }
    Ok(())
}

pub(crate) async fn check_problem(
    state: &AppState,
    caller: &Caller,
    problem: i64,
    errors: &mut Vec<DomainError>,
) -> ApiResult<()> {
    match state.store.ticket(TicketId(problem)).await? {
        Some(p) if caller.principal.can_see(&p) => {
            if let Err(e) = lifecycle::check_problem(&p) {
                errors.push(e);
            }
        }
        _ => errors.push(DomainError::new("problem_id", format!("ticket {problem} does not exist"))),
    }
    Ok(())
}

/// Opens a ticket with its first message.
#[utoipa::path(post, path = "/tickets", tag = "tickets", request_body = CreateTicket,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe create: the same key returns the first result")),
    responses((status = 201, body = TicketView), (status = 400), (status = 422)))]
pub async fn create_ticket(
    State(state): State<AppState>,
    caller: Caller,
    idem: IdempotencyHeader,
    body: ApiJson<CreateTicket>,
) -> ApiResult<Response> {
    caller.require(&state, Action::CreateTicket).await?;
    let input = &body.value;
    let now = state.now();
    let mut errors = Vec::new();
    let staff = caller.principal.is_staff();
    if !staff {
        let staff_only = [
            ("assignee_id", input.assignee_id.is_some()),
            ("team_id", input.team_id.is_some()),
            ("status", input.status.is_some()),
            ("tags", !input.tags.is_empty()),
            ("custom_fields", !input.custom_fields.is_empty()),
            ("problem_id", input.problem_id.is_some()),
            ("public", !input.public),
        ];
        for (field, set) in staff_only {
            if set {
                errors.push(DomainError::new(field, "only staff can set this"));
            }
        }
    }
    let subject = domain::ticket::parse_subject(&input.subject).map_err(|e| errors.push(e)).ok();
    let tags = domain::ticket::parse_tags(&input.tags).map_err(|e| errors.push(e)).ok();
    let defs = state.fields().await?;
    let custom = fields::resolve(&defs, &input.custom_fields).map_err(|e| errors.extend(e)).unwrap_or_default();
    errors.extend(fields::missing_required(&defs, &custom));
    check_assignment(&state, input.assignee_id, input.team_id, &mut errors).await?;
    if let Some(p) = input.problem_id {
        check_problem(&state, &caller, p, &mut errors).await?;
    }
    let requester = requester(&state, &caller, input, &mut errors).await?;
    let channel = input.channel.unwrap_or(if staff { Channel::Api } else { Channel::Web });
    let visibility = if input.public { Visibility::Public } else { Visibility::Internal };
    let message = new_message(
        &state,
        &caller,
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
    let (Some(subject), Some(tags), Some(requester), Some(message), true) =
        (subject, tags, requester, message, errors.is_empty())
    else {
        return Err(ApiError::Invalid(errors));
    };
    let ticket_type = input.ticket_type.unwrap_or(if input.problem_id.is_some() {
        TicketType::Incident
    } else {
        TicketType::Question
    });
    if input.problem_id.is_some() && ticket_type != TicketType::Incident {
        return Err(ApiError::invalid("problem_id", "only an incident can be linked to a problem"));
    }
    let (ticket, events) = lifecycle::open_ticket(
        NewTicket {
            subject,
            status: input.status,
            priority: input.priority.unwrap_or(Priority::Normal),
            ticket_type,
            channel,
            requester_id: requester.customer().id,
            organization_id: requester.customer().organization_id,
            assignee_id: input.assignee_id.map(UserId),
            team_id: input.team_id.map(TeamId),
            tags,
            custom_fields: custom.into_iter().filter(|(_, _, v)| !v.is_null()).map(|(id, _, v)| (id, v)).collect(),
            problem_id: input.problem_id.map(TicketId),
            follow_up_of: None,
        },
        caller.actor(),
        now,
    )?;
    let key = idem.key(&caller, "tickets", &body.raw);
    let new_requester = match requester {
        Requester::ByEmail(c) => Some(c),
        Requester::Known(_) => None,
    };
    let created =
        state.store.create_ticket(TicketCreate { ticket, events, messages: vec![message], new_requester }, key).await?;
    // The store hands back what it wrote; read it back only when it did not.
    let view = match created.stored {
        Some(stored) => {
            let staff = caller.principal.is_staff();
            let mut messages = stored.messages;
            messages.retain(|m| staff || m.visibility == Visibility::Public);
            TicketView { ticket: stored.ticket, messages, events: staff.then_some(stored.events) }
        }
        None => view(&state, &caller, state.store.ticket(created.id).await?.ok_or(ApiError::NotFound)?).await?,
    };
    let mut response = respond(StatusCode::CREATED, view);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/tickets/{}", created.id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if created.replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}
