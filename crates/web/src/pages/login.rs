//! `/login` and `/logout`: the sign-in form (re-shown with a message on a
//! wrong password or throttling) and signing out.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{PageError, render};
use crate::AppState;
use crate::api::auth::{check_password, session_cookie, start_session};
use crate::error::ApiError;
use crate::extract::Caller;

pub fn router() -> Router<AppState> {
    Router::new().route("/login", get(form).post(sign_in)).route("/logout", post(sign_out))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    email: String,
    error: Option<String>,
    notice: Option<String>,
}

async fn form(Query(n): Query<super::Notice>) -> Result<Response, PageError> {
    Ok(render(&LoginPage { email: String::new(), error: None, notice: n.notice })?.into_response())
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

async fn sign_in(State(state): State<AppState>, Form(input): Form<Credentials>) -> Result<Response, PageError> {
    let again = |error: &str| LoginPage { email: input.email.clone(), error: Some(error.to_string()), notice: None };
    let who = match check_password(&state, &input.email, &input.password).await {
        Ok(store::PrincipalRef::Staff(u)) => store::PrincipalRef::Staff(u),
        Ok(store::PrincipalRef::Customer(_)) => {
            return Ok(render(&again("This sign-in is for staff."))?.into_response());
        }
        Err(ApiError::Unauthorized(_)) => {
            let page = render(&again("Wrong email or password."))?;
            return Ok((axum::http::StatusCode::UNAUTHORIZED, page).into_response());
        }
        Err(ApiError::TooManyRequests { .. }) => {
            let page = render(&again("Too many failed attempts. Try again in a few minutes."))?;
            return Ok((axum::http::StatusCode::TOO_MANY_REQUESTS, page).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let cookie = start_session(&state, who).await?;
    // Signing in to the workspace is starting work: the agent is online.
    if let store::PrincipalRef::Staff(user) = who {
        state.store.set_agent_status(user, domain::AgentStatus::Online, state.now()).await.map_err(ApiError::from)?;
    }
    let mut response = Redirect::to("/views/mine").into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

async fn sign_out(State(state): State<AppState>, caller: Result<Caller, ApiError>) -> Response {
    if let Ok(Caller { session: Some(hash), who, .. }) = caller {
        if let store::PrincipalRef::Staff(user) = who {
            let _ =
                crate::background::set_status(state.store.as_ref(), user, domain::AgentStatus::Offline, state.now())
                    .await;
        }
        let _ = state.store.delete_session(&hash).await;
        state.caches.forget_principals();
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&session_cookie(&state, "", 0)) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}
