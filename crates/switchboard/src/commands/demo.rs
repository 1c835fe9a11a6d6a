//! `switchboard demo`: a sample department (3 teams, 10 agents, 200
//! customers, 1,036 tickets with conversations over 60 days, among them a
//! planted spike of export trouble in the last three days, and survey
//! answers: see `demo_voice`), built with
//! the domain's own lifecycle rules so its events are what real work
//! records. Deterministic: the same seed gives the same department.

use std::collections::BTreeMap;
use std::sync::Arc;

use domain::lifecycle::{self, MessageOutcome, NewTicket, TicketPatch};
use domain::{
    Actor, AuthorKind, Channel, CustomFieldDef, Customer, CustomerId, FieldId, FieldKind, Organization, OrganizationId,
    Priority, Role, Status, Team, TeamId, Ticket, TicketType, Tier, User, UserId, Visibility,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use store::{NewMessage, Store, TicketCreate};
use web::{Clock, SystemClock};

use crate::config::Config;

pub const DEMO_PASSWORD: &str = "switchboard-demo";
const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
const MINUTE: i64 = 60_000;

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
        // The SLA clocks of the imported history, as the checks would have recorded them.
        let mut after = domain::TicketId(0);
        loop {
            let ids = store.ticket_ids_after(after, 1000).await.map_err(|e| e.to_string())?;
            let Some(last) = ids.last().copied() else { break };
            for id in ids {
                jobs::sla::evaluate_ticket(store.as_ref(), id, SystemClock.now()).await.map_err(|e| e.to_string())?;
            }
            after = last;
        }
        super::rebuild_rollup(store.as_ref()).await?;
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

pub(super) struct Rng64(StdRng);

impl Rng64 {
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.0.random_range(0..items.len())]
    }
    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.0.random_bool(p.clamp(0.0, 1.0))
    }
    pub(super) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        self.0.random_range(lo..=hi)
    }
    /// A right-skewed duration, as response times are: mostly short, some long.
    pub(super) fn skewed(&mut self, median: i64) -> i64 {
        let u: f64 = self.0.random_range(0.0001..1.0);
        ((-u.ln()) * median as f64 / std::f64::consts::LN_2) as i64
    }
}

