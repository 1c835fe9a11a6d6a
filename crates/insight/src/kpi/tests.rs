//! Hand-computed fixtures: each figure below is worked out in the comment
//! beside it (and in docs/METRICS.md).

use domain::{
    Actor, AuthorKind, BusinessClock, Calendar, CalendarId, EventId, EventKind, OpenHours, TicketEvent, TicketId,
};
use serde_json::{Value, json};

use super::*;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
/// Monday 2026-11-02 00:00 UTC.
const MONDAY: i64 = 1_793_577_600_000;

fn at(day: i64, h: i64, m: i64) -> i64 {
    MONDAY + day * 24 * HOUR + h * HOUR + m * MIN
}

const CUSTOMER: Actor = Actor { kind: AuthorKind::Customer, id: Some(7) };
const ADA: Actor = Actor { kind: AuthorKind::Staff, id: Some(1) };
const BO: Actor = Actor { kind: AuthorKind::Staff, id: Some(2) };

struct History(Vec<TicketEvent>);

impl History {
    fn new(when: i64, by: Actor, status: &str) -> History {
        let mut h = History(vec![]);
        h.push(
            when,
            by,
            EventKind::Created,
            None,
            json!({ "status": status, "priority": "normal", "channel": "email",
            "requester_id": 7, "organization_id": null, "assignee_id": null, "team_id": 3, "tags": ["billing"] }),
        );
        h
    }
    fn push(&mut self, when: i64, by: Actor, kind: EventKind, field: Option<&str>, to: Value) -> &mut Self {
        let seq = self.0.len() as i64 + 1;
        self.0.push(TicketEvent {
            id: EventId(seq),
            ticket_id: TicketId(42),
            seq,
            at: when,
            actor: by,
            kind,
            field: field.map(str::to_string),
            from: Value::Null,
            to,
        });
        self
    }
    fn message(&mut self, when: i64, by: Actor, public: bool) -> &mut Self {
        let kind = if by.kind == AuthorKind::Staff { "staff" } else { "customer" };
        let vis = if public { "public" } else { "internal" };
        self.push(when, by, EventKind::MessageAdded, None, json!({ "author_kind": kind, "visibility": vis }))
    }
    fn status(&mut self, when: i64, by: Actor, to: &str) -> &mut Self {
        self.push(when, by, EventKind::StatusChanged, Some("status"), json!(to))
    }
    fn assign(&mut self, when: i64, to: i64) -> &mut Self {
        self.push(when, ADA, EventKind::Assigned, Some("assignee_id"), json!(to))
    }
    fn rows(&self) -> (TicketFacts, Vec<MeasureRow>) {
        measure(&self.0, &office()).expect("a created event")
    }
}

/// Monday to Friday 09:00–17:00 UTC.
fn office() -> BusinessClock {
    let hours = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .iter()
        .map(|d| OpenHours { day: d.to_string(), from: "09:00".into(), to: "17:00".into() })
        .collect();
    let c = Calendar {
        id: CalendarId(1),
        name: "Office".into(),
        time_zone: "UTC".into(),
        hours,
        holidays: vec![],
        created_at: 0,
        updated_at: 0,
    };
    BusinessClock::new(&c).expect("a valid calendar")
}

fn only(rows: &[MeasureRow], m: Measure) -> Vec<&MeasureRow> {
    rows.iter().filter(|r| r.measure == m).collect()
}

fn one(rows: &[MeasureRow], m: Measure) -> (i64, i64) {
    let found = only(rows, m);
    assert_eq!(found.len(), 1, "{m:?}: {found:?}");
    (found[0].value, found[0].business)
}

