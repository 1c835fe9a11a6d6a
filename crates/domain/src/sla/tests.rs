//! Hand-computed SLA cases: business hours, pauses, cycles, reopens and a
//! daylight-saving change; every figure worked out on paper first.

use std::collections::{BTreeMap, HashMap};

use serde_json::json;

use super::*;
use crate::calendar::{Calendar, OpenHours};
use crate::{Actor, AuthorKind, CustomerId, EventId, TicketId};

const BERLIN: &str = "Europe/Berlin";
const MIN: Millis = 60_000;

fn at(s: &str) -> Millis {
    s.parse::<jiff::civil::DateTime>()
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get(BERLIN).unwrap())
        .unwrap()
        .timestamp()
        .as_millisecond()
}

fn calendar(days: &[&str], from: &str, to: &str) -> BusinessClock {
    BusinessClock::new(&Calendar {
        id: CalendarId(1),
        name: "c".into(),
        time_zone: BERLIN.into(),
        hours: days.iter().map(|d| OpenHours { day: d.to_string(), from: from.into(), to: to.into() }).collect(),
        holidays: vec![],
        created_at: 0,
        updated_at: 0,
    })
    .unwrap()
}

fn office() -> BusinessClock {
    calendar(&["monday", "tuesday", "wednesday", "thursday", "friday"], "09:00", "17:00")
}

fn policy(targets: &[(SlaTargetKind, i64, bool)]) -> SlaPolicy {
    SlaPolicy {
        id: SlaPolicyId(1),
        name: "Standard".into(),
        position: 0,
        active: true,
        conditions: SlaConditions::default(),
        targets: targets
            .iter()
            .map(|&(kind, minutes, business_hours)| SlaTarget { kind, minutes, business_hours })
            .collect(),
        calendar_id: None,
        pause_on: vec![Status::Pending, Status::OnHold],
        warn_percent: 75,
        created_at: 0,
        updated_at: 0,
    }
}

/// A ticket's history, written as it happened.
struct History {
    created_at: Millis,
    events: Vec<TicketEvent>,
}

const CUSTOMER: Actor = Actor { kind: AuthorKind::Customer, id: Some(1) };
const AGENT: Actor = Actor { kind: AuthorKind::Staff, id: Some(7) };

impl History {
    fn opened(when: &str) -> Self {
        let mut h = History { created_at: at(when), events: vec![] };
        h.push(at(when), CUSTOMER, EventKind::Created, json!({ "status": "new" }));
        h.push(
            at(when),
            CUSTOMER,
            EventKind::MessageAdded,
            json!({ "visibility": "public", "author_kind": "customer" }),
        );
        h
    }

    fn push(&mut self, when: Millis, actor: Actor, kind: EventKind, to: Value) {
        let seq = self.events.len() as i64 + 1;
        self.events.push(TicketEvent {
            id: EventId(seq),
            ticket_id: TicketId(1),
            seq,
            at: when,
            actor,
            kind,
            field: None,
            from: Value::Null,
            to,
        });
    }

    fn reply(mut self, when: &str) -> Self {
        self.push(at(when), AGENT, EventKind::MessageAdded, json!({ "visibility": "public", "author_kind": "staff" }));
        self
    }

    fn note(mut self, when: &str) -> Self {
        self.push(
            at(when),
            AGENT,
            EventKind::MessageAdded,
            json!({ "visibility": "internal", "author_kind": "staff" }),
        );
        self
    }

    fn customer(mut self, when: &str) -> Self {
        self.push(
            at(when),
            CUSTOMER,
            EventKind::MessageAdded,
            json!({ "visibility": "public", "author_kind": "customer" }),
        );
        self
    }

    fn status(mut self, when: &str, s: &str) -> Self {
        self.push(at(when), AGENT, EventKind::StatusChanged, json!(s));
        self
    }

    fn ticket(&self) -> Ticket {
        Ticket {
            id: TicketId(1),
            subject: "s".into(),
            status: Status::Open,
            priority: Priority::Normal,
            ticket_type: TicketType::Question,
            channel: Channel::Email,
            requester_id: CustomerId(1),
            organization_id: None,
            assignee_id: None,
            team_id: None,
            tags: vec![],
            custom_fields: BTreeMap::new(),
            problem_id: None,
            merged_into: None,
            follow_up_of: None,
            created_at: self.created_at,
            updated_at: self.created_at,
            solved_at: None,
            version: 1,
        }
    }

    fn at(&self, p: &SlaPolicy, business: &BusinessClock, now: &str) -> SlaState {
        evaluate(p, &Clocks { business, calendar: &BusinessClock::always() }, &self.ticket(), &self.events, at(now))
    }
}

fn target(s: &SlaState, kind: SlaTargetKind) -> &TargetState {
    s.targets.iter().find(|t| t.kind == kind).unwrap()
}

