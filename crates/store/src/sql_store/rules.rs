//! Calendars, SLA policies and each ticket's evaluated SLA.

use async_trait::async_trait;
use domain::event::NewEvent;
use domain::sla::{SlaPolicy, TicketSla};
use domain::{Calendar, CalendarId, Millis, SlaPolicyId, TicketId};

use super::{SqlStore, returned_id, updated};
use crate::rows::{json, to_json};
use crate::{Result, RuleStore, SqlRow};

const CALENDAR_COLS: &str = "id, name, time_zone, hours, holidays, created_at, updated_at";

fn calendar(r: &SqlRow) -> Result<Calendar> {
    Ok(Calendar {
        id: CalendarId(r.int(0)?),
        name: r.text(1)?,
        time_zone: r.text(2)?,
        hours: json(&r.text(3)?)?,
        holidays: json(&r.text(4)?)?,
        created_at: r.int(5)?,
        updated_at: r.int(6)?,
    })
}

const POLICY_COLS: &str =
    "id, name, position, active, conditions, targets, calendar_id, pause_on, warn_percent, created_at, updated_at";

fn policy(r: &SqlRow) -> Result<SlaPolicy> {
    Ok(SlaPolicy {
        id: SlaPolicyId(r.int(0)?),
        name: r.text(1)?,
        position: r.int(2)?,
        active: r.bool(3)?,
        conditions: json(&r.text(4)?)?,
        targets: json(&r.text(5)?)?,
        calendar_id: r.opt_int(6)?.map(CalendarId),
        pause_on: json(&r.text(7)?)?,
        warn_percent: r.int(8)?,
        created_at: r.int(9)?,
        updated_at: r.int(10)?,
    })
}

#[async_trait]
impl RuleStore for SqlStore {
    async fn create_calendar(&self, c: Calendar) -> Result<CalendarId> {
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO calendars (name, time_zone, hours, holidays, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                vec![
                    c.name.into(),
                    c.time_zone.into(),
                    to_json(&c.hours).into(),
                    to_json(&c.holidays).into(),
                    c.created_at.into(),
                    c.updated_at.into(),
                ],
            )
            .await?;
        let id = returned_id(&rows)?;
        tx.commit().await?;
        Ok(CalendarId(id))
    }

    async fn update_calendar(&self, c: &Calendar) -> Result<()> {
        updated(
            self.execute(
                "UPDATE calendars SET name = $1, time_zone = $2, hours = $3, holidays = $4, updated_at = $5 WHERE id = $6",
                vec![
                    c.name.clone().into(),
                    c.time_zone.clone().into(),
                    to_json(&c.hours).into(),
                    to_json(&c.holidays).into(),
                    c.updated_at.into(),
                    c.id.0.into(),
                ],
            )
            .await?,
        )
    }

    async fn calendar(&self, id: CalendarId) -> Result<Option<Calendar>> {
        let sql = format!("SELECT {CALENDAR_COLS} FROM calendars WHERE id = $1");
        self.fetch_one(&sql, vec![id.0.into()]).await?.as_ref().map(calendar).transpose()
    }

    async fn calendars(&self) -> Result<Vec<Calendar>> {
        let sql = format!("SELECT {CALENDAR_COLS} FROM calendars ORDER BY name, id");
        self.fetch(&sql, vec![]).await?.iter().map(calendar).collect()
    }

    async fn create_sla_policy(&self, p: SlaPolicy) -> Result<SlaPolicyId> {
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO sla_policies (name, position, active, conditions, targets, calendar_id, pause_on, \
                 warn_percent, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                vec![
                    p.name.into(),
                    p.position.into(),
                    p.active.into(),
                    to_json(&p.conditions).into(),
                    to_json(&p.targets).into(),
                    p.calendar_id.map(|c| c.0).into(),
                    to_json(&p.pause_on).into(),
                    p.warn_percent.into(),
                    p.created_at.into(),
                    p.updated_at.into(),
                ],
            )
            .await?;
        let id = returned_id(&rows)?;
        tx.commit().await?;
        Ok(SlaPolicyId(id))
    }

