//! Storing new tickets with a fixed number of statements, however many:
//! one multi-row INSERT each for tickets, search rows, messages and events.
//! Creates, imports and follow-ups all go through here, and on SQLite
//! concurrent creates share one transaction (see `writer`).

use domain::event::NewEvent;
use domain::{Actor, EventId, EventKind, Message, MessageId, TicketEvent, TicketId, Visibility};
use serde_json::{Value, json};

use super::SqlStore;
use super::tickets::{INSERT_TICKET_COLUMNS, search_text, ticket_values};
use crate::rows::to_json;
use crate::{NewMessage, Result, SqlValue, StoreError, StoredTicket, TicketChange, TicketCreate, Transaction};

/// The `message_added` event storage records for each stored message.
pub(crate) fn message_event(m: &NewMessage, message_id: i64) -> NewEvent {
    NewEvent {
        at: m.created_at,
        actor: Actor { kind: m.author_kind, id: m.author_id },
        kind: EventKind::MessageAdded,
        field: None,
        from: serde_json::Value::Null,
        to: json!({ "message_id": message_id, "visibility": m.visibility, "author_kind": m.author_kind, "channel": m.channel }),
    }
}

/// Events in the order storage numbers them: by time; within one
/// instant, created → messages → changes.
pub(crate) fn chronological(events: &mut [NewEvent]) {
    events.sort_by_key(chronological_key);
}

pub(crate) fn chronological_key(e: &NewEvent) -> (domain::Millis, bool, bool) {
    (e.at, e.kind != EventKind::Created, e.kind != EventKind::MessageAdded)
}

/// An event as a change announces it (kind, time and actor only).
pub(crate) fn announced(at: domain::Millis, actor: Actor, kind: EventKind) -> NewEvent {
    NewEvent { at, actor, kind, field: None, from: Value::Null, to: Value::Null }
}

impl SqlStore {
    /// Inserts new tickets with their messages and events; returns their
    /// numbers in the order given.
    pub(crate) async fn insert_tickets(
        &self,
        tx: &mut dyn Transaction,
        news: &[TicketCreate],
    ) -> Result<Vec<StoredTicket>> {
        if news.is_empty() {
            return Ok(Vec::new());
        }
        let requesters =
            super::directory::find_or_insert_customers(tx, news.iter().map(|n| n.new_requester.as_ref())).await?;
        let mut tickets = Vec::with_capacity(news.len());
        for (new, found) in news.iter().zip(requesters) {
            let mut ticket = new.ticket.clone();
            let mut events = new.events.clone();
            if let Some((requester, organization)) = found {
                ticket.requester_id = requester;
                if ticket.organization_id.is_none() {
                    ticket.organization_id = organization;
                }
                for e in events.iter_mut().filter(|e| e.kind == EventKind::Created) {
                    e.to["requester_id"] = json!(ticket.requester_id);
                    e.to["organization_id"] = json!(ticket.organization_id);
                }
            }
            tickets.push((ticket, events));
        }

        let ids = tx
            .insert_rows(
                &format!("INSERT INTO tickets ({INSERT_TICKET_COLUMNS})"),
                tickets.iter().map(|(t, _)| ticket_values(t)).collect(),
                "",
                true,
            )
            .await?;
        if ids.len() != tickets.len() {
            return Err(StoreError::Backend("ticket insert returned the wrong number of ids".into()));
        }
        for ((ticket, _), id) in tickets.iter_mut().zip(&ids) {
            ticket.id = TicketId(*id);
        }

        // The search rows hold the text of the first messages.
        let search_rows = tickets.iter().zip(news).map(|((t, _), new)| search_row(t, &new.messages)).collect();
        tx.insert_rows(&self.insert_search(), search_rows, "", false).await?;

        let message_rows: Vec<Vec<SqlValue>> = tickets
            .iter()
            .zip(news)
            .flat_map(|((t, _), new)| new.messages.iter().map(move |m| super::tickets::message_values(t.id, m)))
            .collect();
        let message_ids = tx.insert_rows(INSERT_MESSAGE, message_rows, "", true).await?;
        let mut message_ids = message_ids.into_iter();

        let mut event_rows = Vec::new();
        let mut stored = Vec::with_capacity(tickets.len());
        for ((ticket, events), new) in tickets.iter().zip(news) {
            let mut all = events.clone();
            let mut messages = Vec::with_capacity(new.messages.len());
            for m in &new.messages {
                let mid = message_ids.next().ok_or_else(|| StoreError::Backend("message ids missing".into()))?;
                super::tickets::attach(tx, mid, &m.attachment_ids).await?;
                super::mail::store_email(tx, ticket.id, mid, m).await?;
                all.push(message_event(m, mid));
                messages.push(stored_message(ticket.id, mid, m));
            }
            chronological(&mut all);
            let mut kept = Vec::with_capacity(all.len());
            for (i, e) in all.into_iter().enumerate() {
                let seq = i as i64 + 1;
                event_rows.push(event_values(ticket.id, seq, &e));
                kept.push(TicketEvent {
                    id: EventId(0),
                    ticket_id: ticket.id,
                    seq,
                    at: e.at,
                    actor: e.actor,
                    kind: e.kind,
                    field: e.field,
                    from: e.from,
                    to: e.to,
                });
            }
            stored.push(StoredTicket { ticket: ticket.clone(), messages, events: kept });
        }
        let event_ids = tx.insert_rows(INSERT_EVENT, event_rows, "", true).await?;
        for (e, id) in stored.iter_mut().flat_map(|s| s.events.iter_mut()).zip(event_ids) {
            e.id = EventId(id);
        }
        for s in &stored {
            let side: Vec<NewEvent> =
                s.events.iter().filter(|e| e.kind == EventKind::CollaboratorAdded).map(new_event).collect();
            super::mail::apply_events(tx, s.ticket.id, &side).await?;
        }
        for s in &stored {
            let news: Vec<NewEvent> = s.events.iter().map(|e| announced(e.at, e.actor, e.kind)).collect();
            tx.notify(&TicketChange::of(&s.ticket, &news)).await?;
        }
        Ok(stored)
    }
}

