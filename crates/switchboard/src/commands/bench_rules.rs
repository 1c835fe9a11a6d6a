//! `switchboard bench rules`: what the service rules cost per ticket event,
//! with 50 triggers, 20 SLA policies and 10 routing rules in force:
//! the rules alone (pure, in memory), and the whole job a node runs for a
//! new ticket (rules job and SLA check: reads, decisions, one write); and
//! what the scheduler costs with many open tickets carrying SLA clocks
//! (each clock is a job at its due time, so there is no sweep: claiming
//! due work is one indexed query whatever the number of clocks).

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use domain::routing::{AssignMode, NewTicketFacts, RouteConditions, RoutingRule, TeamRouting};
use domain::rules::{
    Condition, Op, PriorityMatrix, RuleAction, RuleActionKind, RuleContext, RuleKind, RunOn, ServiceRule,
};
use domain::sla::{Clocks, SlaConditions, SlaPolicy, SlaTarget, SlaTargetKind};
use domain::{
    AgentStatus, BusinessClock, Channel, Customer, EmailAddress, FieldId, NewJob, Priority, RoutingRuleId,
    ServiceRuleId, SlaPolicyId, Status, TeamId, Tier,
};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::bench::{Seed, fill, vocabulary};
use crate::config::Config;

fn us(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

fn triggers(now: i64) -> Vec<ServiceRule> {
    // 50 triggers of the kinds a department keeps: most look at words or
    // fields and do not fire; five fire on a typical new ticket.
    (0..50)
        .map(|i| {
            let c = |field: &str, op: Op, value: serde_json::Value| Condition { field: field.into(), op, value };
            let all = match i % 5 {
                0 => vec![c("message", Op::Contains, json!([format!("word{i}"), "refund"]))],
                1 => {
                    vec![c("tags", Op::Is, json!(format!("tag{i}"))), c("priority", Op::In, json!(["high", "urgent"]))]
                }
                2 => vec![c("channel", Op::Is, "email".into()), c("subject", Op::Contains, json!(format!("word{i}")))],
                3 => vec![c("tier", Op::Is, "vip".into()), c("business_hours", Op::Is, true.into())],
                _ => vec![c("status", Op::Is, "new".into()), c("hour", Op::LessThan, json!(24))],
            };
            let actions = vec![RuleAction { action: RuleActionKind::AddTags, value: json!([format!("auto{i}")]) }];
            ServiceRule {
                id: ServiceRuleId(i + 1),
                kind: RuleKind::Trigger,
                name: format!("trigger {i}"),
                position: i,
                active: true,
                run_on: RunOn::Both,
                all,
                any: vec![],
                actions,
                created_at: now,
                updated_at: now,
            }
        })
        .collect()
}

fn policies(now: i64, teams: &[TeamId], calendar: Option<domain::CalendarId>) -> Vec<SlaPolicy> {
    (0..20)
        .map(|i| SlaPolicy {
            id: SlaPolicyId(i + 1),
            name: format!("policy {i}"),
            position: i,
            active: true,
            conditions: SlaConditions {
                priorities: vec![Priority::ALL[i as usize % 4]],
                team_ids: vec![teams[i as usize % teams.len()]],
                tiers: if i < 19 { vec![Tier::ALL[i as usize % 3]] } else { vec![] },
                ..Default::default()
            },
            targets: SlaTargetKind::ALL
                .iter()
                .map(|k| SlaTarget { kind: *k, minutes: 60 * (i + 1), business_hours: i % 2 == 0 })
                .collect(),
            calendar_id: calendar,
            pause_on: vec![Status::Pending, Status::OnHold],
            warn_percent: 75,
            created_at: now,
            updated_at: now,
        })
        .collect()
}

fn routing_rules(now: i64, teams: &[TeamId], words: &[String]) -> Vec<RoutingRule> {
    (0..10)
        .map(|i| RoutingRule {
            id: RoutingRuleId(i + 1),
            name: format!("route {i}"),
            position: i,
            active: true,
            // Common words of the generated text, so most tickets find a team.
            conditions: RouteConditions {
                words: words.iter().skip(i as usize * 3).take(3).cloned().collect(),
                ..Default::default()
            },
            team_id: teams[i as usize % teams.len()],
            created_at: now,
            updated_at: now,
        })
        .collect()
}

pub async fn rules(config: Config, events: u64, open: u64) -> Result<(), String> {
    let now = web::Clock::now(&web::SystemClock);
    let (store, backend, dir) = super::bench::bench_store(&config, "rules").await?;
    println!(
        "switchboard bench rules: {backend}, {} cores; 50 triggers, 20 SLA policies, 10 routing rules",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );

    // The department: 10 agents online, 3 teams by round robin, 200 customers.
    let (agents, teams) = super::bench::staff_in_store(store.as_ref(), now).await?;
    for a in &agents {
        store.set_agent_status(*a, AgentStatus::Online, now).await.map_err(|e| e.to_string())?;
    }
    for t in &teams {
        store
            .set_team_routing(*t, &TeamRouting { mode: AssignMode::RoundRobin, ..Default::default() })
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut customers = Vec::new();
    for i in 0..200 {
        let address = EmailAddress::parse(&format!("c{i}@bench.test")).map_err(|e| e.message)?;
        let mut c = Customer::new(&address, &format!("Customer {i}"), now);
        c.tier = Tier::ALL[i % 3];
        customers.push(store.create_customer(c, None, None).await.map_err(|e| e.to_string())?.id);
    }
    let calendar = domain::Calendar {
        id: domain::CalendarId(0),
        name: "Office".into(),
        time_zone: "Europe/Berlin".into(),
        hours: ["monday", "tuesday", "wednesday", "thursday", "friday"]
            .iter()
            .map(|d| serde_json::from_value(json!({ "day": d, "from": "08:00", "to": "18:00" })))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?,
        holidays: vec![],
        created_at: now,
        updated_at: now,
    };
    let cal_id = store.create_calendar(calendar.clone()).await.map_err(|e| e.to_string())?;
    let triggers = triggers(now);
    let policies = policies(now, &teams, Some(cal_id));
    let mut rng = StdRng::seed_from_u64(11);
    let words = vocabulary(&mut rng, 2000);
    let routes = routing_rules(now, &teams, &words);
    for t in &triggers {
        store.create_service_rule(t.clone()).await.map_err(|e| e.to_string())?;
    }
    for p in &policies {
        store.create_sla_policy(p.clone()).await.map_err(|e| e.to_string())?;
    }
    for r in &routes {
        store.create_routing_rule(r.clone()).await.map_err(|e| e.to_string())?;
    }
    let matrix = PriorityMatrix { enabled: true, ..Default::default() };
    store
        .set_setting("priority_matrix", &serde_json::to_value(&matrix).map_err(|e| e.to_string())?)
        .await
        .map_err(|e| e.to_string())?;

    let seed = Seed { customers: customers.clone(), teams: teams.clone(), agents: agents.clone(), words };

    // 1. The rules alone, in memory: routing, the priority matrix, the
    // triggers, and choosing and evaluating the SLA policy.
    let business = BusinessClock::new(&domain::Calendar { id: cal_id, ..calendar }).map_err(|_| "calendar")?;
    let always = BusinessClock::always();
    let keys: HashMap<FieldId, String> = HashMap::new();
    let by_key: HashMap<String, FieldId> = HashMap::new();
    let mut pure = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    let samples = fill_memory(&mut rng, &seed, 1000, now)?;
    let iterations = events.max(1) * 20;
    for i in 0..iterations {
        let t = &samples[i as usize % samples.len()];
        let ticket = &t.ticket;
        let message = t.messages.first().map(|m| m.body_text.as_str()).unwrap_or_default();
        let started = Instant::now();
        let tokens = domain::search::tokens(&format!("{} {message}", ticket.subject));
        let facts = NewTicketFacts { ticket, words: &tokens, mailbox: None, tier: Tier::Standard, field_keys: &keys };
        let team = domain::routing::route(&routes, &facts);
        let outcome = matrix.assess(&domain::rules::priority::PriorityInputs { text: message, ..Default::default() });
        let ctx = RuleContext {
            tier: Tier::Standard,
            message: message.to_string(),
            sentiment: None,
            created: true,
            hour: 10,
            weekday: "tue".into(),
            business_hours: true,
            status_since: ticket.created_at,
            field_keys: keys.clone(),
            now,
        };
        let run = domain::rules::run_rules(&triggers, RuleKind::Trigger, ticket, &BTreeSet::new(), &ctx, &by_key);
        let sla = domain::sla::choose(&policies, ticket, Tier::Standard, &keys)
            .map(|p| domain::sla::evaluate(p, &Clocks { business: &business, calendar: &always }, ticket, &[], now));
        pure.record(started.elapsed().as_nanos() as u64).map_err(|e| e.to_string())?;
        std::hint::black_box((team, outcome, run, sla));
    }
    println!();
    println!("{:<58} {:>9} {:>9} {:>9}", "cost per new ticket", "p50 µs", "p99 µs", "mean µs");
    println!(
        "{:<58} {:>9.1} {:>9.1} {:>9.1}",
        format!("rules alone, in memory ({iterations} tickets)"),
        us(&pure, 0.5),
        us(&pure, 0.99),
        pure.mean() / 1000.0
    );

    // 2. The whole work a node does for a new ticket: the rules job (load
    // the rules, read the ticket and customer, decide, write once) and the
    // SLA check (read, evaluate, save, enqueue its next check).
    let mut ids = Vec::new();
    let fresh = fill_memory(&mut rng, &seed, events as usize, now)?;
    for chunk in fresh.chunks(1000) {
        let mut batch = chunk.to_vec();
        for t in &mut batch {
            t.ticket.team_id = None;
            t.ticket.assignee_id = None;
            t.ticket.status = Status::New;
        }
        ids.extend(store.import_tickets(batch).await.map_err(|e| e.to_string())?);
    }
    let mut rules_h = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    let mut sla_h = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    let mut assigned = 0;
    let started_all = Instant::now();
    for id in &ids {
        let started = Instant::now();
        let loaded = jobs::rules::Loaded::load(store.as_ref()).await.map_err(|e| e.to_string())?;
        jobs::rules::apply(store.as_ref(), &loaded, *id, true, &BTreeSet::new(), now)
            .await
            .map_err(|e| e.to_string())?;
        rules_h.record(started.elapsed().as_nanos() as u64).map_err(|e| e.to_string())?;
        let started = Instant::now();
        jobs::sla::evaluate_ticket(store.as_ref(), *id, now).await.map_err(|e| e.to_string())?;
        sla_h.record(started.elapsed().as_nanos() as u64).map_err(|e| e.to_string())?;
        if store.ticket(*id).await.map_err(|e| e.to_string())?.and_then(|t| t.assignee_id).is_some() {
            assigned += 1;
        }
    }
    let wall = started_all.elapsed();
    println!(
        "{:<58} {:>9.1} {:>9.1} {:>9.1}",
        format!("rules job, stored ({} tickets, {assigned} assigned)", ids.len()),
        us(&rules_h, 0.5),
        us(&rules_h, 0.99),
        rules_h.mean() / 1000.0
    );
    println!(
        "{:<58} {:>9.1} {:>9.1} {:>9.1}",
        "SLA check job, stored",
        us(&sla_h, 0.5),
        us(&sla_h, 0.99),
        sla_h.mean() / 1000.0
    );
    println!("  both jobs: {:.0} new tickets per second on one worker", ids.len() as f64 / wall.as_secs_f64());

    // 3. The scheduler with many open tickets carrying SLA clocks: each
    // clock is a job at its due time. Claiming due work is one indexed
    // query, so its cost does not grow with the clocks waiting.
    println!();
    println!("scheduler with {open} open tickets' SLA clocks waiting as jobs:");
    let stored = fill(store.as_ref(), &mut rng, &seed, open).await?;
    let started = Instant::now();
    let mut enqueued = 0u64;
    for i in 0..open {
        let due = now + 60_000 + (i as i64 % 86_400) * 1000;
        let job = NewJob::new(jobs::sla::SLA_CHECK, json!({ "ticket_id": i + 1 }), due, now).key(format!("bench:{i}"));
        store.enqueue_job(job).await.map_err(|e| e.to_string())?;
        enqueued += 1;
        if enqueued.is_multiple_of(100_000) {
            eprint!("\r  enqueued {enqueued} of {open} clocks …");
        }
    }
    eprintln!();
    let enqueue_rate = enqueued as f64 / started.elapsed().as_secs_f64();
    let mut idle = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    for _ in 0..1000 {
        let started = Instant::now();
        let got = store.claim_jobs(now, "bench", now + 60_000, 50).await.map_err(|e| e.to_string())?;
        idle.record(started.elapsed().as_nanos() as u64).map_err(|e| e.to_string())?;
        std::hint::black_box(got);
    }
    let mut busy = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    let mut claimed = 0;
    for k in 0..200i64 {
        let at = now + 60_000 + k * 1000;
        let started = Instant::now();
        let got = store.claim_jobs(at, "bench", at + 60_000, 50).await.map_err(|e| e.to_string())?;
        busy.record(started.elapsed().as_nanos() as u64).map_err(|e| e.to_string())?;
        for j in &got {
            store.complete_job(j.id, "bench", at).await.map_err(|e| e.to_string())?;
        }
        claimed += got.len();
    }
    println!("  {stored} tickets stored; clocks enqueued at {enqueue_rate:.0} per second");
    println!(
        "  claim when nothing is due: p50 {:.2} ms, p99 {:.2} ms (no sweep: nothing else runs)",
        us(&idle, 0.5) / 1000.0,
        us(&idle, 0.99) / 1000.0
    );
    println!(
        "  claim as clocks fall due ({claimed} claimed in 200 claims): p50 {:.2} ms, p99 {:.2} ms",
        us(&busy, 0.5) / 1000.0,
        us(&busy, 0.99) / 1000.0
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Generated new tickets in memory (not stored).
fn fill_memory(rng: &mut StdRng, seed: &Seed, n: usize, now: i64) -> Result<Vec<store::TicketCreate>, String> {
    (0..n)
        .map(|i| {
            let mut t = super::bench::generated_ticket(rng, seed, now - (n - i) as i64 * 1000)?;
            t.ticket.channel = [Channel::Email, Channel::Web, Channel::Chat][rng.random_range(0..3)];
            Ok(t)
        })
        .collect()
}