#[test]
fn a_plain_conversation_measures_replies_resolution_and_touches() {
    // Monday 10:00 opened; Ada replies 10:30; the customer writes 11:00;
    // Bo answers 12:00; solved 12:30.
    let mut h = History::new(at(0, 10, 0), CUSTOMER, "new");
    h.message(at(0, 10, 0), CUSTOMER, true)
        .assign(at(0, 10, 5), 1)
        .message(at(0, 10, 30), ADA, true)
        .status(at(0, 10, 30), ADA, "open")
        .message(at(0, 11, 0), CUSTOMER, true)
        .message(at(0, 11, 30), ADA, false)
        .message(at(0, 12, 0), BO, true)
        .status(at(0, 12, 30), ADA, "solved");
    let (facts, rows) = h.rows();
    assert_eq!(one(&rows, Measure::FirstReply), (30 * MIN, 30 * MIN), "10:00 → 10:30, all in office hours");
    let next = only(&rows, Measure::NextReply);
    assert_eq!((next.len(), next[0].value, next[0].agent_id), (1, HOUR, Some(2)), "11:00 → 12:00, Bo's reply");
    assert_eq!(one(&rows, Measure::FirstResolution), (150 * MIN, 150 * MIN));
    assert_eq!(one(&rows, Measure::FullResolution), (150 * MIN, 150 * MIN));
    assert_eq!(one(&rows, Measure::RequesterWait).0, 150 * MIN, "new 30 + open 120");
    assert_eq!(one(&rows, Measure::AgentWork).0, 150 * MIN);
    assert_eq!(one(&rows, Measure::AgentWait).0, 0);
    assert_eq!(one(&rows, Measure::OneTouch).0, 0, "two public replies");
    assert_eq!(one(&rows, Measure::NoFurtherContact).0, 0, "the customer wrote again");
    assert_eq!(one(&rows, Measure::Reopened).0, 0);
    assert_eq!(only(&rows, Measure::OneTouch)[0].agent_id, Some(1), "a solve is the assignee's");
    assert_eq!(only(&rows, Measure::FirstReply)[0].team_id, Some(3));
    assert_eq!((facts.public_replies, facts.reopens, facts.solved_at), (2, 0, Some(at(0, 12, 30))));
    assert_eq!(facts.tags, vec!["billing".to_string()]);
}

#[test]
fn business_time_skips_the_weekend_and_nights() {
    // Friday 16:00 opened, answered Monday 10:00: 66 hours on the clock,
    // 1 (Friday 16–17) + 1 (Monday 9–10) = 2 business hours.
    let mut h = History::new(at(4, 16, 0), CUSTOMER, "new");
    h.message(at(7, 10, 0), ADA, true).status(at(7, 10, 0), ADA, "solved");
    let (_, rows) = h.rows();
    assert_eq!(one(&rows, Measure::FirstReply), (66 * HOUR, 2 * HOUR));
    assert_eq!(one(&rows, Measure::OneTouch).0, 1, "one reply, solved");
    assert_eq!(one(&rows, Measure::NoFurtherContact).0, 1);
}

#[test]
fn pending_time_is_the_agent_waiting_not_the_requester() {
    // 09:00 new; 09:10 reply and pending; 11:00 the customer answers (open);
    // 11:30 solved without another reply.
    let mut h = History::new(at(1, 9, 0), CUSTOMER, "new");
    h.message(at(1, 9, 10), ADA, true)
        .status(at(1, 9, 10), ADA, "pending")
        .message(at(1, 11, 0), CUSTOMER, true)
        .status(at(1, 11, 0), CUSTOMER, "open")
        .status(at(1, 11, 30), ADA, "solved");
    let (_, rows) = h.rows();
    assert_eq!(one(&rows, Measure::RequesterWait).0, 40 * MIN, "new 10 + open 30");
    assert_eq!(one(&rows, Measure::AgentWork).0, 40 * MIN);
    assert_eq!(one(&rows, Measure::AgentWait).0, 110 * MIN, "pending 09:10–11:00");
    assert!(only(&rows, Measure::NextReply).is_empty(), "solved without answering: no next reply to measure");
    assert_eq!(one(&rows, Measure::OneTouch).0, 1, "Zendesk's rule: one reply and solved");
    assert_eq!(one(&rows, Measure::NoFurtherContact).0, 0, "but the customer wrote again");
}

#[test]
fn a_reopen_keeps_the_first_resolution_and_moves_the_full_one() {
    // Opened Monday 09:00, solved 10:00, reopened 13:00 by the customer,
    // solved again 14:00 after a second reply.
    let mut h = History::new(at(0, 9, 0), CUSTOMER, "new");
    h.message(at(0, 9, 30), ADA, true)
        .status(at(0, 10, 0), ADA, "solved")
        .message(at(0, 13, 0), CUSTOMER, true)
        .status(at(0, 13, 0), CUSTOMER, "open")
        .message(at(0, 13, 20), ADA, true)
        .status(at(0, 14, 0), ADA, "solved");
    let (facts, rows) = h.rows();
    assert_eq!(one(&rows, Measure::FirstResolution).0, HOUR);
    assert_eq!(one(&rows, Measure::FullResolution).0, 5 * HOUR);
    assert_eq!(one(&rows, Measure::Reopen), (1, 1));
    assert_eq!(one(&rows, Measure::Reopened).0, 1);
    assert_eq!(one(&rows, Measure::RequesterWait).0, 2 * HOUR, "09–10 and 13–14; solved time is nobody's wait");
    assert_eq!(one(&rows, Measure::NextReply).0, 20 * MIN);
    assert_eq!(facts.reopens, 1);
}

