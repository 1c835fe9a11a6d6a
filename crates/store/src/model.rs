//! What goes in and out of storage besides the domain types themselves.

use domain::event::NewEvent;
use domain::search::{TextQuery, TicketFilter};
use domain::{
    AttachmentId, AuthorKind, Channel, CustomerId, EventKind, Millis, OrganizationId, TeamId, Ticket, TicketId,
    TicketScope, TokenId, UserId, Visibility,
};
use serde::{Deserialize, Serialize};

use crate::Cursor;

/// A message before storage numbers it.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub visibility: Visibility,
    pub author_kind: AuthorKind,
    pub author_id: Option<i64>,
    pub channel: Channel,
    pub body_text: String,
    pub body_html: String,
    pub metadata: serde_json::Value,
    /// Uploaded attachments to attach to this message.
    pub attachment_ids: Vec<AttachmentId>,
    pub created_at: Millis,
    /// For mail: its identity, stored for threading and exactly-once
    /// ingest. A second message with the same content hash is refused
    /// (`Duplicate("email")`) and the whole write with it.
    pub email: Option<domain::EmailIdentity>,
}

/// One ticket's new state with the events (and messages) that led to it,
/// written together or not at all. `expected_version` is the version the
/// change was computed from.
#[derive(Debug, Clone)]
pub struct TicketWrite {
    pub ticket: Ticket,
    pub expected_version: i64,
    pub events: Vec<NewEvent>,
    pub messages: Vec<NewMessage>,
}

/// A committed change, as delivered to live subscribers on every node.
/// It carries where the ticket sits so each subscriber's access can be
/// checked without another read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketChange {
    pub ticket_id: TicketId,
    pub version: i64,
    pub kinds: Vec<EventKind>,
    pub team_id: Option<TeamId>,
    pub assignee_id: Option<UserId>,
    pub requester_id: CustomerId,
    pub organization_id: Option<OrganizationId>,
    pub at: Millis,
    /// Who made the change (the first event's actor), so a workspace can
    /// tell a customer's reply from a colleague's.
    #[serde(default)]
    pub actor: Option<domain::Actor>,
}

impl TicketChange {
    pub fn of(ticket: &Ticket, events: &[NewEvent]) -> Self {
        let mut kinds: Vec<EventKind> = Vec::new();
        for e in events {
            if !kinds.contains(&e.kind) {
                kinds.push(e.kind);
            }
        }
        Self {
            ticket_id: ticket.id,
            version: ticket.version,
            kinds,
            team_id: ticket.team_id,
            assignee_id: ticket.assignee_id,
            requester_id: ticket.requester_id,
            organization_id: ticket.organization_id,
            at: ticket.updated_at,
            actor: events.first().map(|e| e.actor),
        }
    }
}

/// A client's `Idempotency-Key`, scoped to who sent it; the request hash
/// tells a retry from a different request reusing the key.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

/// The outcome of a create: a new row, or the one an earlier request with
/// the same idempotency key made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created<Id> {
    pub id: Id,
    pub replayed: bool,
}

/// A ticket as just stored, with its messages and events: what a reader
/// would get back, without reading it back.
#[derive(Debug, Clone)]
pub struct StoredTicket {
    pub ticket: Ticket,
    pub messages: Vec<domain::Message>,
    pub events: Vec<domain::TicketEvent>,
}

/// The outcome of creating a ticket. `stored` is there when this request
/// created it and its messages have no attachments (which the caller must
/// then read back); a replayed idempotent request has none.
#[derive(Debug, Clone)]
pub struct CreatedTicket {
    pub id: TicketId,
    pub replayed: bool,
    pub stored: Option<StoredTicket>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketSortField {
    #[default]
    Created,
    Updated,
    Priority,
    Id,
    /// The work queue: soonest SLA due time first (tickets without a
    /// running target last), then the priority matrix's score, highest first.
    SlaDue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TicketSort {
    pub field: TicketSortField,
    pub descending: bool,
}

impl TicketSort {
    /// `created`, `-updated`, `priority` …: a leading `-` sorts descending.
    pub fn parse(raw: &str) -> Option<Self> {
        let (descending, name) = match raw.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, raw),
        };
        let field = match name {
            "created" | "created_at" => TicketSortField::Created,
            "updated" | "updated_at" => TicketSortField::Updated,
            "priority" => TicketSortField::Priority,
            "id" | "number" => TicketSortField::Id,
            "sla" | "sla_due" => TicketSortField::SlaDue,
            _ => return None,
        };
        Some(Self { field, descending })
    }

    pub fn newest_first() -> Self {
        Self { field: TicketSortField::Created, descending: true }
    }

