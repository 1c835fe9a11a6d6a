//! Mailboxes, the email identity of messages, collaborators and the
//! quarantine.

use async_trait::async_trait;
use domain::event::NewEvent;
use domain::{
    CustomerId, EmailIdentity, EventKind, FetchState, Mailbox, MailboxId, MessageId, Millis, OutboxKind, OutboxStatus,
    QuarantineId, TicketId,
};

use super::idempotency::insert_once;
use super::{Params, SqlStore, page_by_id};
use crate::rows::{self, to_json};
use crate::{
    Created, IdempotencyKey, MailStore, MailboxFetch, NewMessage, NewQuarantine, OutboxEntry, OutgoingMail, Page,
    PageRequest, QuarantineEntry, Result, SqlValue, StoreError, Transaction,
};

const MAILBOX_COLS: &str =
    "id, address, name, team_id, active, created_at, updated_at, auto_reply, imap, imap_password";
const FETCH_COLS: &str = "uid_validity, last_uid, state, last_ok_at, last_error, failures, next_try_at, fetched";
const OUTBOX_COLS: &str = "o.message_id, o.ticket_id, o.status, o.kind, o.recipient, o.attempts, o.next_attempt_at, \
    o.last_error, o.created_at, o.sent_at";
const QUARANTINE_COLS: &str =
    "id, mailbox_id, content_hash, raw_key, size, reason, received_at, attempts, resolved_at, resolved_message_id";
const EMAIL_COLS: &str = "e.mailbox_id, e.direction, e.header_message_id, e.in_reply_to, e.refs, e.from_address, \
    e.to_addresses, e.cc_addresses, e.subject, e.content_hash, e.raw_key";

/// Writes what a stored message carries besides its row: its email
/// identity. Part of the message's transaction.
pub(crate) async fn store_email(
    tx: &mut dyn Transaction,
    ticket: TicketId,
    message: i64,
    m: &NewMessage,
) -> Result<()> {
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
    if e.direction == domain::Direction::Outbound {
        // Every mail we send waits in the outbox, queued with its message.
        let kind = if m.author_kind == domain::AuthorKind::System { OutboxKind::AutoReply } else { OutboxKind::Reply };
        tx.execute(
            "INSERT INTO mail_outbox (message_id, ticket_id, kind, recipient, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
            vec![
                message.into(),
                ticket.0.into(),
                kind.as_str().into(),
                e.to.first().cloned().unwrap_or_default().into(),
                m.created_at.into(),
            ],
        )
        .await?;
    }
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
        auto_reply: r.opt_text(7)?,
        imap: r.opt_text(8)?.map(|j| rows::json(&j)).transpose()?,
        imap_password: r.opt_text(9)?,
    })
}

fn mailbox_fetch(r: &crate::SqlRow) -> Result<MailboxFetch> {
    Ok(MailboxFetch {
        uid_validity: r.opt_int(0)?,
        last_uid: r.int(1)?,
        state: FetchState::parse("state", &r.text(2)?).map_err(|e| StoreError::Corrupt(e.message))?,
        last_ok_at: r.opt_int(3)?,
        last_error: r.opt_text(4)?,
        failures: r.int(5)?,
        next_try_at: r.int(6)?,
        fetched: r.int(7)?,
    })
}

