//! One inbound email → a ticket message, a new ticket, or the quarantine.
//! The raw message is stored first, so nothing accepted is ever lost; the
//! content hash makes a second delivery of the same mail a no-op.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use domain::event::NewEvent;
use domain::lifecycle::{self, MessageOutcome, NewTicket};
use domain::{
    Actor, AuthorKind, Channel, Customer, Direction, EmailAddress, EmailIdentity, EventKind, Mailbox, MessageId,
    Millis, Priority, QuarantineId, Ticket, TicketId, TicketType, User, Visibility,
};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde_json::json;
use sha2::{Digest, Sha256};
use store::{NewAttachment, NewMessage, NewQuarantine, PrincipalRef, Store, StoreError, TicketCreate, TicketWrite};

use crate::parse::{InboundEmail, Unparseable, parse};
use crate::{auto_reply, html, outbound, quote, thread};

/// Most CC'd addresses made collaborators from one mail.
const MAX_COLLABORATORS: usize = 20;

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored as `message` on `ticket`; `created` if the mail opened it.
    Stored { ticket: TicketId, message: MessageId, created: bool },
    /// Already stored earlier (the same content hash).
    Duplicate { ticket: TicketId, message: MessageId },
    /// Kept raw, with the reason, for an admin to look at and retry.
    Quarantined { id: QuarantineId, reason: String },
}

/// A failure to store that is not the message's fault (database or disk):
/// the sender should deliver again later.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("storing a file failed: {0}")]
    Files(String),
}

/// Why a message goes to the quarantine rather than a ticket.
struct Refused(String);

enum Failure {
    Refused(Refused),
    Transient(IngestError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Transient(IngestError::Store(e))
    }
}

impl From<IngestError> for Failure {
    fn from(e: IngestError) -> Self {
        Failure::Transient(e)
    }
}

/// Files inbound mail. Cheap to clone.
#[derive(Clone)]
pub struct Inbox {
    pub store: Arc<dyn Store>,
    pub files: Arc<dyn ObjectStore>,
    /// Keys reply tokens (see `thread::reply_token`).
    pub secret: String,
    /// Bigger attachments are replaced by a notice; the message is kept.
    pub max_attachment_bytes: usize,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One mail as it arrived.
#[derive(Clone, Copy)]
struct Arrival<'a> {
    mailbox: &'a Mailbox,
    email: &'a InboundEmail,
    raw_key: &'a str,
    now: Millis,
}

/// Who wrote the mail: a staff user, or a customer (found or created).
enum Sender {
    Staff(User),
    Customer(Customer),
}

impl Sender {
    fn actor(&self) -> Actor {
        match self {
            Sender::Staff(u) => Actor { kind: AuthorKind::Staff, id: Some(u.id.0) },
            Sender::Customer(c) => Actor { kind: AuthorKind::Customer, id: Some(c.id.0) },
        }
    }

    fn principal(&self) -> PrincipalRef {
        match self {
            Sender::Staff(u) => PrincipalRef::Staff(u.id),
            Sender::Customer(c) => PrincipalRef::Customer(c.id),
        }
    }
}

