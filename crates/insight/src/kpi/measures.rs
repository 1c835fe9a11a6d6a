//! What one ticket's events say it measured: each reply, solve, reopen and
//! SLA outcome as a row with its instant, its value in calendar and in
//! business time, and the team, agent, channel and priority the ticket had
//! at that instant. Storage keeps these rows per ticket (the KPI rollup)
//! and the KPIs are aggregates of them. Definitions: docs/METRICS.md.

use domain::{AuthorKind, BusinessClock, Channel, EventKind, Millis, Priority, Status, TicketEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a row measures. Its `value` is a duration in milliseconds for the
/// times, 1 or 0 for the yes/no ones (one touch, met).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// The ticket arrived (value 0).
    Created,
    /// Creation to the first public staff reply.
    FirstReply,
    /// A customer message waiting for an answer to the staff reply after it.
    NextReply,
    /// Creation to the first solve.
    FirstResolution,
    /// Creation to the last solve (the ticket is solved or closed now).
    FullResolution,
    /// Time in new, open and on hold until the last solve.
    RequesterWait,
    /// Time in new and open until the last solve.
    AgentWork,
    /// Time in pending until the last solve.
    AgentWait,
    /// Solved (last solve), with 1 when it took at most one public staff reply.
    OneTouch,
    /// Solved (last solve), with 1 when the customer wrote nothing after the first reply.
    NoFurtherContact,
    /// Solved (last solve), with 1 when it was reopened at least once.
    Reopened,
    /// A reopen (value 1), at its instant.
    Reopen,
    /// An SLA first-reply clock's outcome: 1 met, 0 breached.
    SlaFirstReply,
    SlaNextReply,
    SlaPeriodicUpdate,
    SlaResolution,
}

impl Measure {
    pub const ALL: [Measure; 16] = [
        Measure::Created,
        Measure::FirstReply,
        Measure::NextReply,
        Measure::FirstResolution,
        Measure::FullResolution,
        Measure::RequesterWait,
        Measure::AgentWork,
        Measure::AgentWait,
        Measure::OneTouch,
        Measure::NoFurtherContact,
        Measure::Reopened,
        Measure::Reopen,
        Measure::SlaFirstReply,
        Measure::SlaNextReply,
        Measure::SlaPeriodicUpdate,
        Measure::SlaResolution,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Created => "created",
            Measure::FirstReply => "first_reply",
            Measure::NextReply => "next_reply",
            Measure::FirstResolution => "first_resolution",
            Measure::FullResolution => "full_resolution",
            Measure::RequesterWait => "requester_wait",
            Measure::AgentWork => "agent_work",
            Measure::AgentWait => "agent_wait",
            Measure::OneTouch => "one_touch",
            Measure::NoFurtherContact => "no_further_contact",
            Measure::Reopened => "reopened",
            Measure::Reopen => "reopen",
            Measure::SlaFirstReply => "sla_first_reply",
            Measure::SlaNextReply => "sla_next_reply",
            Measure::SlaPeriodicUpdate => "sla_periodic_update",
            Measure::SlaResolution => "sla_resolution",
        }
    }

    pub fn parse(raw: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == raw)
    }

    /// The SLA measure of a target kind as the SLA events name it.
    fn of_sla_target(raw: &str) -> Option<Measure> {
        match raw {
            "first_reply" => Some(Measure::SlaFirstReply),
            "next_reply" => Some(Measure::SlaNextReply),
            "periodic_update" => Some(Measure::SlaPeriodicUpdate),
            "resolution" => Some(Measure::SlaResolution),
            _ => None,
        }
    }
}

/// One measured row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureRow {
    pub measure: Measure,
    pub at: Millis,
    /// Calendar milliseconds, or 1/0.
    pub value: i64,
    /// Business milliseconds (same as `value` for the yes/no measures).
    pub business: i64,
    pub team_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub channel: Channel,
    pub priority: Priority,
}

