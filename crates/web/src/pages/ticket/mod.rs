//! `/tickets/{id}`: one ticket as an agent works it: the conversation
//! timeline (replies, internal notes set apart, changes in words,
//! attachments with previews, the email as sent in a sandboxed frame, the
//! original .eml), the reply and note editor with macros, the side panel
//! that edits the ticket's fields, and the customer's 360° panel. The same
//! check as the API decides who may open it; others get "no such page".

mod email;
mod panel;
mod reply;
mod service;
mod timeline;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::{Action, CustomFieldDef, CustomerId, DomainError, FieldKind, Priority, Status, TicketType};
use serde::Deserialize;
use store::TicketSort;

use self::timeline::{Item, timeline};
use super::names::{Names, staff};
use super::{PageError, Shell, Staff, render};
use crate::AppState;
use crate::api::tickets::macros::MacroText;
use crate::api::tickets::{load, ticket_query, view};
use crate::error::ApiError;
use crate::extract::Caller;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets/{id}", get(ticket))
        .route("/tickets/{id}/reply", post(reply::reply))
        .route("/tickets/{id}/fields", post(panel::save_fields))
        .route("/tickets/{id}/take", post(panel::take))
        .route("/tickets/{id}/merge", post(panel::merge))
        .route("/tickets/{id}/time", post(panel::log_time))
        .route("/tickets/{id}/escalate", post(service::escalate))
        .route("/tickets/{id}/approval", post(service::request_approval))
        .route("/tickets/{id}/major-incident", post(service::major_incident))
        .route("/tickets/{id}/link", post(service::link))
        .route("/tickets/{id}/messages/{message_id}/html", get(email::html))
}

/// What the reply form shows: empty, a macro inserted, or the agent's text
/// kept with why it was not saved.
#[derive(Default)]
pub(crate) struct Draft {
    pub text: String,
    pub internal: bool,
    pub status: String,
    pub macro_id: Option<i64>,
    pub error: Option<String>,
}

/// A macro the agent can insert, its text already filled in for this ticket.
pub(crate) struct MacroOption {
    id: i64,
    name: String,
    body: String,
    public: bool,
    status: String,
}

/// A custom field in the side panel.
pub(crate) struct FieldInput {
    key: String,
    label: String,
    kind: &'static str,
    value: String,
    options: Vec<String>,
    error: Option<String>,
}

/// A target as the side panel shows it.
pub(crate) struct SlaLine {
    title: &'static str,
    status: &'static str,
    text: String,
    iso: String,
}

/// "2 h 5 min".
fn span(ms: i64) -> String {
    match ms.abs() / 60_000 {
        0 => "under a minute".to_string(),
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} days", m / (24 * 60)),
    }
}

/// "in 2 h 5 min", "20 min ago".
fn relative(ms: i64, now: i64) -> String {
    if ms >= now { format!("in {}", span(ms - now)) } else { format!("{} ago", span(now - ms)) }
}

fn sla_lines(shell: &Shell, state: &domain::sla::SlaState, now: i64) -> Vec<SlaLine> {
    use domain::sla::TargetStatus;
    state
        .targets
        .iter()
        .map(|t| {
            let (text, iso) = match (t.status, t.due_at) {
                (TargetStatus::Running, Some(due)) => {
                    (format!("due {} ({})", shell.when(due).text, relative(due, now)), shell.when(due).iso)
                }
                (TargetStatus::Breached, Some(due)) => {
                    (format!("breached {} ({})", shell.when(due).text, relative(due, now)), shell.when(due).iso)
                }
                (TargetStatus::Met, _) => (format!("met in {}", span(t.elapsed_ms)), String::new()),
                (TargetStatus::Paused, _) => ("paused while the ticket waits".into(), String::new()),
                _ => ("not started".into(), String::new()),
            };
            SlaLine { title: t.kind.title(), status: t.status.as_str(), text, iso }
        })
        .collect()
}

pub(crate) struct Previous {
    id: i64,
    subject: String,
    status: &'static str,
    at: String,
}

