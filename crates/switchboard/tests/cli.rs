//! The binary as an operator uses it: help, configuration, first start,
//! graceful shutdown, and two `serve` processes on one PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(BIN).args(args).env_remove("DATABASE_URL").output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn help_explains_every_command_and_option() {
    let (ok, help) = run(&["--help"]);
    assert!(ok);
    for word in
        ["serve", "migrate", "demo", "admin", "config", "bench", "--config", "--listen", "--data-dir", "--database-url"]
    {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
    for sub in
        [vec!["serve"], vec!["migrate"], vec!["demo"], vec!["admin", "create"], vec!["config"], vec!["bench", "api"]]
    {
        let mut args = sub.clone();
        args.push("--help");
        let (ok, text) = run(&args);
        assert!(ok, "{sub:?}: {text}");
        assert!(text.lines().count() > 5, "{sub:?} help is too thin:\n{text}");
    }
    let (_, bench) = run(&["bench", "api", "--help"]);
    assert!(bench.contains("--tickets") && bench.contains("--creates"));
}

#[test]
fn config_prints_the_commented_default_and_bad_config_is_refused() {
    let (ok, text) = run(&["config"]);
    assert!(ok);
    assert!(text.contains("listen = \"127.0.0.1:8080\"") && text.contains("# "));
    let dir = temp_dir("badconfig");
    let file = dir.join("switchboard.toml");
    std::fs::write(&file, "lisen = \"x\"\n").unwrap();
    let (ok, text) = run(&["--config", file.to_str().unwrap(), "migrate"]);
    assert!(!ok);
    assert!(text.contains("lisen"), "{text}");
    let (ok, text) = run(&["--config", "/no/such/file.toml", "migrate"]);
    assert!(!ok && text.contains("does not exist"), "{text}");
}

/// A running `switchboard serve` and what it printed at start.
struct Node {
    child: Child,
    base: String,
    admin_password: Option<String>,
}

async fn start(dir: &std::path::Path, database_url: Option<&str>) -> Node {
    start_command("serve", dir, database_url).await
}

async fn start_command(command: &str, dir: &std::path::Path, database_url: Option<&str>) -> Node {
    start_full(&[command], dir, database_url, &mut Vec::new()).await
}

/// Starts the binary with `args` first (global flags, then the command);
/// the lines it printed until listening go to `printed`.
async fn start_full(
    args: &[&str],
    dir: &std::path::Path,
    database_url: Option<&str>,
    printed: &mut Vec<String>,
) -> Node {
    start_env(args, dir, database_url, printed, &[]).await
}

