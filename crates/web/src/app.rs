//! Building and running the HTTP server. `Application::build` binds the
//! listener first (port 0 picks a free port), so tests start the real app
//! and read its port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use serde::{Deserialize, Serialize};
use store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

use crate::{AppState, Clock};

/// What the HTTP layer needs to know; the binary fills it from the config
/// file and environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free one.
    pub listen: String,
    /// Base of absolute links (pagination); defaults to http://<Host header>.
    pub public_url: Option<String>,
    /// Where attachments are kept (a directory).
    pub attachments_dir: PathBuf,
    /// Largest JSON body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest attachment accepted, in bytes (uploads and mail).
    pub max_attachment_bytes: usize,
    /// Largest raw email accepted by the push endpoint, in bytes.
    pub max_email_bytes: usize,
    /// The SMTP server replies go out through (`smtp://host:25`,
    /// `smtp://user:pass@host:587?tls=required`, `smtps://…:465`); without
    /// it, mail waits in the outbox.
    pub smtp_url: Option<String>,
    /// Where the built-in SMTP receiver listens (`127.0.0.1:2525`); port 0
    /// picks a free one. Without it there is none.
    pub smtp_listen: Option<String>,
    /// The first pause after an IMAP mailbox fails; it doubles with each
    /// failure in a row, up to 15 minutes.
    pub imap_retry_seconds: u64,
    /// How long a node holds a background job before another may take it.
    pub job_lease_seconds: i64,
    /// How often an idle worker looks for due jobs.
    pub job_poll_ms: u64,
    /// Jobs a node runs at once.
    pub job_batch: u32,
    /// How long a sign-in lasts.
    pub session_hours: i64,
    /// Failed sign-ins for one address within the window before it is throttled.
    pub login_max_failures: i64,
    pub login_window_minutes: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            attachments_dir: PathBuf::from("switchboard-data/attachments"),
            max_body_bytes: 1024 * 1024,
            max_attachment_bytes: 25 * 1024 * 1024,
            max_email_bytes: 50 * 1024 * 1024,
            smtp_url: None,
            smtp_listen: None,
            imap_retry_seconds: 5,
            job_lease_seconds: 60,
            job_poll_ms: 500,
            job_batch: 8,
            session_hours: 12,
            login_max_failures: 5,
            login_window_minutes: 15,
        }
    }
}

