//! `switchboard bench pages`: how long the workspace takes to render its
//! two busiest pages, measured against a real `serve` process on a large
//! store: the ticket page of a ticket with 100 messages, and a list of 50
//! rows (the built-in views), as an agent of one team sees them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;

use super::bench::{Api, BENCH_PASSWORD, Seed, department, fill, load, ms, start_server, vocabulary};
use crate::config::Config;

/// A browser-like client signed in as an agent: pages with the session cookie.
struct Agent {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Agent {
    async fn sign_in(base: &str, email: &str) -> Result<Agent, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        let r = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": BENCH_PASSWORD }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .ok_or("the agent could not sign in")?
            .to_string();
        Ok(Agent { http, base: base.to_string(), cookie })
    }

    /// The page's HTML; an error unless it answers 200.
    async fn page(&self, path: &str) -> Result<String, String> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        let html = r.text().await.map_err(|e| e.to_string())?;
        if status != reqwest::StatusCode::OK {
            return Err(format!("{path}: {status}"));
        }
        Ok(html)
    }
}

pub async fn pages(config: Config, tickets: u64, renders: u64) -> Result<(), String> {
    let dir: PathBuf = std::env::temp_dir().join(format!("switchboard-bench-pages-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let database_url = config.database_url.clone();
    let backend = if database_url.is_some() { "PostgreSQL" } else { "SQLite" };
    println!(
        "switchboard bench pages: {backend}, {} cores, {tickets} tickets",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let mut server = start_server(&dir, database_url.as_deref()).await?;
    let api = Arc::new(Api::sign_in(&server, &config.admin_email).await?);
    let (agents, teams, customers) = department(&api).await?;

    // The large store, through storage.
    let store = match &database_url {
        Some(url) => crate::storage::open(&Config { database_url: Some(url.clone()), ..config.clone() }).await?,
        None => crate::storage::open(&Config { data_dir: dir.clone(), ..config.clone() }).await?,
    };
    let mut rng = StdRng::seed_from_u64(11);
    let words = vocabulary(&mut rng, 5000);
    let seed = Seed { customers: customers.clone(), teams: teams.clone(), agents: agents.clone(), words };
    fill(store.as_ref(), &mut rng, &seed, tickets).await?;
    store.optimize().await.map_err(|e| e.to_string())?;

    // A long conversation: 100 messages (replies, notes, the customer's answers)
    // on a ticket of the agent's team, and a few macros to render with it.
    let agent = &agents[0];
    let t = api
        .call(
            reqwest::Method::POST,
            "/tickets",
            Some(json!({ "subject": "A long conversation", "body": "It started like this.", "requester_id": customers[0].0,
                "team_id": teams[0].0, "assignee_id": agent.0 })),
        )
        .await?;
    let id = t["ticket"]["id"].as_i64().ok_or("no ticket id")?;
    for i in 1..100 {
        let body =
            format!("Message {i}: {}", "the export still fails with error 500 after the update. ".repeat(1 + i % 5));
        api.call(
            reqwest::Method::POST,
            &format!("/tickets/{id}/messages"),
            Some(json!({ "body": body, "public": i % 3 != 0, "send_email": false })),
        )
        .await?;
    }
    for name in ["Refund done", "Need more details", "Solved, thanks"] {
        api.call(
            reqwest::Method::POST,
            "/macros",
            Some(json!({ "name": name, "shared": true, "body": "Hi {{ customer.first_name }}, about #{{ ticket.number }}." })),
        )
        .await?;
    }
    let agent = Arc::new(Agent::sign_in(&server.base, "agent0@bench.test").await?);
    let page = agent.page(&format!("/tickets/{id}")).await?;
    let shown = page.matches("class=\"message ").count();
    if shown != 100 {
        return Err(format!("the ticket page shows {shown} messages, not 100"));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    println!();
    println!("{:<44} {:>10} {:>9} {:>9}", "page render (1 client, over HTTP)", "per second", "p50 ms", "p99 ms");
    let measure = |label: &'static str, paths: Arc<Vec<String>>| {
        let agent = agent.clone();
        async move {
            let (h, wall) = load(1, renders, move |i| {
                let (agent, path) = (agent.clone(), paths[i as usize % paths.len()].clone());
                async move { agent.page(&path).await.map(|_| ()) }
            })
            .await?;
            println!(
                "{:<44} {:>10.0} {:>9.2} {:>9.2}",
                label,
                renders as f64 / wall.as_secs_f64(),
                ms(&h, 0.5),
                ms(&h, 0.99)
            );
            Ok::<_, String>(())
        }
    };
    measure("  ticket page, 100 messages", Arc::new(vec![format!("/tickets/{id}")])).await?;
    let lists: Vec<String> =
        ["open", "unassigned", "mine", "pending", "solved"].iter().map(|v| format!("/views/{v}")).collect();
    let rows = agent.page(&lists[0]).await?.matches("<tr data-row").count();
    measure("  list of 50 rows (the five built-in views)", Arc::new(lists)).await?;
    println!("  (the open view showed {rows} rows)");
    let _ = server.child.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
