//! `switchboard bench api`: the JSON API's speed and footprint, measured
//! against a real `serve` process (this binary) on a fresh database, and
//! printed as figures. Ticket creation goes through HTTP; the large store
//! for list and search is filled directly through storage (an import), then
//! queried through HTTP.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use domain::lifecycle::{self, NewTicket};
use domain::{Actor, AuthorKind, Channel, CustomerId, Priority, Status, TeamId, TicketType, UserId, Visibility};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use store::{NewMessage, TicketCreate};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::config::Config;

pub(super) struct Server {
    pub child: Child,
    pub base: String,
    pub password: String,
}

pub(super) async fn start_server(dir: &Path, database_url: Option<&str>) -> Result<Server, String> {
    start_server_with(dir, database_url, &[]).await
}

/// `serve` on a free port of a fresh database, with extra settings in its
/// environment.
pub(super) async fn start_server_with(
    dir: &Path,
    database_url: Option<&str>,
    env: &[(&str, String)],
) -> Result<Server, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("SWITCHBOARD_LOG", "warn")
        .env_remove("RUST_LOG")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    match database_url {
        Some(url) => cmd.args(["--database-url", url]),
        None => cmd.env_remove("DATABASE_URL"),
    };
    let mut child = cmd.spawn().map_err(|e| format!("starting the server: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut password = None;
    let base = loop {
        let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? else {
            return Err("the server stopped before listening".into());
        };
        if let Some(p) = line.trim().strip_prefix("password:") {
            password = Some(p.trim().to_string());
        }
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap_or_default().to_string();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let password = password.ok_or("the database is not empty (no first admin was made); use an empty one")?;
    Ok(Server { child, base, password })
}

/// Resident memory of a process, in MiB (Linux).
pub(super) fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

pub(super) fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

pub(super) struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    /// Signs in as the first admin and makes a personal token.
    pub(super) async fn sign_in(server: &Server, admin_email: &str) -> Result<Self, String> {
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().map_err(|e| e.to_string())?;
        let signed_in = http
            .post(format!("{}/api/v1/auth/login", server.base))
            .json(&json!({ "email": admin_email, "password": server.password }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let cookie = signed_in
            .headers()
            .get("set-cookie")
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .ok_or("sign-in failed")?
            .to_string();
        let made: Value = http
            .post(format!("{}/api/v1/tokens", server.base))
            .header("cookie", cookie)
            .json(&json!({ "name": "bench" }))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let token = made["token"].as_str().ok_or(format!("no token: {made}"))?.to_string();
        Ok(Api { http, base: server.base.clone(), token })
    }

    pub(super) async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut rb = self.http.request(method, format!("{}/api/v1{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.map_err(|e| e.to_string())?;
        let status = r.status();
        let v: Value = r.json().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{path}: {status} {v}"));
        }
        Ok(v)
    }
}

/// Pseudo-words, so search terms have realistic selectivity.
pub(super) fn vocabulary(rng: &mut StdRng, n: usize) -> Vec<String> {
    const SYLLABLES: [&str; 24] = [
        "ka", "lo", "mi", "ra", "ten", "vo", "shi", "pan", "de", "gu", "lin", "or", "ex", "port", "bil", "ling", "ac",
        "count", "ne", "twork", "up", "date", "se", "cure",
    ];
    let mut words: Vec<String> = Vec::with_capacity(n);
    while words.len() < n {
        let parts = rng.random_range(2..4);
        let w: String = (0..parts).map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())]).collect();
        if !words.contains(&w) {
            words.push(w);
        }
    }
    words
}

fn sentence(rng: &mut StdRng, words: &[String], n: usize) -> String {
    (0..n).map(|_| words[rng.random_range(0..words.len())].as_str()).collect::<Vec<_>>().join(" ")
}

pub(super) struct Seed {
    pub customers: Vec<CustomerId>,
    pub teams: Vec<TeamId>,
    pub agents: Vec<UserId>,
    pub words: Vec<String>,
}

