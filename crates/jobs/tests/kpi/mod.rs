//! The KPI rollup equals a recomputation from the events, whatever the
//! order and lag of its updates: random histories on a few tickets, the
//! rollup refreshed after random steps only, then caught up.

use std::sync::Arc;

use domain::kpi::cells::{CellQuery, CellView, day_number};
use domain::kpi::{Measure, Slice};
use domain::lifecycle::{self, MessageOutcome, TicketPatch};
use domain::{Actor, AuthorKind, BusinessClock, Channel, Status, Ticket, TicketId, Visibility};
use insight::kpi::TicketKpis;
use jobs::kpi::TallyLimits;
use proptest::prelude::*;
use store::{NewMessage, Store, TicketWrite};

use super::T0;

#[derive(Debug, Clone)]
enum Step {
    StaffReply(usize, i64),
    CustomerReply(usize),
    Note(usize),
    Status(usize, Status),
    Assign(usize, i64),
    /// An agent logs minutes of work (negative: a correction, refused
    /// below zero as the API refuses it).
    LogTime(usize, i64, i64),
    /// A tag added, or removed when the ticket has it.
    Tag(usize, &'static str),
    /// The ticket moved to organization 1 or 2, or to none.
    Organization(usize, Option<i64>),
    /// The ticket moved to team 1 or 2.
    Team(usize, i64),
    /// The requester (0) or organization 1 or 2 gets a new tier; the
    /// `kpi.retier` job moves their tickets.
    Tier(i64, domain::Tier),
    /// The rollup catches up on this ticket now.
    Refresh(usize),
    /// The hourly fold: the buckets of the days before this one become histograms.
    Fold,
}

fn step() -> impl Strategy<Value = (Step, i64)> {
    let t = 0..3usize;
    let s = prop_oneof![
        (t.clone(), 1..3i64).prop_map(|(i, a)| Step::StaffReply(i, a)),
        t.clone().prop_map(Step::CustomerReply),
        t.clone().prop_map(Step::Note),
        (t.clone(), prop_oneof![Just(Status::Open), Just(Status::Pending), Just(Status::OnHold), Just(Status::Solved)])
            .prop_map(|(i, s)| Step::Status(i, s)),
        (t.clone(), 1..3i64).prop_map(|(i, a)| Step::Assign(i, a)),
        (t.clone(), 1..3i64, -20..60i64).prop_map(|(i, a, m)| Step::LogTime(i, a, m)),
        (t.clone(), prop_oneof![Just("refund"), Just("vip")]).prop_map(|(i, g)| Step::Tag(i, g)),
        (t.clone(), prop_oneof![Just(None), Just(Some(1i64)), Just(Some(2i64))])
            .prop_map(|(i, o)| Step::Organization(i, o)),
        (t.clone(), 1..3i64).prop_map(|(i, team)| Step::Team(i, team)),
        (0..3i64, prop_oneof![Just(domain::Tier::Standard), Just(domain::Tier::Priority), Just(domain::Tier::Vip)])
            .prop_map(|(h, t)| Step::Tier(h, t)),
        t.prop_map(Step::Refresh),
        Just(Step::Fold),
    ];
    (s, 1..240i64)
}

fn message(actor: Actor, visibility: Visibility, at: i64) -> NewMessage {
    NewMessage {
        visibility,
        author_kind: actor.kind,
        author_id: actor.id,
        channel: Channel::Email,
        body_text: "words".into(),
        body_html: String::new(),
        metadata: serde_json::json!({}),
        attachment_ids: vec![],
        created_at: at,
        email: None,
    }
}

async fn write(
    store: &dyn Store,
    t: &Ticket,
    next: Ticket,
    events: Vec<domain::event::NewEvent>,
    messages: Vec<NewMessage>,
) {
    store.write_ticket(TicketWrite { ticket: next, expected_version: t.version, events, messages }).await.unwrap();
}

async fn apply(store: &dyn Store, ids: &[TicketId], s: &Step, at: i64, business: &BusinessClock) {
    let id = match s {
        Step::StaffReply(i, _)
        | Step::CustomerReply(i)
        | Step::Note(i)
        | Step::Status(i, _)
        | Step::Assign(i, _)
        | Step::Tag(i, _)
        | Step::Organization(i, _)
        | Step::Team(i, _) => ids[*i],
        Step::Refresh(i) => {
            jobs::kpi::refresh(store, ids[*i], business).await.unwrap();
            return;
        }
        Step::Fold => {
            jobs::kpi::fold(store, at).await.unwrap();
            return;
        }
        Step::Tier(holder, tier) => {
            let holder = if *holder == 0 {
                let requester = store.ticket(ids[0]).await.unwrap().unwrap().requester_id;
                let mut c = store.customer(requester).await.unwrap().unwrap();
                c.tier = *tier;
                store.update_customer(&c).await.unwrap();
                store::TierHolder::Customer(c.id)
            } else {
                let mut o = store.organization(domain::OrganizationId(*holder)).await.unwrap().unwrap();
                o.tier = *tier;
                store.update_organization(&o).await.unwrap();
                store::TierHolder::Organization(o.id)
            };
            jobs::kpi::retier(store, holder).await.unwrap();
            return;
        }
        Step::LogTime(i, a, minutes) => {
            let entry = domain::TimeEntry {
                agent_id: domain::UserId(*a),
                ms: minutes * 60_000,
                source: domain::TimeSource::Agent,
                note: String::new(),
                at,
                by: Actor { kind: AuthorKind::Staff, id: Some(*a) },
            };
            let earlier = domain::TimeEntry::of_events(&store.events(ids[*i]).await.unwrap());
            if entry.check(&earlier).is_empty() {
                store.append_events(ids[*i], vec![entry.event()]).await.unwrap();
            }
            return;
        }
    };
    let t = store.ticket(id).await.unwrap().unwrap();
    let staff = |a: i64| Actor { kind: AuthorKind::Staff, id: Some(a) };
    let customer = Actor { kind: AuthorKind::Customer, id: Some(t.requester_id.0) };
    let (actor, visibility) = match s {
        Step::StaffReply(_, a) => (staff(*a), Visibility::Public),
        Step::CustomerReply(_) => (customer, Visibility::Public),
        Step::Note(_) => (staff(1), Visibility::Internal),
        Step::Status(_, to) => {
            let p = TicketPatch { status: Some(*to), ..TicketPatch::default() };
            if let Ok((next, events)) = lifecycle::apply_patch(&t, &p, staff(1), at) {
                write(store, &t, next, events, vec![]).await;
            }
            return;
        }
        Step::Assign(_, a) => {
            let p = TicketPatch { assignee_id: Some(Some(domain::UserId(*a))), ..TicketPatch::default() };
            if let Ok((next, events)) = lifecycle::apply_patch(&t, &p, staff(1), at) {
                write(store, &t, next, events, vec![]).await;
            }
            return;
        }
        Step::Tag(..) | Step::Organization(..) | Step::Team(..) => {
            let p = match s {
                Step::Tag(_, tag) if t.tags.iter().any(|g| g == tag) => {
                    TicketPatch { remove_tags: vec![tag.to_string()], ..TicketPatch::default() }
                }
                Step::Tag(_, tag) => TicketPatch { add_tags: vec![tag.to_string()], ..TicketPatch::default() },
                Step::Organization(_, o) => {
                    TicketPatch { organization_id: Some(o.map(domain::OrganizationId)), ..TicketPatch::default() }
                }
                Step::Team(_, team) => {
                    TicketPatch { team_id: Some(Some(domain::TeamId(*team))), ..TicketPatch::default() }
                }
                _ => return,
            };
            if let Ok((next, events)) = lifecycle::apply_patch(&t, &p, staff(1), at) {
                write(store, &t, next, events, vec![]).await;
            }
            return;
        }
        Step::Refresh(_) | Step::LogTime(..) | Step::Fold | Step::Tier(..) => return,
    };
    if let Ok(MessageOutcome::Added { ticket, events }) = lifecycle::add_message(&t, visibility, actor, at) {
        write(store, &t, ticket, events, vec![message(actor, visibility, at)]).await;
    }
}

async fn check(store: Arc<dyn Store>, steps: Vec<(Step, i64)>) {
    let business = BusinessClock::always();
    // The cells are kept from the start, in the installation's zone.
    assert!(jobs::kpi::ensure_cells(store.as_ref()).await.unwrap());
    assert!(!jobs::kpi::ensure_cells(store.as_ref()).await.unwrap(), "once is enough");
    // Organizations 1 and 2, which tickets move between.
    for name in ["Acme", "Globex"] {
        let org = domain::Organization {
            id: domain::OrganizationId(0),
            name: name.into(),
            domains: vec![],
            tier: domain::Tier::Standard,
            notes: String::new(),
            shares_tickets: false,
            created_at: T0,
            updated_at: T0,
        };
        store.create_organization(org, None).await.unwrap();
    }
    let email = domain::EmailAddress::parse("prop@example.com").unwrap();
    let c = store.create_customer(domain::Customer::new(&email, "Prop", T0), None, None).await.unwrap().id;
    // Agents 1 and 2, whom the steps name.
    let mut agents = Vec::new();
    for name in ["ada", "bo"] {
        let u = domain::User {
            id: domain::UserId(0),
            email: format!("{name}@example.com"),
            name: name.into(),
            role: domain::Role::Agent,
            active: true,
            reports_to: None,
            time_zone: None,
            created_at: T0,
            updated_at: T0,
        };
        agents.push(store.create_user(u, None, None).await.unwrap().id);
    }
    assert_eq!(agents, vec![domain::UserId(1), domain::UserId(2)]);
    // Teams 1 and 2, which tickets move between.
    for name in ["Billing", "Tech"] {
        let team = domain::Team {
            id: domain::TeamId(0),
            name: name.into(),
            description: String::new(),
            lead_id: None,
            member_ids: vec![],
            created_at: T0,
            updated_at: T0,
        };
        store.create_team(team, None).await.unwrap();
    }
    // Team 1's email and chat, team 2's email: the team's channel slices.
    let mut ids = Vec::new();
    for (i, (team, channel)) in [(1, Channel::Email), (1, Channel::Chat), (2, Channel::Email)].into_iter().enumerate() {
        let s = store::conformance::Spec {
            team: Some(domain::TeamId(team)),
            channel,
            ..store::conformance::spec("Ticket", "help", c, T0 + i as i64)
        };
        ids.push(store.create_ticket(store::conformance::new_ticket(&s), None).await.unwrap().id);
    }
    let mut at = T0 + 10;
    for (s, minutes) in &steps {
        at += minutes * 60_000;
        apply(store.as_ref(), &ids, s, at, &business).await;
    }
    jobs::kpi::catch_up(store.as_ref(), 100).await.unwrap();
    let mut recomputed = Vec::new();
    for id in &ids {
        let events = store.events(*id).await.unwrap();
        let (facts, mut rows) = insight::kpi::measure(&events, &business).unwrap();
        let mut stored = store.ticket_measures(*id).await.unwrap();
        rows.sort_by_key(|r| (r.at, r.measure));
        stored.sort_by_key(|r| (r.at, r.measure));
        assert_eq!(stored, rows, "ticket {id}");
        assert_eq!(store.ticket_facts(*id).await.unwrap(), Some(facts));
        recomputed.extend(rows);
    }
    let all = store.measure_rows(Measure::ALL, T0, at + 1, &Slice::default()).await.unwrap();
    assert_eq!(TicketKpis::of(&all), TicketKpis::of(&recomputed));
    store::conformance::cells_equal_rows(store.as_ref()).await;
    // The rows path slices each ticket into the tier it has now.
    for tier in domain::Tier::ALL {
        let mut expected = 0;
        for id in &ids {
            let t = store.ticket(*id).await.unwrap().unwrap();
            let requester = store.customer(t.requester_id).await.unwrap().unwrap().tier;
            let org = match t.organization_id {
                Some(o) => Some(store.organization(o).await.unwrap().unwrap().tier),
                None => None,
            };
            expected += i64::from(domain::Tier::of_ticket(requester, org) == *tier);
        }
        let slice = Slice { tier: Some(*tier), ..Slice::default() };
        let created = store.measure_rows(&[Measure::Created], T0, at + 1, &slice).await.unwrap();
        assert_eq!(created.len() as i64, expected, "{tier}");
    }
    cockpit_from_cells_matches_rows(store.as_ref(), at).await;
    // Every day folded, the cells read the same.
    store.fold_buckets(i64::MAX).await.unwrap();
    store::conformance::cells_equal_rows(store.as_ref()).await;
    cockpit_from_cells_matches_rows(store.as_ref(), at).await;
    // The rebuild (pages of tickets, one transaction each) gives the same.
    assert_eq!(jobs::kpi::rebuild(store.as_ref(), |_| {}).await.unwrap(), 3);
    let rebuilt = store.measure_rows(Measure::ALL, T0, at + 1, &Slice::default()).await.unwrap();
    assert_eq!(TicketKpis::of(&rebuilt), TicketKpis::of(&recomputed));
    store::conformance::cells_equal_rows(store.as_ref()).await;
    // A rebuild that adds part of its sums after each page (here a page
    // per ticket): the days its pages have passed (a ticket's rows may
    // come before an earlier ticket's: those are added again as deltas),
    // then everything it holds, at every page.
    let zone = jobs::kpi::zone_name(store.as_ref()).await;
    for limits in [TallyLimits { passed_days: 0, all: usize::MAX }, TallyLimits { passed_days: 0, all: 0 }] {
        let mut pages = jobs::kpi::RebuildPages::start_with(store.as_ref(), &zone, limits).await.unwrap();
        for id in &ids {
            let events = store.events(*id).await.unwrap();
            let seen = events.iter().map(|e| e.seq).max().unwrap();
            let (facts, rows) = insight::kpi::measure(&events, &business).unwrap();
            assert_eq!(pages.save(store.as_ref(), vec![(facts, rows, seen)]).await.unwrap(), 1);
        }
        pages.finish(store.as_ref()).await.unwrap();
        store::conformance::cells_equal_rows(store.as_ref()).await;
        cockpit_from_cells_matches_rows(store.as_ref(), at).await;
    }
    // A rebuild that stopped before its sums were added (a crash): the
    // cells do not count, and the next start rebuilds.
    store.start_rebuild(&jobs::kpi::zone_name(store.as_ref()).await).await.unwrap();
    assert_eq!(store.cells_zone().await.unwrap(), None);
    assert!(jobs::kpi::ensure_cells(store.as_ref()).await.unwrap(), "an unfinished rebuild is redone");
    assert!(!jobs::kpi::ensure_cells(store.as_ref()).await.unwrap());
    store::conformance::cells_equal_rows(store.as_ref()).await;
}

/// The cockpit read from the cells gives what it gives from the rows:
/// counts, rates, means and histograms exactly, medians and percentiles
/// within their bucket.
async fn cockpit_from_cells_matches_rows(store: &dyn Store, now: i64) {
    let tz = jobs::cockpit::time_zone(store).await;
    let window = jobs::cockpit::Window::days_to(now, 10, tz);
    // The three tickets, each in team 1 or 2 and by email or chat, all
    // created in the window (40 steps of at most 4 hours).
    let mut team_channels_created = 0;
    let (mut tier_teams_created, mut team_priorities_created) = (0, 0);
    let (mut tier_priorities_created, mut priority_channels_created) = (0, 0);
    // Each tag's and tier's teams, channels and priorities, each team's
    // priorities and each priority's channels: slices of the cells too
    // (an organization's team is read from its rows).
    let mut fact_teams = Vec::new();
    for priority in [domain::Priority::Normal, domain::Priority::Urgent] {
        for tier in domain::Tier::ALL {
            fact_teams.push(Slice { tier: Some(*tier), priority: Some(priority), ..Slice::default() });
        }
        fact_teams.push(Slice { tag: Some("refund".into()), priority: Some(priority), ..Slice::default() });
    }
    let (mut tag_tiers_created, mut tag_created) = (0, 0);
    for tier in domain::Tier::ALL {
        fact_teams.push(Slice { tag: Some("refund".into()), tier: Some(*tier), ..Slice::default() });
        fact_teams.push(Slice { tag: Some("vip".into()), tier: Some(*tier), ..Slice::default() });
    }
    // And a tier's priority's channel (three fields, a slice of its own).
    for tier in [domain::Tier::Standard, domain::Tier::Vip] {
        for priority in [domain::Priority::Normal, domain::Priority::Urgent] {
            let (tier, priority) = (Some(tier), Some(priority));
            fact_teams.push(Slice { tier, priority, channel: Some(Channel::Email), ..Slice::default() });
        }
    }
    for priority in [domain::Priority::Normal, domain::Priority::Urgent] {
        for channel in [Channel::Email, Channel::Chat] {
            fact_teams.push(Slice { channel: Some(channel), priority: Some(priority), ..Slice::default() });
        }
    }
    for team in [1, 2] {
        let team_id = Some(team);
        for priority in [domain::Priority::Normal, domain::Priority::Urgent] {
            fact_teams.push(Slice { priority: Some(priority), team_id, ..Slice::default() });
        }
        fact_teams.push(Slice { tag: Some(["refund", "vip"][team as usize - 1].into()), team_id, ..Slice::default() });
        for tier in domain::Tier::ALL {
            fact_teams.push(Slice { tier: Some(*tier), team_id, ..Slice::default() });
        }
        let channel = Some([Channel::Email, Channel::Chat][team as usize - 1]);
        fact_teams.push(Slice { tag: Some("refund".into()), channel, ..Slice::default() });
        fact_teams.push(Slice { tier: Some(domain::Tier::Standard), channel, ..Slice::default() });
        fact_teams.push(Slice { tier: Some(domain::Tier::Vip), channel, ..Slice::default() });
    }
    for slice in [
        Slice::default(),
        Slice { team_id: Some(1), ..Slice::default() },
        Slice { team_id: Some(2), ..Slice::default() },
        Slice { agent_id: Some(1), ..Slice::default() },
        Slice { agent_id: Some(2), ..Slice::default() },
        Slice { channel: Some(Channel::Email), ..Slice::default() },
        Slice { channel: Some(Channel::Chat), ..Slice::default() },
        Slice { team_id: Some(1), channel: Some(Channel::Email), ..Slice::default() },
        Slice { team_id: Some(1), channel: Some(Channel::Chat), ..Slice::default() },
        Slice { team_id: Some(2), channel: Some(Channel::Email), ..Slice::default() },
        Slice { team_id: Some(2), channel: Some(Channel::Chat), ..Slice::default() },
        Slice { priority: Some(domain::Priority::Normal), ..Slice::default() },
        Slice { priority: Some(domain::Priority::Urgent), ..Slice::default() },
        Slice { organization_id: Some(1), ..Slice::default() },
        Slice { organization_id: Some(2), ..Slice::default() },
        Slice { tag: Some("refund".into()), ..Slice::default() },
        Slice { tag: Some("vip".into()), ..Slice::default() },
        Slice { tier: Some(domain::Tier::Standard), ..Slice::default() },
        Slice { tier: Some(domain::Tier::Vip), ..Slice::default() },
    ]
    .into_iter()
    .chain(fact_teams)
    {
        let exact = jobs::cockpit::report_within(store, now, &window, &slice, i64::MAX).await.unwrap();
        let cells = jobs::cockpit::report_within(store, now, &window, &slice, -1).await.unwrap();
        assert!(exact.exact && !cells.exact, "{slice:?} from the rows, then from the cells");
        if slice.team_id.is_some() && slice.channel.is_some() {
            team_channels_created += exact.kpis.created;
        }
        if slice.team_id.is_some() && slice.tier.is_some() {
            tier_teams_created += exact.kpis.created;
        }
        if slice.team_id.is_some() && slice.priority.is_some() {
            team_priorities_created += exact.kpis.created;
        }
        if slice.tier.is_some() && slice.priority.is_some() && slice.channel.is_none() {
            tier_priorities_created += exact.kpis.created;
        }
        if slice.tag.as_deref() == Some("refund") && slice.tier.is_some() {
            tag_tiers_created += exact.kpis.created;
        }
        if slice == (Slice { tag: Some("refund".into()), ..Slice::default() }) {
            tag_created = exact.kpis.created;
        }
        if slice.channel.is_some() && slice.priority.is_some() && slice.tier.is_none() {
            priority_channels_created += exact.kpis.created;
        }
        let near =
            |a: &Option<insight::kpi::Distribution>, b: &Option<insight::kpi::Distribution>, what: &str| match (a, b) {
                (None, None) => {}
                (Some(a), Some(b)) => {
                    assert_eq!((a.count, a.mean), (b.count, b.mean), "{what}");
                    let close = |x: f64, y: f64| (x - y).abs() <= 0.05 * y.abs() + 501.0;
                    assert!(close(a.median, b.median), "{what}: median {} vs {}", a.median, b.median);
                    for (x, y) in [(a.p90, b.p90), (a.min, b.min), (a.max, b.max)] {
                        assert!(close(x as f64, y as f64), "{what}: {x} vs {y}");
                    }
                }
                _ => panic!("{what}: {a:?} vs {b:?}"),
            };
        for (c, e) in [(&cells.kpis, &exact.kpis), (&cells.previous, &exact.previous)] {
            assert_eq!((c.created, c.solved, c.reopens), (e.created, e.solved, e.reopens), "{slice:?}");
            assert_eq!(
                [&c.one_touch, &c.no_further_contact, &c.reopen_rate, &c.sla_first_reply, &c.sla_resolution],
                [&e.one_touch, &e.no_further_contact, &e.reopen_rate, &e.sla_first_reply, &e.sla_resolution]
            );
            for (x, y, what) in [
                (&c.first_reply, &e.first_reply, "first reply"),
                (&c.next_reply, &e.next_reply, "next reply"),
                (&c.first_resolution, &e.first_resolution, "first resolution"),
                (&c.full_resolution, &e.full_resolution, "full resolution"),
                (&c.requester_wait, &e.requester_wait, "requester wait"),
                (&c.agent_work, &e.agent_work, "agent work"),
                (&c.agent_wait, &e.agent_wait, "agent wait"),
                (&c.handle_time, &e.handle_time, "handle time"),
            ] {
                near(&x.calendar, &y.calendar, what);
                near(&x.business, &y.business, what);
            }
        }
        let counts = |r: &jobs::cockpit::CockpitReport| {
            (
                r.days.iter().map(|d| (d.date.clone(), d.created, d.solved, d.sla.clone())).collect::<Vec<_>>(),
                r.first_reply_histogram.iter().map(|b| b.count).collect::<Vec<_>>(),
                r.channels.iter().map(|b| (b.label.clone(), b.count)).collect::<Vec<_>>(),
                r.arrivals.clone(),
                r.handle_by_channel.iter().map(|c| (c.channel, c.handle.clone())).collect::<Vec<_>>(),
                r.workload.clone(),
            )
        };
        assert_eq!(counts(&cells), counts(&exact), "{slice:?}");
        for (c, e) in [(&cells.agents, &exact.agents), (&cells.teams, &exact.teams)] {
            let ids = |cards: &[jobs::cockpit::Scorecard]| {
                cards
                    .iter()
                    .map(|s| {
                        let card = (s.id, s.solved, s.replies, s.one_touch.clone(), s.first_reply_histogram.clone());
                        (card, s.handle.clone(), s.workload.clone())
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(c), ids(e), "{slice:?}");
            for (x, y) in c.iter().zip(e.iter()) {
                near(&x.first_reply, &y.first_reply, "card first reply");
                near(&x.full_resolution, &y.full_resolution, "card resolution");
            }
        }
    }
    assert_eq!(team_channels_created, 3, "the team's channel slices hold every ticket");
    assert_eq!(tier_teams_created, 3, "the tiers' team slices hold every ticket");
    assert_eq!(team_priorities_created, 3, "the teams' priority slices hold every ticket");
    assert_eq!(tier_priorities_created, 3, "the tiers' priority slices hold every ticket");
    assert_eq!(priority_channels_created, 3, "the priorities' channel slices hold every ticket");
    assert_eq!(tag_tiers_created, tag_created, "a tag's tiers hold each of its tickets once");
    // Whether the rows are read depends on the rows a read would visit:
    // a channel's rows have no index of their own, so with the limit
    // between its rows and the department's it is read from the cells; a
    // team's rows are its own index, so at its own count it is exact.
    let count = |view: CellView, a: Option<String>| {
        let q = CellQuery {
            view,
            a,
            b: None,
            measures: Measure::ALL.to_vec(),
            first_day: day_number(window.previous().first),
            last_day: day_number(window.last),
            by_day: false,
            clock: None,
        };
        async move { store.kpi_cells(&q).await.unwrap().iter().map(|(_, s)| s.n).sum::<i64>() }
    };
    let (all, chat, team) = (
        count(CellView::All, None).await,
        count(CellView::Channel, Some("chat".into())).await,
        count(CellView::Team, Some("1".into())).await,
    );
    let chat_slice = Slice { channel: Some(Channel::Chat), ..Slice::default() };
    let team_slice = Slice { team_id: Some(1), ..Slice::default() };
    if chat > 0 && chat < all {
        let report = jobs::cockpit::report_within(store, now, &window, &chat_slice, chat).await.unwrap();
        assert!(!report.exact, "a channel of a larger department is read from the cells");
        let report = jobs::cockpit::report_within(store, now, &window, &chat_slice, all).await.unwrap();
        assert!(report.exact, "a department of {all} rows is read from the rows");
    }
    if team > 0 {
        let report = jobs::cockpit::report_within(store, now, &window, &team_slice, team).await.unwrap();
        assert!(report.exact, "a team's rows are read through its index");
    }
    // A tag's tier reads the tag's rows (kept by tag): exact at the tag's
    // count, from the cells below it.
    let refund = count(CellView::Tag, Some("refund".into())).await;
    let refund_tier = |tier| Slice { tag: Some("refund".into()), tier: Some(tier), ..Slice::default() };
    if refund > 0 && refund < all {
        for tier in domain::Tier::ALL {
            let report = jobs::cockpit::report_within(store, now, &window, &refund_tier(*tier), refund).await.unwrap();
            assert!(report.exact, "a tag's tier is read through the tag's rows");
            let report =
                jobs::cockpit::report_within(store, now, &window, &refund_tier(*tier), refund - 1).await.unwrap();
            assert!(!report.exact, "a tag's tier is read from the cells when the tag's rows are too many");
        }
    }
    let organization_team = Slice { organization_id: Some(1), team_id: Some(1), ..Slice::default() };
    let report = jobs::cockpit::report_within(store, now, &window, &organization_team, -1).await.unwrap();
    assert!(report.exact, "an organization's team is read from its rows");
    // The resource request from the cells: the same weeks and load, the
    // medians within their bucket.
    let exact = jobs::resources::resource_request_within(store, now, i64::MAX).await.unwrap();
    let cells = jobs::resources::resource_request_within(store, now, -1).await.unwrap();
    let weeks = |r: &jobs::resources::ResourceRequest| {
        r.weeks.iter().map(|w| (w.from, w.created, w.solved, w.sla_first_reply.clone())).collect::<Vec<_>>()
    };
    assert_eq!(weeks(&cells), weeks(&exact));
    assert_eq!(
        (cells.arrivals_per_hour, cells.backlog, cells.agents),
        (exact.arrivals_per_hour, exact.backlog, exact.agents)
    );
    for (c, e) in cells.weeks.iter().zip(&exact.weeks) {
        match (c.first_reply_median_minutes, e.first_reply_median_minutes) {
            (Some(c), Some(e)) => assert!((c - e).abs() <= 0.05 * e + 0.01, "median {c} vs {e}"),
            (c, e) => assert_eq!(c, e),
        }
    }
}

/// On PostgreSQL when `pg` (skipped without `SWITCHBOARD_TEST_PG`), else SQLite;
/// each case gets a database of its own.
pub fn rollup_equals_recompute(pg: bool) {
    let config =
        ProptestConfig { cases: if pg { 8 } else { 24 }, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(steps in proptest::collection::vec(step(), 0..40))| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let store = if pg { super::pg().await } else { Some(super::sqlite().await) };
            match store {
                Some(store) => check(store, steps).await,
                None => eprintln!("skipped: SWITCHBOARD_TEST_PG is not set"),
            }
        });
    });
}