/// The customer 360° panel.
pub(crate) struct Customer360 {
    id: i64,
    name: String,
    email: String,
    phone: String,
    organization: Option<(i64, String)>,
    tier: &'static str,
    value: String,
    tags: String,
    since: String,
    previous: Vec<Previous>,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    shell: Shell,
    number: i64,
    subject: String,
    status: &'static str,
    priority: &'static str,
    ticket_type: &'static str,
    channel: &'static str,
    team_id: i64,
    assignee_id: i64,
    assigned_to_me: bool,
    tags: String,
    version: i64,
    closed: bool,
    merged_into: Option<i64>,
    /// Handle time logged on the ticket, all of it and the caller's.
    time_logged: (String, String),
    items: Vec<Item>,
    draft: Draft,
    macros: Vec<MacroOption>,
    teams: Vec<(i64, String)>,
    agents: Vec<(i64, String)>,
    fields: Vec<FieldInput>,
    panel_error: Option<String>,
    sla: Vec<SlaLine>,
    service: service::ServicePanel,
    customer: Option<Customer360>,
    notice: Option<String>,
}

impl TicketPage {
    fn statuses(&self) -> &'static [Status] {
        Status::ALL
    }
    fn priorities(&self) -> &'static [Priority] {
        Priority::ALL
    }
    fn types(&self) -> &'static [TicketType] {
        TicketType::ALL
    }
    fn chosen(&self, id: &i64) -> bool {
        self.draft.macro_id == Some(*id)
    }
}

#[derive(Deserialize)]
struct TicketParams {
    /// Insert this macro into the reply (the form without JavaScript).
    #[serde(rename = "macro")]
    macro_id: Option<String>,
    notice: Option<String>,
}

async fn ticket(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    Query(params): Query<TicketParams>,
) -> Result<Response, PageError> {
    let mut draft = Draft::default();
    if let Some(m) = params.macro_id.as_deref().filter(|m| !m.is_empty()) {
        let m = m.parse::<i64>().map_err(|_| ApiError::bad_request("not a macro"))?;
        let found = crate::api::macros::usable(&state, &caller, m).await?;
        let t = load(&state, &caller, id, Action::ViewTicket).await?;
        draft.text = MacroText::new(&state, &caller, &t).await?.render(&found.body)?;
        draft.internal = !found.public;
        draft.status = found.actions.status.map(|s| s.as_str().to_string()).unwrap_or_default();
        draft.macro_id = Some(found.id.0);
    }
    page(&state, &caller, id, draft, &[], params.notice).await
}

fn field_value(def: &CustomFieldDef, v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Bool(b)) if def.kind == FieldKind::Checkbox => if *b { "yes" } else { "no" }.into(),
        Some(other) => other.to_string(),
    }
}

