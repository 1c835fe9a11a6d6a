//! Mailboxes, the email identity of messages, collaborators and the
//! quarantine.

use async_trait::async_trait;
use domain::event::NewEvent;
use domain::{CustomerId, EmailIdentity, EventKind, Mailbox, MailboxId, MessageId, Millis, QuarantineId, TicketId};

use super::idempotency::insert_once;
use super::{Params, SqlStore, page_by_id};
use crate::rows::{self, to_json};
use crate::{
    Created, IdempotencyKey, MailStore, NewMessage, NewQuarantine, Page, PageRequest, QuarantineEntry, Result,
    StoreError, Transaction,
};

const MAILBOX_COLS: &str = "id, address, name, team_id, active, created_at, updated_at";
const QUARANTINE_COLS: &str =
    "id, mailbox_id, content_hash, raw_key, size, reason, received_at, attempts, resolved_at, resolved_message_id";
const EMAIL_COLS: &str = "e.mailbox_id, e.direction, e.header_message_id, e.in_reply_to, e.refs, e.from_address, \
    e.to_addresses, e.cc_addresses, e.subject, e.content_hash, e.raw_key";

/// Writes what a stored message carries besides its row: its email
/// identity. Part of the message's transaction.
pub(crate) async fn store_email(tx: &mut dyn Transaction, message: i64, m: &NewMessage) -> Result<()> {
    let Some(e) = &m.email else { return Ok(()) };
    tx.execute(
        "INSERT INTO message_emails (message_id, mailbox_id, direction, header_message_id, in_reply_to, refs, \
         from_address, to_addresses, cc_addresses, subject, content_hash, raw_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        vec![
            message.into(),
            e.mailbox_id.map(|m| m.0).into(),
            e.direction.as_str().into(),
            e.message_id.clone().into(),
            e.in_reply_to.clone().into(),
            to_json(&e.references).into(),
            e.from.clone().into(),
            to_json(&e.to).into(),
            to_json(&e.cc).into(),
            e.subject.clone().into(),
            e.content_hash.clone().into(),
            e.raw_key.clone().into(),
        ],
    )
    .await?;
    Ok(())
}

/// Rows that follow from events: a `collaborator_added` event (its `to` is
/// the customer id) adds the collaborator. Part of the events' transaction.
pub(crate) async fn apply_events(tx: &mut dyn Transaction, ticket: TicketId, events: &[NewEvent]) -> Result<()> {
    for e in events.iter().filter(|e| e.kind == EventKind::CollaboratorAdded) {
        let customer = e.to.as_i64().ok_or_else(|| StoreError::Backend("collaborator event without id".into()))?;
        tx.execute(
            "INSERT INTO ticket_collaborators (ticket_id, customer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            vec![ticket.0.into(), customer.into()],
        )
        .await?;
    }
    Ok(())
}

fn mailbox(r: &crate::SqlRow) -> Result<Mailbox> {
    Ok(Mailbox {
        id: MailboxId(r.int(0)?),
        address: r.text(1)?,
        name: r.text(2)?,
        team_id: r.opt_int(3)?.map(domain::TeamId),
        active: r.bool(4)?,
        created_at: r.int(5)?,
        updated_at: r.int(6)?,
    })
}

fn quarantine_entry(r: &crate::SqlRow) -> Result<QuarantineEntry> {
    Ok(QuarantineEntry {
        id: QuarantineId(r.int(0)?),
        mailbox_id: r.opt_int(1)?.map(MailboxId),
        content_hash: r.text(2)?,
        raw_key: r.text(3)?,
        size: r.int(4)?,
        reason: r.text(5)?,
        received_at: r.int(6)?,
        attempts: r.int(7)?,
        resolved_at: r.opt_int(8)?,
        resolved_message_id: r.opt_int(9)?.map(MessageId),
    })
}

