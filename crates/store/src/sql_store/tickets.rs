use async_trait::async_trait;
use domain::event::NewEvent;
use domain::message::Attachment;
use domain::search::{AssigneeFilter, tokens};
use domain::{Actor, AttachmentId, EventKind, Message, Millis, Ticket, TicketEvent, TicketId, TicketScope, Visibility};
use serde_json::json;
use tokio::sync::broadcast;

use super::batch::{INSERT_EVENT, event_values, message_event};
use super::{Params, SqlStore, idempotency, returned_id};
use crate::database::TextAudience;
use crate::rows::{self, to_json};
use crate::{CreatedTicket, StoredTicket};
use crate::{
    Cursor, IdempotencyKey, NewAttachment, NewMessage, Page, PrincipalRef, Result, StoreError, TicketChange,
    TicketCreate, TicketQuery, TicketSortField, TicketStore, TicketWrite, Transaction,
};

pub(crate) fn ticket_values(t: &Ticket) -> Vec<crate::SqlValue> {
    vec![
        t.subject.clone().into(),
        crate::SqlValue::Name(t.status.as_str()),
        t.priority.rank().into(),
        crate::SqlValue::Name(t.ticket_type.as_str()),
        crate::SqlValue::Name(t.channel.as_str()),
        t.requester_id.0.into(),
        t.organization_id.map(|v| v.0).into(),
        t.assignee_id.map(|v| v.0).into(),
        t.team_id.map(|v| v.0).into(),
        to_json(&t.tags).into(),
        to_json(&t.custom_fields).into(),
        t.problem_id.map(|v| v.0).into(),
        t.merged_into.map(|v| v.0).into(),
        t.follow_up_of.map(|v| v.0).into(),
        t.created_at.into(),
        t.updated_at.into(),
        t.solved_at.into(),
        t.version.into(),
    ]
}

pub(crate) const INSERT_TICKET_COLUMNS: &str = "subject, status, priority, type, channel, requester_id, organization_id, \
    assignee_id, team_id, tags, custom_fields, problem_id, merged_into, follow_up_of, created_at, updated_at, solved_at, version";

const UPDATE_TICKET: &str = "UPDATE tickets SET subject = $1, status = $2, priority = $3, type = $4, channel = $5, \
    requester_id = $6, organization_id = $7, assignee_id = $8, team_id = $9, tags = $10, custom_fields = $11, \
    problem_id = $12, merged_into = $13, follow_up_of = $14, created_at = $15, updated_at = $16, solved_at = $17, \
    version = $18 WHERE id = $19 AND version = $20";

/// Search text is stored as our own tokens so both backends index exactly
/// the words the query parser produces.
pub(crate) fn search_text(s: &str) -> String {
    tokens(s).join(" ")
}

impl SqlStore {
    /// Creates one ticket in its own transaction. Two requests with the same
    /// idempotency key racing on separate connections both miss the lookup;
    /// the loser's insert of the key fails, and its retry finds the winner's.
    pub(crate) async fn create_alone(&self, new: TicketCreate, idem: Option<IdempotencyKey>) -> Result<CreatedTicket> {
        match self.create_in_tx(&new, &idem).await {
            Err(StoreError::Duplicate(_)) if idem.is_some() => self.create_in_tx(&new, &idem).await,
            other => other,
        }
    }

    async fn create_in_tx(&self, new: &TicketCreate, idem: &Option<IdempotencyKey>) -> Result<CreatedTicket> {
        let mut tx = self.begin().await?;
        if let Some(key) = idem
            && let Some(id) = idempotency::replayed(tx.as_mut(), key).await?
        {
            return Ok(CreatedTicket { id: TicketId(id), replayed: true, stored: None });
        }
        let stored = self.insert_one(tx.as_mut(), new).await?;
        let id = stored.ticket.id;
        if let Some(key) = idem {
            idempotency::remember(tx.as_mut(), key, id.0, new.ticket.created_at).await?;
        }
        tx.commit().await?;
        Ok(CreatedTicket { id, replayed: false, stored: super::writer::complete(stored, new) })
    }

