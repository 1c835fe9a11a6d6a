//! What one ticket's events say it measured: each reply, solve, reopen and
//! SLA outcome as a row with its instant, its value in calendar and in
//! business time, and the team, agent, channel and priority the ticket had
//! at that instant. Storage keeps these rows per ticket (the KPI rollup)
//! and the KPIs are aggregates of them. Definitions: docs/METRICS.md.

pub use domain::kpi::{Measure, MeasureRow, TicketFacts};
use domain::{AuthorKind, BusinessClock, Channel, EventKind, Millis, Priority, Status, TicketEvent};
use serde_json::Value;

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
    // Per agent: logged time, and the ticket as it was at their last entry.
    let mut handled: Vec<(i64, i64, Millis, Walk)> = Vec::new();
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
            EventKind::TimeLogged => {
                let Some(entry) = domain::TimeEntry::of_event(e.at, e.actor, &e.to) else { continue };
                let by = Walk { agent: Some(entry.agent_id.0), ..w.clone() };
                match handled.iter_mut().find(|h| h.0 == entry.agent_id.0) {
                    Some(h) => {
                        h.1 += entry.ms;
                        h.2 = e.at;
                        h.3 = by;
                    }
                    None => handled.push((entry.agent_id.0, entry.ms, e.at, by)),
                }
            }
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
    // Work counts even on a ticket merged away: it was done.
    for (_, ms, at, by) in handled.into_iter().filter(|h| h.1 > 0) {
        rows.push(by.row(Measure::HandleTime, at, ms, ms));
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
