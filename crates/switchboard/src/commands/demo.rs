//! `switchboard demo`: a sample department (3 teams, 10 agents or more
//! for larger runs, 200 customers, 20,000 tickets over 90 days by
//! default) whose tickets come from the simulation (crate `simulation`:
//! seasonality, growth, shifts, skills, queues, reopens, and a planted
//! spike of export trouble in the last three days), told through the
//! domain's own lifecycle rules so its events are what real work records,
//! and survey answers (see `demo_voice`). Deterministic: the same seed
//! gives the same department.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};

use domain::{
    CustomFieldDef, Customer, CustomerId, FieldId, FieldKind, Organization, OrganizationId, Priority, Role, Status,
    Team, TeamId, Tier, User, UserId,
};
use store::Store;
use web::{Clock, SystemClock};

use crate::config::Config;

pub const DEMO_PASSWORD: &str = "switchboard-demo";
const DAY: i64 = 86_400_000;
/// The simulated period.
const DAYS: i64 = 90;

pub async fn demo(config: Config, serve: bool, tickets: usize) -> Result<(), String> {
    let store = crate::storage::open(&config).await?;
    if store.user_count().await.map_err(|e| e.to_string())? == 0 {
        println!("Creating the demo department in {} …", config.describe_storage());
        let started = std::time::Instant::now();
        let counts = seed(store.clone(), SystemClock.now(), 1042, tickets).await?;
        println!(
            "Created {} teams, {} staff, {} customers and {} tickets in {:.1} s.",
            counts.0,
            counts.1,
            counts.2,
            counts.3,
            started.elapsed().as_secs_f64()
        );
        super::rebuild_rollup(store.as_ref(), false).await?;
    } else {
        println!("Demo data already present in {}.", config.describe_storage());
    }
    println!();
    let url = format!("http://{}/", config.listen.replace("0.0.0.0", "127.0.0.1"));
    println!(
        "Open {url} in a browser (or POST /api/v1/auth/login) and sign in with password {DEMO_PASSWORD:?} as any of:"
    );
    println!("  admin@demo.test             admin");
    println!("  maria.garcia@demo.test      head of support (manager)");
    println!("  tom.becker@demo.test        Billing team lead (manager)");
    println!("  lena.novak@demo.test        Billing agent");
    println!();
    if serve { super::serve::serve(config).await } else { Ok(()) }
}

/// The teams, their share of arrivals, and their topics (name, share, tag, subjects).
type TopicRow = (&'static str, f64, Option<&'static str>, &'static [&'static str]);
const TEAMS: [(&str, &str, f64, &[TopicRow]); 3] = [
    (
        "Billing",
        "Invoices, refunds, plans and payment",
        3.0,
        &[
            ("Charges", 3.0, None, &["Charged twice for my subscription", "Credit card declined at renewal"]),
            ("Refunds", 2.0, Some("refund"), &["Refund for order", "Refund still not on my statement"]),
            ("Invoices", 2.0, None, &["Invoice shows the wrong company name", "VAT number missing on invoice"]),
            ("Plans", 1.0, None, &["How do I change my plan?", "Upgrade to the annual plan"]),
        ],
    ),
    (
        "Technical",
        "Bugs, errors and integrations",
        4.0,
        &[
            ("Export", 1.0, Some("export"), &["Export to CSV fails", "CSV export is empty", "Export times out"]),
            ("Errors", 3.0, None, &["Error 500 when saving a report", "Login page keeps reloading"]),
            ("Integrations", 2.0, None, &["API returns 429 too often", "Webhook not firing"]),
            ("Performance", 1.5, None, &["Dashboard is very slow since the update"]),
        ],
    ),
    (
        "Accounts",
        "Sign-in, users and permissions",
        2.0,
        &[
            ("Sign-in", 3.0, None, &["Cannot reset my password", "Two-factor codes not arriving"]),
            ("Users", 2.0, None, &["Please add a new user to our account", "Transfer account ownership"]),
            ("Privacy", 0.5, None, &["Delete my personal data"]),
        ],
    ),
];