#[test]
fn first_reply_in_business_hours() {
    let p = policy(&[(SlaTargetKind::FirstReply, 60, true)]);
    let office = office();
    // Opened Monday 16:30: half an hour that day, the rest from Tuesday 09:00.
    let h = History::opened("2026-12-07T16:30");
    let s = h.at(&p, &office, "2026-12-07T16:45");
    let t = target(&s, SlaTargetKind::FirstReply);
    assert_eq!((t.status, t.due_at, t.elapsed_ms), (TargetStatus::Running, Some(at("2026-12-08T09:30")), 15 * MIN));
    // The warning (75% = 45 min) falls on Tuesday 09:15, before the due time.
    assert_eq!(s.next_check_at, Some(at("2026-12-08T09:15")));
    assert!(!s.at_risk && !s.breached);
    // At 09:20 it is at risk; answered then, it is met in 50 minutes.
    let s = h.at(&p, &office, "2026-12-08T09:20");
    assert!(s.at_risk);
    assert_eq!(s.cycles[0].warned_at, Some(at("2026-12-08T09:15")));
    let answered = History::opened("2026-12-07T16:30").note("2026-12-07T16:40").reply("2026-12-08T09:20");
    let s = answered.at(&p, &office, "2026-12-08T12:00");
    let t = target(&s, SlaTargetKind::FirstReply);
    assert_eq!((t.status, t.elapsed_ms, t.stopped_at), (TargetStatus::Met, 50 * MIN, Some(at("2026-12-08T09:20"))));
    assert_eq!(s.next_check_at, None);
    // Unanswered, it is breached at Tuesday 09:30.
    let s = h.at(&p, &office, "2026-12-08T10:00");
    let t = target(&s, SlaTargetKind::FirstReply);
    assert_eq!((t.status, t.due_at), (TargetStatus::Breached, Some(at("2026-12-08T09:30"))));
    assert!(s.breached);
    assert_eq!(s.cycles[0].breached_at, Some(at("2026-12-08T09:30")));
}

#[test]
fn pending_stops_the_clocks_and_solving_meets_resolution() {
    let p = policy(&[(SlaTargetKind::FirstReply, 60, true), (SlaTargetKind::Resolution, 480, true)]);
    let office = office();
    // Opened 10:00; pending 10:10–15:00 (waiting on the customer); replied 15:30; solved 16:00.
    let h = History::opened("2026-12-07T10:00")
        .status("2026-12-07T10:10", "pending")
        .customer("2026-12-07T15:00")
        .status("2026-12-07T15:00", "open")
        .reply("2026-12-07T15:30");
    let paused =
        History::opened("2026-12-07T10:00").status("2026-12-07T10:10", "pending").at(&p, &office, "2026-12-07T12:00");
    let t = target(&paused, SlaTargetKind::FirstReply);
    assert_eq!((t.status, t.due_at, t.elapsed_ms), (TargetStatus::Paused, None, 10 * MIN));
    assert_eq!(paused.next_check_at, None, "nothing falls due while paused");
    let s = h.at(&p, &office, "2026-12-07T15:40");
    assert_eq!(target(&s, SlaTargetKind::FirstReply).elapsed_ms, 40 * MIN, "10 min before pending, 30 after");
    let r = target(&s, SlaTargetKind::Resolution);
    assert_eq!((r.status, r.elapsed_ms), (TargetStatus::Running, 50 * MIN));
    assert_eq!(r.due_at, Some(at("2026-12-08T14:50")), "430 minutes on: 80 today, 350 (5 h 50) tomorrow");
    let solved = h.status("2026-12-07T16:00", "solved");
    let s = solved.at(&p, &office, "2026-12-09T10:00");
    let r = target(&s, SlaTargetKind::Resolution);
    assert_eq!((r.status, r.elapsed_ms, r.stopped_at), (TargetStatus::Met, 70 * MIN, Some(at("2026-12-07T16:00"))));
}

#[test]
fn resolution_counts_every_open_stretch_across_a_reopen() {
    let p = policy(&[(SlaTargetKind::Resolution, 120, true)]);
    let office = office();
    let h = History::opened("2026-12-07T09:00")
        .reply("2026-12-07T09:30")
        .status("2026-12-07T09:30", "open")
        .status("2026-12-07T10:00", "solved")
        .customer("2026-12-07T14:00")
        .status("2026-12-07T14:00", "open");
    let s = h.at(&p, &office, "2026-12-07T14:30");
    let r = target(&s, SlaTargetKind::Resolution);
    assert_eq!((r.status, r.elapsed_ms), (TargetStatus::Running, 90 * MIN), "60 before solving, 30 since the reopen");
    assert_eq!(r.due_at, Some(at("2026-12-07T15:00")));
    let s = h.status("2026-12-07T15:30", "solved").at(&p, &office, "2026-12-07T16:00");
    let r = target(&s, SlaTargetKind::Resolution);
    assert_eq!((r.status, r.elapsed_ms), (TargetStatus::Breached, 150 * MIN));
    assert_eq!(s.cycles[0].breached_at, Some(at("2026-12-07T15:00")));
    assert!(!s.breached, "a breach on a solved ticket is history, not a running breach");
}

