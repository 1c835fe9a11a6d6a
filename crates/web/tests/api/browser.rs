//! The workspace in a real browser (headless Chromium through
//! chromedriver, both from Debian): an agent signs in, opens the
//! unassigned view, takes a ticket by keyboard, replies with a macro; a
//! second agent's browser sees who is on the ticket and the reply arrive
//! live, and a new ticket appear in a list; three tickets are solved in one
//! bulk action; a search finds and opens a ticket. A screenshot of every
//! main page is saved under `target/screenshots/`.
//!
//! Without Chromium the test is skipped, unless `SWITCHBOARD_TEST_SERVICES`
//! is set (CI), where it fails.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use domain::{MacroActions, Role, Status};
use serde_json::json;
use store::PrincipalRef;
use thirtyfour::prelude::*;

use crate::support::{Backend, TestApp, spawn, staff, team};

const PASSWORD: &str = "correct horse battery";

struct Chrome {
    driver: Child,
    url: String,
    profiles: PathBuf,
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Chrome {
    /// chromedriver on a free port, or `None` when Chromium is not installed.
    async fn start() -> Option<Chrome> {
        let (chromium, chromedriver) = ("/usr/bin/chromium", "/usr/bin/chromedriver");
        if !std::path::Path::new(chromium).exists() || !std::path::Path::new(chromedriver).exists() {
            assert!(
                std::env::var_os("SWITCHBOARD_TEST_SERVICES").is_none(),
                "Chromium and chromedriver are required (apt-get install chromium chromium-driver)"
            );
            eprintln!("skipped: Debian's chromium and chromium-driver are not installed");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{url}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profiles = crate::support::temp_dir();
        Some(Chrome { driver, url, profiles })
    }

    /// A new browser window of its own (own profile, so own cookies), 1280×800.
    async fn browser(&self, name: &str) -> WebDriver {
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary("/usr/bin/chromium").unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,800",
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_arg(&format!("--user-data-dir={}", self.profiles.join(name).display())).unwrap();
        WebDriver::new(&self.url, caps).await.expect("a browser session")
    }
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(b: &WebDriver, name: &str) {
    b.screenshot(&screenshots().join(format!("{name}.png"))).await.unwrap();
}

/// Waits until the page's source contains `text`.
async fn until_page_has(b: &WebDriver, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if b.source().await.unwrap().contains(text) {
            return;
        }
        if Instant::now() > deadline {
            shot(b, "failure").await;
            panic!("the page never showed {text:?}: {}", b.current_url().await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Waits for an element that matches `css`.
async fn element(b: &WebDriver, css: &str) -> WebElement {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(e) = b.find(By::Css(css)).await {
            return e;
        }
        assert!(Instant::now() < deadline, "no {css} on {}", b.current_url().await.unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn keys(b: &WebDriver, keys: &str) {
    b.action_chain().send_keys(keys).perform().await.unwrap();
}

async fn sign_in(b: &WebDriver, base: &str, email: &str) {
    b.goto(format!("{base}/login")).await.unwrap();
    element(b, "#email").await.send_keys(email).await.unwrap();
    element(b, "#password").await.send_keys(PASSWORD).await.unwrap();
    element(b, "button[type=submit]").await.click().await.unwrap();
    until_page_has(b, "My open tickets</h1>").await;
}

#[tokio::test]
async fn a_ticket_from_arrival_to_solved_in_the_browser() {
    let Some(chrome) = Chrome::start().await else { return };
    let _ = std::fs::remove_file(screenshots().join("failure.png"));
    let app = spawn(Backend::Sqlite).await.unwrap();
    workday(&chrome, &app).await;
}

async fn workday(chrome: &Chrome, app: &TestApp) {
    let store = &app.store;
    let (ada, _) = staff(store, "ada@desk.test", Role::Agent, None).await;
    let (bo, _) = staff(store, "bo@desk.test", Role::Agent, None).await;
    let (boss, _) = staff(store, "boss@desk.test", Role::Admin, None).await;
    let (lead, _) = staff(store, "lead@desk.test", Role::Manager, None).await;
    for who in [ada, bo, boss, lead] {
        web::accounts::set_password(store.as_ref(), PrincipalRef::Staff(who), PASSWORD).await.unwrap();
    }
    let billing = team(store, "Billing", Some(lead), &[ada, bo]).await;
    let ticket = |subject: &str, body: &str| {
        json!({ "subject": subject, "body": body, "team_id": billing.0,
            "requester": { "email": "cara@customer.test", "name": "Cara Diaz" } })
    };
    let mut others = Vec::new();
    for n in 1..=3 {
        others.push(app.ticket(ticket(&format!("Invoice question {n}"), "Where is my invoice?")).await);
    }
    let refund = app.ticket(ticket("Refund for order 1042", "I was charged twice for my order.")).await;
    let r = app
        .post(
            "/macros",
            &app.admin,
            json!({ "name": "Refund done", "shared": true,
                "body": "Hi {{ customer.first_name }}, we refunded order 1042.",
                "actions": MacroActions { status: Some(Status::Pending), add_tags: vec!["refunded".into()], ..Default::default() } }),
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.body);
    let base = app.base.clone();

    // Ada signs in and opens the unassigned view.
    let a = chrome.browser("ada").await;
    a.goto(format!("{base}/login")).await.unwrap();
    shot(&a, "login").await;
    sign_in(&a, &base, "ada@desk.test").await;
    shot(&a, "view-mine").await;
    a.goto(format!("{base}/views/unassigned")).await.unwrap();
    until_page_has(&a, "Refund for order 1042").await;
    until_page_has(&a, r#"data-count="unassigned">4<"#).await;
    shot(&a, "view-unassigned").await;

    // By keyboard: the newest row, open it, take it.
    keys(&a, "j").await;
    keys(&a, "\u{e007}").await;
    until_page_has(&a, &format!("#{refund}</span> Refund for order 1042")).await;
    keys(&a, "a").await;
    until_page_has(&a, "The ticket is yours.").await;

    // Bo opens the same ticket and sees Ada there.
    let b = chrome.browser("bo").await;
    sign_in(&b, &base, "bo@desk.test").await;
    b.goto(format!("{base}/tickets/{refund}")).await.unwrap();
    until_page_has(&b, "ada is viewing this ticket").await;

    // Ada replies with the macro: its text filled in for this customer.
    keys(&a, "m").await;
    element(&a, "#macro option[data-body]").await.click().await.unwrap();
    element(&a, "#macro-form button").await.click().await.unwrap();
    let text = element(&a, "#body").await.prop("value").await.unwrap().unwrap_or_default();
    assert_eq!(text, "Hi Cara, we refunded order 1042.");
    shot(&a, "ticket-reply").await;
    // Sent from the keyboard: Ctrl+Enter in the editor.
    a.action_chain().key_down(Key::Control).send_keys(Key::Enter).key_up(Key::Control).perform().await.unwrap();
    until_page_has(&a, "Hi Cara, we refunded order 1042.</div>").await;
    let status = element(&a, "#f-status").await.prop("value").await.unwrap();
    assert_eq!(status.as_deref(), Some("pending"));
    shot(&a, "ticket").await;
    let api = app.get(&format!("/tickets/{refund}"), &app.admin).await;
    assert_eq!(api.body["ticket"]["status"], "pending", "the macro's changes came with the reply");
    assert_eq!(api.body["ticket"]["tags"], json!(["refunded"]));
    assert_eq!(api.body["ticket"]["assignee_id"], ada.0);

    // Bo's open page shows the reply without reloading.
    until_page_has(&b, "Hi Cara, we refunded order 1042.</div>").await;
    shot(&b, "ticket-live").await;

    // A ticket arriving appears in Bo's list by itself.
    b.goto(format!("{base}/views/open")).await.unwrap();
    until_page_has(&b, "Invoice question 1").await;
    let arrived = app.ticket(ticket("Printer on fire", "Smoke everywhere.")).await;
    until_page_has(&b, "Printer on fire").await;

    // Ada solves three tickets at once.
    a.goto(format!("{base}/views/open")).await.unwrap();
    until_page_has(&a, "Printer on fire").await;
    for id in &others {
        element(&a, &format!("input[name=ids][value='{id}']")).await.click().await.unwrap();
    }
    element(&a, "#bulk-action option[value='status:solved']").await.click().await.unwrap();
    shot(&a, "bulk").await;
    element(&a, "#bulk button").await.click().await.unwrap();
    until_page_has(&a, "3 tickets changed.").await;
    for id in &others {
        let t = app.get(&format!("/tickets/{id}"), &app.admin).await;
        assert_eq!(t.body["ticket"]["status"], "solved", "#{id}");
    }
    let t = app.get(&format!("/tickets/{arrived}"), &app.admin).await;
    assert_eq!(t.body["ticket"]["status"], "new", "an unticked ticket is untouched");

    // Search from anywhere with "/", matches marked, open the result.
    keys(&a, "/").await;
    keys(&a, "charged twice\u{e007}").await;
    until_page_has(&a, "<mark>charged</mark> <mark>twice</mark>").await;
    shot(&a, "search").await;
    element(&a, ".hits a.subject").await.click().await.unwrap();
    until_page_has(&a, &format!("#{refund}</span> Refund for order 1042")).await;

    // The shortcuts, and the other main pages.
    keys(&a, "?").await;
    until_page_has(&a, "Keyboard shortcuts").await;
    shot(&a, "shortcuts").await;
    let customer = api.body["ticket"]["requester_id"].as_i64().unwrap();
    for (path, name, expect) in [
        (format!("/customers/{customer}"), "customer", "Cara Diaz"),
        ("/customers".into(), "customers", "cara@customer.test"),
        ("/organizations".into(), "organizations", "Organizations</h1>"),
        ("/me".into(), "me", "Notifications"),
        ("/me/macros".into(), "my-macros", "My macros"),
        ("/views/new".into(), "view-new", "Tickets matching"),
    ] {
        a.goto(format!("{base}{path}")).await.unwrap();
        until_page_has(&a, expect).await;
        shot(&a, name).await;
    }
    let admin = chrome.browser("boss").await;
    sign_in(&admin, &base, "boss@desk.test").await;
    for (path, name, expect) in [
        ("/admin", "admin", "Mailboxes"),
        ("/admin/users", "admin-users", "ada@desk.test"),
        ("/admin/teams", "admin-teams", "Billing"),
        ("/admin/mailboxes", "admin-mailboxes", "New mailbox"),
        ("/admin/fields", "admin-fields", "New field"),
        ("/admin/macros", "admin-macros", "Refund done"),
        ("/admin/settings", "admin-settings", "Helpdesk name"),
        ("/admin/kpis", "admin-kpis", "Costs and staffing"),
        ("/cockpit", "cockpit", "Period before"),
    ] {
        admin.goto(format!("{base}{path}")).await.unwrap();
        until_page_has(&admin, expect).await;
        shot(&admin, name).await;
    }
    // A manager sets up an SLA policy in the admin pages; a new ticket shows its due time.
    let manager = chrome.browser("lead").await;
    sign_in(&manager, &base, "lead@desk.test").await;
    manager.goto(format!("{base}/admin/sla")).await.unwrap();
    until_page_has(&manager, "New policy").await;
    element(&manager, "#new-policy-name").await.send_keys("Urgent tickets").await.unwrap();
    element(&manager, "#new-policy input[name=priorities][value=urgent]").await.click().await.unwrap();
    let minutes = element(&manager, "#new-policy-first_reply_minutes").await;
    minutes.clear().await.unwrap();
    minutes.send_keys("30").await.unwrap();
    element(&manager, "#new-policy-first_reply_business").await.click().await.unwrap();
    shot(&manager, "admin-sla").await;
    element(&manager, "#new-policy button[type=submit]").await.click().await.unwrap();
    until_page_has(&manager, "The policy is in force").await;
    until_page_has(&manager, "First reply 30 min").await;
    let urgent = app.ticket(json!({ "subject": "Checkout is down", "body": "Nobody can pay.", "priority": "urgent", "team_id": billing.0,
        "requester": { "email": "dan@customer.test", "name": "Dan Okoro" } })).await;
    manager.goto(format!("{base}/tickets/{urgent}")).await.unwrap();
    until_page_has(&manager, "Service level").await;
    until_page_has(&manager, "(in 29 min)").await;
    shot(&manager, "ticket-sla").await;
    manager.quit().await.unwrap();

    // On a tablet (820×1180): one column, the panel below the conversation.
    a.set_window_rect(0, 0, 820, 1180).await.unwrap();
    a.goto(format!("{base}/tickets/{refund}")).await.unwrap();
    until_page_has(&a, "Earlier tickets").await;
    shot(&a, "tablet-ticket").await;
    a.goto(format!("{base}/views/open")).await.unwrap();
    until_page_has(&a, "Printer on fire").await;
    shot(&a, "tablet-view").await;
    for browser in [a, b, admin] {
        browser.quit().await.unwrap();
    }
}
