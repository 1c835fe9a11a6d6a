//! A simulated department (90 days, 3,000 tickets from the `simulation`
//! crate) stored and measured, then its KPIs recomputed independently in
//! this test from the events `GET /api/v1/events` exports, with none of
//! the KPI engine's code, and compared with what `GET /api/v1/kpis`
//! answers, handle time and occupancy included. The SLA events computed before import
//! (`jobs::sla::ImportSla::history_events`) equal what the SLA check records after,
//! and the clocks computed before import (`imported_state`) what it finds.

use std::collections::BTreeMap;

use domain::{EventKind, Role, TicketId};
use serde_json::Value;
use simulation::{AgentSpec, CustomerSpec, DAY, Department, Shift, TeamSpec, Topic};

use crate::support::{Auth, TestApp, now, staff, team};

on_both_backends!(kpis_equal_a_recomputation_from_the_exported_events);

fn topic(name: &str, weight: f64) -> Topic {
    Topic { name: name.into(), subjects: vec![format!("{name} question")], weight, tag: None }
}

/// Per ticket, what the events say: created, first public staff reply,
/// solves (to solved, or to closed from unsolved), reopens.
#[derive(Default, Debug)]
struct Seen {
    created: Option<i64>,
    first_reply: Option<i64>,
    solved: bool,
    last_solve: Option<i64>,
    reopens: Vec<i64>,
    staff_replies: u32,
}