    async fn insert_one(&self, tx: &mut dyn Transaction, new: &TicketCreate) -> Result<StoredTicket> {
        self.insert_tickets(tx, std::slice::from_ref(new))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Backend("no ticket inserted".into()))
    }

    pub(crate) fn search_key(&self) -> &'static str {
        self.db.search_key()
    }

    /// Stores messages (each with its `message_added` event) and then the
    /// other events of a change to an existing ticket, and announces it.
    async fn append(
        &self,
        tx: &mut dyn Transaction,
        ticket: &Ticket,
        events: &[NewEvent],
        messages: &[NewMessage],
    ) -> Result<()> {
        let mut all: Vec<NewEvent> = Vec::with_capacity(events.len() + messages.len());
        for m in messages {
            let mid = self.insert_message(tx, ticket.id, m).await?;
            all.push(message_event(m, mid));
        }
        all.extend(events.iter().cloned());
        // Chronological; within one instant, messages before the changes.
        all.sort_by_key(|e| e.at);
        insert_events(tx, ticket.id, &all).await?;
        super::mail::apply_events(tx, ticket.id, &all).await?;
        tx.notify(&TicketChange::of(ticket, &all)).await
    }

    async fn insert_message(&self, tx: &mut dyn Transaction, ticket: TicketId, m: &NewMessage) -> Result<i64> {
        let id = returned_id(
            &tx.fetch(
                "INSERT INTO messages (ticket_id, visibility, author_kind, author_id, channel, body_text, body_html, \
                 metadata, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                message_values(ticket, m),
            )
            .await?,
        )?;
        attach(tx, id, &m.attachment_ids).await?;
        super::mail::store_email(tx, ticket, id, m).await?;
        let column = if m.visibility == Visibility::Public { "body" } else { "notes" };
        let key = self.search_key();
        tx.execute(
            &format!("UPDATE ticket_search SET {column} = {column} || ' ' || $2 WHERE {key} = $1"),
            vec![ticket.0.into(), search_text(&m.body_text).into()],
        )
        .await?;
        Ok(id)
    }

    pub(crate) async fn update_row(&self, tx: &mut dyn Transaction, w: &TicketWrite) -> Result<()> {
        let mut values = ticket_values(&w.ticket);
        values.push(w.ticket.id.0.into());
        values.push(w.expected_version.into());
        if tx.execute(UPDATE_TICKET, values).await? != 1 {
            let exists = !tx.fetch("SELECT 1 FROM tickets WHERE id = $1", vec![w.ticket.id.0.into()]).await?.is_empty();
            return Err(if exists { StoreError::VersionConflict } else { StoreError::NotFound });
        }
        if w.events.iter().any(|e| e.kind == EventKind::SubjectChanged) {
            let key = self.search_key();
            tx.execute(
                &format!("UPDATE ticket_search SET subject = $2 WHERE {key} = $1"),
                vec![w.ticket.id.0.into(), search_text(&w.ticket.subject).into()],
            )
            .await?;
        }
        self.append(tx, &w.ticket, &w.events, &w.messages).await
    }

    fn ticket_conditions(&self, q: &TicketQuery, p: &mut Params) -> Vec<String> {
        let mut c = Vec::new();
        if let TicketScope::Limited { team_ids, no_team, assignee_ids, requester_id, organization_id } = &q.scope {
            let mut any = Vec::new();
            if !team_ids.is_empty() {
                let ids: Vec<i64> = team_ids.iter().map(|t| t.0).collect();
                any.push(format!("t.team_id IN ({})", p.list(&ids)));
            }
            if *no_team {
                any.push("t.team_id IS NULL".to_string());
            }
            if !assignee_ids.is_empty() {
                let ids: Vec<i64> = assignee_ids.iter().map(|t| t.0).collect();
                any.push(format!("t.assignee_id IN ({})", p.list(&ids)));
            }
            if let Some(r) = requester_id {
                any.push(format!("t.requester_id = {}", p.push(r.0)));
            }
            if let Some(o) = organization_id {
                any.push(format!("t.organization_id = {}", p.push(o.0)));
            }
            c.push(if any.is_empty() { "1 = 0".to_string() } else { format!("({})", any.join(" OR ")) });
        }
        let f = &q.filter;
        let words = |p: &mut Params, xs: Vec<&'static str>| p.list(&xs);
        if !f.statuses.is_empty() {
            c.push(format!("t.status IN ({})", words(p, f.statuses.iter().map(|s| s.as_str()).collect())));
        }
        if !f.priorities.is_empty() {
            let ranks: Vec<i64> = f.priorities.iter().map(|x| x.rank()).collect();
            c.push(format!("t.priority IN ({})", p.list(&ranks)));
        }
        if !f.types.is_empty() {
            c.push(format!("t.type IN ({})", words(p, f.types.iter().map(|s| s.as_str()).collect())));
        }
        if !f.channels.is_empty() {
            c.push(format!("t.channel IN ({})", words(p, f.channels.iter().map(|s| s.as_str()).collect())));
        }
        match f.assignee {
            Some(AssigneeFilter::Unassigned) => c.push("t.assignee_id IS NULL".into()),
            Some(AssigneeFilter::User(u)) => c.push(format!("t.assignee_id = {}", p.push(u.0))),
            None => {}
        }
        match (f.team_ids.is_empty(), f.no_team) {
            (true, true) => c.push("t.team_id IS NULL".into()),
            (false, no_team) => {
                let ids: Vec<i64> = f.team_ids.iter().map(|t| t.0).collect();
                let in_teams = format!("t.team_id IN ({})", p.list(&ids));
                c.push(if no_team { format!("({in_teams} OR t.team_id IS NULL)") } else { in_teams });
            }
            (true, false) => {}
        }
        if let Some(r) = f.requester_id {
            c.push(format!("t.requester_id = {}", p.push(r.0)));
        }
        if let Some(o) = f.organization_id {
            c.push(format!("t.organization_id = {}", p.push(o.0)));
        }
        // Tags are matched in the ticket's JSON list (`"refund"` with its
        // quotes, which tags cannot contain), a column the sort indexes carry.
        for tag in &f.tags {
            let p = p.push(to_json(tag));
            c.push(self.db.contains("t.tags", &p));
        }
        for tag in &f.without_tags {
            let p = p.push(to_json(tag));
            c.push(format!("NOT ({})", self.db.contains("t.tags", &p)));
        }
        for (col, from, before) in
            [("created_at", f.created_from, f.created_before), ("updated_at", f.updated_from, f.updated_before)]
        {
            if let Some(v) = from {
                c.push(format!("t.{col} >= {}", p.push(v)));
            }
            if let Some(v) = before {
                c.push(format!("t.{col} < {}", p.push(v)));
            }
        }
        match f.sla {
            Some(domain::search::SlaFilter::AtRisk) => {
                c.push("t.id IN (SELECT ticket_id FROM ticket_sla WHERE at_risk = TRUE)".into())
            }
            Some(domain::search::SlaFilter::Breached) => {
                c.push("t.id IN (SELECT ticket_id FROM ticket_sla WHERE breached = TRUE)".into())
            }
            None => {}
        }
        if !q.text.is_empty() {
            let audience = if q.staff_text { TextAudience::Staff } else { TextAudience::Customer };
            let (sql, values) = self.db.text_match(&q.text, audience, p.values.len() + 1);
            p.values.extend(values);
            c.push(sql);
        }
        c
    }
}