impl Inbox {
    /// Files one raw message that arrived at `mailbox`.
    pub async fn ingest(&self, mailbox: &Mailbox, raw: &[u8], now: Millis) -> Result<Outcome, IngestError> {
        let raw_key = format!("mail/{}.eml", sha256_hex(raw));
        self.put(&raw_key, Bytes::copy_from_slice(raw)).await?;
        let email = match parse(raw) {
            Ok(e) => e,
            Err(Unparseable(reason)) => return self.quarantine(mailbox, raw, &raw_key, reason, now).await,
        };
        if let Some((message, ticket)) = self.store.message_by_hash(&email.content_hash).await? {
            return Ok(Outcome::Duplicate { ticket, message });
        }
        match self.file(mailbox, &email, &raw_key, now).await {
            Ok(o) => Ok(o),
            Err(Failure::Refused(Refused(reason))) => self.quarantine(mailbox, raw, &raw_key, reason, now).await,
            // Delivered twice at once: the other delivery stored it.
            Err(Failure::Transient(IngestError::Store(StoreError::Duplicate(what)))) if what == "content_hash" => {
                match self.store.message_by_hash(&email.content_hash).await? {
                    Some((message, ticket)) => Ok(Outcome::Duplicate { ticket, message }),
                    None => Err(StoreError::Duplicate(what).into()),
                }
            }
            Err(Failure::Transient(e)) => Err(e),
        }
    }

    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), IngestError> {
        self.files
            .put(&ObjectPath::from(key), PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(|e| IngestError::Files(e.to_string()))
    }

    async fn quarantine(
        &self,
        mailbox: &Mailbox,
        raw: &[u8],
        raw_key: &str,
        reason: String,
        now: Millis,
    ) -> Result<Outcome, IngestError> {
        tracing::warn!(mailbox = %mailbox.address, %reason, "mail quarantined");
        let id = self
            .store
            .quarantine(NewQuarantine {
                mailbox_id: Some(mailbox.id),
                content_hash: sha256_hex(raw),
                raw_key: raw_key.to_string(),
                size: raw.len() as i64,
                reason: reason.clone(),
                received_at: now,
            })
            .await?;
        Ok(Outcome::Quarantined { id, reason })
    }

    async fn customer(&self, address: &str, name: Option<&str>, now: Millis) -> Result<Customer, Failure> {
        if let Some(c) = self.store.customer_by_email(address).await? {
            return Ok(c);
        }
        let email = EmailAddress::parse(address)
            .map_err(|e| Failure::Refused(Refused(format!("sender address: {}", e.message))))?;
        let local = email.as_str().split('@').next().unwrap_or_default().to_string();
        let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&local);
        let name: String = name.chars().take(200).collect();
        match self.store.create_customer(Customer::new(&email, &name, now), None, None).await {
            Ok(_) | Err(StoreError::Duplicate(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.store
            .customer_by_email(email.as_str())
            .await?
            .ok_or_else(|| Failure::Transient(StoreError::NotFound.into()))
    }

    async fn sender(&self, address: &str, name: Option<&str>, now: Millis) -> Result<Sender, Failure> {
        match self.store.user_by_email(address).await? {
            Some(u) if u.active => Ok(Sender::Staff(u)),
            _ => Ok(Sender::Customer(self.customer(address, name, now).await?)),
        }
    }

    /// The ticket this mail names, in order: Message-ID threading, reply
    /// token in an address, token in the body marker, `[#1042]` subject tag.
    async fn named_ticket(&self, email: &InboundEmail) -> Result<Option<Ticket>, StoreError> {
        let mut ids = email.in_reply_to.clone();
        ids.extend(email.references.iter().rev().cloned());
        if let Some(t) = self.store.ticket_by_message_ids(&ids).await? {
            return self.store.ticket(t).await;
        }
        let by_address = email
            .to
            .iter()
            .chain(&email.cc)
            .map(|m| m.address.as_str())
            .chain(email.delivered_to.iter().map(String::as_str))
            .find_map(|a| thread::token_in_address(&self.secret, a));
        let by_body = || {
            thread::token_in_body(&self.secret, &email.text)
                .or_else(|| email.html.as_deref().and_then(|h| thread::token_in_body(&self.secret, h)))
        };
        for candidate in [by_address, by_body(), thread::subject_tag(&email.subject)].into_iter().flatten() {
            if let Some(t) = self.store.ticket(candidate).await? {
                return Ok(Some(t));
            }
        }
        Ok(None)
    }

    async fn file(
        &self,
        mailbox: &Mailbox,
        email: &InboundEmail,
        raw_key: &str,
        now: Millis,
    ) -> Result<Outcome, Failure> {
        if let Some(b) = &email.bounce {
            return self.bounce(mailbox, email, b, raw_key, now).await;
        }
        let sender = self.sender(&email.from.address, email.from.name.as_deref(), now).await?;
        let named = self.named_ticket(email).await?;
        // Guard: a match counts only for the requester, a collaborator or staff.
        let (ticket, related) = match named {
            Some(t) => {
                let allowed = match &sender {
                    Sender::Staff(_) => true,
                    Sender::Customer(c) => {
                        t.requester_id == c.id || self.store.collaborators(t.id).await?.contains(&c.id)
                    }
                };
                if allowed { (Some(t), None) } else { (None, Some(t.id)) }
            }
            None => (None, None),
        };
        match ticket {
            Some(t) => self.reply(mailbox, email, raw_key, &sender, t, now).await,
            None => self.open(mailbox, email, raw_key, sender, related, now).await,
        }
    }

    /// The message as stored: text, sanitized HTML with `cid:` images
    /// pointed at their stored attachments, identity and metadata.
    async fn message(
        &self,
        a: Arrival<'_>,
        actor: Actor,
        uploader: Option<PrincipalRef>,
        visibility: Visibility,
    ) -> Result<NewMessage, Failure> {
        let Arrival { mailbox, email, raw_key, now } = a;
        let mut attachment_ids = Vec::new();
        let mut cid_urls = HashMap::new();
        let mut skipped = Vec::new();
        for part in email.attachments.iter().filter(|_| uploader.is_some()) {
            if part.bytes.len() > self.max_attachment_bytes {
                skipped.push(json!({ "file_name": part.file_name, "size": part.bytes.len() }));
                continue;
            }
            let key = format!("attachments/mail/{}", sha256_hex(&part.bytes));
            self.put(&key, Bytes::copy_from_slice(&part.bytes)).await?;
            let a = self
                .store
                .create_attachment(NewAttachment {
                    uploader: uploader.unwrap_or(PrincipalRef::Customer(domain::CustomerId(0))),
                    file_name: part.file_name.chars().take(255).collect(),
                    content_type: part.content_type.clone(),
                    size: part.bytes.len() as i64,
                    storage_key: key,
                    created_at: now,
                })
                .await?;
            if let Some(cid) = &part.content_id {
                cid_urls.insert(cid.clone(), format!("{}{}", html::ATTACHMENT_PATH, a.id));
            }
            attachment_ids.push(a.id);
        }
        let mut text = email.text.trim().to_string();
        for s in &skipped {
            text.push_str(&format!(
                "\n\n[Attachment {} ({} bytes) was over the size limit and was not stored; the original message has it.]",
                s["file_name"].as_str().unwrap_or_default(),
                s["size"]
            ));
        }
        if text.trim().is_empty() {
            text = "(no text)".into();
        }
        truncate(&mut text, domain::message::BODY_MAX_BYTES);
        let mut body_html = email.html.as_deref().map(|h| html::sanitize(h, &cid_urls)).unwrap_or_default();
        if body_html.len() > domain::message::BODY_MAX_BYTES {
            body_html.clear();
        }
        let identity = EmailIdentity {
            mailbox_id: Some(mailbox.id),
            direction: Direction::Inbound,
            message_id: email.message_id.clone(),
            in_reply_to: email.in_reply_to.first().cloned(),
            references: email.references.clone(),
            from: email.from.address.clone(),
            to: email.to.iter().map(|m| m.address.clone()).collect(),
            cc: email.cc.iter().map(|m| m.address.clone()).collect(),
            subject: email.subject.clone(),
            content_hash: email.content_hash.clone(),
            raw_key: Some(raw_key.to_string()),
        };
        Ok(NewMessage {
            visibility,
            author_kind: actor.kind,
            author_id: actor.id,
            channel: Channel::Email,
            body_text: text.clone(),
            body_html,
            metadata: json!({ "email": {
                "message_id": identity.message_id,
                "from": identity.from,
                "from_name": email.from.name,
                "to": identity.to,
                "cc": identity.cc,
                "subject": identity.subject,
                "mailbox_id": mailbox.id,
                "automatic": email.automatic,
                "fold_at": quote::fold_at(&text),
                "skipped_attachments": skipped,
            }}),
            attachment_ids,
            created_at: now,
            email: Some(identity),
        })
    }

    /// Collaborator events for the CC'd (and other To) addresses that are
    /// not ours, not staff, not the requester and not already on the ticket.
    async fn collaborator_events(
        &self,
        email: &InboundEmail,
        requester: domain::CustomerId,
        existing: &[domain::CustomerId],
        actor: Actor,
        now: Millis,
    ) -> Result<Vec<NewEvent>, Failure> {
        let mailboxes = self.store.mailboxes().await?;
        let mut events = Vec::new();
        let mut seen = existing.to_vec();
        seen.push(requester);
        for m in email.to.iter().chain(&email.cc).take(MAX_COLLABORATORS) {
            if m.address == email.from.address
                || mailboxes.iter().any(|b| b.receives(&m.address))
                || self.store.user_by_email(&m.address).await?.is_some()
            {
                continue;
            }
            let Ok(c) = self.customer(&m.address, m.name.as_deref(), now).await else { continue };
            if !seen.contains(&c.id) {
                seen.push(c.id);
                events.push(NewEvent {
                    at: now,
                    actor,
                    kind: EventKind::CollaboratorAdded,
                    field: None,
                    from: serde_json::Value::Null,
                    to: json!(c.id.0),
                });
            }
        }
        Ok(events)
    }

    async fn stored(&self, email: &InboundEmail, created: bool) -> Result<Outcome, Failure> {
        let (message, ticket) = self
            .store
            .message_by_hash(&email.content_hash)
            .await?
            .ok_or_else(|| Failure::Transient(StoreError::NotFound.into()))?;
        Ok(Outcome::Stored { ticket, message, created })
    }

    /// A reply on a ticket it may add to.
    async fn reply(
        &self,
        mailbox: &Mailbox,
        email: &InboundEmail,
        raw_key: &str,
        sender: &Sender,
        ticket: Ticket,
        now: Millis,
    ) -> Result<Outcome, Failure> {
        let message = self
            .message(
                Arrival { mailbox, email, raw_key, now },
                sender.actor(),
                Some(sender.principal()),
                Visibility::Public,
            )
            .await?;
        let actor = sender.actor();
        let mut current = ticket;
        for _ in 0..5 {
            let existing = self.store.collaborators(current.id).await?;
            let collaborators = self.collaborator_events(email, current.requester_id, &existing, actor, now).await?;
            let outcome = lifecycle::add_message(&current, Visibility::Public, actor, now)
                .map_err(|e| Failure::Refused(Refused(e.message)))?;
            match outcome {
                MessageOutcome::FollowUp => {
                    let (ticket, mut events) =
                        lifecycle::open_ticket(lifecycle::follow_up_of(&current, Channel::Email), actor, now)
                            .map_err(|e| Failure::Refused(Refused(e.message)))?;
                    events.extend(collaborators);
                    let new = TicketCreate { ticket, events, messages: vec![message], new_requester: None };
                    self.store.create_follow_up(new, current.id, now).await?;
                    return self.stored(email, true).await;
                }
                MessageOutcome::Added { ticket, mut events } => {
                    events.extend(collaborators);
                    let write = TicketWrite {
                        ticket,
                        expected_version: current.version,
                        events,
                        messages: vec![message.clone()],
                    };
                    match self.store.write_ticket(write).await {
                        Ok(()) => return self.stored(email, false).await,
                        Err(StoreError::VersionConflict) => {
                            current = self.store.ticket(current.id).await?.ok_or(StoreError::NotFound)?;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        Err(StoreError::VersionConflict.into())
    }

    /// A new ticket: for the sender, or, for a forward from staff, for the
    /// original sender.
    async fn open(
        &self,
        mailbox: &Mailbox,
        email: &InboundEmail,
        raw_key: &str,
        sender: Sender,
        related: Option<TicketId>,
        now: Millis,
    ) -> Result<Outcome, Failure> {
        let (requester, author, visibility) = match sender {
            Sender::Staff(user) if thread::is_forward(&email.subject) => {
                let original = email.forwarded_from.clone().or_else(|| forwarded_sender(&email.text));
                let Some(original) = original else {
                    return Err(Failure::Refused(Refused(
                        "a forward from staff names no original sender (no From: line or attached message)".into(),
                    )));
                };
                let requester = self.customer(&original.address, original.name.as_deref(), now).await?;
                // The agent's forward is an internal note: it may hold
                // remarks for colleagues.
                (requester, Sender::Staff(user), Visibility::Internal)
            }
            // Staff writing new mail to support (not a forward) are filed as
            // a customer with that address.
            Sender::Staff(_) => {
                let requester = self.customer(&email.from.address, email.from.name.as_deref(), now).await?;
                (requester.clone(), Sender::Customer(requester), Visibility::Public)
            }
            Sender::Customer(c) => (c.clone(), Sender::Customer(c), Visibility::Public),
        };
        let message = self
            .message(Arrival { mailbox, email, raw_key, now }, author.actor(), Some(author.principal()), visibility)
            .await?;
        let actor = author.actor();
        let subject = subject_for_ticket(&email.subject);
        let (ticket, mut events) = lifecycle::open_ticket(
            NewTicket {
                subject,
                status: None,
                priority: Priority::Normal,
                ticket_type: TicketType::Question,
                channel: Channel::Email,
                requester_id: requester.id,
                organization_id: requester.organization_id,
                assignee_id: None,
                team_id: mailbox.team_id,
                tags: vec![],
                custom_fields: Default::default(),
                problem_id: None,
                follow_up_of: None,
            },
            actor,
            now,
        )
        .map_err(|e| Failure::Refused(Refused(e.message)))?;
        if let Some(other) = related {
            events.push(NewEvent {
                at: now,
                actor: Actor::system(),
                kind: EventKind::RelatedTo,
                field: None,
                from: serde_json::Value::Null,
                to: json!(other.0),
            });
        }
        events.extend(self.collaborator_events(email, requester.id, &[], actor, now).await?);
        let new = TicketCreate { ticket, events, messages: vec![message], new_requester: None };
        let created = self.store.create_ticket(new, None).await?;
        if matches!(author, Sender::Customer(_)) {
            // The ticket is stored; a failed acknowledgement must not undo that.
            if let Err(e) = self.acknowledge(mailbox, email, &requester, created.id, now).await {
                tracing::warn!(error = %e, ticket = created.id.0, "auto-reply not queued");
            }
        }
        self.stored(email, true).await
    }

    /// Queues the mailbox's acknowledgement of a new ticket, unless the
    /// mail is automatic, from a machine or ourselves, or its sender had
    /// `MAX_PER_HOUR` already. Returns whether one was queued.
    async fn acknowledge(
        &self,
        mailbox: &Mailbox,
        email: &InboundEmail,
        requester: &Customer,
        ticket: TicketId,
        now: Millis,
    ) -> Result<bool, IngestError> {
        let Some(template) = mailbox.auto_reply.as_deref() else { return Ok(false) };
        if !auto_reply::may_answer(email, &self.store.mailboxes().await?)
            || self.store.auto_replies_to(&requester.email, now - auto_reply::HOUR_MS).await?
                >= auto_reply::MAX_PER_HOUR
        {
            return Ok(false);
        }
        for _ in 0..3 {
            let Some(current) = self.store.ticket(ticket).await? else { return Ok(false) };
            let text = match auto_reply::render(template, &current, requester, mailbox) {
                Ok(t) if !t.trim().is_empty() => t,
                Ok(_) => return Ok(false),
                Err(e) => {
                    tracing::warn!(mailbox = %mailbox.address, error = %e, "auto-reply template failed");
                    return Ok(false);
                }
            };
            let Some(identity) = outbound::reply_identity(self.store.as_ref(), &current).await? else {
                return Ok(false);
            };
            let MessageOutcome::Added { ticket: next, events } =
                lifecycle::add_message(&current, Visibility::Public, Actor::system(), now)
                    .map_err(|e| IngestError::Store(StoreError::Backend(e.message)))?
            else {
                return Ok(false);
            };
            let message = NewMessage {
                visibility: Visibility::Public,
                author_kind: AuthorKind::System,
                author_id: None,
                channel: Channel::Email,
                body_html: auto_reply::to_html(&text),
                body_text: text,
                metadata: json!({ "auto_reply": true }),
                attachment_ids: vec![],
                created_at: now,
                email: Some(identity),
            };
            let write =
                TicketWrite { ticket: next, expected_version: current.version, events, messages: vec![message] };
            match self.store.write_ticket(write).await {
                Ok(()) => return Ok(true),
                Err(StoreError::VersionConflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(false)
    }

    /// A delivery report: recorded on the ticket of the mail that bounced.
    async fn bounce(
        &self,
        mailbox: &Mailbox,
        email: &InboundEmail,
        bounce: &crate::parse::Bounce,
        raw_key: &str,
        now: Millis,
    ) -> Result<Outcome, Failure> {
        let ids: Vec<String> = bounce.original_message_id.iter().cloned().chain(email.references.clone()).collect();
        let Some(id) = self.store.ticket_by_message_ids(&ids).await? else {
            return Err(Failure::Refused(Refused("a delivery report about mail this desk did not send".into())));
        };
        // The report's own parts stay in the original (.eml).
        let mut message =
            self.message(Arrival { mailbox, email, raw_key, now }, Actor::system(), None, Visibility::Internal).await?;
        message.body_text = format!(
            "Delivery failed{}: {}\n\n{}",
            bounce.recipient.as_deref().map(|r| format!(" to {r}")).unwrap_or_default(),
            if bounce.diagnostic.is_empty() { "no reason given" } else { &bounce.diagnostic },
            message.body_text
        );
        truncate(&mut message.body_text, domain::message::BODY_MAX_BYTES);
        for _ in 0..5 {
            let current = self.store.ticket(id).await?.ok_or(StoreError::NotFound)?;
            let mut next = current.clone();
            next.updated_at = now.max(current.updated_at);
            let events = vec![NewEvent {
                at: now,
                actor: Actor::system(),
                kind: EventKind::EmailBounced,
                field: None,
                from: serde_json::Value::Null,
                to: json!({ "recipient": bounce.recipient, "diagnostic": bounce.diagnostic }),
            }];
            let write = TicketWrite {
                ticket: next,
                expected_version: current.version,
                events,
                messages: vec![message.clone()],
            };
            match self.store.write_ticket(write).await {
                Ok(()) => return self.stored(email, false).await,
                Err(StoreError::VersionConflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::VersionConflict.into())
    }
}

/// The subject of a new ticket: `(no subject)` when empty, cut to the limit.
fn subject_for_ticket(subject: &str) -> String {
    let s = subject.trim();
    let s = if s.is_empty() { "(no subject)" } else { s };
    s.chars().take(domain::ticket::SUBJECT_MAX).collect()
}

fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
}

/// The original sender named in a forwarded body (`From: Name <a@b>`).
fn forwarded_sender(text: &str) -> Option<crate::parse::Mailbox> {
    text.lines().filter_map(|l| l.trim().trim_start_matches('>').trim().strip_prefix("From:")).find_map(|rest| {
        let rest = rest.trim();
        let (name, address) = match (rest.rfind('<'), rest.rfind('>')) {
            (Some(a), Some(b)) if a < b => (Some(rest[..a].trim().trim_matches('"').to_string()), &rest[a + 1..b]),
            _ => (None, rest),
        };
        let address = address.trim().to_lowercase();
        EmailAddress::parse(&address)
            .ok()
            .map(|e| crate::parse::Mailbox { address: e.as_str().to_string(), name: name.filter(|n| !n.is_empty()) })
    })
}
