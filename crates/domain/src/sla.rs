//! Service level agreements: ordered policies whose conditions pick the
//! targets a ticket is held to (first reply, next reply, periodic update,
//! resolution, each in business or calendar time), and the evaluation of a
//! ticket's targets from its events: when each clock started, how much of
//! it ran (paused statuses and solved time excluded), when it is due, when
//! a warning and a breach happened, and whether it was met.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::calendar::BusinessClock;
use crate::str_enum::str_enum;
use crate::{
    CalendarId, Channel, DomainError, EventKind, FieldId, Millis, OrganizationId, Priority, SlaPolicyId, Status,
    TeamId, Ticket, TicketEvent, TicketType, Tier,
};

str_enum!(
    /// What a target measures.
    SlaTargetKind {
        FirstReply = "first_reply", NextReply = "next_reply", PeriodicUpdate = "periodic_update",
        Resolution = "resolution"
    }
);

impl SlaTargetKind {
    pub fn title(self) -> &'static str {
        match self {
            SlaTargetKind::FirstReply => "First reply",
            SlaTargetKind::NextReply => "Next reply",
            SlaTargetKind::PeriodicUpdate => "Periodic update",
            SlaTargetKind::Resolution => "Resolution",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaTarget {
    pub kind: SlaTargetKind,
    /// How long, in minutes.
    pub minutes: i64,
    /// Counted in the policy's business hours (true) or around the clock.
    #[serde(default = "yes")]
    pub business_hours: bool,
}

fn yes() -> bool {
    true
}

/// Which tickets a policy is for; an empty list means any. Every non-empty
/// part must hold; tags must all be on the ticket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SlaConditions {
    pub priorities: Vec<Priority>,
    /// The requester's tier.
    pub tiers: Vec<Tier>,
    pub organization_ids: Vec<OrganizationId>,
    pub channels: Vec<Channel>,
    pub team_ids: Vec<TeamId>,
    pub types: Vec<TicketType>,
    pub tags: Vec<String>,
    /// Custom field values by the field's key.
    #[schema(value_type = Object)]
    pub custom_fields: BTreeMap<String, Value>,
}

impl SlaConditions {
    pub fn matches(&self, t: &Ticket, tier: Tier, field_keys: &HashMap<FieldId, String>) -> bool {
        let any_or = |list: bool, hit: bool| list || hit;
        any_or(self.priorities.is_empty(), self.priorities.contains(&t.priority))
            && any_or(self.tiers.is_empty(), self.tiers.contains(&tier))
            && any_or(
                self.organization_ids.is_empty(),
                t.organization_id.is_some_and(|o| self.organization_ids.contains(&o)),
            )
            && any_or(self.channels.is_empty(), self.channels.contains(&t.channel))
            && any_or(self.team_ids.is_empty(), t.team_id.is_some_and(|x| self.team_ids.contains(&x)))
            && any_or(self.types.is_empty(), self.types.contains(&t.ticket_type))
            && self.tags.iter().all(|tag| t.tags.contains(tag))
            && self
                .custom_fields
                .iter()
                .all(|(key, want)| t.custom_fields.iter().any(|(id, v)| field_keys.get(id) == Some(key) && v == want))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaPolicy {
    pub id: SlaPolicyId,
    pub name: String,
    /// Policies are tried in this order (lower first); the first that matches applies.
    pub position: i64,
    pub active: bool,
    pub conditions: SlaConditions,
    pub targets: Vec<SlaTarget>,
    /// The business hours; `None`: the ticket's team's calendar, else around the clock.
    pub calendar_id: Option<CalendarId>,
    /// Statuses in which the clocks stop (default pending and on hold).
    pub pause_on: Vec<Status>,
    /// A warning is recorded when this share of a target has run.
    pub warn_percent: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Checks a policy's parts, naming each that is wrong.
pub fn check_policy(p: &SlaPolicy) -> Result<(), Vec<DomainError>> {
    let mut errors = Vec::new();
    if let Err(e) = crate::directory::parse_name("name", &p.name) {
        errors.push(e);
    }
    if p.targets.is_empty() {
        errors.push(DomainError::new("targets", "give at least one target"));
    }
    for t in &p.targets {
        if !(1..=525_600).contains(&t.minutes) {
            errors.push(DomainError::new("targets", format!("{} must be 1 minute to a year", t.kind)));
        }
    }
    let mut kinds: Vec<SlaTargetKind> = p.targets.iter().map(|t| t.kind).collect();
    kinds.sort_by_key(|k| k.as_str());
    if kinds.windows(2).any(|w| w[0] == w[1]) {
        errors.push(DomainError::new("targets", "each kind of target once"));
    }
    if !(1..=99).contains(&p.warn_percent) {
        errors.push(DomainError::new("warn_percent", "must be between 1 and 99"));
    }
    if p.pause_on.iter().any(|s| matches!(s, Status::New | Status::Open | Status::Solved | Status::Closed)) {
        errors.push(DomainError::new("pause_on", "only pending and on_hold can pause the clocks"));
    }
    if let Err(e) = crate::ticket::parse_tags(&p.conditions.tags) {
        errors.push(DomainError::new("conditions.tags", e.message));
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// The first active policy, by position, whose conditions hold.
pub fn choose<'a>(
    policies: &'a [SlaPolicy],
    t: &Ticket,
    tier: Tier,
    field_keys: &HashMap<FieldId, String>,
) -> Option<&'a SlaPolicy> {
    let mut ordered: Vec<&SlaPolicy> = policies.iter().filter(|p| p.active).collect();
    ordered.sort_by_key(|p| (p.position, p.id));
    ordered.into_iter().find(|p| p.conditions.matches(t, tier, field_keys))
}

str_enum!(
    /// Where a target stands now.
    TargetStatus { Running = "running", Paused = "paused", Met = "met", Breached = "breached", Waiting = "waiting" }
);

/// One clock of a target: from `started_at` to `stopped_at` (if it was).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Cycle {
    pub kind: SlaTargetKind,
    pub started_at: Millis,
    pub stopped_at: Option<Millis>,
    /// Time counted so far (business or calendar, pauses excluded), ms.
    pub elapsed_ms: Millis,
    pub warned_at: Option<Millis>,
    pub breached_at: Option<Millis>,
}

/// A target as the ticket shows it: its latest clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TargetState {
    pub kind: SlaTargetKind,
    pub minutes: i64,
    pub business_hours: bool,
    pub status: TargetStatus,
    pub started_at: Option<Millis>,
    /// When it is (or was) due; `None` while paused or not started.
    pub due_at: Option<Millis>,
    pub stopped_at: Option<Millis>,
    pub elapsed_ms: Millis,
}

/// A ticket's SLA now: its targets, every clock run so far (for the
/// events), and when to look again (the next warning or due time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaState {
    pub policy_id: SlaPolicyId,
    pub targets: Vec<TargetState>,
    pub cycles: Vec<Cycle>,
    pub next_check_at: Option<Millis>,
    /// A running target has passed its warning share.
    pub at_risk: bool,
    /// A running target is past due.
    pub breached: bool,
}

/// The time that counts for a target: business hours or the plain clock.
pub struct Clocks<'a> {
    pub business: &'a BusinessClock,
    pub calendar: &'a BusinessClock,
}