/// The ticket as its events left it: what the slices other than the
/// measured instant read (organization, tier come from the directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketFacts {
    pub ticket_id: i64,
    pub created_at: Millis,
    pub status: Status,
    pub channel: Channel,
    pub priority: Priority,
    pub team_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub requester_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub tags: Vec<String>,
    /// Merged into another ticket: counted as arrived, never as solved.
    pub merged: bool,
    pub public_replies: i64,
    pub reopens: i64,
    /// The last solve, while the ticket is solved or closed.
    pub solved_at: Option<Millis>,
}

/// The state a ticket is in as its events are walked.
#[derive(Clone)]
struct Walk {
    status: Status,
    channel: Channel,
    priority: Priority,
    team: Option<i64>,
    agent: Option<i64>,
}

impl Walk {
    fn row(&self, measure: Measure, at: Millis, value: i64, business: i64) -> MeasureRow {
        MeasureRow {
            measure,
            at,
            value,
            business,
            team_id: self.team,
            agent_id: self.agent,
            channel: self.channel,
            priority: self.priority,
        }
    }
}

fn id_of(v: &Value) -> Option<i64> {
    v.as_i64()
}

fn status_of(v: &Value) -> Option<Status> {
    v.as_str().and_then(|s| Status::parse("status", s).ok())
}

fn is_solved(s: Status) -> bool {
    matches!(s, Status::Solved | Status::Closed)
}