/// Columns from `EMAIL_COLS` starting at `at`.
fn email(r: &crate::SqlRow, at: usize) -> Result<EmailIdentity> {
    Ok(EmailIdentity {
        mailbox_id: r.opt_int(at)?.map(MailboxId),
        direction: domain::Direction::parse("direction", &r.text(at + 1)?)
            .map_err(|e| StoreError::Backend(e.message))?,
        message_id: r.opt_text(at + 2)?,
        in_reply_to: r.opt_text(at + 3)?,
        references: rows::json(&r.text(at + 4)?)?,
        from: r.text(at + 5)?,
        to: rows::json(&r.text(at + 6)?)?,
        cc: rows::json(&r.text(at + 7)?)?,
        subject: r.text(at + 8)?,
        content_hash: r.text(at + 9)?,
        raw_key: r.opt_text(at + 10)?,
    })
}

#[async_trait]
impl MailStore for SqlStore {
    async fn create_mailbox(
        &self,
        m: Mailbox,
        token_hash: &str,
        idem: Option<IdempotencyKey>,
    ) -> Result<Created<MailboxId>> {
        let (tx, c) = insert_once(
            self,
            idem,
            m.created_at,
            "INSERT INTO mailboxes (address, name, team_id, token_hash, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            vec![
                m.address.clone().into(),
                m.name.clone().into(),
                m.team_id.map(|t| t.0).into(),
                token_hash.to_string().into(),
                m.active.into(),
                m.created_at.into(),
                m.updated_at.into(),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Created { id: MailboxId(c.id), replayed: c.replayed })
    }

    async fn update_mailbox(&self, m: &Mailbox) -> Result<()> {
        let n = self
            .execute(
                "UPDATE mailboxes SET address = $1, name = $2, team_id = $3, active = $4, updated_at = $5 WHERE id = $6",
                vec![
                    m.address.clone().into(),
                    m.name.clone().into(),
                    m.team_id.map(|t| t.0).into(),
                    m.active.into(),
                    m.updated_at.into(),
                    m.id.0.into(),
                ],
            )
            .await?;
        if n == 1 { Ok(()) } else { Err(StoreError::NotFound) }
    }

    async fn set_mailbox_token(&self, id: MailboxId, token_hash: &str) -> Result<()> {
        let n = self
            .execute(
                "UPDATE mailboxes SET token_hash = $1 WHERE id = $2",
                vec![token_hash.to_string().into(), id.0.into()],
            )
            .await?;
        if n == 1 { Ok(()) } else { Err(StoreError::NotFound) }
    }

    async fn mailbox(&self, id: MailboxId) -> Result<Option<Mailbox>> {
        let sql = format!("SELECT {MAILBOX_COLS} FROM mailboxes WHERE id = $1");
        self.fetch_one(&sql, vec![id.0.into()]).await?.map(|r| mailbox(&r)).transpose()
    }

    async fn mailboxes(&self) -> Result<Vec<Mailbox>> {
        let sql = format!("SELECT {MAILBOX_COLS} FROM mailboxes ORDER BY address");
        self.fetch(&sql, vec![]).await?.iter().map(mailbox).collect()
    }

    async fn mailbox_by_token(&self, token_hash: &str) -> Result<Option<Mailbox>> {
        let sql = format!("SELECT {MAILBOX_COLS} FROM mailboxes WHERE token_hash = $1");
        self.fetch_one(&sql, vec![token_hash.to_string().into()]).await?.map(|r| mailbox(&r)).transpose()
    }

    async fn ticket_by_message_ids(&self, ids: &[String]) -> Result<Option<TicketId>> {
        if ids.is_empty() {
            return Ok(None);
        }
        let mut p = Params::default();
        let list = p.list(ids);
        let sql = format!(
            "SELECT m.ticket_id FROM message_emails e JOIN messages m ON m.id = e.message_id \
             WHERE e.header_message_id IN ({list}) ORDER BY m.id DESC LIMIT 1"
        );
        Ok(self.fetch_one(&sql, p.values).await?.map(|r| r.int(0)).transpose()?.map(TicketId))
    }