/// A ticket's search row: its subject and its first messages' text, the
/// public and the internal apart.
pub(crate) fn search_row(ticket: &domain::Ticket, messages: &[NewMessage]) -> Vec<SqlValue> {
    let text = |v: Visibility| {
        let texts: Vec<String> =
            messages.iter().filter(|m| m.visibility == v).map(|m| search_text(&m.body_text)).collect();
        texts.join(" ")
    };
    vec![
        ticket.id.0.into(),
        search_text(&ticket.subject).into(),
        text(Visibility::Public).into(),
        text(Visibility::Internal).into(),
    ]
}

impl SqlStore {
    /// The INSERT of search rows (`search_row`), keyed as the backend keys them.
    pub(crate) fn insert_search(&self) -> String {
        format!("INSERT INTO ticket_search ({}, subject, body, notes)", self.search_key())
    }
}

/// A message as stored (attachments are read back by callers that need them).
fn stored_message(ticket: TicketId, id: i64, m: &NewMessage) -> Message {
    Message {
        id: MessageId(id),
        ticket_id: ticket,
        visibility: m.visibility,
        author_kind: m.author_kind,
        author_id: m.author_id,
        channel: m.channel,
        body_text: m.body_text.clone(),
        body_html: m.body_html.clone(),
        metadata: m.metadata.clone(),
        attachments: vec![],
        created_at: m.created_at,
    }
}

pub(crate) const INSERT_MESSAGE: &str = "INSERT INTO messages (ticket_id, visibility, author_kind, author_id, channel, \
    body_text, body_html, metadata, created_at)";

pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO ticket_events (ticket_id, seq, at, actor_kind, actor_id, kind, field, from_value, to_value)";

pub(crate) fn event_values(ticket: TicketId, seq: i64, e: &NewEvent) -> Vec<SqlValue> {
    vec![
        ticket.0.into(),
        seq.into(),
        e.at.into(),
        SqlValue::Name(e.actor.kind.as_str()),
        e.actor.id.into(),
        SqlValue::Name(e.kind.as_str()),
        e.field.clone().into(),
        to_json(&e.from).into(),
        to_json(&e.to).into(),
    ]
}

fn new_event(e: &TicketEvent) -> NewEvent {
    NewEvent { at: e.at, actor: e.actor, kind: e.kind, field: e.field.clone(), from: e.from.clone(), to: e.to.clone() }
}
