//! Triggers and automations, escalations, approvals, notices, assessed
//! priorities and major incidents.

use async_trait::async_trait;
use domain::event::NewEvent;
use domain::notification::{NewNotification, Notification};
use domain::rules::incident::MajorIncident;
use domain::rules::{
    Approval, ApprovalKind, ApprovalState, Escalation, EscalationSource, EscalationState, EscalationTier,
    PriorityOutcome, RuleKind, RunOn, ServiceRule,
};
use domain::{ApprovalId, EscalationId, Millis, NotificationId, ServiceRuleId, Ticket, TicketId, UserId};

use super::{Params, SqlStore, returned_id, updated};
use crate::rows::{TICKET_COLS, json, ticket, to_json, word};
use crate::{Result, ServiceStore, SqlRow, TicketWrite};

const RULE_COLS: &str =
    "id, kind, name, position, active, run_on, all_conditions, any_conditions, actions, created_at, updated_at";

fn rule(r: &SqlRow) -> Result<ServiceRule> {
    Ok(ServiceRule {
        id: ServiceRuleId(r.int(0)?),
        kind: word(RuleKind::parse("kind", &r.text(1)?))?,
        name: r.text(2)?,
        position: r.int(3)?,
        active: r.bool(4)?,
        run_on: word(RunOn::parse("run_on", &r.text(5)?))?,
        all: json(&r.text(6)?)?,
        any: json(&r.text(7)?)?,
        actions: json(&r.text(8)?)?,
        created_at: r.int(9)?,
        updated_at: r.int(10)?,
    })
}

const ESCALATION_COLS: &str =
    "id, ticket_id, tier, source, reason, raised_by, state, outcome, resolved_by, created_at, resolved_at";

fn escalation(r: &SqlRow) -> Result<Escalation> {
    Ok(Escalation {
        id: EscalationId(r.int(0)?),
        ticket_id: TicketId(r.int(1)?),
        tier: word(EscalationTier::parse("tier", &r.text(2)?))?,
        source: word(EscalationSource::parse("source", &r.text(3)?))?,
        reason: r.text(4)?,
        raised_by: r.opt_int(5)?.map(UserId),
        state: word(EscalationState::parse("state", &r.text(6)?))?,
        outcome: r.opt_text(7)?,
        resolved_by: r.opt_int(8)?.map(UserId),
        created_at: r.int(9)?,
        resolved_at: r.opt_int(10)?,
    })
}

const APPROVAL_COLS: &str = "id, ticket_id, kind, amount_minor, currency, reason, requested_by, state, approver_id, \
    escalated, decided_by, decision_reason, created_at, due_at, decided_at";

fn approval(r: &SqlRow) -> Result<Approval> {
    Ok(Approval {
        id: ApprovalId(r.int(0)?),
        ticket_id: TicketId(r.int(1)?),
        kind: word(ApprovalKind::parse("kind", &r.text(2)?))?,
        amount_minor: r.int(3)?,
        currency: r.text(4)?,
        reason: r.text(5)?,
        requested_by: UserId(r.int(6)?),
        state: word(ApprovalState::parse("state", &r.text(7)?))?,
        approver_id: r.opt_int(8)?.map(UserId),
        escalated: r.bool(9)?,
        decided_by: r.opt_int(10)?.map(UserId),
        decision_reason: r.opt_text(11)?,
        created_at: r.int(12)?,
        due_at: r.int(13)?,
        decided_at: r.opt_int(14)?,
    })
}

fn notification(r: &SqlRow) -> Result<Notification> {
    Ok(Notification {
        id: NotificationId(r.int(0)?),
        user_id: UserId(r.int(1)?),
        kind: r.text(2)?,
        text: r.text(3)?,
        ticket_id: r.opt_int(4)?.map(TicketId),
        created_at: r.int(5)?,
        read_at: r.opt_int(6)?,
    })
}

fn major_incident(r: &SqlRow) -> Result<MajorIncident> {
    Ok(MajorIncident {
        problem_id: TicketId(r.int(0)?),
        active: r.bool(1)?,
        matching: json(&r.text(2)?)?,
        created_at: r.int(3)?,
        title: r.text(4)?,
        linked: r.int(5)?,
    })
}

const INCIDENT_SELECT: &str = "SELECT m.problem_id, m.active, m.matching, m.created_at, t.subject, \
    (SELECT COUNT(*) FROM tickets i WHERE i.problem_id = m.problem_id) \
    FROM major_incidents m JOIN tickets t ON t.id = m.problem_id";

#[async_trait]
impl ServiceStore for SqlStore {
    async fn service_rules(&self, kind: RuleKind) -> Result<Vec<ServiceRule>> {
        let sql = format!("SELECT {RULE_COLS} FROM service_rules WHERE kind = $1 ORDER BY position, id");
        self.fetch(&sql, vec![kind.as_str().into()]).await?.iter().map(rule).collect()
    }