/// An agent holding far more open tickets than the teammates is told to
/// the managers once a day, in the app and by mail.
pub async fn bottlenecks_are_told_once(store: Arc<dyn Store>) {
    let mut ids = Vec::new();
    for (name, role) in [
        ("maria", domain::Role::Manager),
        ("lena", domain::Role::Agent),
        ("tom", domain::Role::Agent),
        ("ana", domain::Role::Agent),
    ] {
        let u = domain::User {
            id: domain::UserId(0),
            email: format!("{name}@example.com"),
            name: name.into(),
            role,
            active: true,
            reports_to: None,
            time_zone: None,
            created_at: T0,
            updated_at: T0,
        };
        ids.push(store.create_user(u, None, None).await.unwrap().id);
    }
    let team = domain::Team {
        id: domain::TeamId(0),
        name: "Billing".into(),
        description: String::new(),
        lead_id: Some(ids[0]),
        member_ids: ids[1..].to_vec(),
        created_at: T0,
        updated_at: T0,
    };
    let team = store.create_team(team, None).await.unwrap().id;
    // Another manager, who turned alert mail off: told in the app only.
    let mo = domain::User {
        id: domain::UserId(0),
        email: "mo@example.com".into(),
        name: "mo".into(),
        role: domain::Role::Manager,
        active: true,
        reports_to: None,
        time_zone: None,
        created_at: T0,
        updated_at: T0,
    };
    let mo = store.create_user(mo, None, None).await.unwrap().id;
    let quiet = domain::NotificationPrefs { alert_mail: false, ..Default::default() };
    store.set_preferences(mo, &quiet).await.unwrap();
    let email = domain::EmailAddress::parse("load@example.com").unwrap();
    let c = store.create_customer(domain::Customer::new(&email, "Load", T0), None, None).await.unwrap().id;
    // Lena 12 open, Tom 2, Ana 3.
    for (agent, n) in [(ids[1], 12), (ids[2], 2), (ids[3], 3)] {
        for i in 0..n {
            let mut s = store::conformance::spec("Open", "help", c, T0 + i);
            s.assignee = Some(agent);
            s.team = Some(team);
            let id = store.create_ticket(store::conformance::new_ticket(&s), None).await.unwrap().id;
            jobs::kpi::refresh(store.as_ref(), id, &BusinessClock::always()).await.unwrap();
        }
    }
    let now = T0 + 3_600_000;
    let found = jobs::cockpit::check_bottlenecks(store.as_ref(), now).await.unwrap();
    let texts: Vec<&str> = found.iter().map(|b| b.text.as_str()).collect();
    assert_eq!(texts, vec!["lena has 12 open tickets, 4.8× the team's median (2.5)"], "{found:?}");
    jobs::cockpit::check_bottlenecks(store.as_ref(), now + 60_000).await.unwrap();
    let told = store.notifications(ids[0], false, 10).await.unwrap();
    assert_eq!(told.len(), 1, "once a day: {told:?}");
    assert_eq!(told[0].kind, "bottleneck");
    assert_eq!(store.notifications(mo, false, 10).await.unwrap().len(), 1, "in the app whatever the mail");
    // Each check records the hour's SLA at-risk count (none here), the history the rising-risk alert reads.
    let history = store.setting("kpi.sla_at_risk_hourly").await.unwrap();
    assert_eq!(history, Some(serde_json::json!([[now, 0], [now + 60_000, 0]])));

    // By mail: one retried job per alert, to the active managers who want it.
    let queued = store.jobs(Some(domain::JobStatus::Queued), store::PageRequest { after: None, limit: 100 }).await;
    let mails: Vec<domain::Job> =
        queued.unwrap().items.into_iter().filter(|j| j.kind == jobs::alerts::ALERT_MAIL).collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let outbox = Arc::new(super::nps::Outbox::default());
    let mailer = jobs::alerts::AlertMail { store: store.clone(), transport: Some(outbox.clone()) };
    jobs::Handler::run(&mailer, &mails[0], now).await.unwrap();
    let sent = outbox.0.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, vec!["maria@example.com".to_string()]);
    assert!(sent[0].1.contains("Support alert: lena has 12 open tickets"), "{}", sent[0].1);
}