/// What the events say happened, in the order the clocks need.
struct Facts {
    created_at: Millis,
    /// Public replies by staff (not an agent's own opening message).
    staff_replies: Vec<Millis>,
    customer_messages: Vec<Millis>,
    /// Stretches in which the clocks stop: paused statuses, and solved or closed.
    stopped: Vec<(Millis, Millis)>,
    /// When the ticket was last solved, if it is solved or closed now.
    solved_at: Option<Millis>,
}

fn facts(t: &Ticket, events: &[TicketEvent], pause_on: &[Status]) -> Facts {
    let created = events.iter().find(|e| e.kind == EventKind::Created);
    let created_at = created.map(|e| e.at).unwrap_or(t.created_at);
    let opener = created.map(|e| e.actor);
    let first_status = created
        .and_then(|e| e.to.get("status"))
        .and_then(|s| serde_json::from_value::<Status>(s.clone()).ok())
        .unwrap_or(Status::New);
    let mut staff_replies = Vec::new();
    let mut customer_messages = Vec::new();
    let mut statuses = vec![(created_at, first_status)];
    for e in events {
        match e.kind {
            EventKind::MessageAdded => {
                let author = e.to.get("author_kind").and_then(|a| a.as_str()).unwrap_or_default();
                let public = e.to.get("visibility").and_then(|v| v.as_str()) == Some("public");
                let opening = e.at == created_at && Some(e.actor) == opener;
                match author {
                    "staff" if public && !opening => staff_replies.push(e.at),
                    "customer" if !opening => customer_messages.push(e.at),
                    _ => {}
                }
            }
            EventKind::StatusChanged => {
                if let Some(s) = e.to.as_str().and_then(|s| Status::parse("status", s).ok()) {
                    statuses.push((e.at, s));
                }
            }
            _ => {}
        }
    }
    let stops = |s: Status| pause_on.contains(&s) || matches!(s, Status::Solved | Status::Closed);
    let mut stopped = Vec::new();
    for (i, (at, s)) in statuses.iter().enumerate() {
        // The current status runs on past now.
        let until = statuses.get(i + 1).map(|n| n.0).unwrap_or(Millis::MAX);
        if stops(*s) && until > *at {
            stopped.push((*at, until));
        }
    }
    let solved_at = match statuses.last() {
        Some((_, Status::Solved | Status::Closed)) => {
            statuses.iter().rev().take_while(|(_, s)| matches!(s, Status::Solved | Status::Closed)).last().map(|x| x.0)
        }
        _ => None,
    };
    Facts { created_at, staff_replies, customer_messages, stopped, solved_at }
}