    async fn message_by_hash(&self, hash: &str) -> Result<Option<(MessageId, TicketId)>> {
        let row = self
            .fetch_one(
                "SELECT m.id, m.ticket_id FROM message_emails e JOIN messages m ON m.id = e.message_id \
                 WHERE e.content_hash = $1",
                vec![hash.to_string().into()],
            )
            .await?;
        row.map(|r| Ok((MessageId(r.int(0)?), TicketId(r.int(1)?)))).transpose()
    }

    async fn message_email(&self, message: MessageId) -> Result<Option<(EmailIdentity, TicketId)>> {
        let sql = format!(
            "SELECT m.ticket_id, {EMAIL_COLS} FROM message_emails e JOIN messages m ON m.id = e.message_id \
             WHERE e.message_id = $1"
        );
        let row = self.fetch_one(&sql, vec![message.0.into()]).await?;
        row.map(|r| Ok((email(&r, 1)?, TicketId(r.int(0)?)))).transpose()
    }

    async fn collaborators(&self, ticket: TicketId) -> Result<Vec<CustomerId>> {
        let rows = self
            .fetch(
                "SELECT customer_id FROM ticket_collaborators WHERE ticket_id = $1 ORDER BY customer_id",
                vec![ticket.0.into()],
            )
            .await?;
        rows.iter().map(|r| Ok(CustomerId(r.int(0)?))).collect()
    }

    async fn quarantine(&self, q: NewQuarantine) -> Result<QuarantineId> {
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO mail_quarantine (mailbox_id, content_hash, raw_key, size, reason, received_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (content_hash) DO UPDATE SET attempts = mail_quarantine.attempts + 1, \
                 reason = excluded.reason, resolved_at = NULL RETURNING id",
                vec![
                    q.mailbox_id.map(|m| m.0).into(),
                    q.content_hash.into(),
                    q.raw_key.into(),
                    q.size.into(),
                    q.reason.into(),
                    q.received_at.into(),
                ],
            )
            .await?;
        let id = super::returned_id(&rows)?;
        tx.commit().await?;
        Ok(QuarantineId(id))
    }

    async fn quarantined(&self, page: PageRequest) -> Result<Page<QuarantineEntry>> {
        let limit = page.limit.clamp(1, 1000);
        let mut p = Params::default();
        let after = match page.after {
            Some(a) => format!("WHERE id < {}", p.push(a)),
            None => String::new(),
        };
        let sql = format!("SELECT {QUARANTINE_COLS} FROM mail_quarantine {after} ORDER BY id DESC LIMIT {}", limit + 1);
        let items = self.fetch(&sql, p.values).await?.iter().map(quarantine_entry).collect::<Result<Vec<_>>>()?;
        Ok(page_by_id(items, limit, |q| q.id.0))
    }

    async fn quarantine_entry(&self, id: QuarantineId) -> Result<Option<QuarantineEntry>> {
        let sql = format!("SELECT {QUARANTINE_COLS} FROM mail_quarantine WHERE id = $1");
        self.fetch_one(&sql, vec![id.0.into()]).await?.map(|r| quarantine_entry(&r)).transpose()
    }

    async fn resolve_quarantine(&self, id: QuarantineId, message: Option<MessageId>, at: Millis) -> Result<()> {
        let n = self
            .execute(
                "UPDATE mail_quarantine SET resolved_at = $1, resolved_message_id = $2 WHERE id = $3",
                vec![at.into(), message.map(|m| m.0).into(), id.0.into()],
            )
            .await?;
        if n == 1 { Ok(()) } else { Err(StoreError::NotFound) }
    }

    async fn instance_secret(&self, name: &str, fresh: &str) -> Result<String> {
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            vec![name.to_string().into(), fresh.to_string().into()],
        )
        .await?;
        let rows =
            tx.fetch("SELECT value FROM instance_secrets WHERE name = $1", vec![name.to_string().into()]).await?;
        tx.commit().await?;
        rows.first().ok_or_else(|| StoreError::Backend("instance secret vanished".into()))?.text(0)
    }
}