fn median(mut v: Vec<i64>) -> f64 {
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 { v[n / 2] as f64 } else { (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0 }
}

async fn kpis_equal_a_recomputation_from_the_exported_events(app: TestApp) {
    let store = app.store.clone();
    let (manager, token) = staff(&store, "head@support.test", Role::Manager, None).await;
    let mut agents = Vec::new();
    for i in 0..6 {
        agents.push(staff(&store, &format!("agent{i}@support.test"), Role::Agent, Some(manager)).await.0);
    }
    let teams = [
        team(&store, "Billing", Some(manager), &agents[..3]).await,
        team(&store, "Technical", Some(manager), &agents[3..]).await,
    ];
    let mut customers = Vec::new();
    for i in 0..40 {
        let email = domain::EmailAddress::parse(&format!("c{i}@example.com")).unwrap();
        let c = domain::Customer::new(&email, "Customer", now() - 200 * DAY);
        customers.push(CustomerSpec { id: store.create_customer(c, None, None).await.unwrap().id, organization: None });
    }
    // The simulated history ends at the latest Wednesday 15:00 UTC of the
    // same fortnightly rota (weekends alternate by week parity), so every
    // run simulates the same department, shifted by whole fortnights: which
    // tickets still have a running SLA clock at the end must not depend on
    // when the test runs.
    const FORTNIGHT: i64 = 14 * DAY;
    let wednesday = 6 * DAY + 15 * 3_600_000;
    let end = wednesday + (now() - 60_000 - wednesday).div_euclid(FORTNIGHT) * FORTNIGHT;
    let d = Department {
        seed: 5,
        start: end - 90 * DAY,
        end,
        zone: jiff::tz::TimeZone::UTC,
        tickets: 3_000,
        growth: 1.2,
        teams: vec![
            TeamSpec { id: teams[0], weight: 1.0, topics: vec![topic("Invoices", 1.0)] },
            TeamSpec { id: teams[1], weight: 1.5, topics: vec![topic("Errors", 2.0), topic("Export", 1.0)] },
        ],
        agents: agents
            .iter()
            .enumerate()
            .map(|(i, id)| AgentSpec {
                id: *id,
                team: i / 3,
                live: i % 3 == 0,
                shift: [Shift::EARLY, Shift::LATE, Shift::WEEKEND][i % 3],
                pace: 1.0,
            })
            .collect(),
        customers,
        spike: None,
        product: None,
    };
    let sim = simulation::engine::simulate(&d);
    let mut batch = Vec::new();
    for (n, s) in sim.scripts.iter().enumerate() {
        batch.push(simulation::story::tell(&d, n, s).unwrap());
    }
    for chunk in batch.chunks(1_000) {
        store.import_tickets(chunk.to_vec()).await.unwrap();
    }
    // The agents were online for their shifts, until the simulation's end.
    let mut statuses = Vec::new();
    for (agent, from, to) in &sim.shifts {
        statuses.push((agents[*agent], domain::AgentStatus::Online, *from));
        statuses.push((agents[*agent], domain::AgentStatus::Offline, (*to).min(end)));
    }
    store.import_status_changes(statuses).await.unwrap();
    // The node's worker measures some of them too; the rebuild the rest.
    jobs::kpi::rebuild(store.as_ref(), |_| {}).await.unwrap();
    assert_eq!(store.unmeasured_tickets(10).await.unwrap(), vec![], "all measured");

    // The export, page by page.
    let auth = Auth::Token(token);
    let mut events: Vec<Value> = Vec::new();
    let mut after = 0;
    loop {
        let r = app.get(&format!("/events?after={after}&limit=5000"), &auth).await;
        assert_eq!(r.status, 200, "{}", r.body);
        events.extend(r.body["events"].as_array().unwrap().iter().cloned());
        match r.body["next_after"].as_i64() {
            Some(n) => after = n,
            None => break,
        }
    }
    assert!(events.len() > 30_000, "{}", events.len());
    assert!(events.windows(2).all(|w| w[0]["id"].as_i64() < w[1]["id"].as_i64()), "in id order");

    // The independent recomputation.
    let mut tickets: BTreeMap<i64, Seen> = BTreeMap::new();
    let mut status: BTreeMap<i64, String> = BTreeMap::new();
    // Per ticket and agent: logged time and the last entry.
    let mut handled: BTreeMap<(i64, i64), (i64, i64)> = BTreeMap::new();
    for e in &events {
        let (t, at, kind) = (e["ticket_id"].as_i64().unwrap(), e["at"].as_i64().unwrap(), e["kind"].as_str().unwrap());
        let seen = tickets.entry(t).or_default();
        match kind {
            "created" => {
                seen.created = Some(at);
                status.insert(t, e["to"]["status"].as_str().unwrap_or("new").to_string());
            }
            "message_added" => {
                let staff_public = e["to"]["author_kind"] == "staff" && e["to"]["visibility"] == "public";
                if staff_public {
                    seen.staff_replies += 1;
                    seen.first_reply.get_or_insert(at);
                }
            }
            "status_changed" => {
                let to = e["to"].as_str().unwrap().to_string();
                let from = status.get(&t).cloned().unwrap_or_default();
                let unsolved = |s: &str| matches!(s, "new" | "open" | "pending" | "on_hold");
                if to == "solved" || (to == "closed" && unsolved(&from)) {
                    seen.solved = true;
                    seen.last_solve = Some(at);
                } else if unsolved(&to) && !unsolved(&from) {
                    seen.solved = false;
                    seen.reopens.push(at);
                }
                status.insert(t, to);
            }
            "time_logged" => {
                let h = handled.entry((t, e["to"]["agent_id"].as_i64().unwrap())).or_default();
                h.0 += e["to"]["ms"].as_i64().unwrap();
                h.1 = at;
            }
            _ => {}
        }
    }
    assert_eq!(tickets.len(), 3_000);

    let (mut created, mut one_touch, mut reopened) = (0, 0, 0);
    // A fortnight (few rows: exact medians) and the whole 90 days (medians
    // from the rollup's buckets: within the bucket of the exact value).
    let last_day = jiff::Timestamp::from_millisecond(end).unwrap().to_zoned(jiff::tz::TimeZone::UTC).date();
    for days in [14, 90] {
        let first_day = last_day.checked_sub(jiff::Span::new().days(days - 1)).unwrap();
        let r = app.get(&format!("/kpis?from={first_day}&to={last_day}&tz=UTC"), &auth).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let k = &r.body["kpis"];
        let from = jiff::civil::Date::strptime("%Y-%m-%d", r.body["from"].as_str().unwrap()).unwrap();
        let to = jiff::civil::Date::strptime("%Y-%m-%d", r.body["to"].as_str().unwrap()).unwrap();
        let ms = |d: jiff::civil::Date| d.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp().as_millisecond();
        let (lo, hi) = (ms(from), ms(to) + DAY);
        let within = |at: i64| (lo..hi).contains(&at);

        created = tickets.values().filter(|s| s.created.is_some_and(within)).count();
        assert_eq!(k["created"].as_u64(), Some(created as u64));
        let first_replies: Vec<i64> = tickets
            .values()
            .filter_map(|s| Some((s.first_reply?, s.created?)))
            .filter(|(r, _)| within(*r))
            .map(|(r, c)| r - c)
            .collect();
        assert_eq!(k["first_reply"]["calendar"]["count"].as_u64(), Some(first_replies.len() as u64));
        let exact = r.body["exact"] == true;
        assert_eq!(exact, days == 14, "{days} days");
        let near = |got: &Value, want: f64| {
            let got = got.as_f64().unwrap();
            let (_, width) = domain::kpi::cells::bucket(want as i64);
            assert!(
                if exact { got == want } else { (got - want).abs() <= width as f64 },
                "{days} days: {got} vs {want}"
            );
        };
        near(&k["first_reply"]["calendar"]["median"], median(first_replies));
        let solved: Vec<&Seen> = tickets.values().filter(|s| s.solved && s.last_solve.is_some_and(within)).collect();
        assert_eq!(k["solved"].as_u64(), Some(solved.len() as u64));
        let resolution: Vec<i64> = solved.iter().map(|s| s.last_solve.unwrap() - s.created.unwrap()).collect();
        near(&k["full_resolution"]["calendar"]["median"], median(resolution));
        one_touch = solved.iter().filter(|s| s.staff_replies <= 1).count();
        assert_eq!(
            (k["one_touch"]["yes"].as_u64(), k["one_touch"]["of"].as_u64()),
            (Some(one_touch as u64), Some(solved.len() as u64))
        );
        reopened = solved.iter().filter(|s| !s.reopens.is_empty()).count();
        assert_eq!(k["reopen_rate"]["yes"].as_u64(), Some(reopened as u64), "{}", k["reopen_rate"]);
        let reopens = tickets.values().flat_map(|s| s.reopens.iter()).filter(|at| within(**at)).count();
        assert_eq!(k["reopens"].as_u64(), Some(reopens as u64), "{k}");
        let backlog = status.values().filter(|s| matches!(s.as_str(), "new" | "open" | "pending" | "on_hold")).count();
        assert_eq!(r.body["backlog"]["total"].as_u64(), Some(backlog as u64));

        // Handle time: a contact per ticket and agent, counted at its last
        // entry; occupancy over the shifts' time online in the period.
        let contacts: Vec<i64> =
            handled.values().filter(|(ms, at)| *ms > 0 && within(*at)).map(|(ms, _)| *ms).collect();
        let handle_ms: i64 = contacts.iter().sum();
        let aht = &k["handle_time"]["calendar"];
        assert_eq!(aht["count"].as_u64(), Some(contacts.len() as u64), "{aht}");
        let mean = handle_ms as f64 / contacts.len() as f64;
        assert!((aht["mean"].as_f64().unwrap() - mean).abs() < 1e-6, "{aht} vs {mean}");
        let online: i64 =
            sim.shifts.iter().map(|(_, from, to)| ((*to).min(end).min(hi) - (*from).max(lo)).max(0)).sum();
        let w = &r.body["workload"];
        assert_eq!((w["online_ms"].as_i64(), w["handle_ms"].as_i64()), (Some(online), Some(handle_ms)), "{w}");
        let occupancy = w["occupancy"].as_f64().unwrap();
        assert!((occupancy - handle_ms as f64 / online as f64).abs() < 1e-12, "{w}");
        assert!((0.05..1.0).contains(&occupancy), "some work, not more than the time online: {occupancy}");
    }
    // A department that works: most tickets answered, some solved at once, some reopened.
    assert!(created > 800 && one_touch > 0 && reopened > 0, "{created} {one_touch} {reopened}");

    // SLA: computed with the history equals what the check records after import.
    let policies = store.sla_policies().await.unwrap();
    assert!(policies.is_empty(), "none yet");
    let policy = domain::sla::SlaPolicy {
        id: domain::SlaPolicyId(0),
        name: "Standard".into(),
        position: 0,
        active: true,
        conditions: Default::default(),
        targets: vec![
            domain::sla::SlaTarget { kind: domain::sla::SlaTargetKind::FirstReply, minutes: 30, business_hours: false },
            domain::sla::SlaTarget {
                kind: domain::sla::SlaTargetKind::Resolution,
                minutes: 600,
                business_hours: false,
            },
        ],
        calendar_id: None,
        pause_on: vec![domain::Status::Pending],
        warn_percent: 75,
        created_at: d.start,
        updated_at: d.start,
    };
    store.create_sla_policy(policy).await.unwrap();
    let policies = store.sla_policies().await.unwrap();
    let always = domain::BusinessClock::always();
    let keys = Default::default();
    let rules = jobs::sla::ImportSla { policies: &policies, business: &always, field_keys: &keys };
    let (mut compared, mut running) = (0, 0);
    for c in batch.iter().rev().take(200) {
        let mut expected: Vec<(EventKind, Option<String>, i64)> = rules
            .history_events(domain::Tier::Standard, c, end)
            .into_iter()
            .filter(|e| e.kind != EventKind::SlaTargetApplied)
            .map(|e| (e.kind, e.field, e.at))
            .collect();
        let id: TicketId = store.import_tickets(vec![c.clone()]).await.unwrap()[0];
        jobs::sla::evaluate_ticket(store.as_ref(), id, end).await.unwrap();
        let mut recorded: Vec<(EventKind, Option<String>, i64)> = store
            .events(id)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind.as_str().starts_with("sla_") && e.kind != EventKind::SlaTargetApplied)
            .map(|e| (e.kind, e.field, e.at))
            .collect();
        expected.sort_by(|a, b| (a.2, a.0.as_str()).cmp(&(b.2, b.0.as_str())));
        recorded.sort_by(|a, b| (a.2, a.0.as_str()).cmp(&(b.2, b.0.as_str())));
        assert_eq!(expected, recorded, "ticket {id}");
        compared += expected.len();

        // Imported with its history, as the demo does: the clocks computed
        // before import are what the check finds after, with nothing to add.
        let mut told = c.clone();
        told.events.extend(rules.history_events(domain::Tier::Standard, c, end));
        told.events.sort_by_key(|e| e.at);
        let (state, add) = rules.imported_state(domain::Tier::Standard, &told, end);
        let id: TicketId = store.import_tickets(vec![told]).await.unwrap()[0];
        let (found, _) = jobs::sla::current(store.as_ref(), id, end).await.unwrap().unwrap();
        assert_eq!(found.state, state, "ticket {id}");
        assert!(add.is_empty(), "ticket {id}: {add:?}");
        if state.as_ref().is_some_and(|s| s.next_check_at.is_some()) {
            running += 1;
        }
    }
    assert!(compared > 200, "{compared} SLA events compared");
    assert!(running > 0, "no running clocks compared");
}