#[test]
fn a_ticket_reopened_and_not_solved_again_has_no_resolution_yet() {
    let mut h = History::new(at(0, 9, 0), CUSTOMER, "new");
    h.message(at(0, 9, 30), ADA, true).status(at(0, 10, 0), ADA, "solved").status(at(0, 13, 0), CUSTOMER, "open");
    let (facts, rows) = h.rows();
    assert_eq!(one(&rows, Measure::FirstResolution).0, HOUR, "it was solved once");
    assert!(only(&rows, Measure::FullResolution).is_empty());
    assert!(only(&rows, Measure::OneTouch).is_empty(), "not solved: not in the solved count");
    assert_eq!(facts.solved_at, None);
}

#[test]
fn an_agents_own_opening_message_is_no_reply() {
    // Bo opens a phone ticket with a public message, replies 20 minutes later.
    let mut h = History::new(at(0, 9, 0), BO, "open");
    h.message(at(0, 9, 0), BO, true).message(at(0, 9, 20), BO, true).status(at(0, 9, 30), BO, "solved");
    let (facts, rows) = h.rows();
    assert_eq!(one(&rows, Measure::FirstReply).0, 20 * MIN);
    assert_eq!(facts.public_replies, 1);
}

#[test]
fn a_merged_ticket_arrives_but_is_never_solved() {
    let mut h = History::new(at(0, 9, 0), CUSTOMER, "new");
    h.push(at(0, 9, 5), ADA, EventKind::Merged, Some("merged_into"), json!(41)).status(at(0, 9, 5), ADA, "closed");
    let (facts, rows) = h.rows();
    assert!(facts.merged);
    assert_eq!(rows.len(), 1, "only its arrival: {rows:?}");
    assert_eq!(rows[0].measure, Measure::Created);
}

#[test]
fn each_sla_clock_counts_once_a_breach_standing() {
    let mut h = History::new(at(0, 9, 0), CUSTOMER, "new");
    let breach = json!({ "cycle": at(0, 9, 0) });
    h.push(at(0, 10, 0), ADA, EventKind::SlaBreached, Some("first_reply"), breach)
        .push(
            at(0, 11, 0),
            ADA,
            EventKind::SlaFulfilled,
            Some("first_reply"),
            json!({ "cycle": at(0, 9, 0), "met": false }),
        )
        .push(
            at(0, 12, 0),
            ADA,
            EventKind::SlaFulfilled,
            Some("next_reply"),
            json!({ "cycle": at(0, 11, 30), "met": true }),
        )
        .push(
            at(0, 15, 0),
            ADA,
            EventKind::SlaFulfilled,
            Some("next_reply"),
            json!({ "cycle": at(0, 14, 0), "met": true }),
        );
    let (_, rows) = h.rows();
    let first: Vec<_> = only(&rows, Measure::SlaFirstReply).iter().map(|r| (r.at, r.value)).collect();
    assert_eq!(first, vec![(at(0, 10, 0), 0)], "breached at 10:00, counted then");
    assert_eq!(only(&rows, Measure::SlaNextReply).len(), 2, "two clocks, both met");
    let k = TicketKpis::of(&rows);
    assert_eq!((k.sla_first_reply.yes, k.sla_first_reply.of), (0, 1));
    assert_eq!(k.sla_next_reply.rate, Some(1.0));
}

#[test]
fn medians_average_the_middle_pair_and_p90_is_the_nearest_rank() {
    let d = Distribution::of(&mut [5, 1, 3, 2, 4, 10, 7, 6, 9, 8]).expect("values");
    assert_eq!((d.count, d.median, d.p90, d.min, d.max), (10, 5.5, 9, 1, 10));
    assert_eq!(d.mean, 5.5);
    let d = Distribution::of(&mut [30, 10, 20]).expect("values");
    assert_eq!((d.median, d.p90), (20.0, 30), "rank ⌈2.7⌉ = 3");
    assert_eq!(Distribution::of(&mut []), None);
    assert_eq!(histogram(&[0, 5, 10, 59, 60, 500], &[0, 10, 60]), vec![2, 2, 2]);
}

#[test]
fn a_slice_aggregates_its_tickets() {
    // Two tickets: one-touch solved in 1 h; two replies solved in 3 h, reopened.
    let mut a = History::new(at(0, 9, 0), CUSTOMER, "new");
    a.message(at(0, 9, 20), ADA, true).status(at(0, 10, 0), ADA, "solved");
    let mut b = History::new(at(0, 9, 0), CUSTOMER, "new");
    b.message(at(0, 9, 40), ADA, true)
        .status(at(0, 10, 0), ADA, "solved")
        .status(at(0, 11, 0), CUSTOMER, "open")
        .message(at(0, 11, 30), ADA, true)
        .status(at(0, 12, 0), ADA, "solved");
    let mut rows = a.rows().1;
    rows.extend(b.rows().1);
    let k = TicketKpis::of(&rows);
    assert_eq!((k.created, k.solved, k.reopens), (2, 2, 1));
    let frt = k.first_reply.calendar.expect("replies");
    assert_eq!((frt.median, frt.p90), (30.0 * MIN as f64, 40 * MIN), "20 and 40 minutes");
    assert_eq!(k.full_resolution.calendar.map(|d| d.mean), Some(2.0 * HOUR as f64), "1 h and 3 h");
    assert_eq!(k.one_touch, Rate::new(1, 2));
    assert_eq!(k.reopen_rate.rate, Some(0.5));
}

