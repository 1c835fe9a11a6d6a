//! `/auth`: sign in with email and password (a session cookie), sign out,
//! change password. Repeated failures for one address are throttled.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use store::PrincipalRef;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::accounts::{self, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(logout)).routes(routes!(change_password))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    /// `staff` or `customer`.
    pub kind: String,
    pub id: i64,
}

pub(crate) fn session_cookie(state: &AppState, value: &str, max_age_secs: i64) -> String {
    let secure = state.settings.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Checks an email and password, throttled and audited; who they belong to.
/// The API's and the sign-in page's one way in.
pub(crate) async fn check_password(state: &AppState, email: &str, password: &str) -> ApiResult<PrincipalRef> {
    let now = state.now();
    let key = email.trim().to_lowercase();
    let window_ms = state.settings.login_window_minutes * 60_000;
    let failures = state.store.login_failures_since(&key, now - window_ms).await?;
    if failures >= state.settings.login_max_failures {
        state.audit("anonymous", "login", &key, false, serde_json::json!({ "reason": "throttled" })).await;
        return Err(ApiError::TooManyRequests { retry_after_secs: (window_ms / 1000).max(1) as u64 });
    }
    let creds = state.store.credentials(&key).await?;
    let ok = accounts::verify_password(password.to_string(), creds.as_ref().map(|c| c.password_hash.clone())).await;
    let Some(creds) = creds.filter(|c| ok && c.active) else {
        state.store.record_login_failure(&key, now).await?;
        state
            .audit("anonymous", "login", &key, false, serde_json::json!({ "reason": "wrong email or password" }))
            .await;
        return Err(ApiError::Unauthorized("wrong email or password"));
    };
    state.store.clear_login_failures(&key).await?;
    Ok(creds.principal)
}

/// Starts a session (a new id at every sign-in); its `Set-Cookie` value.
pub(crate) async fn start_session(state: &AppState, who: PrincipalRef) -> ApiResult<HeaderValue> {
    let now = state.now();
    let token = accounts::random_secret();
    let max_age = state.settings.session_hours * 3600;
    state.store.create_session(&accounts::hash_token(&token), who, now, now + max_age * 1000).await?;
    HeaderValue::from_str(&session_cookie(state, &token, max_age))
        .map_err(|e| ApiError::Internal(format!("session cookie: {e}")))
}

/// Signs in and sets the session cookie (a new session id at every sign-in).
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = Login, security(()),
    responses((status = 200, body = SignedIn), (status = 401), (status = 429)))]
pub async fn login(State(state): State<AppState>, body: ApiJson<Login>) -> ApiResult<Response> {
    let who = check_password(&state, &body.value.email, &body.value.password).await?;
    let cookie = start_session(&state, who).await?;
    let (kind, id) = match who {
        PrincipalRef::Staff(u) => ("staff", u.0),
        PrincipalRef::Customer(c) => ("customer", c.0),
    };
    let mut response = axum::Json(SignedIn { kind: kind.into(), id }).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Ends the current session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    if let Some(hash) = &caller.session {
        state.store.delete_session(hash).await?;
        state.caches.forget_principals();
    }
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&state, "", 0)) {
        headers.insert(header::SET_COOKIE, v);
    }
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's password and ends all their sessions.
#[utoipa::path(post, path = "/auth/password", tag = "auth", request_body = ChangePassword,
    responses((status = 204), (status = 401), (status = 422)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<ChangePassword>,
) -> ApiResult<StatusCode> {
    let email = match caller.who {
        PrincipalRef::Staff(u) => state.store.user(u).await?.map(|u| u.email),
        PrincipalRef::Customer(c) => state.store.customer(c).await?.map(|c| c.email),
    }
    .ok_or(ApiError::NotFound)?;
    let hash = state.store.credentials(&email).await?.map(|c| c.password_hash);
    if !accounts::verify_password(body.value.current_password.clone(), hash).await {
        return Err(ApiError::invalid("current_password", "is not your current password"));
    }
    accounts::set_password(state.store.as_ref(), caller.who, &body.value.new_password).await?;
    state.caches.forget_principals();
    state.audit(&caller.label(), "password.change", &caller.label(), true, serde_json::Value::Null).await;
    Ok(StatusCode::NO_CONTENT)
}