/// The ticket's facts and measured rows, from its events in order. `business`
/// is the department's calendar; `None` when the events hold no `created`.
pub fn measure(events: &[TicketEvent], business: &BusinessClock) -> Option<(TicketFacts, Vec<MeasureRow>)> {
    let created = events.iter().find(|e| e.kind == EventKind::Created)?;
    let c = &created.to;
    let parse = |key: &str| c.get(key).cloned().unwrap_or(Value::Null);
    let mut w = Walk {
        status: status_of(&parse("status")).unwrap_or(Status::New),
        channel: serde_json::from_value(parse("channel")).unwrap_or(Channel::Web),
        priority: serde_json::from_value(parse("priority")).unwrap_or(Priority::Normal),
        team: id_of(&parse("team_id")),
        agent: id_of(&parse("assignee_id")),
    };
    let mut facts = TicketFacts {
        ticket_id: created.ticket_id.0,
        created_at: created.at,
        status: w.status,
        channel: w.channel,
        priority: w.priority,
        team_id: w.team,
        agent_id: w.agent,
        requester_id: id_of(&parse("requester_id")),
        organization_id: id_of(&parse("organization_id")),
        tags: serde_json::from_value(parse("tags")).unwrap_or_default(),
        merged: false,
        public_replies: 0,
        reopens: 0,
        solved_at: None,
    };
    let span = |from: Millis, to: Millis| (to - from, business.between(from, to));
    let start = created.at;
    let mut rows = vec![w.row(Measure::Created, start, 0, 0)];
    // Time per status, each stretch in calendar and business time.
    let mut in_status: Vec<(Status, Millis, Millis)> = Vec::new();
    let mut status_since = start;
    let mut first_reply: Option<Millis> = None;
    let mut waiting_since: Option<Millis> = None;
    let mut wrote_after_first_reply = false;
    let mut first_solve_seen = false;
    let mut solves: Vec<Millis> = Vec::new();
    let mut sla_seen: Vec<(Measure, Millis)> = Vec::new();
    for e in events {
        match e.kind {
            EventKind::MessageAdded => {
                let author = e.to.get("author_kind").and_then(Value::as_str).unwrap_or_default();
                let public = e.to.get("visibility").and_then(Value::as_str) == Some("public");
                // An agent's or customer's own opening message is no reply and no wait.
                let opening = e.at == created.at && e.actor == created.actor;
                if opening {
                    continue;
                }
                if author == AuthorKind::Staff.as_str() && public {
                    facts.public_replies += 1;
                    // The reply is the replying agent's.
                    let by = Walk { agent: e.actor.id.or(w.agent), ..w.clone() };
                    match first_reply {
                        None => {
                            let (cal, bus) = span(start, e.at);
                            rows.push(by.row(Measure::FirstReply, e.at, cal, bus));
                            first_reply = Some(e.at);
                        }
                        Some(_) => {
                            if let Some(since) = waiting_since {
                                let (cal, bus) = span(since, e.at);
                                rows.push(by.row(Measure::NextReply, e.at, cal, bus));
                            }
                        }
                    }
                    waiting_since = None;
                } else if author == AuthorKind::Customer.as_str() && first_reply.is_some() {
                    wrote_after_first_reply = true;
                    waiting_since.get_or_insert(e.at);
                }
            }
            EventKind::StatusChanged => {
                let Some(next) = status_of(&e.to) else { continue };
                in_status.push((w.status, status_since, e.at));
                status_since = e.at;
                let was = w.status;
                w.status = next;
                let solve = next == Status::Solved || (next == Status::Closed && !is_solved(was) && !facts.merged);
                if solve {
                    solves.push(e.at);
                    if !first_solve_seen {
                        first_solve_seen = true;
                        let (cal, bus) = span(start, e.at);
                        rows.push(w.row(Measure::FirstResolution, e.at, cal, bus));
                    }
                } else if is_solved(was) && next.is_unsolved() {
                    facts.reopens += 1;
                    rows.push(w.row(Measure::Reopen, e.at, 1, 1));
                }
            }
            EventKind::Assigned => w.agent = id_of(&e.to),
            EventKind::TeamChanged => w.team = id_of(&e.to),
            EventKind::PriorityChanged => {
                if let Ok(p) = serde_json::from_value(e.to.clone()) {
                    w.priority = p;
                }
            }
            EventKind::TagsChanged => facts.tags = serde_json::from_value(e.to.clone()).unwrap_or(facts.tags),
            EventKind::OrganizationChanged => facts.organization_id = id_of(&e.to),
            EventKind::RequesterChanged => facts.requester_id = id_of(&e.to),
            EventKind::Merged => facts.merged = true,
            EventKind::SlaFulfilled | EventKind::SlaBreached => {
                let Some(m) = e.field.as_deref().and_then(Measure::of_sla_target) else { continue };
                let cycle = e.to.get("cycle").and_then(Value::as_i64).unwrap_or(e.at);
                // A clock counts once: its breach, or its fulfilment when not breached.
                if sla_seen.contains(&(m, cycle)) {
                    continue;
                }
                sla_seen.push((m, cycle));
                let met = e.kind == EventKind::SlaFulfilled && e.to.get("met").and_then(Value::as_bool) == Some(true);
                let v = i64::from(met);
                rows.push(w.row(m, e.at, v, v));
            }
            _ => {}
        }
    }
    facts.status = w.status;
    facts.channel = w.channel;
    facts.priority = w.priority;
    facts.team_id = w.team;
    facts.agent_id = w.agent;
    let solved_now = is_solved(w.status) && !facts.merged;
    if solved_now && let Some(&last) = solves.last() {
        facts.solved_at = Some(last);
        let (cal, bus) = span(start, last);
        rows.push(w.row(Measure::FullResolution, last, cal, bus));
        let time = |statuses: &[Status]| {
            in_status
                .iter()
                .filter(|(s, from, to)| statuses.contains(s) && *from < last && *to > *from)
                .map(|(_, from, to)| span(*from, (*to).min(last)))
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
        };
        let (cal, bus) = time(&[Status::New, Status::Open, Status::OnHold]);
        rows.push(w.row(Measure::RequesterWait, last, cal, bus));
        let (cal, bus) = time(&[Status::New, Status::Open]);
        rows.push(w.row(Measure::AgentWork, last, cal, bus));
        let (cal, bus) = time(&[Status::Pending]);
        rows.push(w.row(Measure::AgentWait, last, cal, bus));
        let flag = |m: Measure, yes: bool| w.row(m, last, i64::from(yes), i64::from(yes));
        rows.push(flag(Measure::OneTouch, facts.public_replies <= 1));
        rows.push(flag(Measure::NoFurtherContact, !wrote_after_first_reply));
        rows.push(flag(Measure::Reopened, facts.reopens > 0));
    }
    Some((facts, rows))
}