/// The department every benchmark works in: 3 teams, 10 agents
/// (`agent0@bench.test` … with the password `bench-password`), 1,000
/// customers.
pub(super) async fn department(api: &Api) -> Result<(Vec<UserId>, Vec<TeamId>, Vec<CustomerId>), String> {
    // The department: 3 teams, 10 agents, 1,000 customers.
    let mut agents = Vec::new();
    for i in 0..10 {
        let u = api
            .call(
                reqwest::Method::POST,
                "/users",
                Some(json!({ "email": format!("agent{i}@bench.test"), "name": format!("Agent {i}"), "role": "agent", "password": BENCH_PASSWORD })),
            )
            .await?;
        agents.push(UserId(u["user"]["id"].as_i64().unwrap_or_default()));
    }
    let mut teams = Vec::new();
    for (i, name) in ["Billing", "Technical", "Accounts"].iter().enumerate() {
        let members: Vec<i64> = agents.iter().skip(i * 3).take(4).map(|a| a.0).collect();
        let t = api.call(reqwest::Method::POST, "/teams", Some(json!({ "name": name, "member_ids": members }))).await?;
        teams.push(TeamId(t["id"].as_i64().unwrap_or_default()));
    }
    let mut customers = Vec::new();
    for i in 0..1000 {
        let c = api
            .call(
                reqwest::Method::POST,
                "/customers",
                Some(json!({ "email": format!("c{i}@bench.test"), "name": format!("Customer {i}") })),
            )
            .await?;
        customers.push(CustomerId(c["id"].as_i64().unwrap_or_default()));
    }
    Ok((agents, teams, customers))
}

pub(super) const BENCH_PASSWORD: &str = "bench-password";

/// A fresh store for an in-process benchmark: PostgreSQL at the
/// configured URL (an empty database), else SQLite in a temporary
/// directory (returned, to remove afterwards); and the backend's name.
pub(super) async fn bench_store(
    config: &Config,
    name: &str,
) -> Result<(Arc<dyn store::Store>, &'static str, std::path::PathBuf), String> {
    let dir = std::env::temp_dir().join(format!("switchboard-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(match &config.database_url {
        Some(url) => (Arc::new(store_pg::connect(url).await.map_err(|e| e.to_string())?), "PostgreSQL", dir),
        None => (Arc::new(store_sqlite::open(&dir.join("bench.db")).await.map_err(|e| e.to_string())?), "SQLite", dir),
    })
}

/// 10 agents and 3 teams of four (neighbouring teams share one), made
/// directly in storage (the in-process benchmarks).
pub(super) async fn staff_in_store(store: &dyn store::Store, now: i64) -> Result<(Vec<UserId>, Vec<TeamId>), String> {
    let err = |e: store::StoreError| e.to_string();
    let mut agents = Vec::new();
    for i in 0..10 {
        let u = domain::User {
            id: UserId(0),
            email: format!("agent{i}@bench.test"),
            name: format!("Agent {i}"),
            role: domain::Role::Agent,
            active: true,
            reports_to: None,
            time_zone: None,
            created_at: now,
            updated_at: now,
        };
        agents.push(store.create_user(u, None, None).await.map_err(err)?.id);
    }
    let mut teams = Vec::new();
    for (i, name) in ["Billing", "Technical", "Accounts"].iter().enumerate() {
        let t = domain::Team {
            id: TeamId(0),
            name: (*name).into(),
            description: String::new(),
            lead_id: None,
            member_ids: agents.iter().skip(i * 3).take(4).copied().collect(),
            created_at: now,
            updated_at: now,
        };
        teams.push(store.create_team(t, None).await.map_err(err)?.id);
    }
    Ok((agents, teams))
}

/// Stores `n` generated tickets through storage (an import, not HTTP),
/// spread over the last year; how many were stored.
pub(super) async fn fill(store: &dyn store::Store, rng: &mut StdRng, seed: &Seed, n: u64) -> Result<u64, String> {
    let now = web::Clock::now(&web::SystemClock);
    let span = 365 * 86_400_000_i64;
    let mut made = 0u64;
    while made < n {
        let batch_size = (n - made).min(2_000);
        let mut batch = Vec::with_capacity(batch_size as usize);
        for k in 0..batch_size {
            let at = now - span + ((made + k) as i64 * span / n.max(1) as i64);
            batch.push(generated_ticket(rng, seed, at)?);
        }
        store.import_tickets(batch).await.map_err(|e| e.to_string())?;
        made += batch_size;
        if made % 100_000 < 2_000 {
            eprint!("\r  imported {made} of {n} tickets …");
        }
    }
    eprintln!();
    Ok(made)
}