const FIRST: [&str; 20] = [
    "Ann", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hiro", "Ines", "Jamal", "Kira", "Liam", "Mona", "Nils",
    "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara",
];
const LAST: [&str; 10] =
    ["Smith", "Okafor", "Müller", "Rossi", "Kowalski", "Tanaka", "Dubois", "Silva", "Jensen", "Haddad"];
const COMPANIES: [&str; 20] = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Wonka",
    "Gringotts",
    "Oceanic",
    "Aperture",
    "Massive",
    "Duff",
    "Prestige",
    "Monarch",
    "Nakatomi",
];

/// Creates the department; returns (teams, staff, customers, tickets).
pub async fn seed(
    store: Arc<dyn Store>,
    now: i64,
    seed: u64,
    tickets: usize,
) -> Result<(usize, usize, usize, usize), String> {
    let err = |e: store::StoreError| e.to_string();
    let mut rng = simulation::random::Draw::seeded(seed);
    let start = now - DAYS * DAY;
    let hash = web::accounts::hash_password(DEMO_PASSWORD.to_string()).await.map_err(|e| format!("{e:?}"))?;

    let user = |email: &str, name: &str, role: Role, reports_to: Option<UserId>| User {
        id: UserId(0),
        email: email.into(),
        name: name.into(),
        role,
        active: true,
        reports_to,
        time_zone: Some("Europe/Berlin".into()),
        created_at: start - 30 * DAY,
        updated_at: start - 30 * DAY,
    };
    let mut staff = 0;
    let mut make = async |u: User| -> Result<UserId, String> {
        staff += 1;
        Ok(store.create_user(u, Some(hash.clone()), None).await.map_err(err)?.id)
    };
    make(user("admin@demo.test", "Alex Admin", Role::Admin, None)).await?;
    let head = make(user("maria.garcia@demo.test", "Maria Garcia", Role::Manager, None)).await?;
    let leads = [
        make(user("tom.becker@demo.test", "Tom Becker", Role::Manager, Some(head))).await?,
        make(user("priya.raman@demo.test", "Priya Raman", Role::Manager, Some(head))).await?,
        make(user("jonas.berg@demo.test", "Jonas Berg", Role::Manager, Some(head))).await?,
    ];
    let agent_names = [
        ("lena.novak", "Lena Novak", 0),
        ("omar.farouk", "Omar Farouk", 0),
        ("sara.lind", "Sara Lind", 0),
        ("yuki.sato", "Yuki Sato", 1),
        ("marco.ricci", "Marco Ricci", 1),
        ("fatima.zahra", "Fatima Zahra", 1),
        ("noah.evans", "Noah Evans", 1),
        ("eva.kral", "Eva Kral", 2),
        ("liam.obrien", "Liam O'Brien", 2),
        ("zoe.martin", "Zoe Martin", 2),
    ];
    let mut agents: [Vec<UserId>; 3] = Default::default();
    let mut specs = Vec::new();
    for (login, name, team) in agent_names {
        let id = make(user(&format!("{login}@demo.test"), name, Role::Agent, Some(leads[team]))).await?;
        agents[team].push(id);
        specs.push((id, team));
    }
    // Larger runs get more agents, spread over the teams by their share.
    let weights: Vec<f64> = TEAMS.iter().map(|t| t.2).collect();
    for n in specs.len()..simulation::Department::agents_for(tickets, DAYS) {
        let team = (0..3).max_by(|a, b| {
            let load = |t: usize| weights[t] / (agents[t].len() as f64 + 1.0);
            load(*a).total_cmp(&load(*b))
        });
        let team = team.unwrap_or(0);
        let id =
            make(user(&format!("agent{n}@demo.test"), &format!("Agent {n}"), Role::Agent, Some(leads[team]))).await?;
        agents[team].push(id);
        specs.push((id, team));
    }
    let mut teams = Vec::new();
    for (i, (name, description, _, _)) in TEAMS.iter().enumerate() {
        let team = Team {
            id: TeamId(0),
            name: (*name).into(),
            description: (*description).into(),
            lead_id: Some(leads[i]),
            member_ids: agents[i].clone(),
            created_at: start - 30 * DAY,
            updated_at: start - 30 * DAY,
        };
        teams.push(store.create_team(team, None).await.map_err(err)?.id);
    }
    let product = CustomFieldDef {
        id: FieldId(0),
        key: "product".into(),
        label: "Product".into(),
        kind: FieldKind::Dropdown,
        options: vec!["Basic".into(), "Pro".into(), "Enterprise".into()],
        required: false,
        active: true,
        created_at: start - 30 * DAY,
    };
    let product_id = store.create_field(product, None).await.map_err(err)?.id;

    // What a department has set up: shared macros and canned responses, and a shared view.
    let canned = |name: &str, body: &str, actions: domain::MacroActions| domain::Macro {
        id: domain::MacroId(0),
        owner_id: None,
        name: name.into(),
        body: body.into(),
        public: true,
        actions,
        active: true,
        created_at: start - 30 * DAY,
        updated_at: start - 30 * DAY,
    };
    for m in [
        canned(
            "Refund issued",
            "Hi {{ customer.first_name }},\n\nwe have refunded the charge; it shows on your statement within 5 working days.\n\nBest regards,\n{{ agent.first_name }}",
            domain::MacroActions {
                status: Some(Status::Solved),
                add_tags: vec!["refund".into()],
                ..Default::default()
            },
        ),
        canned(
            "Ask for details",
            "Hi {{ customer.first_name }},\n\nthanks for getting in touch about #{{ ticket.number }}. Could you send us a screenshot and the time it happened?\n\n{{ agent.first_name }}",
            domain::MacroActions { status: Some(Status::Pending), ..Default::default() },
        ),
        canned(
            "Take and acknowledge",
            "Hi {{ customer.first_name }},\n\nI am looking into this now and will get back to you today.\n\n{{ agent.first_name }}",
            domain::MacroActions {
                assignee: Some(domain::MacroAssignee::Me),
                status: Some(Status::Open),
                ..Default::default()
            },
        ),
        canned("Thanks, closing", "Glad we could help, {{ customer.first_name }}!", domain::MacroActions::default()),
    ] {
        store.create_macro(m).await.map_err(err)?;
    }
    store
        .create_view(domain::SavedView {
            id: domain::ViewId(0),
            owner_id: None,
            name: "Urgent and high".into(),
            query: "priority:urgent priority:high status:new status:open".into(),
            columns: domain::ViewColumn::DEFAULT.to_vec(),
            sort: "-priority".into(),
            position: 0,
            created_at: start - 30 * DAY,
            updated_at: start - 30 * DAY,
        })
        .await
        .map_err(err)?;

    // Office hours and two SLA policies, so the cockpit has SLA attainment.
    let hours = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .iter()
        .map(|d| domain::OpenHours { day: d.to_string(), from: "08:00".into(), to: "18:00".into() })
        .collect();
    let calendar = store
        .create_calendar(domain::Calendar {
            id: domain::CalendarId(0),
            name: "Office hours".into(),
            time_zone: "Europe/Berlin".into(),
            hours,
            holidays: vec![],
            created_at: start - 30 * DAY,
            updated_at: start - 30 * DAY,
        })
        .await
        .map_err(err)?;
    let target = |kind, minutes| domain::sla::SlaTarget { kind, minutes, business_hours: true };
    for (position, name, priorities, targets) in [
        (
            0,
            "Urgent and high",
            vec![Priority::Urgent, Priority::High],
            vec![
                target(domain::sla::SlaTargetKind::FirstReply, 60),
                target(domain::sla::SlaTargetKind::Resolution, 600),
            ],
        ),
        (
            1,
            "Standard",
            vec![],
            vec![
                target(domain::sla::SlaTargetKind::FirstReply, 240),
                target(domain::sla::SlaTargetKind::NextReply, 480),
                target(domain::sla::SlaTargetKind::Resolution, 2400),
            ],
        ),
    ] {
        store
            .create_sla_policy(domain::sla::SlaPolicy {
                id: domain::SlaPolicyId(0),
                name: name.into(),
                position,
                active: true,
                conditions: domain::sla::SlaConditions { priorities, ..Default::default() },
                targets,
                calendar_id: Some(calendar),
                pause_on: vec![Status::Pending, Status::OnHold],
                warn_percent: 75,
                created_at: start - 30 * DAY,
                updated_at: start - 30 * DAY,
            })
            .await
            .map_err(err)?;
    }
    // The head of support's targets and costs, so the cockpit opens with
    // its targets judged and a cost per ticket.
    let kpi_settings = kpi_settings(calendar, teams[1]);
    let v = serde_json::to_value(&kpi_settings).map_err(|e| e.to_string())?;
    store.set_setting(jobs::kpi::SETTINGS_KEY, &v).await.map_err(err)?;
    // What the SLA checks would have recorded, computed as the history is told.
    let policies = store.sla_policies().await.map_err(err)?;
    let business = match store.calendar(calendar).await.map_err(err)? {
        Some(c) => domain::BusinessClock::new(&c).map_err(|e| format!("{e:?}"))?,
        None => domain::BusinessClock::always(),
    };
    let keys: std::collections::HashMap<FieldId, String> =
        store.fields().await.map_err(err)?.into_iter().map(|f| (f.id, f.key)).collect();

    let mut orgs: Vec<(OrganizationId, Tier, String)> = Vec::new();
    for (i, name) in COMPANIES.iter().enumerate() {
        let tier = [Tier::Standard, Tier::Standard, Tier::Priority, Tier::Vip][i % 4];
        let domain = format!("{}.example", name.to_lowercase());
        let org = Organization {
            id: OrganizationId(0),
            name: format!("{name} Ltd"),
            domains: vec![domain.clone()],
            tier,
            notes: String::new(),
            shares_tickets: i % 3 == 0,
            created_at: start - 90 * DAY,
            updated_at: start - 90 * DAY,
        };
        orgs.push((store.create_organization(org, None).await.map_err(err)?.id, tier, domain));
    }
    let mut customers: Vec<(CustomerId, Option<OrganizationId>)> = Vec::new();
    let mut tiers = std::collections::HashMap::new();
    for i in 0..200 {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len()) % LAST.len()];
        let in_org = i % 5 != 4;
        let (org, tier, domain) = if in_org {
            let (id, tier, domain) = &orgs[i % orgs.len()];
            (Some(*id), *tier, domain.clone())
        } else {
            (None, Tier::Standard, "mail.example".to_string())
        };
        let c = Customer {
            id: CustomerId(0),
            email: format!("{}.{}{}@{domain}", first.to_lowercase(), last.to_lowercase().replace('ü', "ue"), i),
            name: format!("{first} {last}"),
            phone: None,
            organization_id: org,
            tier,
            annual_value_cents: Some(rng.between(50, 5_000) * 10_000),
            tags: vec![],
            time_zone: Some("Europe/London".into()),
            locale: Some("en".into()),
            external_id: Some(format!("crm-{:05}", i + 1)),
            has_account: false,
            churned_at: None,
            created_at: start - 120 * DAY,
            updated_at: start - 120 * DAY,
        };
        let id = store.create_customer(c, None, None).await.map_err(err)?.id;
        tiers.insert(id, tier);
        customers.push((id, org));
    }

    let department = department(seed, now, start, tickets, &teams, &specs, &customers, product_id);
    let started = std::time::Instant::now();
    let simulated = simulation::engine::simulate(&department);
    println!(
        "Simulated {} tickets in {:.1} s ({} events; agents busy {:.0} % of their shifts).",
        simulated.scripts.len(),
        started.elapsed().as_secs_f64(),
        simulated.events,
        simulated.occupancy() * 100.0
    );
    // Agents were online for their shifts (occupancy's denominator); who
    // is on shift now is online now.
    let mut statuses = Vec::new();
    for (agent, from, to) in &simulated.shifts {
        let Some(id) = department.agents.get(*agent).map(|a| a.id) else { continue };
        statuses.push((id, domain::AgentStatus::Online, *from));
        if *to <= now {
            statuses.push((id, domain::AgentStatus::Offline, *to));
        }
    }
    store.import_status_changes(statuses).await.map_err(err)?;
    let total = simulated.scripts.len();
    let bar = progress(total as u64, "Storing tickets");
    // Told on a thread of its own while the store writes the page before
    // (the storing is the slower half, so it never waits for long).
    let (pages, mut told) = tokio::sync::mpsc::channel(2);
    let scripts = simulated.scripts;
    let preparer = store.clone();
    let teller = tokio::task::spawn_blocking(move || {
        let sla_rules = jobs::sla::ImportSla { policies: &policies, business: &business, field_keys: &keys };
        for (page, scripts) in scripts.chunks(PAGE).enumerate() {
            // Made into rows here too, so the writer only stores them.
            let batch = tell_page(&department, &sla_rules, &tiers, now, page * PAGE, scripts).map(|told| {
                let (batch, kept): (Vec<_>, Vec<_>) = told.into_iter().unzip();
                (preparer.prepare_import(batch), kept)
            });
            let failed = batch.is_err();
            if pages.blocking_send(batch).is_err() || failed {
                break;
            }
        }
        tiers
    });
    let mut made = 0;
    let mut solved = Vec::new();
    let mut open = Vec::new();
    while let Some(page) = told.recv().await {
        let (batch, kept) = page?;
        let ids = store.import_prepared(batch).await.map_err(err)?;
        made += ids.len();
        bar.set_position(made as u64);
        for (id, (clocks, answered)) in ids.into_iter().zip(kept) {
            if let Some((sla, add)) = clocks {
                open.push((domain::sla::TicketSla { ticket_id: id, ..sla }, add));
            }
            if let Some(s) = answered {
                solved.push(super::demo_voice::Solved { id, ..s });
            }
        }
    }
    let tiers = teller.await.map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    // The open tickets' running clocks saved and their next checks queued,
    // as the checks would (computed while telling; a few at a time).
    futures::stream::iter(open)
        .map(|(sla, add)| {
            let store = store.as_ref();
            async move { jobs::sla::record(store, &sla, &add, now).await }
        })
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await
        .map_err(err)?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "Stored {made} tickets in {secs:.1} s ({:.0} tickets/s, simulation included).",
        made as f64 / secs.max(1e-9)
    );
    let customer_ids: Vec<CustomerId> = customers.iter().map(|c| c.0).collect();
    let staff_ids: Vec<UserId> = std::iter::once(head).chain(agents.iter().flatten().copied()).collect();
    super::demo_voice::seed_voice(store.as_ref(), &mut rng, now, &solved, &customer_ids, &staff_ids, &tiers).await?;
    store.optimize().await.map_err(err)?;
    Ok((teams.len(), staff, customers.len(), made))
}