    async fn service_rule(&self, id: ServiceRuleId) -> Result<Option<ServiceRule>> {
        let sql = format!("SELECT {RULE_COLS} FROM service_rules WHERE id = $1");
        self.fetch_one(&sql, vec![id.0.into()]).await?.as_ref().map(rule).transpose()
    }

    async fn create_service_rule(&self, r: ServiceRule) -> Result<ServiceRuleId> {
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO service_rules (kind, name, position, active, run_on, all_conditions, any_conditions, \
                 actions, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                vec![
                    r.kind.as_str().into(),
                    r.name.into(),
                    r.position.into(),
                    r.active.into(),
                    r.run_on.as_str().into(),
                    to_json(&r.all).into(),
                    to_json(&r.any).into(),
                    to_json(&r.actions).into(),
                    r.created_at.into(),
                    r.updated_at.into(),
                ],
            )
            .await?;
        let id = returned_id(&rows)?;
        tx.commit().await?;
        Ok(ServiceRuleId(id))
    }

    async fn update_service_rule(&self, r: &ServiceRule) -> Result<()> {
        updated(
            self.execute(
                "UPDATE service_rules SET name = $1, position = $2, active = $3, run_on = $4, all_conditions = $5, \
                 any_conditions = $6, actions = $7, updated_at = $8 WHERE id = $9",
                vec![
                    r.name.clone().into(),
                    r.position.into(),
                    r.active.into(),
                    r.run_on.as_str().into(),
                    to_json(&r.all).into(),
                    to_json(&r.any).into(),
                    to_json(&r.actions).into(),
                    r.updated_at.into(),
                    r.id.0.into(),
                ],
            )
            .await?,
        )
    }

