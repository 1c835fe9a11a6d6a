//! Calendars, SLA policies and each ticket's evaluated SLA.

use async_trait::async_trait;
use domain::event::NewEvent;
use domain::routing::{AgentProfile, RoutingRule, TeamRouting};
use domain::sla::{SlaPolicy, TicketSla};
use domain::{Calendar, CalendarId, Channel, MailboxId, Millis, RoutingRuleId, SlaPolicyId, TeamId, TicketId, UserId};

use super::{Params, SqlStore, returned_id, updated};
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

const RULE_COLS: &str = "id, name, position, active, conditions, team_id, created_at, updated_at";

fn routing_rule(r: &SqlRow) -> Result<RoutingRule> {
    Ok(RoutingRule {
        id: RoutingRuleId(r.int(0)?),
        name: r.text(1)?,
        position: r.int(2)?,
        active: r.bool(3)?,
        conditions: json(&r.text(4)?)?,
        team_id: TeamId(r.int(5)?),
        created_at: r.int(6)?,
        updated_at: r.int(7)?,
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
        // Two evaluations of one ticket at once (the scheduler's and a
        // change's, or two nodes') both saw no SLA event yet: the ticket's
        // row, locked first, orders them (PostgreSQL; SQLite's writes are
        // one at a time), and the later one adds only events not recorded.
        if !events.is_empty() {
            tx.execute("UPDATE tickets SET version = version WHERE id = $1", vec![sla.ticket_id.0.into()]).await?;
        }
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
        // The ticket's row is locked above, so the events go straight in.
        let events = unrecorded(tx.as_mut(), sla.ticket_id, events).await?;
        super::tickets::insert_events(tx.as_mut(), sla.ticket_id, &events).await?;
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

    async fn create_routing_rule(&self, r: RoutingRule) -> Result<RoutingRuleId> {
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO routing_rules (name, position, active, conditions, team_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                vec![
                    r.name.into(),
                    r.position.into(),
                    r.active.into(),
                    to_json(&r.conditions).into(),
                    r.team_id.0.into(),
                    r.created_at.into(),
                    r.updated_at.into(),
                ],
            )
            .await?;
        let id = returned_id(&rows)?;
        tx.commit().await?;
        Ok(RoutingRuleId(id))
    }

    async fn update_routing_rule(&self, r: &RoutingRule) -> Result<()> {
        updated(
            self.execute(
                "UPDATE routing_rules SET name = $1, position = $2, active = $3, conditions = $4, team_id = $5, \
                 updated_at = $6 WHERE id = $7",
                vec![
                    r.name.clone().into(),
                    r.position.into(),
                    r.active.into(),
                    to_json(&r.conditions).into(),
                    r.team_id.0.into(),
                    r.updated_at.into(),
                    r.id.0.into(),
                ],
            )
            .await?,
        )
    }

    async fn delete_routing_rule(&self, id: RoutingRuleId) -> Result<bool> {
        Ok(self.execute("DELETE FROM routing_rules WHERE id = $1", vec![id.0.into()]).await? == 1)
    }

    async fn routing_rules(&self) -> Result<Vec<RoutingRule>> {
        let sql = format!("SELECT {RULE_COLS} FROM routing_rules ORDER BY position, id");
        self.fetch(&sql, vec![]).await?.iter().map(routing_rule).collect()
    }

    async fn team_routing(&self, team: TeamId) -> Result<(TeamRouting, Option<UserId>)> {
        match self
            .fetch_one("SELECT settings, last_assignee_id FROM team_routing WHERE team_id = $1", vec![team.0.into()])
            .await?
        {
            Some(r) => Ok((json(&r.text(0)?)?, r.opt_int(1)?.map(UserId))),
            None => Ok((TeamRouting::default(), None)),
        }
    }

    async fn set_team_routing(&self, team: TeamId, settings: &TeamRouting) -> Result<()> {
        self.execute(
            "INSERT INTO team_routing (team_id, settings) VALUES ($1, $2) \
             ON CONFLICT (team_id) DO UPDATE SET settings = excluded.settings",
            vec![team.0.into(), to_json(settings).into()],
        )
        .await
        .map(|_| ())
    }

    async fn advance_round_robin(&self, team: TeamId, last: Option<UserId>, next: UserId) -> Result<bool> {
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO team_routing (team_id, settings) VALUES ($1, $2) ON CONFLICT (team_id) DO NOTHING",
            vec![team.0.into(), to_json(&TeamRouting::default()).into()],
        )
        .await?;
        let n = match last {
            Some(l) => {
                tx.execute(
                    "UPDATE team_routing SET last_assignee_id = $1 WHERE team_id = $2 AND last_assignee_id = $3",
                    vec![next.0.into(), team.0.into(), l.0.into()],
                )
                .await?
            }
            None => {
                tx.execute(
                    "UPDATE team_routing SET last_assignee_id = $1 WHERE team_id = $2 AND last_assignee_id IS NULL",
                    vec![next.0.into(), team.0.into()],
                )
                .await?
            }
        };
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn agent_profiles(&self, users: &[UserId]) -> Result<Vec<(UserId, AgentProfile)>> {
        if users.is_empty() {
            return Ok(vec![]);
        }
        let mut p = Params::default();
        let list = p.list(&users.iter().map(|u| u.0).collect::<Vec<_>>());
        let sql = format!("SELECT user_id, profile FROM agent_profiles WHERE user_id IN ({list})");
        let mut found: std::collections::HashMap<i64, AgentProfile> = std::collections::HashMap::new();
        for r in self.fetch(&sql, p.values).await? {
            found.insert(r.int(0)?, json(&r.text(1)?)?);
        }
        Ok(users.iter().map(|u| (*u, found.remove(&u.0).unwrap_or_default())).collect())
    }

    async fn set_agent_profile(&self, user: UserId, profile: &AgentProfile) -> Result<()> {
        self.execute(
            "INSERT INTO agent_profiles (user_id, profile) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET profile = excluded.profile",
            vec![user.0.into(), to_json(profile).into()],
        )
        .await
        .map(|_| ())
    }

    async fn agent_loads(&self, users: &[UserId]) -> Result<Vec<(UserId, Channel, i64)>> {
        if users.is_empty() {
            return Ok(vec![]);
        }
        let mut p = Params::default();
        let list = p.list(&users.iter().map(|u| u.0).collect::<Vec<_>>());
        let sql = format!(
            "SELECT assignee_id, channel, COUNT(*) FROM tickets WHERE assignee_id IN ({list}) \
             AND status IN ('new', 'open', 'on_hold') GROUP BY assignee_id, channel ORDER BY assignee_id, channel"
        );
        self.fetch(&sql, p.values)
            .await?
            .iter()
            .map(|r| {
                let channel =
                    Channel::parse("channel", &r.text(1)?).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
                Ok((UserId(r.int(0)?), channel, r.int(2)?))
            })
            .collect()
    }

    async fn ticket_mailbox(&self, ticket: TicketId) -> Result<Option<MailboxId>> {
        let row = self
            .fetch_one(
                "SELECT e.mailbox_id FROM message_emails e JOIN messages m ON m.id = e.message_id \
                 WHERE m.ticket_id = $1 AND e.mailbox_id IS NOT NULL ORDER BY m.id LIMIT 1",
                vec![ticket.0.into()],
            )
            .await?;
        Ok(row.map(|r| r.opt_int(0)).transpose()?.flatten().map(MailboxId))
    }
}

/// The SLA events of `events` the ticket does not hold yet: a clock's
/// warning, breach or fulfilment happens once at its instant, so one
/// already recorded (kind, target and time) is the same event.
async fn unrecorded(tx: &mut dyn crate::Transaction, ticket: TicketId, events: &[NewEvent]) -> Result<Vec<NewEvent>> {
    if events.is_empty() {
        return Ok(vec![]);
    }
    let mut p = Params::default();
    let id = p.push(ticket.0);
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    let list = p.list(&kinds);
    let recorded: Vec<(String, Option<String>, i64)> = tx
        .fetch(
            &format!("SELECT kind, field, at FROM ticket_events WHERE ticket_id = {id} AND kind IN ({list})"),
            p.values,
        )
        .await?
        .iter()
        .map(|r| Ok((r.text(0)?, r.opt_text(1)?, r.int(2)?)))
        .collect::<Result<_>>()?;
    Ok(events
        .iter()
        .filter(|e| !recorded.iter().any(|(k, f, at)| k == e.kind.as_str() && *f == e.field && *at == e.at))
        .cloned()
        .collect())
}