impl Facts {
    /// The running stretches within `[from, to)`.
    fn running(&self, from: Millis, to: Millis) -> Vec<(Millis, Millis)> {
        let mut out = Vec::new();
        let mut at = from;
        for &(s, e) in &self.stopped {
            if e <= at || s >= to {
                continue;
            }
            if s > at {
                out.push((at, s.min(to)));
            }
            at = at.max(e);
            if at >= to {
                break;
            }
        }
        if at < to {
            out.push((at, to));
        }
        out
    }

    fn is_stopped(&self, at: Millis) -> bool {
        self.stopped.iter().any(|&(s, e)| s <= at && at < e)
    }
}

/// Counted time in the running stretches, and when the count reached `mark`.
fn count(clock: &BusinessClock, stretches: &[(Millis, Millis)], mark: Millis) -> (Millis, Option<Millis>) {
    let mut total = 0;
    let mut reached = None;
    for &(s, e) in stretches {
        let here = clock.between(s, e);
        if reached.is_none() && total + here >= mark {
            reached = clock.add(s, mark - total).map(|r| r.min(e));
        }
        total += here;
    }
    (total, reached)
}

/// Evaluates every target of `policy` on the ticket at `now`.
pub fn evaluate(policy: &SlaPolicy, clocks: &Clocks<'_>, t: &Ticket, events: &[TicketEvent], now: Millis) -> SlaState {
    let f = facts(t, events, &policy.pause_on);
    let mut targets = Vec::new();
    let mut cycles = Vec::new();
    let mut next_check: Option<Millis> = None;
    let (mut at_risk, mut breached) = (false, false);
    for target in &policy.targets {
        let clock = if target.business_hours { clocks.business } else { clocks.calendar };
        let spans = clock_spans(target.kind, &f);
        let target_ms = target.minutes * 60_000;
        let warn_ms = target_ms * policy.warn_percent / 100;
        let mut latest: Option<TargetState> = None;
        for (start, stop) in spans {
            let end = stop.unwrap_or(now).max(start);
            let running = f.running(start, end);
            let (elapsed, breached_at) = count(clock, &running, target_ms);
            let (_, warned_at) = count(clock, &running, warn_ms);
            cycles.push(Cycle {
                kind: target.kind,
                started_at: start,
                stopped_at: stop,
                elapsed_ms: elapsed,
                warned_at,
                breached_at,
            });
            let open = stop.is_none();
            let paused = open && f.is_stopped(now);
            let status = match (open, breached_at, paused) {
                (false, None, _) => TargetStatus::Met,
                (_, Some(_), _) => TargetStatus::Breached,
                (true, None, true) => TargetStatus::Paused,
                (true, None, false) => TargetStatus::Running,
            };
            let due_at = match status {
                TargetStatus::Breached => breached_at,
                TargetStatus::Running => clock.add(now, target_ms - elapsed),
                TargetStatus::Met => None,
                _ => None,
            };
            if status == TargetStatus::Running {
                let warn_due = if warned_at.is_none() { clock.add(now, (warn_ms - elapsed).max(0)) } else { None };
                for due in [warn_due, due_at].into_iter().flatten().filter(|d| *d > now) {
                    next_check = Some(next_check.map_or(due, |n| n.min(due)));
                }
                at_risk |= warned_at.is_some_and(|w| w <= now);
            }
            if open && breached_at.is_some() && !paused {
                breached = true;
            }
            latest = Some(TargetState {
                kind: target.kind,
                minutes: target.minutes,
                business_hours: target.business_hours,
                status,
                started_at: Some(start),
                due_at,
                stopped_at: stop,
                elapsed_ms: elapsed,
            });
        }
        targets.push(latest.unwrap_or(TargetState {
            kind: target.kind,
            minutes: target.minutes,
            business_hours: target.business_hours,
            status: TargetStatus::Waiting,
            started_at: None,
            due_at: None,
            stopped_at: None,
            elapsed_ms: 0,
        }));
    }
    SlaState { policy_id: policy.id, targets, cycles, next_check_at: next_check, at_risk, breached }
}