pub struct Application {
    listener: TcpListener,
    /// Sends the outbox while the server runs (when SMTP is configured).
    delivery: Option<mail::delivery::Delivery>,
    /// Fetches the mailboxes that have an IMAP account.
    fetcher: mail::imap::Fetcher,
    /// Runs background jobs and schedules.
    worker: jobs::Worker,
    /// The built-in SMTP receiver's socket, when configured.
    smtp: Option<std::net::TcpListener>,
    router: Router,
    shutdown: watch::Sender<bool>,
    pub state: AppState,
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<axum::body::Body> {
    tracing::error!("a request handler panicked");
    let body = r#"{"error":{"code":"internal","message":"internal error; it has been logged","details":null}}"#;
    Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .unwrap_or_default()
}

impl Application {
    pub async fn build(settings: Settings, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> std::io::Result<Self> {
        std::fs::create_dir_all(&settings.attachments_dir)?;
        let files: Arc<dyn ObjectStore> = Arc::new(
            LocalFileSystem::new_with_prefix(&settings.attachments_dir)
                .map_err(|e| std::io::Error::other(e.to_string()))?,
        );
        let listener = TcpListener::bind(&settings.listen).await?;
        let smtp = match settings.smtp_listen.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            Some(addr) => Some(
                std::net::TcpListener::bind(addr)
                    .map_err(|e| std::io::Error::other(format!("smtp_listen {addr}: {e}")))?,
            ),
            None => None,
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        // Every node reads the same secret: reply tokens made on one verify on all.
        let secret = store
            .instance_secret("reply_token", &crate::accounts::random_secret())
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let transport: Option<Arc<dyn mail::delivery::Transport>> =
            match settings.smtp_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                Some(url) => Some(Arc::new(
                    mail::delivery::Smtp::from_url(url).map_err(|e| std::io::Error::other(format!("smtp_url: {e}")))?,
                )),
                None => None,
            };
        let delivery = transport.clone().map(|transport| mail::delivery::Delivery {
            store: store.clone(),
            files: files.clone(),
            transport,
            secret: secret.clone(),
        });
        let inbox = mail::Inbox {
            store: store.clone(),
            files: files.clone(),
            secret,
            max_attachment_bytes: settings.max_attachment_bytes,
        };
        let fetcher = mail::imap::Fetcher {
            inbox: inbox.clone(),
            holder: format!("{}-{}", std::process::id(), crate::accounts::random_secret()),
            retry_base: std::time::Duration::from_secs(settings.imap_retry_seconds.max(1)),
        };
        let holder = fetcher.holder.clone();
        let survey_secret = store
            .instance_secret(jobs::survey::SECRET_NAME, &crate::accounts::random_secret())
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let base_url = match &settings.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", listener.local_addr()?),
        };
        let links =
            crate::background::Links { base_url, survey_secret: survey_secret.clone(), transport: transport.clone() };
        let worker = crate::background::worker(&store, &settings, &holder, clock.clone(), &links);
        crate::background::schedules(store.as_ref(), clock.now())
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let state = AppState {
            inbox,
            store,
            clock,
            files,
            settings: Arc::new(settings),
            shutdown: shutdown_rx,
            caches: Default::default(),
            survey_secret: survey_secret.into(),
            transport,
        };
        let router = router(state.clone());
        Ok(Self { listener, delivery, fetcher, worker, smtp, router, shutdown, state })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn port(&self) -> u16 {
        self.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Where the built-in SMTP receiver listens, if it does.
    pub fn smtp_addr(&self) -> Option<SocketAddr> {
        self.smtp.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves until `stop` resolves, then lets in-flight requests finish and
    /// ends live streams.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let shutdown = self.shutdown;
        if let Some(delivery) = self.delivery {
            let clock = self.state.clock.clone();
            let mut stopped = shutdown.subscribe();
            tokio::spawn(delivery.run(move || clock.now(), std::time::Duration::from_secs(1), async move {
                let _ = stopped.wait_for(|s| *s).await;
            }));
        }
        let clock = self.state.clock.clone();
        tokio::spawn(self.fetcher.run(Arc::new(move || clock.now()), shutdown.subscribe()));
        tokio::spawn(self.worker.run(shutdown.subscribe()));
        tokio::spawn(crate::background::watch_changes(
            self.state.store.clone(),
            self.state.clock.clone(),
            shutdown.subscribe(),
        ));
        if let Some(listener) = self.smtp {
            let clock = self.state.clock.clone();
            let receiver = mail::smtp::SmtpReceiver::new(
                self.state.inbox.clone(),
                tokio::runtime::Handle::current(),
                Arc::new(move || clock.now()),
                self.state.settings.max_email_bytes,
            );
            mail::smtp::serve(receiver, listener, "switchboard")?;
        }
        let signal = async move {
            stop.await;
            let _ = shutdown.send(true);
        };
        axum::serve(self.listener, self.router).with_graceful_shutdown(signal).await
    }
}

/// The whole HTTP surface. The OpenAPI document is generated from the same
/// route registrations, so a route cannot be missing from it.
pub fn router(state: AppState) -> Router {
    let (api, openapi) =
        OpenApiRouter::with_openapi(crate::api::doc()).nest("/api/v1", crate::api::router()).split_for_parts();
    let openapi = Arc::new(openapi);
    let request_id = HeaderName::from_static("x-request-id");
    let limit = state.settings.max_body_bytes;
    Router::new()
        .merge(api)
        .merge(crate::pages::router())
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route("/health", get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }))
        .fallback(|| async { crate::ApiError::NoRoute })
        .with_state(state)
        .layer(axum::middleware::map_response(json_errors))
        .layer(DefaultBodyLimit::max(limit))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Errors produced by extractors outside our handlers (a bad path
/// parameter, a malformed query string, a wrong method) come as plain text;
/// rewrite them into the API's JSON error shape.
async fn json_errors(response: Response<axum::body::Body>) -> Response<axum::body::Body> {
    let status = response.status();
    // JSON errors pass; so do the pages' own error pages.
    let is_json_or_page = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_json_or_page {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).to_string())
        .unwrap_or_default();
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::NOT_FOUND => "not_found",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = if text.trim().is_empty() { status.canonical_reason().unwrap_or("error").to_string() } else { text };
    let body = serde_json::json!({ "error": { "code": code, "message": message, "details": null } });
    let mut response = (status, axum::Json(body)).into_response();
    for (name, value) in parts.headers.iter().filter(|(n, _)| *n == "allow" || *n == "retry-after") {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}

/// How long a stream waits between keep-alive comments.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(15);