pub(crate) fn message_values(ticket: TicketId, m: &NewMessage) -> Vec<crate::SqlValue> {
    vec![
        ticket.0.into(),
        crate::SqlValue::Name(m.visibility.as_str()),
        crate::SqlValue::Name(m.author_kind.as_str()),
        m.author_id.into(),
        crate::SqlValue::Name(m.channel.as_str()),
        m.body_text.clone().into(),
        m.body_html.clone().into(),
        to_json(&m.metadata).into(),
        m.created_at.into(),
    ]
}

/// Attaches uploaded files to a message; each must exist and be unattached.
pub(crate) async fn attach(tx: &mut dyn Transaction, message: i64, attachments: &[AttachmentId]) -> Result<()> {
    for a in attachments {
        let n = tx
            .execute(
                "UPDATE attachments SET message_id = $1 WHERE id = $2 AND message_id IS NULL",
                vec![message.into(), a.0.into()],
            )
            .await?;
        if n != 1 {
            return Err(StoreError::MissingReference(format!("attachment {a}")));
        }
    }
    Ok(())
}

/// Appends events after the ticket's last sequence number, in one statement.
pub(crate) async fn insert_events(tx: &mut dyn Transaction, id: TicketId, events: &[NewEvent]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let rows =
        tx.fetch("SELECT COALESCE(MAX(seq), 0) FROM ticket_events WHERE ticket_id = $1", vec![id.0.into()]).await?;
    let last = rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0);
    let mut p = Params::default();
    let groups: Vec<String> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let values: Vec<String> = event_values(id, last + 1 + i as i64, e).into_iter().map(|v| p.push(v)).collect();
            format!("({})", values.join(", "))
        })
        .collect();
    tx.execute(&format!("{INSERT_EVENT} VALUES {}", groups.join(", ")), p.values).await?;
    Ok(())
}