#[test]
fn distributions_from_buckets_take_the_middle_of_the_bucket_at_each_rank() {
    use crate::kpi::distribution::histogram_of_buckets;
    use domain::kpi::cells::bucket;
    // 30 s, 90 s, 91 s and 20 min: buckets [30, 31) s, [90, 95) s twice, [20 min, 20.5 min).
    let values = [30_000, 90_000, 91_000, 1_200_000];
    let mut counted: Vec<(i64, i64)> = Vec::new();
    for v in values {
        let lower = bucket(v).0;
        match counted.iter_mut().find(|(l, _)| *l == lower) {
            Some(c) => c.1 += 1,
            None => counted.push((lower, 1)),
        }
    }
    assert_eq!(counted, vec![(30_000, 1), (90_000, 2), (1_200_000, 1)]);
    let d = Distribution::of_buckets(&counted, values.iter().sum()).unwrap();
    assert_eq!(d.count, 4);
    assert_eq!(d.mean, 352_750.0, "the mean is exact");
    assert_eq!(d.median, 92_500.0, "both middle values in [90, 95) s");
    assert_eq!((d.min, d.p90, d.max), (30_500, 1_215_000, 1_215_000));
    let exact = Distribution::of(&mut values.clone()).unwrap();
    assert!((d.median - exact.median).abs() <= 2_500.0);
    assert_eq!(histogram_of_buckets(&counted, &[0, 60_000, 900_000]), vec![1, 2, 1]);
    assert_eq!(Distribution::of_buckets(&[], 0), None);
}

#[test]
fn logged_time_is_one_handled_contact_per_agent_at_their_last_entry() {
    // A phone ticket: Ada's call of 6 minutes (sent by the telephony
    // integration) and 2 more minutes of wrap-up she logs; the ticket
    // moves to chat, Bo logs 5 minutes, then takes back 1 (a correction);
    // Ada also logs 3 minutes and corrects all of it: no contact of hers
    // is lost, none of zero time is added.
    let mut h = History::new(at(0, 10, 0), CUSTOMER, "new");
    let log = |agent: i64, ms: i64, source: &str| json!({ "agent_id": agent, "ms": ms, "source": source, "note": "" });
    h.push(at(0, 10, 0), CUSTOMER, EventKind::PriorityChanged, Some("priority"), json!("high"))
        .push(at(0, 10, 6), Actor::system(), EventKind::TimeLogged, Some("handle_time"), log(1, 6 * MIN, "integration"))
        .push(at(0, 10, 8), ADA, EventKind::TimeLogged, Some("handle_time"), log(1, 2 * MIN, "agent"))
        .push(at(0, 11, 0), ADA, EventKind::TeamChanged, Some("team_id"), json!(4))
        .push(at(0, 11, 5), BO, EventKind::TimeLogged, Some("handle_time"), log(2, 5 * MIN, "agent"))
        .push(at(0, 11, 6), BO, EventKind::TimeLogged, Some("handle_time"), log(2, -MIN, "agent"))
        .push(at(0, 12, 0), BO, EventKind::TimeLogged, Some("handle_time"), log(3, 3 * MIN, "agent"))
        .push(at(0, 12, 1), BO, EventKind::TimeLogged, Some("handle_time"), log(3, -3 * MIN, "agent"))
        .push(at(0, 12, 2), ADA, EventKind::Merged, Some("merged_into"), json!(41));
    let (_, rows) = h.rows();
    let handled: Vec<_> =
        only(&rows, Measure::HandleTime).iter().map(|r| (r.agent_id, r.at, r.value, r.business, r.team_id)).collect();
    assert_eq!(
        handled,
        vec![(Some(1), at(0, 10, 8), 8 * MIN, 8 * MIN, Some(3)), (Some(2), at(0, 11, 6), 4 * MIN, 4 * MIN, Some(4)),],
        "work on a ticket merged away still counts"
    );
    let k = TicketKpis::of(&rows);
    let aht = k.handle_time.calendar.expect("two contacts");
    assert_eq!((aht.count, aht.mean, aht.median), (2, 6.0 * MIN as f64, 6.0 * MIN as f64), "(8 + 4) ÷ 2");
}
