use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use domain::{Customer, CustomerId, Role, Team, TeamId, User, UserId};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use store::{PrincipalRef, Store};
use tokio::sync::oneshot;
use web::accounts::hash_token;
use web::{Application, Clock, Settings, SystemClock};

/// Runs each named test on both backends: `name::sqlite` and `name::pg`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let app = crate::support::spawn(crate::support::Backend::Sqlite).await.expect("sqlite app");
                super::$name(app).await;
            }
            #[tokio::test]
            async fn pg() {
                match crate::support::spawn(crate::support::Backend::Pg).await {
                    Some(app) => super::$name(app).await,
                    None => eprintln!("skipped: SWITCHBOARD_TEST_PG is not set"),
                }
            }
        }
    )*};
}

#[derive(Clone, Copy)]
pub enum Backend {
    Sqlite,
    Pg,
}

/// How a request authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Token(String),
    Cookie(String),
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub store: Arc<dyn Store>,
    pub admin: Auth,
    /// The built-in SMTP receiver, when the test asked for it.
    pub smtp: Option<std::net::SocketAddr>,
    _stop: oneshot::Sender<()>,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "switchboard-web-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn open_store(backend: Backend, dir: &std::path::Path) -> Option<Arc<dyn Store>> {
    Some(match backend {
        Backend::Sqlite => Arc::new(store_sqlite::open(&dir.join("switchboard.db")).await.unwrap()),
        Backend::Pg => {
            let url = store_pg::testing::fresh_database().await.unwrap()?;
            Arc::new(store_pg::connect(&url).await.unwrap())
        }
    })
}

/// The app on port 0 with test settings, changed by `adjust`; its HTTP
/// base URL, its SMTP receiver's address (if configured) and its stop.
pub async fn start(
    store: Arc<dyn Store>,
    dir: &std::path::Path,
    adjust: impl FnOnce(&mut Settings),
) -> (String, Option<std::net::SocketAddr>, oneshot::Sender<()>) {
    let mut settings = Settings {
        listen: "127.0.0.1:0".into(),
        attachments_dir: dir.join("attachments"),
        max_body_bytes: 64 * 1024,
        max_attachment_bytes: 256 * 1024,
        ..Settings::default()
    };
    adjust(&mut settings);
    let app = Application::build(settings, store, Arc::new(SystemClock)).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let smtp = app.smtp_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    (base, smtp, stop)
}

pub async fn spawn(backend: Backend) -> Option<TestApp> {
    spawn_with(backend, |_| {}).await
}

/// The app with settings changed by `adjust` (an SMTP server to send to,
/// the SMTP receiver …).
pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    let dir = temp_dir();
    let store = open_store(backend, &dir).await?;
    let (base, smtp, stop) = start(store.clone(), &dir, adjust).await;
    let (_, token) = staff(&store, "admin@support.test", Role::Admin, None).await;
    Some(TestApp { base, http: reqwest::Client::new(), store, admin: Auth::Token(token), smtp, _stop: stop })
}

pub fn now() -> i64 {
    SystemClock.now()
}

/// A staff user with a personal API token (made directly in storage, so
/// tests do not pay for password hashing).
pub async fn staff(store: &Arc<dyn Store>, email: &str, role: Role, reports_to: Option<UserId>) -> (UserId, String) {
    let user = User {
        id: UserId(0),
        email: email.into(),
        name: email.split('@').next().unwrap().into(),
        role,
        active: true,
        reports_to,
        time_zone: None,
        created_at: now(),
        updated_at: now(),
    };
    let id = store.create_user(user, None, None).await.unwrap().id;
    let token = format!("sbp_test_{}_{}", id, NEXT.fetch_add(1, Ordering::SeqCst));
    store.create_api_token(id, "test", &hash_token(&token), now()).await.unwrap();
    (id, token)
}

pub async fn team(store: &Arc<dyn Store>, name: &str, lead: Option<UserId>, members: &[UserId]) -> TeamId {
    let t = Team {
        id: TeamId(0),
        name: name.into(),
        description: String::new(),
        lead_id: lead,
        member_ids: members.to_vec(),
        created_at: now(),
        updated_at: now(),
    };
    store.create_team(t, None).await.unwrap().id
}