/// The work queue's order as one number: the soonest running SLA due time
/// (tickets without one after every dated one), then the priority score,
/// highest first (`due × 128 + 100 − score`; scores are 0–100).
pub(crate) const WORK_QUEUE_KEY: &str = "(COALESCE((SELECT s.due_at FROM ticket_sla s WHERE s.ticket_id = t.id), \
    4000000000000) * 128 + 100 - COALESCE((SELECT p.score FROM ticket_priority p WHERE p.ticket_id = t.id), 0))";

#[async_trait]
impl TicketStore for SqlStore {
    async fn create_ticket(&self, new: TicketCreate, idem: Option<IdempotencyKey>) -> Result<CreatedTicket> {
        let Some(writer) = &self.writer else { return self.create_alone(new, idem).await };
        super::writer::ask(writer, |reply| {
            super::writer::Work::Create(Box::new(super::writer::Job { new, idem, reply }))
        })
        .await
    }

    fn prepare_import(&self, batch: Vec<TicketCreate>) -> crate::PreparedImport {
        self.prepare(batch)
    }

    async fn import_prepared(&self, page: crate::PreparedImport) -> Result<Vec<TicketId>> {
        if let Some(writer) = &self.writer {
            // On the writer's own connection: no hand-off between threads per statement.
            return super::writer::ask(writer, |reply| super::writer::Work::Import { page, reply }).await;
        }
        let mut tx = self.begin().await?;
        let ids = self.store_prepared(tx.as_mut(), page).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn optimize(&self) -> Result<()> {
        self.db.optimize().await
    }

    async fn ticket(&self, id: TicketId) -> Result<Option<Ticket>> {
        let sql = format!("SELECT {} FROM tickets t WHERE t.id = $1", rows::TICKET_COLS);
        self.fetch_one(&sql, vec![id.0.into()]).await?.map(|r| rows::ticket(&r)).transpose()
    }

    async fn write_ticket(&self, write: TicketWrite) -> Result<()> {
        let mut tx = self.begin().await?;
        self.update_row(tx.as_mut(), &write).await?;
        tx.commit().await
    }

    async fn create_follow_up(&self, new: TicketCreate, original: TicketId, at: Millis) -> Result<TicketId> {
        let mut tx = self.begin().await?;
        let id = self.insert_one(tx.as_mut(), &new).await?.ticket.id;
        let actor =
            new.messages.first().map(|m| Actor { kind: m.author_kind, id: m.author_id }).unwrap_or(Actor::system());
        let link =
            NewEvent::change(at, actor, EventKind::FollowUpCreated, "follow_up", serde_json::Value::Null, json!(id));
        insert_events(tx.as_mut(), original, &[link]).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn merge_tickets(&self, source: TicketWrite, target: TicketWrite) -> Result<()> {
        let mut tx = self.begin().await?;
        self.update_row(tx.as_mut(), &source).await?;
        self.update_row(tx.as_mut(), &target).await?;
        let (s, t) = (source.ticket.id.0, target.ticket.id.0);
        tx.execute("UPDATE messages SET ticket_id = $1 WHERE ticket_id = $2", vec![t.into(), s.into()]).await?;
        let key = self.search_key();
        tx.execute(
            &format!(
                "UPDATE ticket_search SET body = body || ' ' || (SELECT o.body FROM ticket_search o WHERE o.{key} = $2), \
                 notes = notes || ' ' || (SELECT o.notes FROM ticket_search o WHERE o.{key} = $2) WHERE {key} = $1"
            ),
            vec![t.into(), s.into()],
        )
        .await?;
        tx.execute(&format!("UPDATE ticket_search SET body = '', notes = '' WHERE {key} = $1"), vec![s.into()]).await?;
        tx.commit().await
    }

    async fn tickets(&self, q: &TicketQuery) -> Result<Page<Ticket>> {
        let mut p = Params::default();
        let mut conditions = self.ticket_conditions(q, &mut p);
        let col = match q.sort.field {
            TicketSortField::Created => "t.created_at",
            TicketSortField::Updated => "t.updated_at",
            TicketSortField::Priority => "t.priority",
            TicketSortField::Id => "t.id",
            TicketSortField::SlaDue => WORK_QUEUE_KEY,
        };
        let (cmp, dir) = if q.sort.descending { ("<", "DESC") } else { (">", "ASC") };
        if let Some(after) = q.after {
            if q.sort.field == TicketSortField::Id {
                conditions.push(format!("t.id {cmp} {}", p.push(after.id)));
            } else {
                let (v, id) = (p.push(after.value), p.push(after.id));
                conditions.push(format!("({col}, t.id) {cmp} ({v}, {id})"));
            }
        }
        let limit = q.limit.clamp(1, 1000);
        let where_sql =
            if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let order = if q.sort.field == TicketSortField::Id {
            format!("t.id {dir}")
        } else {
            format!("{col} {dir}, t.id {dir}")
        };
        let sql =
            format!("SELECT {} FROM tickets t {where_sql} ORDER BY {order} LIMIT {}", rows::TICKET_COLS, limit + 1);
        let mut items = self.fetch(&sql, p.values).await?.iter().map(rows::ticket).collect::<Result<Vec<_>>>()?;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            match items.last() {
                Some(t) if q.sort.field == TicketSortField::SlaDue => {
                    let sql = format!("SELECT {WORK_QUEUE_KEY} FROM tickets t WHERE t.id = $1");
                    let row = self.fetch_one(&sql, vec![t.id.0.into()]).await?;
                    Some(Cursor { value: row.map(|r| r.int(0)).transpose()?.unwrap_or(0), id: t.id.0 })
                }
                Some(t) => Some(Cursor { value: q.sort.key(t), id: t.id.0 }),
                None => None,
            }
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn count_tickets(&self, q: &TicketQuery, cap: u64) -> Result<u64> {
        let mut p = Params::default();
        let conditions = self.ticket_conditions(q, &mut p);
        let where_sql =
            if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let cap = cap.clamp(1, 1_000_000);
        let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM tickets t {where_sql} LIMIT {cap}) counted");
        let n = self.fetch_one(&sql, p.values).await?.map(|r| r.int(0)).transpose()?.unwrap_or(0);
        Ok(n.max(0) as u64)
    }

    async fn ticket_texts(&self, ids: &[TicketId], include_internal: bool) -> Result<Vec<(TicketId, String)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut p = Params::default();
        let list = p.list(&ids.iter().map(|i| i.0).collect::<Vec<_>>());
        let filter = if include_internal { "" } else { " AND visibility = 'public'" };
        let sql = format!(
            "SELECT ticket_id, body_text FROM messages WHERE ticket_id IN ({list}){filter} ORDER BY ticket_id, created_at, id"
        );
        let mut out: Vec<(TicketId, String)> = Vec::new();
        for r in self.fetch(&sql, p.values).await? {
            let (id, text) = (TicketId(r.int(0)?), r.text(1)?);
            match out.last_mut() {
                Some((last, joined)) if *last == id => {
                    joined.push_str("\n\n");
                    joined.push_str(&text);
                }
                _ => out.push((id, text)),
            }
        }
        Ok(out)
    }

    async fn messages(&self, ticket: TicketId, include_internal: bool) -> Result<Vec<Message>> {
        // Messages with their attachments in one query: a row per pair.
        let filter = if include_internal { "" } else { " AND m.visibility = 'public'" };
        let sql = format!(
            "SELECT {}, {} FROM messages m LEFT JOIN attachments a ON a.message_id = m.id \
             WHERE m.ticket_id = $1{filter} ORDER BY m.created_at, m.id, a.id",
            prefixed("m", rows::MESSAGE_COLS),
            prefixed("a", rows::ATTACHMENT_COLS)
        );
        let width = rows::MESSAGE_COLS.split(", ").count();
        let mut messages: Vec<Message> = Vec::new();
        for row in self.fetch(&sql, vec![ticket.0.into()]).await? {
            let m = rows::message(&row)?;
            if messages.last().is_none_or(|last| last.id != m.id) {
                messages.push(m);
            }
            let attachment = crate::SqlRow(row.0.get(width..).unwrap_or_default().to_vec());
            if attachment.opt_int(0)?.is_some()
                && let Some(last) = messages.last_mut()
            {
                last.attachments.push(rows::attachment(&attachment)?);
            }
        }
        Ok(messages)
    }

    async fn events(&self, ticket: TicketId) -> Result<Vec<TicketEvent>> {
        let sql = format!("SELECT {} FROM ticket_events WHERE ticket_id = $1 ORDER BY seq", rows::EVENT_COLS);
        self.fetch(&sql, vec![ticket.0.into()]).await?.iter().map(rows::event).collect()
    }

    async fn append_events(&self, ticket: TicketId, events: Vec<NewEvent>) -> Result<()> {
        let mut tx = self.begin().await?;
        // Locks the ticket's row, so its events are numbered one writer at a time.
        if tx.execute("UPDATE tickets SET version = version WHERE id = $1", vec![ticket.0.into()]).await? == 0 {
            return Err(StoreError::NotFound);
        }
        insert_events(tx.as_mut(), ticket, &events).await?;
        tx.commit().await
    }

    async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<TicketEvent>> {
        let sql = format!("SELECT {} FROM ticket_events WHERE id > $1 ORDER BY id LIMIT $2", rows::EVENT_COLS);
        self.fetch(&sql, vec![after.into(), i64::from(limit.clamp(1, 10_000)).into()])
            .await?
            .iter()
            .map(rows::event)
            .collect()
    }

    async fn create_attachment(&self, a: NewAttachment) -> Result<Attachment> {
        let (kind, id) = match a.uploader {
            PrincipalRef::Staff(u) => ("staff", u.0),
            PrincipalRef::Customer(c) => ("customer", c.0),
        };
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO attachments (file_name, content_type, size, storage_key, created_at, uploader_kind, uploader_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                vec![
                    a.file_name.clone().into(),
                    a.content_type.clone().into(),
                    a.size.into(),
                    a.storage_key.clone().into(),
                    a.created_at.into(),
                    kind.into(),
                    id.into(),
                ],
            )
            .await?;
        let id = returned_id(&rows)?;
        tx.commit().await?;
        Ok(Attachment {
            id: AttachmentId(id),
            message_id: None,
            file_name: a.file_name,
            content_type: a.content_type,
            size: a.size,
            storage_key: a.storage_key,
            created_at: a.created_at,
        })
    }

    async fn attachment(&self, id: AttachmentId) -> Result<Option<(Attachment, PrincipalRef, Option<TicketId>)>> {
        let sql = format!(
            "SELECT {}, (SELECT m.ticket_id FROM messages m WHERE m.id = attachments.message_id) FROM attachments WHERE id = $1",
            rows::ATTACHMENT_COLS
        );
        let Some(r) = self.fetch_one(&sql, vec![id.0.into()]).await? else {
            return Ok(None);
        };
        let uploader = match r.text(7)?.as_str() {
            "staff" => PrincipalRef::Staff(domain::UserId(r.int(8)?)),
            _ => PrincipalRef::Customer(domain::CustomerId(r.int(8)?)),
        };
        Ok(Some((rows::attachment(&r)?, uploader, r.opt_int(9)?.map(TicketId))))
    }

    fn subscribe(&self) -> broadcast::Receiver<TicketChange> {
        self.db.subscribe()
    }
}

/// `id, name` with prefix `m` → `m.id, m.name`.
fn prefixed(prefix: &str, columns: &str) -> String {
    columns.split(", ").map(|c| format!("{prefix}.{}", c.trim())).collect::<Vec<_>>().join(", ")
}