const TEAMS: [(&str, &str, &[&str]); 3] = [
    (
        "Billing",
        "Invoices, refunds, plans and payment",
        &[
            "Charged twice for my subscription",
            "Refund for order",
            "Invoice shows the wrong company name",
            "How do I change my plan?",
            "Credit card declined at renewal",
            "VAT number missing on invoice",
        ],
    ),
    (
        "Technical",
        "Bugs, errors and integrations",
        &[
            "Export to CSV fails",
            "Error 500 when saving a report",
            "API returns 429 too often",
            "Login page keeps reloading",
            "Webhook not firing",
            "Dashboard is very slow since the update",
        ],
    ),
    (
        "Accounts",
        "Sign-in, users and permissions",
        &[
            "Cannot reset my password",
            "Please add a new user to our account",
            "Two-factor codes not arriving",
            "Transfer account ownership",
            "Delete my personal data",
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
    let mut rng = Rng64(StdRng::seed_from_u64(seed));
    let start = now - 60 * DAY;
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
    for (login, name, team) in agent_names {
        let id = make(user(&format!("{login}@demo.test"), name, Role::Agent, Some(leads[team]))).await?;
        agents[team].push(id);
    }
    let mut teams = Vec::new();
    for (i, (name, description, _)) in TEAMS.iter().enumerate() {
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
        customers.push((store.create_customer(c, None, None).await.map_err(err)?.id, org));
    }

    let mut all = Vec::with_capacity(tickets + 40);
    for _ in 0..tickets {
        all.push(ticket(&mut rng, now, start, &teams, &agents, &customers, product_id, None)?);
    }
    // The planted problem: exports break three days ago, about ten times the usual tickets.
    for n in 0..36 {
        let subject = ["Export to CSV fails", "CSV export is empty", "Export times out"][n % 3];
        let at = now - 3 * DAY + (n as i64) * (3 * DAY - HOUR) / 36;
        all.push(ticket(&mut rng, now, start, &teams, &agents, &customers, product_id, Some((subject, at)))?);
    }
    // Numbers follow arrival, as they would have.
    all.sort_by_key(|t| t.ticket.created_at);
    let mut made = 0;
    let mut solved = Vec::new();
    while !all.is_empty() {
        let rest = all.split_off(all.len().min(100));
        let batch = std::mem::replace(&mut all, rest);
        let ids = store.import_tickets(batch.clone()).await.map_err(err)?;
        made += ids.len();
        for (id, c) in ids.into_iter().zip(batch) {
            let t = c.ticket;
            if let (Some(solved_at), Status::Solved | Status::Closed) = (t.solved_at, t.status) {
                solved.push(super::demo_voice::Solved {
                    id,
                    created_at: t.created_at,
                    solved_at,
                    status: t.status,
                    subject: t.subject,
                    customer: t.requester_id,
                    agent: t.assignee_id,
                    team: t.team_id,
                    channel: t.channel,
                });
            }
        }
    }
    let customer_ids: Vec<CustomerId> = customers.iter().map(|c| c.0).collect();
    let staff_ids: Vec<UserId> = std::iter::once(head).chain(agents.iter().flatten().copied()).collect();
    super::demo_voice::seed_voice(store.as_ref(), &mut rng, now, &solved, &customer_ids, &staff_ids).await?;
    store.optimize().await.map_err(err)?;
    Ok((teams.len(), staff, customers.len(), made))
}

/// A creation time: weekdays busier than weekends, office hours busiest.
fn arrival(rng: &mut Rng64, start: i64, now: i64) -> i64 {
    loop {
        let t = rng.between(start, now - 10 * MINUTE);
        let day = (t / DAY + 4) % 7; // 1970-01-01 was a Thursday: 0 = Monday
        let hour = (t % DAY) / HOUR;
        let weekday = if day >= 5 { 0.3 } else { 1.0 };
        let office = if (8..18).contains(&hour) {
            1.0
        } else if (6..22).contains(&hour) {
            0.4
        } else {
            0.1
        };
        if rng.chance(weekday * office) {
            return t;
        }
    }
}

fn message(actor: Actor, visibility: Visibility, channel: Channel, text: &str, at: i64) -> NewMessage {
    NewMessage {
        visibility,
        author_kind: actor.kind,
        author_id: actor.id,
        channel,
        body_text: text.to_string(),
        body_html: format!("<p>{}</p>", text.replace('&', "&amp;").replace('<', "&lt;")),
        metadata: serde_json::json!({}),
        attachment_ids: vec![],
        created_at: at,
        email: None,
    }
}

struct Story {
    ticket: Ticket,
    events: Vec<domain::event::NewEvent>,
    messages: Vec<NewMessage>,
}

impl Story {
    fn patch(&mut self, p: TicketPatch, actor: Actor, at: i64) -> Result<(), String> {
        let (t, e) = lifecycle::apply_patch(&self.ticket, &p, actor, at).map_err(|e| e.to_string())?;
        self.ticket = t;
        self.events.extend(e);
        Ok(())
    }

    fn say(&mut self, actor: Actor, visibility: Visibility, text: &str, at: i64) -> Result<(), String> {
        match lifecycle::add_message(&self.ticket, visibility, actor, at).map_err(|e| e.to_string())? {
            MessageOutcome::Added { ticket, events } => {
                self.ticket = ticket;
                self.events.extend(events);
                self.messages.push(message(actor, visibility, self.ticket.channel, text, at));
                Ok(())
            }
            MessageOutcome::FollowUp => Err("the demo never writes on closed tickets".into()),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn ticket(
    rng: &mut Rng64,
    now: i64,
    start: i64,
    teams: &[TeamId],
    agents: &[Vec<UserId>; 3],
    customers: &[(CustomerId, Option<OrganizationId>)],
    product: FieldId,
    plant: Option<(&str, i64)>,
) -> Result<TicketCreate, String> {
    let created = plant.map(|p| p.1).unwrap_or_else(|| arrival(rng, start, now));
    let team_index = if plant.is_some() { 1 } else { *rng.pick(&[0usize, 0, 0, 1, 1, 1, 1, 2, 2]) };
    let (_, _, subjects) = TEAMS[team_index];
    let (customer, org) = *rng.pick(customers);
    let channel = *rng.pick(&[
        Channel::Email,
        Channel::Email,
        Channel::Email,
        Channel::Email,
        Channel::Email,
        Channel::Web,
        Channel::Web,
        Channel::Chat,
        Channel::Phone,
        Channel::Api,
    ]);
    let priority = *rng.pick(&[
        Priority::Low,
        Priority::Normal,
        Priority::Normal,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ]);
    let subject = plant.map(|p| p.0.to_string()).unwrap_or_else(|| rng.pick(subjects).to_string());
    let customer_actor = Actor { kind: AuthorKind::Customer, id: Some(customer.0) };
    let mut custom_fields = BTreeMap::new();
    custom_fields.insert(product, serde_json::json!(rng.pick(&["Basic", "Pro", "Enterprise"])));
    let (ticket, events) = lifecycle::open_ticket(
        NewTicket {
            subject: subject.clone(),
            status: None,
            priority,
            ticket_type: if subject.contains("Error") || subject.contains("fails") {
                TicketType::Incident
            } else {
                TicketType::Question
            },
            channel,
            requester_id: customer,
            organization_id: org,
            assignee_id: None,
            team_id: Some(teams[team_index]),
            tags: if rng.chance(0.3) {
                vec![subject.split_whitespace().last().unwrap_or("misc").to_lowercase()]
            } else {
                vec![]
            },
            custom_fields,
            problem_id: None,
            follow_up_of: None,
        },
        customer_actor,
        created,
    )
    .map_err(|e| e.to_string())?;
    let mut story = Story {
        ticket,
        events,
        messages: vec![message(
            customer_actor,
            Visibility::Public,
            channel,
            &format!("Hello, {}. Can you help?", subject.to_lowercase()),
            created,
        )],
    };
    let system = Actor::system();
    let agent = *rng.pick(&agents[team_index]);
    let agent_actor = Actor { kind: AuthorKind::Staff, id: Some(agent.0) };
    let mut t = created + rng.skewed(20 * MINUTE) + MINUTE;
    if t >= now {
        return Ok(done(story));
    }
    story.patch(TicketPatch { assignee_id: Some(Some(agent)), ..Default::default() }, system, t)?;
    t += rng.skewed(if priority == Priority::Urgent { 15 * MINUTE } else { 90 * MINUTE }) + MINUTE;
    if t >= now {
        return Ok(done(story));
    }
    if rng.chance(0.2) {
        story.say(agent_actor, Visibility::Internal, "Checked the account; looks like a known issue.", t)?;
        t += rng.between(1, 20) * MINUTE;
    }
    story.say(agent_actor, Visibility::Public, "Thanks for reaching out. Could you send us a few more details?", t)?;
    story.patch(TicketPatch { status: Some(Status::Pending), ..Default::default() }, agent_actor, t)?;
    // One-touch tickets are solved on the first reply.
    let one_touch = rng.chance(0.35);
    if !one_touch {
        t += rng.skewed(6 * HOUR) + 10 * MINUTE;
        if t >= now {
            return Ok(done(story));
        }
        story.say(customer_actor, Visibility::Public, "Here are the details you asked for.", t)?;
        t += rng.skewed(2 * HOUR) + MINUTE;
        if t >= now {
            return Ok(done(story));
        }
        story.say(
            agent_actor,
            Visibility::Public,
            "Thank you, this is fixed now. Let us know if anything else comes up.",
            t,
        )?;
    }
    story.patch(TicketPatch { status: Some(Status::Solved), ..Default::default() }, agent_actor, t)?;
    // Some come back.
    if rng.chance(0.08) {
        t += rng.skewed(DAY);
        if t >= now {
            return Ok(done(story));
        }
        story.say(customer_actor, Visibility::Public, "Sorry, it is happening again.", t)?;
        t += rng.skewed(3 * HOUR) + MINUTE;
        if t >= now {
            return Ok(done(story));
        }
        story.say(agent_actor, Visibility::Public, "We have applied a permanent fix.", t)?;
        story.patch(TicketPatch { status: Some(Status::Solved), ..Default::default() }, agent_actor, t)?;
    }
    // Solved tickets close after four days.
    if t + 4 * DAY < now {
        story.patch(TicketPatch { status: Some(Status::Closed), ..Default::default() }, system, t + 4 * DAY)?;
    }
    Ok(done(story))
}

fn done(s: Story) -> TicketCreate {
    TicketCreate { ticket: s.ticket, events: s.events, messages: s.messages, new_requester: None }
}