fn outbox_entry(r: &crate::SqlRow) -> Result<OutboxEntry> {
    let bad = |e: domain::DomainError| StoreError::Corrupt(e.message);
    Ok(OutboxEntry {
        message_id: MessageId(r.int(0)?),
        ticket_id: TicketId(r.int(1)?),
        status: OutboxStatus::parse("status", &r.text(2)?).map_err(bad)?,
        kind: OutboxKind::parse("kind", &r.text(3)?).map_err(bad)?,
        recipient: r.text(4)?,
        attempts: r.int(5)?,
        next_attempt_at: r.int(6)?,
        last_error: r.opt_text(7)?,
        created_at: r.int(8)?,
        sent_at: r.opt_int(9)?,
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
            "INSERT INTO mailboxes (address, name, team_id, token_hash, active, created_at, updated_at, auto_reply, \
             imap, imap_password) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            vec![
                m.address.clone().into(),
                m.name.clone().into(),
                m.team_id.map(|t| t.0).into(),
                token_hash.to_string().into(),
                m.active.into(),
                m.created_at.into(),
                m.updated_at.into(),
                m.auto_reply.clone().into(),
                m.imap.as_ref().map(to_json).into(),
                m.imap_password.clone().into(),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Created { id: MailboxId(c.id), replayed: c.replayed })
    }

    async fn update_mailbox(&self, m: &Mailbox) -> Result<()> {
        let n = self
            .execute(
                "UPDATE mailboxes SET address = $1, name = $2, team_id = $3, active = $4, updated_at = $5, \
                 auto_reply = $6, imap = $7, imap_password = $8 WHERE id = $9",
                vec![
                    m.address.clone().into(),
                    m.name.clone().into(),
                    m.team_id.map(|t| t.0).into(),
                    m.active.into(),
                    m.updated_at.into(),
                    m.auto_reply.clone().into(),
                    m.imap.as_ref().map(to_json).into(),
                    m.imap_password.clone().into(),
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

    async fn ticket_emails(&self, ticket: TicketId) -> Result<Vec<(MessageId, EmailIdentity)>> {
        let sql = format!(
            "SELECT m.id, {EMAIL_COLS} FROM message_emails e JOIN messages m ON m.id = e.message_id \
             WHERE m.ticket_id = $1 ORDER BY m.id"
        );
        let rows = self.fetch(&sql, vec![ticket.0.into()]).await?;
        rows.iter().map(|r| Ok((MessageId(r.int(0)?), email(r, 1)?))).collect()
    }

    async fn claim_outbox(&self, now: Millis, lease_until: Millis, limit: u32) -> Result<Vec<OutgoingMail>> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT o.message_id FROM mail_outbox o WHERE o.status = 'queued' AND o.next_attempt_at <= $1 \
             AND (o.lease_until IS NULL OR o.lease_until <= $1) ORDER BY o.next_attempt_at, o.message_id LIMIT {}{}",
            limit.clamp(1, 1000),
            self.db.skip_locked()
        );
        let ids: Vec<i64> = tx.fetch(&sql, vec![now.into()]).await?.iter().map(|r| r.int(0)).collect::<Result<_>>()?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = Params::default();
        let lease = p.push(lease_until);
        let list = p.list(&ids);
        tx.execute(&format!("UPDATE mail_outbox SET lease_until = {lease} WHERE message_id IN ({list})"), p.values)
            .await?;
        let mut p = Params::default();
        let list = p.list(&ids);
        let sql = format!(
            "SELECT {OUTBOX_COLS}, msg.body_text, msg.body_html, b.name, u.name, {EMAIL_COLS} \
             FROM mail_outbox o JOIN messages msg ON msg.id = o.message_id \
             JOIN message_emails e ON e.message_id = o.message_id \
             LEFT JOIN mailboxes b ON b.id = e.mailbox_id \
             LEFT JOIN users u ON u.id = msg.author_id AND msg.author_kind = 'staff' \
             WHERE o.message_id IN ({list}) ORDER BY o.next_attempt_at, o.message_id"
        );
        let rows = tx.fetch(&sql, p.values).await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(OutgoingMail {
                    entry: outbox_entry(r)?,
                    body_text: r.text(10)?,
                    body_html: r.text(11)?,
                    mailbox_name: r.opt_text(12)?,
                    author_name: r.opt_text(13)?,
                    email: email(r, 14)?,
                })
            })
            .collect()
    }

    async fn outbox_sent(&self, message: MessageId, at: Millis, raw_key: Option<&str>, event: NewEvent) -> Result<()> {
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(
                "UPDATE mail_outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1, lease_until = NULL, \
                 last_error = NULL WHERE message_id = $2 RETURNING ticket_id",
                vec![at.into(), message.0.into()],
            )
            .await?;
        let ticket = TicketId(rows.first().ok_or(StoreError::NotFound)?.int(0)?);
        if let Some(key) = raw_key {
            tx.execute(
                "UPDATE message_emails SET raw_key = $1 WHERE message_id = $2",
                vec![key.to_string().into(), message.0.into()],
            )
            .await?;
        }
        append_events(tx.as_mut(), ticket, &[event]).await?;
        tx.commit().await
    }

    async fn outbox_failed(
        &self,
        message: MessageId,
        error: &str,
        retry_at: Option<Millis>,
        event: Option<NewEvent>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let (status, next): (&str, SqlValue) = match retry_at {
            Some(at) => ("queued", at.into()),
            None => ("failed", SqlValue::Null),
        };
        let rows = tx
            .fetch(
                "UPDATE mail_outbox SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
                 attempts = attempts + 1, lease_until = NULL, last_error = $3 WHERE message_id = $4 \
                 RETURNING ticket_id",
                vec![status.into(), next, error.to_string().into(), message.0.into()],
            )
            .await?;
        let ticket = TicketId(rows.first().ok_or(StoreError::NotFound)?.int(0)?);
        if let Some(event) = event {
            append_events(tx.as_mut(), ticket, &[event]).await?;
        }
        tx.commit().await
    }

    async fn outbox(&self, status: Option<OutboxStatus>, page: PageRequest) -> Result<Page<OutboxEntry>> {
        let limit = page.limit.clamp(1, 1000);
        let mut p = Params::default();
        let mut conditions = Vec::new();
        if let Some(s) = status {
            conditions.push(format!("o.status = {}", p.push(s.as_str())));
        }
        if let Some(a) = page.after {
            conditions.push(format!("o.message_id < {}", p.push(a)));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql =
            format!("SELECT {OUTBOX_COLS} FROM mail_outbox o {filter} ORDER BY o.message_id DESC LIMIT {}", limit + 1);
        let items = self.fetch(&sql, p.values).await?.iter().map(outbox_entry).collect::<Result<Vec<_>>>()?;
        Ok(page_by_id(items, limit, |o| o.message_id.0))
    }

    async fn auto_replies_to(&self, recipient: &str, since: Millis) -> Result<u64> {
        let rows = self
            .fetch(
                "SELECT COUNT(*) FROM mail_outbox WHERE recipient = $1 AND kind = 'auto_reply' AND created_at >= $2",
                vec![recipient.to_string().into(), since.into()],
            )
            .await?;
        Ok(rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0).max(0) as u64)
    }

    async fn mailbox_fetch(&self, mailbox: MailboxId) -> Result<MailboxFetch> {
        let sql = format!("SELECT {FETCH_COLS} FROM mailbox_fetch WHERE mailbox_id = $1");
        Ok(self
            .fetch_one(&sql, vec![mailbox.0.into()])
            .await?
            .map(|r| mailbox_fetch(&r))
            .transpose()?
            .unwrap_or_default())
    }

    async fn claim_fetch(&self, mailbox: MailboxId, holder: &str, now: Millis, lease_until: Millis) -> Result<bool> {
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO mailbox_fetch (mailbox_id) VALUES ($1) ON CONFLICT (mailbox_id) DO NOTHING",
            vec![mailbox.0.into()],
        )
        .await?;
        let n = tx
            .execute(
                "UPDATE mailbox_fetch SET holder = $1, lease_until = $2 WHERE mailbox_id = $3 \
                 AND (holder IS NULL OR holder = $1 OR lease_until IS NULL OR lease_until <= $4)",
                vec![holder.to_string().into(), lease_until.into(), mailbox.0.into(), now.into()],
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn save_fetch(
        &self,
        mailbox: MailboxId,
        holder: &str,
        f: &MailboxFetch,
        lease_until: Option<Millis>,
    ) -> Result<bool> {
        let (holder_after, lease): (SqlValue, SqlValue) = match lease_until {
            Some(l) => (holder.to_string().into(), l.into()),
            None => (SqlValue::Null, SqlValue::Null),
        };
        let n = self
            .execute(
                "UPDATE mailbox_fetch SET uid_validity = $1, last_uid = $2, state = $3, last_ok_at = $4, \
                 last_error = $5, failures = $6, next_try_at = $7, fetched = $8, holder = $9, lease_until = $10 \
                 WHERE mailbox_id = $11 AND holder = $12",
                vec![
                    f.uid_validity.into(),
                    f.last_uid.into(),
                    f.state.as_str().into(),
                    f.last_ok_at.into(),
                    f.last_error.clone().into(),
                    f.failures.into(),
                    f.next_try_at.into(),
                    f.fetched.into(),
                    holder_after,
                    lease,
                    mailbox.0.into(),
                    holder.to_string().into(),
                ],
            )
            .await?;
        Ok(n == 1)
    }
}

/// Records events about a ticket without changing it (its version, and so
/// an agent's `If-Match`, stays valid): delivery outcomes. On PostgreSQL
/// the no-op update takes the row's lock, so sequence numbers never race.
pub(crate) async fn append_events(tx: &mut dyn Transaction, ticket: TicketId, events: &[NewEvent]) -> Result<()> {
    tx.execute("UPDATE tickets SET version = version WHERE id = $1", vec![ticket.0.into()]).await?;
    super::tickets::insert_events(tx, ticket, events).await
}
