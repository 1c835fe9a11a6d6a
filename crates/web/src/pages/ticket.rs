//! `/tickets/{id}`: one ticket as an agent reads it: the conversation
//! (public replies, internal notes set apart, attachments, the original
//! email), its details and its history. The same check as the API decides
//! who may open it; others get "no such page".

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::{Action, AuthorKind, CustomerId, EventKind, Status, TicketEvent, UserId, Visibility};
use serde::Deserialize;

use super::views::{VIEWS, View, when};
use super::{PageError, Staff, render, signed_in_name};
use crate::AppState;
use crate::api::tickets::messages::{AddMessage, add_message};
use crate::api::tickets::{load, view};
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, IfMatch};

pub fn router() -> Router<AppState> {
    Router::new().route("/tickets/{id}", get(ticket)).route("/tickets/{id}/reply", post(reply))
}

/// What the reply form shows: empty, or the agent's text kept with why it
/// was not saved.
#[derive(Default)]
struct Draft {
    text: String,
    internal: bool,
    error: Option<String>,
}

struct MessageRow {
    id: i64,
    visibility: &'static str,
    author: String,
    label: &'static str,
    at: String,
    at_iso: String,
    text: String,
    email: bool,
    files: Vec<(i64, String)>,
}

struct EventRow {
    at: String,
    at_iso: String,
    text: String,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage<'a> {
    views: &'a [View],
    current: &'static str,
    me: String,
    number: i64,
    subject: String,
    details: Vec<(&'static str, String)>,
    messages: Vec<MessageRow>,
    events: Vec<EventRow>,
    version: i64,
    draft: String,
    public: bool,
    error: Option<String>,
}

/// A JSON value as a person reads it: text without quotes, null as "none".
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "none".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn describe(e: &TicketEvent, names: &HashMap<i64, String>) -> String {
    let who = match (e.actor.kind, e.actor.id) {
        (AuthorKind::Staff, Some(id)) => names.get(&id).cloned().unwrap_or_else(|| format!("agent {id}")),
        (AuthorKind::Customer, _) => "the customer".into(),
        _ => "Switchboard".into(),
    };
    let field = e.field.clone().unwrap_or_else(|| e.kind.as_str().replace('_', " "));
    match e.kind {
        EventKind::Created => format!("{who} opened the ticket"),
        EventKind::MessageAdded => {
            let what = if e.to["visibility"] == "internal" { "a note" } else { "a reply" };
            format!("{who} added {what}")
        }
        EventKind::Assigned => match e.to.as_i64() {
            Some(id) => {
                format!("{who} assigned it to {}", names.get(&id).cloned().unwrap_or_else(|| format!("agent {id}")))
            }
            None => format!("{who} unassigned it"),
        },
        EventKind::EmailSent => format!("mail sent to {}", plain(&e.to["to"])),
        EventKind::EmailFailed => format!("mail to {} failed: {}", plain(&e.to["to"]), plain(&e.to["error"])),
        _ if !e.from.is_null() || !e.to.is_null() => {
            format!("{who} changed {field} from {} to {}", plain(&e.from), plain(&e.to))
        }
        _ => format!("{who}: {field}"),
    }
}

async fn ticket(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    page(&state, &caller, id, Draft::default()).await
}

#[derive(Deserialize)]
struct ReplyForm {
    body: String,
    visibility: String,
    #[serde(default)]
    status: String,
    version: i64,
}

/// Sends the form through the API's own handler (same rules, events and
/// outbox); a stale version or a broken rule shows the page again with the
/// text kept.
async fn reply(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    Form(form): Form<ReplyForm>,
) -> Result<Response, PageError> {
    let internal = form.visibility == "internal";
    let status = match form.status.as_str() {
        "" => None,
        s => Some(Status::parse("status", s).map_err(ApiError::from)?),
    };
    let input = AddMessage {
        body: Some(form.body.clone()),
        body_html: None,
        public: !internal,
        attachment_ids: vec![],
        status,
        channel: None,
        send_email: true,
    };
    let keep = |error: String| Draft { text: form.body.clone(), internal, error: Some(error) };
    let sent = add_message(
        State(state.clone()),
        caller.clone(),
        Path(id),
        IfMatch(Some(form.version)),
        ApiJson { value: input, raw: Bytes::new() },
    )
    .await;
    match sent {
        Ok(_) => Ok(Redirect::to(&format!("/tickets/{id}")).into_response()),
        Err(ApiError::Stale { .. }) => {
            let why = "Someone changed this ticket while you were writing. Here it is as it is now; your text is kept.";
            page(&state, &caller, id, keep(why.into())).await
        }
        Err(ApiError::Invalid(errors)) => {
            let why = errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ");
            page(&state, &caller, id, keep(why)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The ticket page, with the reply form showing `draft`.
async fn page(state: &AppState, caller: &Caller, id: i64, draft: Draft) -> Result<Response, PageError> {
    let t = load(state, caller, id, Action::ViewTicket).await?;
    let full = view(state, caller, t).await?;
    let store = &state.store;
    // Names of the people who appear, each read once.
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut customers: HashMap<i64, String> = HashMap::new();
    let staff_ids = full
        .messages
        .iter()
        .filter(|m| m.author_kind == AuthorKind::Staff)
        .filter_map(|m| m.author_id)
        .chain(full.events.iter().flatten().filter_map(|e| e.actor.id.filter(|_| e.actor.kind == AuthorKind::Staff)))
        .chain(full.ticket.assignee_id.map(|a| a.0));
    for uid in staff_ids {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(uid) {
            let name = store.user(UserId(uid)).await.map_err(ApiError::from)?.map(|u| u.name).unwrap_or_default();
            slot.insert(name);
        }
    }
    let requester = store.customer(full.ticket.requester_id).await.map_err(ApiError::from)?;
    if let Some(r) = &requester {
        customers.insert(r.id.0, r.name.clone());
    }
    for m in full.messages.iter().filter(|m| m.author_kind == AuthorKind::Customer) {
        if let Some(cid) = m.author_id
            && !customers.contains_key(&cid)
        {
            let name =
                store.customer(CustomerId(cid)).await.map_err(ApiError::from)?.map(|c| c.name).unwrap_or_default();
            customers.insert(cid, name);
        }
    }
    let messages = full
        .messages
        .iter()
        .map(|m| {
            let (at, at_iso) = when(m.created_at);
            let author = match (m.author_kind, m.author_id) {
                (AuthorKind::Staff, Some(id)) => names.get(&id).cloned().unwrap_or_default(),
                (AuthorKind::Customer, Some(id)) => customers.get(&id).cloned().unwrap_or_default(),
                _ => "Switchboard".into(),
            };
            let label = match (m.visibility, m.author_kind) {
                (Visibility::Internal, _) => "internal note",
                (_, AuthorKind::Customer) => "customer",
                (_, AuthorKind::System) => "automatic",
                _ => "reply",
            };
            MessageRow {
                id: m.id.0,
                visibility: m.visibility.as_str(),
                author,
                label,
                at,
                at_iso,
                text: m.body_text.clone(),
                email: m.metadata.get("email").is_some(),
                files: m.attachments.iter().map(|a| (a.id.0, a.file_name.clone())).collect(),
            }
        })
        .collect();
    let events = full
        .events
        .iter()
        .flatten()
        .map(|e| {
            let (at, at_iso) = when(e.at);
            EventRow { at, at_iso, text: describe(e, &names) }
        })
        .collect();
    let t = &full.ticket;
    let team = match t.team_id {
        Some(team) => store.team(team).await.map_err(ApiError::from)?.map(|t| t.name).unwrap_or_default(),
        None => "none".into(),
    };
    let details = vec![
        ("Status", t.status.as_str().to_string()),
        ("Priority", t.priority.as_str().to_string()),
        ("Type", t.ticket_type.as_str().to_string()),
        ("Channel", t.channel.as_str().to_string()),
        ("Requester", requester.map(|r| format!("{} <{}>", r.name, r.email)).unwrap_or_default()),
        ("Team", team),
        ("Assignee", t.assignee_id.and_then(|a| names.get(&a.0).cloned()).unwrap_or_else(|| "none".into())),
        ("Tags", if t.tags.is_empty() { "none".into() } else { t.tags.join(", ") }),
    ];
    let page = TicketPage {
        views: &VIEWS,
        current: "",
        me: signed_in_name(state, caller).await?,
        number: t.id.0,
        subject: t.subject.clone(),
        details,
        messages,
        events,
        version: t.version,
        draft: draft.text,
        public: !draft.internal,
        error: draft.error,
    };
    Ok(render(&page)?.into_response())
}