pub(super) fn generated_ticket(rng: &mut StdRng, seed: &Seed, at: i64) -> Result<TicketCreate, String> {
    let requester = seed.customers[rng.random_range(0..seed.customers.len())];
    let customer = Actor { kind: AuthorKind::Customer, id: Some(requester.0) };
    let status =
        [Status::Closed, Status::Closed, Status::Closed, Status::Solved, Status::Open, Status::Pending, Status::New]
            [rng.random_range(0..7)];
    let team = seed.teams[rng.random_range(0..seed.teams.len())];
    let assignee = (status != Status::New).then(|| seed.agents[rng.random_range(0..seed.agents.len())]);
    let tags = if rng.random_bool(0.3) { vec![format!("tag{}", rng.random_range(0..20))] } else { vec![] };
    let subject_len = rng.random_range(3..7);
    let (mut ticket, events) = lifecycle::open_ticket(
        NewTicket {
            subject: sentence(rng, &seed.words, subject_len),
            status: Some(if status == Status::Closed { Status::Solved } else { status }),
            priority: [Priority::Low, Priority::Normal, Priority::Normal, Priority::High, Priority::Urgent]
                [rng.random_range(0..5)],
            ticket_type: TicketType::Question,
            channel: [Channel::Email, Channel::Web, Channel::Chat, Channel::Phone, Channel::Api]
                [rng.random_range(0..5)],
            requester_id: requester,
            organization_id: None,
            assignee_id: assignee,
            team_id: Some(team),
            tags,
            custom_fields: BTreeMap::new(),
            problem_id: None,
            follow_up_of: None,
        },
        customer,
        at,
    )
    .map_err(|e| e.to_string())?;
    ticket.status = status;
    let body_len = rng.random_range(15..40);
    let body = sentence(rng, &seed.words, body_len);
    let message = NewMessage {
        visibility: Visibility::Public,
        author_kind: AuthorKind::Customer,
        author_id: Some(requester.0),
        channel: ticket.channel,
        body_html: format!("<p>{body}</p>"),
        body_text: body,
        metadata: json!({}),
        attachment_ids: vec![],
        created_at: at,
        email: None,
    };
    Ok(TicketCreate { ticket, events, messages: vec![message], new_requester: None })
}

/// Runs `total` requests from `clients` concurrent clients; returns the
/// latency histogram (µs) and the wall time.
pub(super) async fn load<F, Fut>(clients: usize, total: u64, request: F) -> Result<(Histogram<u64>, Duration), String>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (request, next) = (request.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, String>(h);
                }
                let t = Instant::now();
                request(i).await?;
                h.record(t.elapsed().as_micros() as u64).map_err(|e| e.to_string())?;
            }
        }));
    }
    let mut all = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    for t in tasks {
        all.add(t.await.map_err(|e| e.to_string())??).map_err(|e| e.to_string())?;
    }
    Ok((all, started.elapsed()))
}