async fn start_env(
    args: &[&str],
    dir: &std::path::Path,
    database_url: Option<&str>,
    printed: &mut Vec<String>,
    env: &[(&str, &str)],
) -> Node {
    let mut cmd = Command::new(BIN);
    cmd.envs(env.iter().copied());
    cmd.args(args)
        .args(["--listen", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .env("SWITCHBOARD_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut admin_password = None;
    // A readiness wait, not a speed check: the demo simulates, stores and
    // measures its department first (~30 s in a debug build on 2 busy cores).
    let base = tokio::time::timeout(Duration::from_secs(180), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            printed.push(line.clone());
            if let Some(p) = line.trim().strip_prefix("password:") {
                admin_password = Some(p.trim().to_string());
            }
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("serve exited before listening");
    })
    .await
    .expect("serve started");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Node { child, base, admin_password }
}

async fn login(client: &reqwest::Client, base: &str, password: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": "admin@switchboard.local", "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string()
}

fn terminate(child: &Child) {
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
}

#[tokio::test]
async fn first_start_makes_an_admin_and_sigterm_stops_gracefully() {
    let dir = temp_dir("serve");
    let mut node = start(&dir, None).await;
    let password = node.admin_password.clone().expect("the first start prints the admin password");
    let client = reqwest::Client::new();
    let cookie = login(&client, &node.base, &password).await;
    // An open live stream must not keep the server from stopping.
    let stream = client.get(format!("{}/api/v1/stream", node.base)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    terminate(&node.child);
    let status =
        tokio::time::timeout(Duration::from_secs(10), node.child.wait()).await.expect("stopped in time").unwrap();
    assert!(status.success(), "{status:?}");
    // A second start on the same data creates no second admin.
    let mut again = start(&dir, None).await;
    assert!(again.admin_password.is_none());
    terminate(&again.child);
    again.child.wait().await.unwrap();
    // `admin create` adds another account from the command line.
    let (ok, text) = run(&[
        "--data-dir",
        dir.to_str().unwrap(),
        "admin",
        "create",
        "--email",
        "ops@example.com",
        "--role",
        "manager",
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("password:"));
    let (ok, text) = run(&["--data-dir", dir.to_str().unwrap(), "admin", "create", "--email", "ops@example.com"]);
    assert!(!ok && text.contains("already has an account"), "{text}");
}

mod two_serve_processes_share_live_updates {
    use super::*;

    /// Two `serve` processes on one PostgreSQL database: a change made
    /// through one arrives on the other's live stream (LISTEN/NOTIFY).
    #[tokio::test]
    async fn pg() {
        let Some(url) = store_pg::testing::fresh_database().await.unwrap() else {
            eprintln!("skipped: SWITCHBOARD_TEST_PG is not set");
            return;
        };
        let one = start(&temp_dir("node1"), Some(&url)).await;
        let two = start(&temp_dir("node2"), Some(&url)).await;
        let password = one.admin_password.clone().or(two.admin_password.clone()).expect("one node made the admin");
        assert!(one.admin_password.is_none() || two.admin_password.is_none(), "only one admin is made");
        let client = reqwest::Client::new();
        // Sessions live in the database, so a sign-in on one node works on both.
        let cookie = login(&client, &one.base, &password).await;
        let mut stream =
            client.get(format!("{}/api/v1/stream", two.base)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(stream.status(), 200);
        let mut seen = String::new();
        while !seen.contains("event: ready") && !seen.contains("event:ready") {
            seen.push_str(&String::from_utf8_lossy(&stream.chunk().await.unwrap().unwrap()));
        }
        let created: Value = client
            .post(format!("{}/api/v1/tickets", one.base))
            .header("cookie", &cookie)
            .json(&json!({ "subject": "Made on node one", "body": "hello", "requester": { "email": "x@example.com" } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["ticket"]["id"].as_i64().unwrap();
        let arrived = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                seen.push_str(&String::from_utf8_lossy(&stream.chunk().await.unwrap().unwrap()));
                if seen.contains(&format!("\"ticket_id\":{id}")) {
                    return;
                }
            }
        })
        .await;
        assert!(arrived.is_ok(), "the change made on node one did not reach node two: {seen}");
        let read: Value = client
            .get(format!("{}/api/v1/tickets/{id}", two.base))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(read["ticket"]["subject"], "Made on node one");
    }
}

mod two_serve_processes_share_the_job_queue {
    use super::*;

    /// Every `job.ping` entry in the audit log: (job id, the worker that ran it).
    async fn pings(client: &reqwest::Client, base: &str, cookie: &str) -> Vec<(i64, String)> {
        let mut out = Vec::new();
        let mut url = format!("{base}/api/v1/audit?limit=100");
        loop {
            let page: Value = client.get(&url).header("cookie", cookie).send().await.unwrap().json().await.unwrap();
            for e in page["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "job.ping") {
                let id = e["target"].as_str().unwrap().trim_start_matches("job:").parse().unwrap();
                out.push((id, e["actor"].as_str().unwrap().to_string()));
            }
            match page["links"]["next"].as_str() {
                Some(next) => url = next.to_string(),
                None => return out,
            }
        }
    }

    /// Two `serve` processes on one PostgreSQL database share the job
    /// queue: 200 jobs run once each, none twice, both nodes work; a job
    /// held by a node killed mid-run is run by the other after its lease.
    #[tokio::test]
    async fn pg() {
        let Some(url) = store_pg::testing::fresh_database().await.unwrap() else {
            eprintln!("skipped: SWITCHBOARD_TEST_PG is not set");
            return;
        };
        let env = [("SWITCHBOARD_JOB_LEASE_SECONDS", "5")];
        let one = start_env(&["serve"], &temp_dir("jobs1"), Some(&url), &mut Vec::new(), &env).await;
        let two = start_env(&["serve"], &temp_dir("jobs2"), Some(&url), &mut Vec::new(), &env).await;
        let password = one.admin_password.clone().or(two.admin_password.clone()).unwrap();
        let client = reqwest::Client::new();
        let cookie = login(&client, &one.base, &password).await;
        let enqueue = |body: Value| {
            let (client, cookie, base) = (client.clone(), cookie.clone(), one.base.clone());
            async move {
                let r = client
                    .post(format!("{base}/api/v1/jobs"))
                    .header("cookie", cookie)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
            }
        };
        // Each job takes 20 ms, so one node cannot drain the queue before
        // the other polls.
        let mut ids = Vec::new();
        for _ in 0..200 {
            ids.push(enqueue(json!({ "sleep_ms": 20 })).await);
        }
        let ran = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let seen = pings(&client, &one.base, &cookie).await;
                if seen.len() >= 200 {
                    return seen;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
        .await
        .expect("the jobs ran");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let ran = if ran.len() == 200 { pings(&client, &one.base, &cookie).await } else { ran };
        let mut once: Vec<i64> = ran.iter().map(|(id, _)| *id).collect();
        once.sort();
        assert_eq!(once, ids, "every job ran once and none twice");
        let workers: std::collections::BTreeSet<&String> = ran.iter().map(|(_, w)| w).collect();
        assert_eq!(workers.len(), 2, "both nodes took jobs: {workers:?}");

        // A job held by a node that dies: the other runs it once the lease passes.
        let slow = enqueue(json!({ "sleep_ms": 3000 })).await;
        let holder = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let job: Value = client
                    .get(format!("{}/api/v1/jobs/{slow}", two.base))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if job["status"] == "running" {
                    return job["holder"].as_str().unwrap().to_string();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("a node took the slow job");
        let (victim, survivor) =
            if holder.starts_with(&format!("{}-", one.child.id().unwrap())) { (one, two) } else { (two, one) };
        let pid = victim.child.id().unwrap().to_string();
        std::process::Command::new("kill").args(["-KILL", &pid]).status().unwrap();
        let rerun = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let job: Value = client
                    .get(format!("{}/api/v1/jobs/{slow}", survivor.base))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if job["status"] == "done" {
                    return job;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
        .await
        .expect("the survivor ran the dead node's job");
        assert_eq!(rerun["attempts"], 2);
        let runs: Vec<(i64, String)> =
            pings(&client, &survivor.base, &cookie).await.into_iter().filter(|(id, _)| *id == slow).collect();
        assert_eq!(runs.len(), 1, "the killed node never finished it: {runs:?}");
        assert!(!runs[0].1.contains(&format!("worker:{pid}-")), "{runs:?}");
        drop(victim);
    }
}

/// The README's curl examples, run as written against `switchboard demo`
/// (on a free port instead of 8080).
#[tokio::test]
async fn readme_examples_work_against_the_demo() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let dir = temp_dir("readme");
    // A smaller department than the default keeps the debug build quick.
    let mut demo = start_full(&["demo", "--tickets", "2000"], &dir, None, &mut Vec::new()).await;
    let host = demo.base.trim_start_matches("http://").to_string();
    let mut script = String::from("set -eu\ncd \"$1\"\n");
    for block in readme.split("```sh\n").skip(1).filter_map(|b| b.split("```").next()) {
        if block.contains("curl") {
            // The stream never ends by itself.
            script.push_str(&block.replace("curl -sN", "timeout 2 curl -sN").replace("127.0.0.1:8080", &host));
            script.push_str("\necho \"\n--- TOKEN=${TOKEN:-} TICKET=${TICKET:-} ETAG=${ETAG:-}\"\n");
        }
    }
    let out = Command::new("bash").args(["-c", &script, "readme", dir.to_str().unwrap()]).output().await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    // The stream's `timeout` is the last command and ends it with 124.
    assert!(out.status.code() == Some(124) || out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(r#"{"kind":"staff""#), "sign-in: {text}");
    assert!(text.contains(r#""subject":"Printer on fire""#), "create: {text}");
    assert!(text.contains("TOKEN=sbp_"), "token: {text}");
    assert!(!text.contains("ETAG= "), "etag: {text}");
    assert!(text.contains(r#""tags":["escalated"]"#), "update with If-Match: {text}");
    assert!(text.contains(r#""body_text":"We are on it.""#), "reply: {text}");
    assert!(text.contains("event: ready"), "stream: {text}");
    assert!(!text.contains(r#""error""#), "{text}");
    terminate(&demo.child);
    demo.child.wait().await.unwrap();
}

/// `[[mailboxes]]` in the configuration file: created at the first start,
/// updated when the file changes, left alone when it does not; a bad entry
/// stops the start with a clear message.
#[tokio::test]
async fn mailboxes_from_the_configuration_file() {
    let dir = temp_dir("mailboxes");
    let file = dir.join("switchboard.toml");
    let config = |name: &str| {
        format!(
            "[[mailboxes]]\naddress = \"Support@Example.com\"\nname = \"{name}\"\n\
             auto_reply = \"Hi {{{{ customer.first_name }}}}\"\n\
             imap = {{ host = \"127.0.0.1\", port = 1, security = \"plain\", username = \"support\", password = \"s3cret\" }}\n"
        )
    };
    std::fs::write(&file, config("Support")).unwrap();
    let args = ["--config", file.to_str().unwrap(), "serve"];
    let mut printed = Vec::new();
    let mut node = start_full(&args, &dir, None, &mut printed).await;
    assert!(printed.iter().any(|l| l.contains("created mailbox support@example.com")), "{printed:?}");
    let password = node.admin_password.clone().unwrap();
    let client = reqwest::Client::new();
    let cookie = login(&client, &node.base, &password).await;
    let list: Value = client
        .get(format!("{}/api/v1/mailboxes", node.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let m = &list["mailboxes"][0];
    assert_eq!((m["address"].as_str(), m["name"].as_str()), (Some("support@example.com"), Some("Support")), "{list}");
    assert_eq!(m["imap"]["host"], "127.0.0.1");
    assert_eq!(m["auto_reply"], "Hi {{ customer.first_name }}");
    assert!(!list.to_string().contains("s3cret"));
    terminate(&node.child);
    node.child.wait().await.unwrap();

    std::fs::write(&file, config("Customer Support")).unwrap();
    let mut printed = Vec::new();
    let mut node = start_full(&args, &dir, None, &mut printed).await;
    assert!(printed.iter().any(|l| l.contains("updated mailbox support@example.com")), "{printed:?}");
    terminate(&node.child);
    node.child.wait().await.unwrap();
    let mut printed = Vec::new();
    let mut node = start_full(&args, &dir, None, &mut printed).await;
    assert!(!printed.iter().any(|l| l.contains("mailbox support")), "unchanged: {printed:?}");
    terminate(&node.child);
    node.child.wait().await.unwrap();

    std::fs::write(&file, "[[mailboxes]]\naddress = \"billing@example.com\"\nname = \"Billing\"\nteam = \"Nobody\"\n")
        .unwrap();
    let (ok, text) = run(&[
        "--config",
        file.to_str().unwrap(),
        "--data-dir",
        dir.to_str().unwrap(),
        "serve",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(!ok && text.contains("there is no team named Nobody"), "{text}");
}
