//! Imports (the demo's simulated department, benchmarks, data from other
//! help desks): tickets are made into rows first, without the database
//! (`prepare_import`, on the caller's thread), so that storing them
//! (`import_prepared`) only binds and steps. On SQLite one thread writes;
//! the caller prepares the next page while the writer stores this one.

use domain::EventKind;
use domain::event::NewEvent;
use serde_json::{Value, json};

use super::SqlStore;
use super::batch::{
    INSERT_EVENT, INSERT_MESSAGE, announced, chronological_key, event_values, message_event, search_row,
};
use super::tickets::{INSERT_TICKET_COLUMNS, message_values, ticket_values};
use crate::rows::to_json;
use crate::{Result, SqlValue, StoreError, TicketChange, TicketCreate, Transaction};
use domain::TicketId;

/// Tickets ready to import (`TicketStore::prepare_import`).
pub struct PreparedImport(pub(crate) Prepared);

pub(crate) enum Prepared {
    /// Tickets that need the database while they are stored (a requester
    /// to find or create, attachments, mail identities, collaborators):
    /// stored as creations are.
    Tickets(Vec<TicketCreate>),
    Rows(ImportRows),
}

/// Rows whose first column is a ticket's place in the page until the
/// tickets are stored and numbered.
pub(crate) struct ImportRows {
    tickets: Vec<Vec<SqlValue>>,
    search: Vec<Vec<SqlValue>>,
    messages: Vec<Vec<SqlValue>>,
    events: Vec<Vec<SqlValue>>,
    /// `message_added` events, whose value names their message's id once
    /// stored: (event row, message row, the value without the id).
    message_events: Vec<(usize, usize, Value)>,
    /// What each ticket's creation announces (`ticket_id` its place).
    changes: Vec<TicketChange>,
}

/// The `to_value` column of an event row.
const EVENT_TO: usize = 8;

impl PreparedImport {
    pub fn len(&self) -> usize {
        match &self.0 {
            Prepared::Tickets(t) => t.len(),
            Prepared::Rows(r) => r.tickets.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether a ticket can be made into rows without the database.
fn self_contained(new: &TicketCreate) -> bool {
    new.new_requester.is_none()
        && new.messages.iter().all(|m| m.attachment_ids.is_empty() && m.email.is_none())
        && new.events.iter().all(|e| e.kind != EventKind::CollaboratorAdded)
}

impl SqlStore {
    pub(crate) fn prepare(&self, batch: Vec<TicketCreate>) -> PreparedImport {
        if !batch.iter().all(self_contained) {
            return PreparedImport(Prepared::Tickets(batch));
        }
        let mut rows = ImportRows {
            tickets: Vec::with_capacity(batch.len()),
            search: Vec::with_capacity(batch.len()),
            messages: Vec::new(),
            events: Vec::new(),
            message_events: Vec::new(),
            changes: Vec::with_capacity(batch.len()),
        };
        for (place, new) in batch.into_iter().enumerate() {
            let mut ticket = new.ticket;
            ticket.id = TicketId(place as i64);
            rows.search.push(search_row(&ticket, &new.messages));
            let first_message = rows.messages.len();
            let mut all: Vec<(NewEvent, Option<usize>)> = new.events.into_iter().map(|e| (e, None)).collect();
            for (k, m) in new.messages.iter().enumerate() {
                all.push((message_event(m, 0), Some(first_message + k)));
                rows.messages.push(message_values(ticket.id, m));
            }
            // Stable, as `chronological`: the same numbering as a creation's.
            all.sort_by_key(|(e, _)| chronological_key(e));
            let news: Vec<NewEvent> = all.iter().map(|(e, _)| announced(e.at, e.actor, e.kind)).collect();
            rows.changes.push(TicketChange::of(&ticket, &news));
            for (i, (e, message)) in all.into_iter().enumerate() {
                let mut row = event_values(ticket.id, i as i64 + 1, &e);
                if let Some(message) = message {
                    row[EVENT_TO] = SqlValue::Null;
                    rows.message_events.push((rows.events.len(), message, e.to));
                }
                rows.events.push(row);
            }
            rows.tickets.push(ticket_values(&ticket));
        }
        PreparedImport(Prepared::Rows(rows))
    }

    /// Stores a prepared page in `tx`; returns the tickets' numbers in order.
    pub(crate) async fn store_prepared(&self, tx: &mut dyn Transaction, page: PreparedImport) -> Result<Vec<TicketId>> {
        let rows = match page.0 {
            Prepared::Rows(rows) => rows,
            Prepared::Tickets(batch) => {
                let mut ids = Vec::with_capacity(batch.len());
                for chunk in batch.chunks(500) {
                    ids.extend(self.insert_tickets(tx, chunk).await?.into_iter().map(|s| s.ticket.id));
                }
                return Ok(ids);
            }
        };
        let ImportRows { tickets, mut search, mut messages, mut events, message_events, mut changes } = rows;
        let count = tickets.len();
        let ids = tx.insert_rows(&format!("INSERT INTO tickets ({INSERT_TICKET_COLUMNS})"), tickets, "", true).await?;
        if ids.len() != count {
            return Err(StoreError::Backend("ticket insert returned the wrong number of ids".into()));
        }
        for row in search.iter_mut().chain(messages.iter_mut()).chain(events.iter_mut()) {
            numbered(row, &ids)?;
        }
        tx.insert_rows(&self.insert_search(), search, "", false).await?;
        let message_ids = tx.insert_rows(INSERT_MESSAGE, messages, "", true).await?;
        for (event, message, mut to) in message_events {
            let id = message_ids.get(message).ok_or_else(|| StoreError::Backend("message ids missing".into()))?;
            to["message_id"] = json!(id);
            if let Some(row) = events.get_mut(event) {
                row[EVENT_TO] = to_json(&to).into();
            }
        }
        tx.insert_rows(INSERT_EVENT, events, "", false).await?;
        for (change, id) in changes.iter_mut().zip(&ids) {
            change.ticket_id = TicketId(*id);
            tx.notify(change).await?;
        }
        Ok(ids.into_iter().map(TicketId).collect())
    }
}

/// A row's first column, a ticket's place in the page, made its number.
fn numbered(row: &mut [SqlValue], ids: &[i64]) -> Result<()> {
    let id = match row.first() {
        Some(SqlValue::Int(place)) => usize::try_from(*place).ok().and_then(|p| ids.get(p)).copied(),
        _ => None,
    };
    let (Some(id), Some(first)) = (id, row.first_mut()) else {
        return Err(StoreError::Backend("an import row without its ticket".into()));
    };
    *first = SqlValue::Int(id);
    Ok(())
}