/// Targets a head of support would set (some met, some missed), the
/// technical team's first reply allowed longer, and what the department
/// costs.
fn kpi_settings(calendar: domain::CalendarId, technical: TeamId) -> jobs::kpi::KpiSettings {
    use domain::kpi::{KpiTarget, TargetKpi as K};
    let target = |kpi, team_id, target, amber| KpiTarget { kpi, team_id, target, amber };
    jobs::kpi::KpiSettings {
        calendar_id: Some(calendar.0),
        targets: vec![
            target(K::FirstReplyMedianMinutes, None, 60.0, 0.1),
            target(K::FirstReplyMedianMinutes, Some(technical.0), 120.0, 0.1),
            target(K::FirstReplyP90Minutes, None, 1440.0, 0.1),
            target(K::FullResolutionMedianHours, None, 24.0, 0.1),
            target(K::OneTouchPercent, None, 35.0, 0.15),
            target(K::ReopenPercent, None, 5.0, 0.25),
            target(K::SlaFirstReplyPercent, None, 90.0, 0.1),
            target(K::SlaResolutionPercent, None, 95.0, 0.05),
            target(K::CsatPercent, None, 85.0, 0.05),
            target(K::Nps, None, 30.0, 0.2),
            target(K::Backlog, None, 350.0, 0.1),
        ],
        costs: jobs::kpi::Costs {
            agent_hourly_cents: 3_200,
            agent_hours_per_week: Some(40.0),
            tools_monthly_cents: 150_000,
            overhead_monthly_cents: 400_000,
        },
        ..Default::default()
    }
}