/// The ticket page; `draft` fills the reply form, `panel_errors` go next
/// to the side panel's fields.
pub(crate) async fn page(
    state: &AppState,
    caller: &Caller,
    id: i64,
    draft: Draft,
    panel_errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    let t = load(state, caller, id, Action::ViewTicket).await?;
    let full = view(state, caller, t).await?;
    let t = &full.ticket;
    let shell = Shell::new(state, caller, "").await?;
    let mut customer_ids: Vec<CustomerId> = vec![t.requester_id];
    customer_ids.extend(
        full.messages
            .iter()
            .filter(|m| m.author_kind == domain::AuthorKind::Customer)
            .filter_map(|m| m.author_id.map(CustomerId)),
    );
    let names = Names::with_customers(state, customer_ids).await?;
    let items = timeline(&shell, &full.messages, full.events.as_deref().unwrap_or_default(), &names);
    let entries = domain::TimeEntry::of_events(full.events.as_deref().unwrap_or_default());
    let mine: i64 = entries.iter().filter(|e| Some(e.agent_id) == caller.staff_id()).map(|e| e.ms).sum();
    let time_logged = (
        jobs::cockpit::handle_text(entries.iter().map(|e| e.ms).sum::<i64>() as f64),
        jobs::cockpit::handle_text(mine as f64),
    );
    let now = state.now();
    let sla =
        match jobs::sla::state_of(state.store.as_ref(), t, full.events.as_deref().unwrap_or_default(), now).await? {
            Some(s) => sla_lines(&shell, &s, now),
            None => vec![],
        };

    let mut macros = Vec::new();
    let texts = MacroText::new(state, caller, t).await?;
    for m in state.store.macros(caller.staff_id()).await.map_err(ApiError::from)?.into_iter().filter(|m| m.active) {
        let body = texts.render(&m.body)?;
        let status = m.actions.status.map(|s| s.as_str().to_string()).unwrap_or_default();
        macros.push(MacroOption { id: m.id.0, name: m.name, body, public: m.public, status });
    }
    let errors = super::parts::by_field(panel_errors);
    let defs = state.fields().await?;
    let fields = defs
        .iter()
        .filter(|d| d.active)
        .map(|d| FieldInput {
            key: d.key.clone(),
            label: d.label.clone(),
            kind: d.kind.as_str(),
            value: field_value(d, t.custom_fields.get(&d.id)),
            options: d.options.clone(),
            error: errors.get(&format!("custom_fields.{}", d.key)).cloned(),
        })
        .collect();
    let known = ["status", "priority", "type", "team_id", "assignee_id", "tags"];
    let panel_error = {
        let other: Vec<String> = panel_errors
            .iter()
            .map(|e| {
                if known.contains(&e.field.as_str()) || e.field.starts_with("custom_fields.") {
                    e.message.clone()
                } else {
                    format!("{}: {}", e.field, e.message)
                }
            })
            .collect();
        if other.is_empty() { None } else { Some(other.join("; ")) }
    };
    let customer = match state.store.customer(t.requester_id).await.map_err(ApiError::from)? {
        Some(c) => {
            let organization = match c.organization_id {
                Some(o) => state.store.organization(o).await.map_err(ApiError::from)?.map(|o| (o.id.0, o.name)),
                None => None,
            };
            let q = ticket_query(caller, &format!("requester:{}", c.id), TicketSort::newest_first(), None, 6)?;
            let previous = state
                .store
                .tickets(&q)
                .await
                .map_err(ApiError::from)?
                .items
                .into_iter()
                .filter(|p| p.id != t.id)
                .take(5)
                .map(|p| Previous {
                    id: p.id.0,
                    subject: p.subject,
                    status: p.status.as_str(),
                    at: shell.when(p.created_at).text,
                })
                .collect();
            Some(Customer360 {
                id: c.id.0,
                name: c.name,
                email: c.email,
                phone: c.phone.unwrap_or_default(),
                organization,
                tier: c.tier.as_str(),
                value: c.annual_value_cents.map(|v| format!("{:.2} a year", v as f64 / 100.0)).unwrap_or_default(),
                tags: c.tags.join(" "),
                since: shell.when(c.created_at).text,
                previous,
            })
        }
        None => None,
    };
    let teams = state.directory().await?.teams.iter().map(|t| (t.id.0, t.name.clone())).collect();
    let agents = staff(state).await?.into_iter().filter(|u| u.active).map(|u| (u.id.0, u.name)).collect();
    let page = TicketPage {
        number: t.id.0,
        subject: t.subject.clone(),
        status: t.status.as_str(),
        priority: t.priority.as_str(),
        ticket_type: t.ticket_type.as_str(),
        channel: t.channel.as_str(),
        team_id: t.team_id.map(|x| x.0).unwrap_or(0),
        assignee_id: t.assignee_id.map(|x| x.0).unwrap_or(0),
        assigned_to_me: t.assignee_id == caller.staff_id(),
        tags: t.tags.join(" "),
        version: t.version,
        closed: t.status == Status::Closed,
        merged_into: t.merged_into.map(|m| m.0),
        time_logged,
        items,
        draft,
        macros,
        teams,
        agents,
        fields,
        panel_error,
        sla,
        service: service::panel(state, caller, t).await?,
        customer,
        notice,
        shell,
    };
    let status = if panel_errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, render(&page)?).into_response())
}
