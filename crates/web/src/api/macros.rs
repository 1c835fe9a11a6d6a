//! `/macros`: macros and canned responses. Shared ones are the admins';
//! every agent keeps personal ones, which only they see. Applying one to a
//! ticket is `POST /tickets/{id}/macros/{macro_id}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::directory::parse_name;
use domain::macros::parse_macro_body;
use domain::policy::Action;
use domain::{DomainError, Macro, MacroActions, MacroId, UserId};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_macros, create_macro)).routes(routes!(
        get_macro,
        update_macro,
        delete_macro
    ))
}

/// On create `name` is required, and a body or at least one action.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MacroInput {
    pub name: Option<String>,
    /// The reply or note; placeholders such as `{{ customer.first_name }}`,
    /// `{{ ticket.number }}`, `{{ agent.name }}`.
    pub body: Option<String>,
    /// A public reply (default) or an internal note.
    pub public: Option<bool>,
    pub actions: Option<MacroActions>,
    pub active: Option<bool>,
    /// Create only: for every agent (admins) rather than the caller alone.
    pub shared: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MacroList {
    pub macros: Vec<Macro>,
}

/// Who may change a macro: its owner, or an admin for a shared one.
fn may_change(caller: &Caller, m: &Macro) -> bool {
    match m.owner_id {
        Some(owner) => caller.staff_id() == Some(owner),
        None => caller.principal.may(Action::ManageSharedMacros, None),
    }
}

/// A macro the caller may use (shared, or their own); 404 otherwise.
pub(crate) async fn usable(state: &AppState, caller: &Caller, id: i64) -> ApiResult<Macro> {
    caller.require(state, Action::UseWorkspace).await?;
    match state.store.macro_by_id(MacroId(id)).await? {
        Some(m) if m.owner_id.is_none() || m.owner_id == caller.staff_id() => Ok(m),
        _ => Err(ApiError::NotFound),
    }
}

async fn apply(state: &AppState, m: &mut Macro, input: &MacroInput) -> ApiResult<()> {
    let mut errors: Vec<DomainError> = Vec::new();
    if let Some(n) = &input.name {
        parse_name("name", n).map(|n| m.name = n).unwrap_or_else(|e| errors.push(e));
    }
    if let Some(b) = &input.body {
        parse_macro_body(b).map(|b| m.body = b).unwrap_or_else(|e| errors.push(e));
    }
    if let Some(p) = input.public {
        m.public = p;
    }
    if let Some(a) = input.actions.clone() {
        let assignee = match a.assignee {
            Some(domain::MacroAssignee::User(u)) => Some(u.0),
            _ => None,
        };
        super::tickets::check_assignment(state, assignee, a.team_id.map(|t| t.0), &mut errors).await?;
        for tags in [&a.add_tags, &a.remove_tags] {
            if let Err(e) = domain::ticket::parse_tags(tags) {
                errors.push(e);
            }
        }
        m.actions = a;
    }
    if let Some(a) = input.active {
        m.active = a;
    }
    if m.body.trim().is_empty() && m.actions.is_empty() {
        errors.push(DomainError::new("body", "give a text, or at least one change to make"));
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Invalid(errors)) }
}

/// Shared macros and the caller's own, by name.
#[utoipa::path(get, path = "/macros", tag = "macros", responses((status = 200, body = MacroList)))]
pub async fn list_macros(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<MacroList>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(MacroList { macros: state.store.macros(caller.staff_id()).await? }))
}

#[utoipa::path(post, path = "/macros", tag = "macros", request_body = MacroInput,
    responses((status = 201, body = Macro), (status = 403), (status = 422)))]
pub async fn create_macro(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<MacroInput>,
) -> ApiResult<(StatusCode, Json<Macro>)> {
    caller.require(&state, Action::UseWorkspace).await?;
    let shared = body.value.shared.unwrap_or(false);
    if shared {
        caller.require(&state, Action::ManageSharedMacros).await?;
    }
    if body.value.name.is_none() {
        return Err(ApiError::invalid("name", "is required"));
    }
    let now = state.now();
    let mut m = Macro {
        id: MacroId(0),
        owner_id: if shared { None } else { caller.staff_id() },
        name: String::new(),
        body: String::new(),
        public: true,
        actions: MacroActions::default(),
        active: true,
        created_at: now,
        updated_at: now,
    };
    apply(&state, &mut m, &body.value).await?;
    let id = state.store.create_macro(m).await?;
    state
        .audit(&caller.label(), "macro.create", &format!("macro:{id}"), true, serde_json::json!({ "shared": shared }))
        .await;
    Ok((StatusCode::CREATED, Json(state.store.macro_by_id(id).await?.ok_or(ApiError::NotFound)?)))
}

#[utoipa::path(get, path = "/macros/{id}", tag = "macros", params(("id" = i64, Path)), responses((status = 200, body = Macro), (status = 404)))]
pub async fn get_macro(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Macro>> {
    Ok(Json(usable(&state, &caller, id).await?))
}

#[utoipa::path(patch, path = "/macros/{id}", tag = "macros", params(("id" = i64, Path)), request_body = MacroInput,
    responses((status = 200, body = Macro), (status = 403), (status = 404), (status = 422)))]
pub async fn update_macro(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<MacroInput>,
) -> ApiResult<Json<Macro>> {
    let mut m = usable(&state, &caller, id).await?;
    if !may_change(&caller, &m) {
        return Err(ApiError::Forbidden);
    }
    if body.value.shared.is_some() {
        return Err(ApiError::invalid("shared", "is set when the macro is created"));
    }
    apply(&state, &mut m, &body.value).await?;
    m.updated_at = state.now();
    state.store.update_macro(&m).await?;
    state.audit(&caller.label(), "macro.update", &format!("macro:{id}"), true, serde_json::Value::Null).await;
    Ok(Json(m))
}

#[utoipa::path(delete, path = "/macros/{id}", tag = "macros", params(("id" = i64, Path)), responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_macro(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    let m = usable(&state, &caller, id).await?;
    if !may_change(&caller, &m) {
        return Err(ApiError::Forbidden);
    }
    state.store.delete_macro(m.id).await?;
    state.audit(&caller.label(), "macro.delete", &format!("macro:{id}"), true, serde_json::Value::Null).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The people a macro's placeholders name, for `render_macro`.
pub(crate) async fn context_names(
    state: &AppState,
    ticket: &domain::Ticket,
    agent: Option<UserId>,
) -> ApiResult<(domain::Customer, Option<domain::User>)> {
    let customer = state.store.customer(ticket.requester_id).await?.ok_or(ApiError::NotFound)?;
    let user = match agent {
        Some(a) => state.store.user(a).await?,
        None => None,
    };
    Ok((customer, user))
}
