//! `/users`: staff accounts. Admins create and change them; staff are
//! deactivated, never deleted, so history keeps their names.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use domain::directory::{parse_name, parse_time_zone};
use domain::policy::Action;
use domain::{DomainError, EmailAddress, Role, User, UserId};
use serde::{Deserialize, Serialize};
use store::{PageRequest, PrincipalRef};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::organizations::PageParams;
use crate::api::links::{self, PageLinks, PageMeta};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller, IdempotencyHeader};
use crate::{AppState, accounts};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_users, create_user)).routes(routes!(get_user, update_user))
}

/// On create `email`, `name` and `role` are required.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Their manager, making the department's structure data.
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<i64>)]
    pub reports_to: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
    /// Create only; without it a password is generated and returned once.
    pub password: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    pub user: User,
    /// The generated password, shown only now (when none was given).
    pub initial_password: Option<String>,
}

async fn apply(state: &AppState, u: &mut User, input: &UserInput) -> ApiResult<()> {
    let mut errors: Vec<DomainError> = Vec::new();
    if let Some(e) = &input.email {
        match EmailAddress::parse(e) {
            Ok(e) => u.email = e.to_string(),
            Err(e) => errors.push(e),
        }
    }
    if let Some(n) = &input.name {
        match parse_name("name", n) {
            Ok(n) => u.name = n,
            Err(e) => errors.push(e),
        }
    }
    if let Some(r) = input.role {
        u.role = r;
    }
    if let Some(a) = input.active {
        u.active = a;
    }
    if let Some(r) = input.reports_to {
        if let Some(m) = r {
            if m == u.id.0 {
                errors.push(DomainError::new("reports_to", "nobody reports to themselves"));
            } else if state.store.user(UserId(m)).await?.is_none() {
                errors.push(DomainError::new("reports_to", format!("user {m} does not exist")));
            }
        }
        u.reports_to = r.map(UserId);
    }
    if let Some(tz) = &input.time_zone {
        u.time_zone = match tz {
            Some(tz) => parse_time_zone(tz).map_err(|e| errors.push(e)).ok(),
            None => None,
        };
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Invalid(errors)) }
}

#[utoipa::path(post, path = "/users", tag = "staff", request_body = UserInput,
    responses((status = 201, body = CreatedUser), (status = 403), (status = 409), (status = 422)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    idem: IdempotencyHeader,
    body: ApiJson<UserInput>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    caller.require(&state, Action::ManageUsers).await?;
    let input = &body.value;
    let mut errors = Vec::new();
    for (field, given) in
        [("email", input.email.is_some()), ("name", input.name.is_some()), ("role", input.role.is_some())]
    {
        if !given {
            errors.push(DomainError::new(field, "is required"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let now = state.now();
    let mut u = User {
        id: UserId(0),
        email: String::new(),
        name: String::new(),
        role: Role::Agent,
        active: true,
        reports_to: None,
        time_zone: None,
        created_at: now,
        updated_at: now,
    };
    apply(&state, &mut u, input).await?;
    let (password, generated) = match &input.password {
        Some(p) => {
            accounts::check_password_strength(p)?;
            (p.clone(), None)
        }
        None => {
            let p = accounts::random_password();
            (p.clone(), Some(p))
        }
    };
    let hash = accounts::hash_password(password).await?;
    let created = state.store.create_user(u, Some(hash), idem.key(&caller, "users", &body.raw)).await?;
    let user = state.store.user(created.id).await?.ok_or(ApiError::NotFound)?;
    state
        .audit(
            &caller.label(),
            "user.create",
            &format!("user:{}", user.id),
            true,
            serde_json::json!({ "email": user.email, "role": user.role }),
        )
        .await;
    let initial_password = if created.replayed { None } else { generated };
    Ok((StatusCode::CREATED, Json(CreatedUser { user, initial_password })))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub users: Vec<User>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

#[utoipa::path(get, path = "/users", tag = "staff", params(PageParams), responses((status = 200, body = UserList)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<UserList>> {
    caller.require(&state, Action::ViewStaff).await?;
    let (limit, after) = links::limit_and_cursor(p.limit, p.cursor.as_deref())?;
    let page = state.store.users(PageRequest { after: after.map(|c| c.id), limit }).await?;
    let (meta, links) = links::page(&state, &headers, &uri, page.next);
    Ok(Json(UserList { users: page.items, meta, links }))
}

#[utoipa::path(get, path = "/users/{id}", tag = "staff", params(("id" = i64, Path)), responses((status = 200, body = User), (status = 404)))]
pub async fn get_user(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<User>> {
    caller.require(&state, Action::ViewStaff).await?;
    Ok(Json(state.store.user(UserId(id)).await?.ok_or(ApiError::NotFound)?))
}

/// Changes a staff account. Deactivating ends the user's sessions.
#[utoipa::path(patch, path = "/users/{id}", tag = "staff", params(("id" = i64, Path)), request_body = UserInput,
    responses((status = 200, body = User), (status = 403), (status = 404), (status = 422)))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<UserInput>,
) -> ApiResult<Json<User>> {
    caller.require(&state, Action::ManageUsers).await?;
    if body.value.password.is_some() {
        return Err(ApiError::invalid("password", "users change their own password with POST /auth/password"));
    }
    let mut u = state.store.user(UserId(id)).await?.ok_or(ApiError::NotFound)?;
    apply(&state, &mut u, &body.value).await?;
    u.updated_at = state.now();
    state.store.update_user(&u).await?;
    if !u.active {
        state.store.delete_sessions_of(PrincipalRef::Staff(u.id)).await?;
    }
    state.caches.forget_principals();
    state
        .audit(
            &caller.label(),
            "user.update",
            &format!("user:{id}"),
            true,
            serde_json::to_value(&body.value).unwrap_or_default(),
        )
        .await;
    Ok(Json(u))
}