    async fn update_sla_policy(&self, p: &SlaPolicy) -> Result<()> {
        updated(
            self.execute(
                "UPDATE sla_policies SET name = $1, position = $2, active = $3, conditions = $4, targets = $5, \
                 calendar_id = $6, pause_on = $7, warn_percent = $8, updated_at = $9 WHERE id = $10",
                vec![
                    p.name.clone().into(),
                    p.position.into(),
                    p.active.into(),
                    to_json(&p.conditions).into(),
                    to_json(&p.targets).into(),
                    p.calendar_id.map(|c| c.0).into(),
                    to_json(&p.pause_on).into(),
                    p.warn_percent.into(),
                    p.updated_at.into(),
                    p.id.0.into(),
                ],
            )
            .await?,
        )
    }

    async fn delete_sla_policy(&self, id: SlaPolicyId) -> Result<bool> {
        Ok(self.execute("DELETE FROM sla_policies WHERE id = $1", vec![id.0.into()]).await? == 1)
    }

    async fn sla_policies(&self) -> Result<Vec<SlaPolicy>> {
        let sql = format!("SELECT {POLICY_COLS} FROM sla_policies ORDER BY position, id");
        self.fetch(&sql, vec![]).await?.iter().map(policy).collect()
    }

    async fn ticket_sla(&self, ticket: TicketId) -> Result<Option<TicketSla>> {
        let row = self
            .fetch_one(
                "SELECT ticket_version, state, evaluated_at FROM ticket_sla WHERE ticket_id = $1",
                vec![ticket.0.into()],
            )
            .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(TicketSla {
            ticket_id: ticket,
            ticket_version: r.int(0)?,
            state: r.opt_text(1)?.map(|s| json(&s)).transpose()?,
            evaluated_at: r.int(2)?,
        }))
    }

    async fn save_ticket_sla(&self, sla: &TicketSla, events: &[NewEvent]) -> Result<bool> {
        let mut tx = self.begin().await?;
        let current = tx
            .fetch("SELECT ticket_version FROM ticket_sla WHERE ticket_id = $1", vec![sla.ticket_id.0.into()])
            .await?;
        if let Some(r) = current.first()
            && r.int(0)? > sla.ticket_version
        {
            return Ok(false);
        }
        let (at_risk, breached, due) = match &sla.state {
            Some(s) => (
                s.at_risk,
                s.breached,
                s.targets
                    .iter()
                    .filter(|t| t.status == domain::sla::TargetStatus::Running)
                    .filter_map(|t| t.due_at)
                    .min(),
            ),
            None => (false, false, None),
        };
        tx.execute(
            "INSERT INTO ticket_sla (ticket_id, ticket_version, state, at_risk, breached, due_at, evaluated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (ticket_id) DO UPDATE SET ticket_version = excluded.ticket_version, \
             state = excluded.state, at_risk = excluded.at_risk, breached = excluded.breached, due_at = excluded.due_at, \
             evaluated_at = excluded.evaluated_at",
            vec![
                sla.ticket_id.0.into(),
                sla.ticket_version.into(),
                sla.state.as_ref().map(to_json).into(),
                at_risk.into(),
                breached.into(),
                due.into(),
                sla.evaluated_at.into(),
            ],
        )
        .await?;
        if !events.is_empty() {
            super::mail::append_events(tx.as_mut(), sla.ticket_id, events).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn tickets_with_stale_sla(&self, since: Millis, limit: u32) -> Result<Vec<TicketId>> {
        let sql = format!(
            "SELECT t.id FROM tickets t LEFT JOIN ticket_sla s ON s.ticket_id = t.id \
             WHERE t.updated_at >= $1 AND (s.ticket_id IS NULL OR s.ticket_version < t.version) ORDER BY t.updated_at LIMIT {}",
            limit.clamp(1, 10_000)
        );
        self.fetch(&sql, vec![since.into()]).await?.iter().map(|r| Ok(TicketId(r.int(0)?))).collect()
    }
}
