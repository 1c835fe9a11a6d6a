//! The agent workspace: server-rendered HTML pages (askama templates in
//! `templates/`, one stylesheet in `assets/`). Pages ask the same policy
//! and storage as the API; a visitor who is not signed in is sent to the
//! sign-in page. Forms are protected from cross-site posts by the same
//! `Sec-Fetch-Site`/`Origin` check as the API's cookie requests.

mod login;
mod ticket;
mod views;

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
        .route("/assets/app.css", get(stylesheet))
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
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

/// The signed-in staff member's name, for the navigation.
pub(crate) async fn signed_in_name(state: &AppState, caller: &Caller) -> Result<String, PageError> {
    Ok(match caller.staff_id() {
        Some(id) => state.store.user(id).await.map_err(ApiError::from)?.map(|u| u.name).unwrap_or_default(),
        None => String::new(),
    })
}

pub(crate) fn render(page: &impl askama::Template) -> Result<Html<String>, PageError> {
    Ok(Html(page.render()?))
}