pub async fn api(config: Config, tickets: u64, creates: u64, queries: u64) -> Result<(), String> {
    let dir: PathBuf = std::env::temp_dir().join(format!("switchboard-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let database_url = config.database_url.clone();
    let backend = if database_url.is_some() { "PostgreSQL" } else { "SQLite" };
    println!(
        "switchboard bench api: {backend}, {} cores",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let mut server = start_server(&dir, database_url.as_deref()).await?;
    let pid = server.child.id().ok_or("server has no pid")?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started_rss = rss_mib(pid);
    let api = Arc::new(Api::sign_in(&server, &config.admin_email).await?);

    let (agents, teams, customers) = department(&api).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = rss_mib(pid);
    println!();
    println!(
        "server RSS idle: {started_rss:.1} MiB after start, {idle_rss:.1} MiB after setting up 11 accounts and 1,000 customers"
    );

    // Ticket creation through the API.
    let mut rng = StdRng::seed_from_u64(7);
    let words = Arc::new(vocabulary(&mut rng, 5000));
    let seed = Seed {
        customers: customers.clone(),
        teams: teams.clone(),
        agents: agents.clone(),
        words: words.as_ref().clone(),
    };
    println!();
    println!(
        "{:<34} {:>10} {:>9} {:>9} {:>9}",
        "ticket creation (POST /tickets)", "per second", "p50 ms", "p99 ms", "RSS MiB"
    );
    for clients in [1usize, 32] {
        let total = if clients == 1 { creates.min(5_000) } else { creates };
        let (api, words, customers) = (api.clone(), words.clone(), Arc::new(customers.clone()));
        let peak = Arc::new(AtomicU64::new(0));
        let sampler = {
            let peak = peak.clone();
            tokio::spawn(async move {
                loop {
                    peak.fetch_max((rss_mib(pid) * 10.0) as u64, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        };
        let (h, wall) = load(clients, total, move |i| {
            let api = api.clone();
            let subject = format!("{} {}", words[(i as usize * 7) % words.len()], words[(i as usize * 13) % words.len()]);
            let requester = customers[i as usize % customers.len()].0;
            async move {
                api.call(
                    reqwest::Method::POST,
                    "/tickets",
                    Some(json!({ "subject": subject, "body": "The export fails with an error since this morning.", "requester_id": requester, "tags": ["bench"] })),
                )
                .await
                .map(|_| ())
            }
        })
        .await?;
        sampler.abort();
        println!(
            "{:<34} {:>10.0} {:>9.2} {:>9.2} {:>9.1}",
            format!("  {clients} client{}, {total} tickets", if clients == 1 { "" } else { "s" }),
            total as f64 / wall.as_secs_f64(),
            ms(&h, 0.5),
            ms(&h, 0.99),
            peak.load(Ordering::Relaxed) as f64 / 10.0
        );
    }

    // Fill the store to `tickets` through storage (an import, not HTTP).
    let store = match &database_url {
        Some(url) => crate::storage::open(&Config { database_url: Some(url.clone()), ..config.clone() }).await?,
        None => crate::storage::open(&Config { data_dir: dir.clone(), ..config.clone() }).await?,
    };
    let existing = creates + creates.min(5_000);
    let to_import = tickets.saturating_sub(existing);
    let started = Instant::now();
    let made = fill(store.as_ref(), &mut rng, &seed, to_import).await?;
    let import_time = started.elapsed();
    let optimizing = Instant::now();
    store.optimize().await.map_err(|e| e.to_string())?;
    println!();
    println!("optimize after import (statistics, search index): {:.0} s", optimizing.elapsed().as_secs_f64());
    println!(
        "stored tickets: {} ({} imported in {:.0} s, {:.0} tickets/s)",
        existing + made,
        made,
        import_time.as_secs_f64(),
        made as f64 / import_time.as_secs_f64().max(0.001)
    );

    // List and search latency, one client at a time.
    let agent_ids: Arc<Vec<i64>> = Arc::new(agents.iter().map(|a| a.0).collect());
    let team_ids: Arc<Vec<i64>> = Arc::new(teams.iter().map(|t| t.0).collect());
    let lists = {
        let (agent_ids, team_ids) = (agent_ids.clone(), team_ids.clone());
        move |i: u64| -> String {
            let i = i as usize;
            match i % 6 {
                0 => "/tickets?limit=50".to_string(),
                1 => "/tickets?limit=50&status=open,pending".to_string(),
                2 => format!("/tickets?limit=50&assignee={}", agent_ids[i % agent_ids.len()]),
                3 => format!("/tickets?limit=50&team={}&status=new,open", team_ids[i % team_ids.len()]),
                4 => format!("/tickets?limit=50&tag=tag{}", i % 20),
                _ => "/tickets?limit=50&sort=-updated&priority=urgent".to_string(),
            }
        }
    };
    println!();
    println!("{:<34} {:>10} {:>9} {:>9} {:>9}", "queries (1 client)", "per second", "p50 ms", "p99 ms", "");
    let (a, l) = (api.clone(), lists.clone());
    let (h, wall) = load(1, queries, move |i| {
        let (a, path) = (a.clone(), l(i));
        async move { a.call(reqwest::Method::GET, &path, None).await.map(|_| ()) }
    })
    .await?;
    println!(
        "{:<34} {:>10.0} {:>9.2} {:>9.2}",
        "  list 50 (6 filter mixes)",
        queries as f64 / wall.as_secs_f64(),
        ms(&h, 0.5),
        ms(&h, 0.99)
    );
    let (a, w) = (api.clone(), words.clone());
    let (h, wall) = load(1, queries, move |i| {
        let a = a.clone();
        let i = i as usize;
        let q = match i % 4 {
            0 => w[(i * 31) % w.len()].clone(),
            1 => format!("{} {}", w[(i * 17) % w.len()], w[(i * 43) % w.len()]),
            2 => format!("{} status:closed", w[(i * 29) % w.len()]),
            _ => format!("{} -{}", w[(i * 37) % w.len()], w[(i * 11) % w.len()]),
        };
        async move {
            let path = format!("/search?limit=50&q={}", q.replace(' ', "%20").replace(':', "%3A"));
            a.call(reqwest::Method::GET, &path, None).await.map(|_| ())
        }
    })
    .await?;
    println!(
        "{:<34} {:>10.0} {:>9.2} {:>9.2}",
        "  search (words, filters, exclusion)",
        queries as f64 / wall.as_secs_f64(),
        ms(&h, 0.5),
        ms(&h, 0.99)
    );
    let (a, l) = (api.clone(), lists.clone());
    let (h, wall) = load(32, queries * 2, move |i| {
        let (a, path) = (a.clone(), l(i));
        async move { a.call(reqwest::Method::GET, &path, None).await.map(|_| ()) }
    })
    .await?;
    println!(
        "{:<34} {:>10.0} {:>9.2} {:>9.2}",
        "  list 50, 32 clients",
        (queries * 2) as f64 / wall.as_secs_f64(),
        ms(&h, 0.5),
        ms(&h, 0.99)
    );
    println!();
    println!("server RSS after the run: {:.1} MiB", rss_mib(pid));
    let _ = server.child.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
