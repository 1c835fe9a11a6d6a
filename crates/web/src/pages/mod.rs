//! The agent workspace: server-rendered HTML pages (askama templates in
//! `templates/`, one stylesheet in `assets/`). Pages ask the same policy
//! and storage as the API; a visitor who is not signed in is sent to the
//! sign-in page. Forms are protected from cross-site posts by the same
//! `Sec-Fetch-Site`/`Origin` check as the API's cookie requests.

mod admin;
mod charts;
mod cockpit;
mod customers;
mod feedback;
mod login;
mod macros;
mod me;
mod names;
mod organizations;
pub(crate) mod parts;
mod saved_views;
mod search;
mod service;
mod shell;
mod survey;
mod ticket;
mod views;

pub(crate) use parts::{Cell, Field, Form, FormData, Input, Section, Table};
pub(crate) use shell::Shell;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use domain::Principal;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Caller;

/// Scripts and styles from this server only, no inline script, no framing.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
    frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/views/mine") }))
        .merge(login::router())
        .merge(views::router())
        .merge(ticket::router())
        .merge(saved_views::router())
        .merge(search::router())
        .merge(customers::router())
        .merge(organizations::router())
        .merge(me::router())
        .merge(macros::router())
        .merge(admin::router())
        .merge(service::router())
        .merge(survey::router())
        .merge(feedback::router())
        .merge(cockpit::router())
        .route("/assets/app.css", get(stylesheet))
        .route("/assets/app.js", get(script))
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    // A page that set its own policy (the sandboxed email frame) keeps it.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../assets/app.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../assets/app.js"),
    )
}

/// A page of sections (forms, tables, facts) in the workspace shell.
#[derive(Template)]
#[template(path = "page.html")]
pub(crate) struct Page {
    pub shell: Shell,
    pub title: String,
    pub notice: Option<String>,
    pub sections: Vec<Section>,
}

impl Page {
    pub fn new(shell: Shell, title: impl Into<String>, sections: Vec<Section>) -> Self {
        Self { shell, title: title.into(), notice: None, sections }
    }

    pub fn notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }

    /// Rendered, with a status (422 for a form that came back).
    pub fn respond(&self, status: StatusCode) -> Result<Response, PageError> {
        Ok((status, render(self)?).into_response())
    }

    /// Rendered after a form: 200, or 422 when the form came back with `errors`.
    pub fn after_form(&self, errors: &[domain::DomainError]) -> Result<Response, PageError> {
        self.respond(if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY })
    }
}

/// A page's failure, shown as a page: sign-in for the signed out, a short
/// message otherwise (internal errors logged, never shown).
pub(crate) enum PageError {
    SignIn,
    Api(ApiError),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Unauthorized(_) => PageError::SignIn,
            other => PageError::Api(other),
        }
    }
}

impl From<store::StoreError> for PageError {
    fn from(e: store::StoreError) -> Self {
        PageError::Api(e.into())
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::Api(ApiError::Internal(format!("rendering a page: {e}")))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn => Redirect::to("/login").into_response(),
            PageError::Api(e) => {
                // The API's response carries the status and logs internal errors.
                let status = e.into_response().status();
                let text = match status {
                    StatusCode::FORBIDDEN => "You may not see this page.",
                    StatusCode::NOT_FOUND => "There is no such page.",
                    s if s.is_server_error() => "Something went wrong on our side; it has been logged.",
                    _ => "That request was not understood.",
                };
                (status, Html(format!("<!doctype html><title>{status}</title><p>{text} <a href=\"/\">Back</a></p>")))
                    .into_response()
            }
        }
    }
}

/// A signed-in staff member (the workspace is for staff).
pub(crate) struct Staff(pub Caller);

impl FromRequestParts<AppState> for Staff {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match caller.principal {
            Principal::Staff(_) => Ok(Staff(caller)),
            Principal::Customer(_) => Err(PageError::Api(ApiError::Forbidden)),
        }
    }
}

/// Back to a page after a form, with a short message for it.
pub(crate) fn see_other(path: &str, notice: Option<&str>) -> Response {
    let target = match notice {
        Some(n) => {
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("{path}{sep}{}", serde_urlencoded::to_string([("notice", n)]).unwrap_or_default())
        }
        None => path.to_string(),
    };
    Redirect::to(&target).into_response()
}

/// The `?notice=` a redirect carried.
#[derive(serde::Deserialize, Default)]
pub(crate) struct Notice {
    pub notice: Option<String>,
}

pub(crate) fn render(page: &impl askama::Template) -> Result<Html<String>, PageError> {
    Ok(Html(page.render()?))
}