    async fn delete_service_rule(&self, id: ServiceRuleId) -> Result<bool> {
        let mut tx = self.begin().await?;
        tx.execute("DELETE FROM rule_firings WHERE rule_id = $1", vec![id.0.into()]).await?;
        let n = tx.execute("DELETE FROM service_rules WHERE id = $1", vec![id.0.into()]).await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn mark_rule_fired(&self, rule: ServiceRuleId, ticket: TicketId, mark: &str, at: Millis) -> Result<bool> {
        let n = self
            .execute(
                "INSERT INTO rule_firings (rule_id, ticket_id, mark, at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (rule_id, ticket_id, mark) DO NOTHING",
                vec![rule.0.into(), ticket.0.into(), mark.into(), at.into()],
            )
            .await?;
        Ok(n == 1)
    }

    async fn unclosed_tickets(&self, after: TicketId, limit: u32) -> Result<Vec<Ticket>> {
        let sql = format!(
            "SELECT {TICKET_COLS} FROM tickets t WHERE t.id > $1 AND t.status <> 'closed' ORDER BY t.id LIMIT $2"
        );
        self.fetch(&sql, vec![after.0.into(), i64::from(limit).into()]).await?.iter().map(ticket).collect()
    }

    async fn setting(&self, key: &str) -> Result<Option<serde_json::Value>> {
        match self.fetch_one("SELECT value FROM instance_settings WHERE key = $1", vec![key.into()]).await? {
            Some(r) => Ok(Some(json(&r.text(0)?)?)),
            None => Ok(None),
        }
    }

    async fn set_setting(&self, key: &str, value: &serde_json::Value) -> Result<()> {
        self.execute(
            "INSERT INTO instance_settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![key.into(), to_json(value).into()],
        )
        .await
        .map(|_| ())
    }

    async fn create_escalation(&self, e: Escalation, event: NewEvent) -> Result<Option<EscalationId>> {
        let mut tx = self.begin().await?;
        // The ticket's row lock first: two nodes raising the same
        // escalation at once see each other's.
        tx.execute("UPDATE tickets SET version = version WHERE id = $1", vec![e.ticket_id.0.into()]).await?;
        let open = tx
            .fetch(
                "SELECT id FROM escalations WHERE ticket_id = $1 AND source = $2 AND tier = $3 AND state = 'open'",
                vec![e.ticket_id.0.into(), e.source.as_str().into(), e.tier.as_str().into()],
            )
            .await?;
        if !open.is_empty() && e.source != EscalationSource::Manual {
            return Ok(None);
        }
        let rows = tx
            .fetch(
                "INSERT INTO escalations (ticket_id, tier, source, reason, raised_by, state, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 'open', $6) RETURNING id",
                vec![
                    e.ticket_id.0.into(),
                    e.tier.as_str().into(),
                    e.source.as_str().into(),
                    e.reason.into(),
                    e.raised_by.map(|u| u.0).into(),
                    e.created_at.into(),
                ],
            )
            .await?;
        let id = returned_id(&rows)?;
        super::mail::append_events(tx.as_mut(), e.ticket_id, &[event]).await?;
        tx.commit().await?;
        Ok(Some(EscalationId(id)))
    }

    async fn escalation(&self, id: EscalationId) -> Result<Option<Escalation>> {
        let sql = format!("SELECT {ESCALATION_COLS} FROM escalations WHERE id = $1");
        self.fetch_one(&sql, vec![id.0.into()]).await?.as_ref().map(escalation).transpose()
    }

    async fn escalations(
        &self,
        state: Option<EscalationState>,
        ticket: Option<TicketId>,
        limit: u32,
    ) -> Result<Vec<Escalation>> {
        let mut p = Params::default();
        let mut wh = vec!["1 = 1".to_string()];
        if let Some(s) = state {
            wh.push(format!("state = {}", p.push(s.as_str())));
        }
        if let Some(t) = ticket {
            wh.push(format!("ticket_id = {}", p.push(t.0)));
        }
        let lim = p.push(i64::from(limit));
        let sql = format!(
            "SELECT {ESCALATION_COLS} FROM escalations WHERE {} ORDER BY id DESC LIMIT {lim}",
            wh.join(" AND ")
        );
        self.fetch(&sql, p.values).await?.iter().map(escalation).collect()
    }

    async fn resolve_escalation(&self, e: &Escalation, event: NewEvent) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE escalations SET state = 'resolved', outcome = $1, resolved_by = $2, resolved_at = $3 \
                 WHERE id = $4 AND state = 'open'",
                vec![e.outcome.clone().into(), e.resolved_by.map(|u| u.0).into(), e.resolved_at.into(), e.id.0.into()],
            )
            .await?;
        if n == 1 {
            super::mail::append_events(tx.as_mut(), e.ticket_id, &[event]).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn create_approval(&self, a: Approval, event: NewEvent) -> Result<ApprovalId> {
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO approvals (ticket_id, kind, amount_minor, currency, reason, requested_by, state, \
                 approver_id, escalated, decided_by, decision_reason, created_at, due_at, decided_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
                vec![
                    a.ticket_id.0.into(),
                    a.kind.as_str().into(),
                    a.amount_minor.into(),
                    a.currency.into(),
                    a.reason.into(),
                    a.requested_by.0.into(),
                    a.state.as_str().into(),
                    a.approver_id.map(|u| u.0).into(),
                    a.escalated.into(),
                    a.decided_by.map(|u| u.0).into(),
                    a.decision_reason.into(),
                    a.created_at.into(),
                    a.due_at.into(),
                    a.decided_at.into(),
                ],
            )
            .await?;
        let id = returned_id(&rows)?;
        super::mail::append_events(tx.as_mut(), a.ticket_id, &[event]).await?;
        tx.commit().await?;
        Ok(ApprovalId(id))
    }

    async fn approval(&self, id: ApprovalId) -> Result<Option<Approval>> {
        let sql = format!("SELECT {APPROVAL_COLS} FROM approvals WHERE id = $1");
        self.fetch_one(&sql, vec![id.0.into()]).await?.as_ref().map(approval).transpose()
    }

    async fn approvals(&self, state: Option<ApprovalState>, ticket: Option<TicketId>) -> Result<Vec<Approval>> {
        let mut p = Params::default();
        let mut wh = vec!["1 = 1".to_string()];
        if let Some(s) = state {
            wh.push(format!("state = {}", p.push(s.as_str())));
        }
        if let Some(t) = ticket {
            wh.push(format!("ticket_id = {}", p.push(t.0)));
        }
        let sql = format!("SELECT {APPROVAL_COLS} FROM approvals WHERE {} ORDER BY id DESC", wh.join(" AND "));
        self.fetch(&sql, p.values).await?.iter().map(approval).collect()
    }

    async fn update_pending_approval(&self, a: &Approval, event: NewEvent) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE approvals SET state = $1, approver_id = $2, escalated = $3, decided_by = $4, \
                 decision_reason = $5, decided_at = $6, due_at = $7 WHERE id = $8 AND state = 'pending'",
                vec![
                    a.state.as_str().into(),
                    a.approver_id.map(|u| u.0).into(),
                    a.escalated.into(),
                    a.decided_by.map(|u| u.0).into(),
                    a.decision_reason.clone().into(),
                    a.decided_at.into(),
                    a.due_at.into(),
                    a.id.0.into(),
                ],
            )
            .await?;
        if n == 1 {
            super::mail::append_events(tx.as_mut(), a.ticket_id, &[event]).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn notify(&self, notices: Vec<NewNotification>) -> Result<()> {
        if notices.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for n in notices {
            let text: String = n.text.chars().take(domain::notification::TEXT_MAX).collect();
            tx.execute(
                "INSERT INTO notifications (user_id, kind, text, ticket_id, created_at) VALUES ($1, $2, $3, $4, $5)",
                vec![
                    n.user_id.0.into(),
                    n.kind.into(),
                    crate::storable_text(text).into(),
                    n.ticket_id.map(|t| t.0).into(),
                    n.created_at.into(),
                ],
            )
            .await?;
        }
        tx.commit().await
    }

    async fn notifications(&self, user: UserId, unread_only: bool, limit: u32) -> Result<Vec<Notification>> {
        let unread = if unread_only { " AND read_at IS NULL" } else { "" };
        let sql = format!(
            "SELECT id, user_id, kind, text, ticket_id, created_at, read_at FROM notifications \
             WHERE user_id = $1{unread} ORDER BY id DESC LIMIT $2"
        );
        self.fetch(&sql, vec![user.0.into(), i64::from(limit).into()]).await?.iter().map(notification).collect()
    }

    async fn unread_notifications(&self, user: UserId) -> Result<i64> {
        let row = self
            .fetch_one("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", vec![user.0.into()])
            .await?;
        row.map(|r| r.int(0)).transpose().map(|n| n.unwrap_or(0))
    }

    async fn mark_notifications_read(&self, user: UserId, at: Millis) -> Result<u64> {
        self.execute(
            "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL",
            vec![at.into(), user.0.into()],
        )
        .await
    }

    async fn save_ticket_priority(&self, ticket: TicketId, outcome: &PriorityOutcome, at: Millis) -> Result<()> {
        self.execute(
            "INSERT INTO ticket_priority (ticket_id, score, outcome, assessed_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ticket_id) DO UPDATE SET score = excluded.score, outcome = excluded.outcome, \
             assessed_at = excluded.assessed_at",
            vec![ticket.0.into(), outcome.score.into(), to_json(outcome).into(), at.into()],
        )
        .await
        .map(|_| ())
    }

    async fn ticket_priority(&self, ticket: TicketId) -> Result<Option<PriorityOutcome>> {
        match self.fetch_one("SELECT outcome FROM ticket_priority WHERE ticket_id = $1", vec![ticket.0.into()]).await? {
            Some(r) => Ok(Some(json(&r.text(0)?)?)),
            None => Ok(None),
        }
    }

    async fn save_major_incident(&self, m: &MajorIncident) -> Result<()> {
        self.execute(
            "INSERT INTO major_incidents (problem_id, active, matching, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (problem_id) DO UPDATE SET active = excluded.active, matching = excluded.matching",
            vec![m.problem_id.0.into(), m.active.into(), to_json(&m.matching).into(), m.created_at.into()],
        )
        .await
        .map(|_| ())
    }

    async fn major_incident(&self, problem: TicketId) -> Result<Option<MajorIncident>> {
        let sql = format!("{INCIDENT_SELECT} WHERE m.problem_id = $1");
        self.fetch_one(&sql, vec![problem.0.into()]).await?.as_ref().map(major_incident).transpose()
    }

    async fn major_incidents(&self, active_only: bool) -> Result<Vec<MajorIncident>> {
        let wh = if active_only { " WHERE m.active = $1" } else { " WHERE m.active = m.active OR $1 = $1" };
        let sql = format!("{INCIDENT_SELECT}{wh} ORDER BY m.active DESC, m.problem_id DESC");
        self.fetch(&sql, vec![true.into()]).await?.iter().map(major_incident).collect()
    }

    async fn linked_incidents(&self, problem: TicketId) -> Result<Vec<TicketId>> {
        let rows =
            self.fetch("SELECT id FROM tickets WHERE problem_id = $1 ORDER BY id", vec![problem.0.into()]).await?;
        rows.iter().map(|r| r.int(0).map(TicketId)).collect()
    }

    async fn write_tickets(&self, writes: Vec<TicketWrite>) -> Result<()> {
        let mut tx = self.begin().await?;
        for w in &writes {
            self.update_row(tx.as_mut(), w).await?;
        }
        tx.commit().await
    }

    async fn tag_counts(&self, from: Millis, to: Millis) -> Result<Vec<(String, i64)>> {
        // Tags are kept as a JSON list on the ticket in both backends;
        // counted here over only the window's tickets (by the created index).
        let rows = self
            .fetch(
                "SELECT t.tags FROM tickets t WHERE t.created_at >= $1 AND t.created_at < $2",
                vec![from.into(), to.into()],
            )
            .await?;
        let mut counts: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
        for r in rows {
            for tag in json::<Vec<String>>(&r.text(0)?)? {
                *counts.entry(tag).or_default() += 1;
            }
        }
        Ok(counts.into_iter().collect())
    }
}