/// The clocks of one kind of target: (start, stop if it stopped).
fn clock_spans(kind: SlaTargetKind, f: &Facts) -> Vec<(Millis, Option<Millis>)> {
    match kind {
        SlaTargetKind::FirstReply => vec![(f.created_at, f.staff_replies.first().copied())],
        SlaTargetKind::Resolution => vec![(f.created_at, f.solved_at)],
        SlaTargetKind::NextReply => {
            // A customer's message after the first reply starts a clock, if none runs;
            // the next public reply stops it.
            let Some(&first) = f.staff_replies.first() else { return vec![] };
            let mut out: Vec<(Millis, Option<Millis>)> = Vec::new();
            for &m in f.customer_messages.iter().filter(|m| **m > first) {
                // A message while a clock runs belongs to that clock.
                if out.last().is_some_and(|(_, stop)| stop.is_none_or(|s| m < s)) {
                    continue;
                }
                out.push((m, f.staff_replies.iter().copied().find(|r| *r > m)));
            }
            out
        }
        SlaTargetKind::PeriodicUpdate => {
            // From each public reply to the next; the last runs until solved.
            let r = &f.staff_replies;
            r.iter()
                .enumerate()
                .map(|(i, &at)| (at, r.get(i + 1).copied().or(f.solved_at.filter(|s| *s > at))))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests;

/// A ticket's SLA as last evaluated (kept for views, counts and the page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketSla {
    pub ticket_id: crate::TicketId,
    /// The ticket version it was computed from.
    pub ticket_version: i64,
    /// `None`: no policy applies.
    pub state: Option<SlaState>,
    pub evaluated_at: Millis,
}