    pub fn key(&self, t: &Ticket) -> i64 {
        match self.field {
            TicketSortField::Created => t.created_at,
            TicketSortField::Updated => t.updated_at,
            TicketSortField::Priority => t.priority.rank(),
            TicketSortField::Id => t.id.0,
            // Kept in storage, not on the ticket: storage computes it.
            TicketSortField::SlaDue => 0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TicketQuery {
    pub scope: TicketScope,
    pub filter: TicketFilter,
    pub text: TextQuery,
    /// Whether the text may match internal notes.
    pub staff_text: bool,
    pub sort: TicketSort,
    pub after: Option<Cursor>,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

/// A page request for the simpler lists (customers, users …), in id order.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<i64>,
    pub limit: u32,
}

/// Who is signed in: a staff user or a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrincipalRef {
    Staff(UserId),
    Customer(CustomerId),
}

/// A password hash and whose it is, for signing in.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub principal: PrincipalRef,
    pub password_hash: String,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Millis,
    /// `staff:7`, `customer:3`, `anonymous` or `system`.
    pub actor: String,
    pub action: String,
    pub target: String,
    /// `allowed` or `denied`.
    pub outcome: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub at: Millis,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub detail: serde_json::Value,
}

/// An uploaded file before it is attached to a message.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub uploader: PrincipalRef,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub storage_key: String,
    pub created_at: Millis,
}

/// Mail that could not be turned into a ticket message, kept raw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuarantineEntry {
    pub id: domain::QuarantineId,
    pub mailbox_id: Option<domain::MailboxId>,
    pub content_hash: String,
    #[serde(skip)]
    pub raw_key: String,
    pub size: i64,
    pub reason: String,
    pub received_at: Millis,
    /// How often it arrived or was retried and failed.
    pub attempts: i64,
    pub resolved_at: Option<Millis>,
    /// The message it became when a retry succeeded.
    pub resolved_message_id: Option<domain::MessageId>,
}

#[derive(Debug, Clone)]
pub struct NewQuarantine {
    pub mailbox_id: Option<domain::MailboxId>,
    pub content_hash: String,
    pub raw_key: String,
    pub size: i64,
    pub reason: String,
    pub received_at: Millis,
}

/// A mail in the outbox, as the admin list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OutboxEntry {
    pub message_id: domain::MessageId,
    pub ticket_id: domain::TicketId,
    pub status: domain::OutboxStatus,
    pub kind: domain::OutboxKind,
    pub recipient: String,
    pub attempts: i64,
    pub next_attempt_at: Millis,
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub sent_at: Option<Millis>,
}

/// A claimed mail with what it takes to send it.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub entry: OutboxEntry,
    pub email: domain::EmailIdentity,
    pub body_text: String,
    pub body_html: String,
    /// The mailbox's display name (the `From` name with its address).
    pub mailbox_name: Option<String>,
    /// The author's name, for the signature.
    pub author_name: Option<String>,
}

/// Where fetching a mailbox's IMAP folder stands, and its health.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MailboxFetch {
    /// The folder's UIDVALIDITY when `last_uid` was stored; a new one means
    /// the server renumbered and everything is read again (stored once).
    pub uid_validity: Option<i64>,
    /// The highest UID filed; fetching continues after it.
    pub last_uid: i64,
    pub state: domain::FetchState,
    pub last_ok_at: Option<Millis>,
    pub last_error: Option<String>,
    /// Failures in a row.
    pub failures: i64,
    /// When a failing mailbox is tried again.
    pub next_try_at: Millis,
    /// Messages fetched in all.
    pub fetched: i64,
}

impl Default for MailboxFetch {
    fn default() -> Self {
        Self {
            uid_validity: None,
            last_uid: 0,
            state: domain::FetchState::New,
            last_ok_at: None,
            last_error: None,
            failures: 0,
            next_try_at: 0,
            fetched: 0,
        }
    }
}

/// A ticket's subject and tags and whom it is from, for topic analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketSubject {
    pub id: TicketId,
    pub created_at: Millis,
    pub subject: String,
    pub tags: Vec<String>,
    pub requester_id: CustomerId,
    /// The requester's value per year, in cents.
    pub customer_value_cents: Option<i64>,
}

/// Customers at the start of a period (created before it, not churned
/// before it) who did or did not request a ticket created in it
/// (`KpiStore::retention`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CustomerCohort {
    pub customers: i64,
    /// Of those, churned before the period's end.
    pub churned: i64,
    /// Their annual value, cents.
    pub annual_value_cents: i64,
}

/// `KpiStore::retention`'s answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    pub supported: CustomerCohort,
    pub unsupported: CustomerCohort,
}