#[test]
fn next_reply_has_a_clock_per_customer_turn() {
    let p = policy(&[(SlaTargetKind::NextReply, 120, true)]);
    let office = office();
    let h = History::opened("2026-12-07T09:00")
        .reply("2026-12-07T09:30")
        .customer("2026-12-07T10:00")
        .reply("2026-12-07T11:00")
        .customer("2026-12-07T13:00")
        .customer("2026-12-07T13:30")
        .reply("2026-12-07T16:00");
    let s = h.at(&p, &office, "2026-12-07T16:30");
    let cycles: Vec<_> = s.cycles.iter().map(|c| (c.started_at, c.stopped_at, c.elapsed_ms, c.breached_at)).collect();
    assert_eq!(
        cycles,
        vec![
            (at("2026-12-07T10:00"), Some(at("2026-12-07T11:00")), 60 * MIN, None),
            (at("2026-12-07T13:00"), Some(at("2026-12-07T16:00")), 180 * MIN, Some(at("2026-12-07T15:00"))),
        ],
        "the second message joins the running clock"
    );
    assert_eq!(target(&s, SlaTargetKind::NextReply).status, TargetStatus::Breached);
    // Before the first reply there is no next-reply clock.
    let s = History::opened("2026-12-07T09:00").customer("2026-12-07T09:10").at(&p, &office, "2026-12-07T09:20");
    assert_eq!(target(&s, SlaTargetKind::NextReply).status, TargetStatus::Waiting);
}

#[test]
fn periodic_updates_and_calendar_time() {
    // Calendar time: four hours are four hours, nights and weekends included.
    let p = policy(&[(SlaTargetKind::PeriodicUpdate, 240, false)]);
    let h = History::opened("2026-12-04T15:00").reply("2026-12-04T16:00");
    let s = h.at(&p, &office(), "2026-12-04T17:00");
    let t = target(&s, SlaTargetKind::PeriodicUpdate);
    assert_eq!((t.status, t.due_at), (TargetStatus::Running, Some(at("2026-12-04T20:00"))));
    let s = h.reply("2026-12-04T19:00").at(&p, &office(), "2026-12-04T19:30");
    assert_eq!(s.cycles.len(), 2);
    assert_eq!(s.cycles[0].stopped_at, Some(at("2026-12-04T19:00")));
    assert_eq!(target(&s, SlaTargetKind::PeriodicUpdate).due_at, Some(at("2026-12-04T23:00")));
}

#[test]
fn a_daylight_saving_change_in_business_hours() {
    // Open around the clock in Berlin: the night of 25 October 2026 has 25 hours.
    let p = policy(&[(SlaTargetKind::FirstReply, 180, true)]);
    let always_open =
        calendar(&["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"], "00:00", "24:00");
    let h = History::opened("2026-10-25T01:30");
    let s = h.at(&p, &always_open, "2026-10-25T01:30");
    let due = target(&s, SlaTargetKind::FirstReply).due_at.unwrap();
    assert_eq!(due - at("2026-10-25T01:30"), 180 * MIN, "three real hours");
    let local = jiff::Timestamp::from_millisecond(due).unwrap().to_zoned(jiff::tz::TimeZone::get(BERLIN).unwrap());
    assert_eq!(local.strftime("%H:%M").to_string(), "03:30", "the wall clock went back an hour at 03:00");
}

#[test]
fn the_first_matching_policy_applies() {
    let mut vip = policy(&[(SlaTargetKind::FirstReply, 30, true)]);
    vip.id = SlaPolicyId(2);
    vip.name = "VIP".into();
    vip.position = 0;
    vip.conditions.tiers = vec![Tier::Vip];
    let mut urgent = policy(&[(SlaTargetKind::FirstReply, 60, true)]);
    urgent.id = SlaPolicyId(3);
    urgent.position = 1;
    urgent.conditions.priorities = vec![Priority::Urgent];
    urgent.conditions.tags = vec!["outage".into()];
    let mut standard = policy(&[(SlaTargetKind::FirstReply, 480, true)]);
    standard.position = 9;
    let mut off = standard.clone();
    off.id = SlaPolicyId(4);
    off.position = -1;
    off.active = false;
    let all = [standard.clone(), urgent.clone(), vip.clone(), off];
    let keys = HashMap::new();
    let mut t = History::opened("2026-12-07T09:00").ticket();
    assert_eq!(choose(&all, &t, Tier::Vip, &keys).map(|p| p.id), Some(SlaPolicyId(2)));
    t.priority = Priority::Urgent;
    assert_eq!(choose(&all, &t, Tier::Standard, &keys).map(|p| p.id), Some(SlaPolicyId(1)), "urgent needs the tag too");
    t.tags = vec!["outage".into()];
    assert_eq!(choose(&all, &t, Tier::Standard, &keys).map(|p| p.id), Some(SlaPolicyId(3)));
    assert_eq!(choose(&[], &t, Tier::Standard, &keys), None);
    let mut bad = standard;
    bad.warn_percent = 100;
    bad.targets.push(bad.targets[0].clone());
    bad.pause_on = vec![Status::Solved];
    let fields: Vec<String> = check_policy(&bad).unwrap_err().into_iter().map(|e| e.field).collect();
    assert_eq!(fields, vec!["targets", "warn_percent", "pause_on"]);
}