/// A customer signed in to a session; returns the cookie value.
pub async fn customer(store: &Arc<dyn Store>, email: &str, organization: Option<i64>) -> (CustomerId, Auth) {
    let address = domain::EmailAddress::parse(email).unwrap();
    let c = Customer {
        organization_id: organization.map(domain::OrganizationId),
        has_account: true,
        ..Customer::new(&address, email.split('@').next().unwrap(), now())
    };
    let id = store.create_customer(c, Some("x".into()), None).await.unwrap().id;
    let token = format!("session-{}-{}", id, NEXT.fetch_add(1, Ordering::SeqCst));
    store.create_session(&hash_token(&token), PrincipalRef::Customer(id), now(), now() + 3_600_000).await.unwrap();
    (id, Auth::Cookie(token))
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") { path.to_string() } else { format!("{}/api/v1{path}", self.base) }
    }

    pub fn request(&self, method: Method, path: &str, auth: &Auth) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, self.url(path));
        match auth {
            Auth::None => rb,
            Auth::Token(t) => rb.bearer_auth(t),
            Auth::Cookie(c) => rb.header("cookie", format!("sb_session={c}")),
        }
    }

    pub async fn send(rb: reqwest::RequestBuilder) -> Reply {
        let response = rb.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Reply { status, body, headers }
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> Reply {
        Self::send(self.request(Method::GET, path, auth)).await
    }

    pub async fn post(&self, path: &str, auth: &Auth, body: Value) -> Reply {
        Self::send(self.request(Method::POST, path, auth).json(&body)).await
    }

    pub async fn patch(&self, path: &str, auth: &Auth, body: Value) -> Reply {
        Self::send(self.request(Method::PATCH, path, auth).json(&body)).await
    }

    /// Opens a ticket as the admin for a new customer; returns its number.
    pub async fn ticket(&self, body: Value) -> i64 {
        let r = self.post("/tickets", &self.admin, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["ticket"]["id"].as_i64().unwrap()
    }
}

/// A signed-in session for an existing customer.
pub async fn customer_session(store: &Arc<dyn Store>, id: CustomerId) -> (CustomerId, Auth) {
    let token = format!("session-{}-{}", id, NEXT.fetch_add(1, Ordering::SeqCst));
    store.create_session(&hash_token(&token), PrincipalRef::Customer(id), now(), now() + 3_600_000).await.unwrap();
    (id, Auth::Cookie(token))
}

/// A signed-in staff session (made in storage, no password hashing): the
/// cookie a browser would send.
pub async fn staff_session(store: &Arc<dyn Store>, id: UserId) -> String {
    let token = format!("session-staff-{}-{}", id, NEXT.fetch_add(1, Ordering::SeqCst));
    store.create_session(&hash_token(&token), PrincipalRef::Staff(id), now(), now() + 3_600_000).await.unwrap();
    format!("sb_session={token}")
}

/// A browser without JavaScript: pages and forms with a session cookie,
/// redirects not followed.
pub struct Browser {
    pub base: String,
    pub cookie: String,
    http: reqwest::Client,
}

pub struct PageReply {
    pub status: StatusCode,
    pub location: String,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

impl Browser {
    pub async fn new(app: &TestApp, user: UserId) -> Browser {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { base: app.base.clone(), cookie: staff_session(&app.store, user).await, http }
    }

    async fn reply(r: reqwest::Response) -> PageReply {
        let status = r.status();
        let headers = r.headers().clone();
        let location = headers.get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_string();
        PageReply { status, location, headers, html: r.text().await.unwrap() }
    }

    pub async fn get(&self, path: &str) -> PageReply {
        Self::reply(self.http.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).send().await.unwrap())
            .await
    }

    /// Posts a form as the page would (same origin).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> PageReply {
        self.post_from(path, form, &self.base.clone()).await
    }

    /// Posts a form as if from a page of `origin`.
    pub async fn post_from(&self, path: &str, form: &[(&str, &str)], origin: &str) -> PageReply {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap();
        Self::reply(r).await
    }
}

/// Waits until the ticket's events include `kind`; the ticket view then.
pub async fn until_event(app: &TestApp, ticket: i64, kind: &str) -> Value {
    for _ in 0..300 {
        let t = app.get(&format!("/tickets/{ticket}"), &app.admin).await;
        if t.body["events"].as_array().is_some_and(|es| es.iter().any(|e| e["kind"] == kind)) {
            // The ticket and its events are read one after the other: read
            // again so the ticket is at least as new as the event seen.
            return app.get(&format!("/tickets/{ticket}"), &app.admin).await.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    panic!("ticket {ticket} never got a {kind} event");
}