/// Tickets stored a transaction when seeding.
const PAGE: usize = 1_000;

/// What storing a told ticket leaves to do: if it is unsolved, its SLA
/// clocks to save and what they add, and its survey, if one was sent
/// (the ticket's id is filled in once stored).
type Kept = (Option<(domain::sla::TicketSla, Vec<domain::event::NewEvent>)>, Option<super::demo_voice::Solved>);

/// One page of scripts told as tickets, with the SLA history the checks
/// would have recorded.
fn tell_page(
    department: &simulation::Department,
    sla_rules: &jobs::sla::ImportSla<'_>,
    tiers: &std::collections::HashMap<CustomerId, Tier>,
    now: i64,
    first: usize,
    scripts: &[simulation::engine::Script],
) -> Result<Vec<(store::TicketCreate, Kept)>, String> {
    let mut batch = Vec::with_capacity(scripts.len());
    for (i, script) in scripts.iter().enumerate() {
        let mut c = simulation::story::tell(department, first + i, script)?;
        let tier = tiers.get(&c.ticket.requester_id).copied().unwrap_or(Tier::Standard);
        let sla = sla_rules.history_events(tier, &c, now);
        if !sla.is_empty() {
            c.events.extend(sla);
            c.events.sort_by_key(|e| e.at);
        }
        let t = &c.ticket;
        let answered = match (script.survey_sent_at, t.solved_at) {
            (Some(survey_sent_at), Some(_)) => Some(super::demo_voice::Solved {
                id: domain::TicketId(0),
                status: t.status,
                customer: t.requester_id,
                agent: t.assignee_id,
                team: t.team_id,
                channel: t.channel,
                export: script.arrival.spike || t.tags.iter().any(|g| g == "export"),
                survey_sent_at,
                answer: script.answer,
            }),
            _ => None,
        };
        // An unsolved ticket's running clocks, as its check will find them.
        let clocks = t.status.is_unsolved().then(|| {
            let (state, add) = sla_rules.imported_state(tier, &c, now);
            let sla = domain::sla::TicketSla {
                ticket_id: domain::TicketId(0),
                ticket_version: t.version,
                state,
                evaluated_at: now,
            };
            (sla, add)
        });
        let kept = (clocks, answered);
        batch.push((c, kept));
    }
    Ok(batch)
}

/// The department the simulation runs: the demo's teams, topics, agents
/// (a third of each team on the live channels; early, late and weekend
/// shifts) and customers, with the export spike in the last three days.
#[allow(clippy::too_many_arguments)]
fn department(
    seed: u64,
    now: i64,
    start: i64,
    tickets: usize,
    teams: &[TeamId],
    agents: &[(UserId, usize)],
    customers: &[(CustomerId, Option<OrganizationId>)],
    product: FieldId,
) -> simulation::Department {
    use simulation::{AgentSpec, CustomerSpec, Shift, TeamSpec, Topic};
    let teams = TEAMS
        .iter()
        .zip(teams)
        .map(|((_, _, weight, topics), id)| TeamSpec {
            id: *id,
            weight: *weight,
            topics: topics
                .iter()
                .map(|(name, weight, tag, subjects)| Topic {
                    name: name.to_string(),
                    subjects: subjects.iter().map(|s| s.to_string()).collect(),
                    weight: *weight,
                    tag: tag.map(String::from),
                })
                .collect(),
        })
        .collect();
    let agents = agents
        .iter()
        .enumerate()
        .map(|(i, (id, team))| AgentSpec {
            id: *id,
            team: *team,
            live: i % 3 == 0,
            shift: [Shift::EARLY, Shift::LATE, Shift::WEEKEND][i % 3],
            pace: [1.0, 0.8, 1.2, 0.9, 1.4][i % 5],
        })
        .collect();
    simulation::Department {
        seed,
        start,
        end: now,
        zone: jiff::tz::TimeZone::get("Europe/Berlin").unwrap_or(jiff::tz::TimeZone::UTC),
        tickets,
        growth: 1.15,
        teams,
        agents,
        customers: customers.iter().map(|(id, org)| CustomerSpec { id: *id, organization: *org }).collect(),
        spike: Some(simulation::department::Spike { team: 1, topic: 0, from: now - 3 * DAY, factor: 6.0 }),
        product: Some((product, vec!["Basic".into(), "Pro".into(), "Enterprise".into()])),
    }
}

pub(super) fn progress(total: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} {{bar:40}} {{pos}}/{{len}} ({{per_sec}}, {{eta}} left)"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}
