//! `/views`: saved views (a search with chosen columns and order), the
//! caller's own or shared with all staff, and the live counts of every view
//! the caller has.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::directory::parse_name;
use domain::policy::Action;
use domain::saved_view::{BUILT_IN_VIEWS, parse_view_columns, parse_view_query, parse_view_sort};
use domain::{DomainError, SavedView, ViewColumn, ViewId};
use serde::{Deserialize, Serialize};
use store::TicketSort;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::tickets::ticket_query;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_views, create_view)).routes(routes!(view_counts)).routes(routes!(
        get_view,
        update_view,
        delete_view
    ))
}

/// Counts stop here: the navigation shows "1000+".
pub const COUNT_CAP: u64 = 1000;

/// On create `name` and `query` are required.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewInput {
    pub name: Option<String>,
    /// The query syntax, e.g. `status:open tag:vip -tag:spam`.
    pub query: Option<String>,
    /// Default: number, subject, requester, status, priority, assignee, updated.
    pub columns: Option<Vec<String>>,
    /// `-updated` (default), `updated`, `-created`, `created`, `-priority`, `priority`, `id`, `-id`.
    pub sort: Option<String>,
    pub position: Option<i64>,
    /// Shared with all staff (managers and admins) rather than the caller's own.
    pub shared: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ViewList {
    pub views: Vec<SavedView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ViewCount {
    /// A built-in view's key (`mine`, `unassigned` …) or a saved view's id.
    pub view: String,
    pub count: u64,
    /// The count reached the cap; there are at least this many.
    pub capped: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ViewCounts {
    pub counts: Vec<ViewCount>,
}

/// A saved view the caller has (shared or their own); 404 otherwise.
pub(crate) async fn visible(state: &AppState, caller: &Caller, id: i64) -> ApiResult<SavedView> {
    caller.require(state, Action::UseWorkspace).await?;
    match state.store.saved_view(ViewId(id)).await? {
        Some(v) if v.owner_id.is_none() || v.owner_id == caller.staff_id() => Ok(v),
        _ => Err(ApiError::NotFound),
    }
}

fn may_change(caller: &Caller, v: &SavedView) -> bool {
    match v.owner_id {
        Some(owner) => caller.staff_id() == Some(owner),
        None => caller.principal.may(Action::ManageSharedViews, None),
    }
}

async fn apply(state: &AppState, caller: &Caller, v: &mut SavedView, input: &ViewInput) -> ApiResult<()> {
    let mut errors: Vec<DomainError> = Vec::new();
    if let Some(n) = &input.name {
        parse_name("name", n).map(|n| v.name = n).unwrap_or_else(|e| errors.push(e));
    }
    if let Some(q) = &input.query {
        parse_view_query(q).map(|q| v.query = q).unwrap_or_else(|e| errors.push(e));
    }
    if let Some(c) = &input.columns {
        parse_view_columns(c).map(|c| v.columns = c).unwrap_or_else(|e| errors.push(e));
    }
    if let Some(s) = &input.sort {
        parse_view_sort(s).map(|s| v.sort = s).unwrap_or_else(|e| errors.push(e));
    }
    if let Some(p) = input.position {
        v.position = p;
    }
    if let Some(shared) = input.shared {
        if shared && !caller.principal.may(Action::ManageSharedViews, None) {
            caller.require(state, Action::ManageSharedViews).await?;
        }
        v.owner_id = if shared { None } else { caller.staff_id() };
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Invalid(errors)) }
}

/// Shared views, then the caller's own.
#[utoipa::path(get, path = "/views", tag = "views", responses((status = 200, body = ViewList)))]
pub async fn list_views(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ViewList>> {
    caller.require(&state, Action::UseWorkspace).await?;
    let user = caller.staff_id().ok_or(ApiError::Forbidden)?;
    Ok(Json(ViewList { views: state.store.saved_views(user).await? }))
}

#[utoipa::path(post, path = "/views", tag = "views", request_body = ViewInput,
    responses((status = 201, body = SavedView), (status = 403), (status = 422)))]
pub async fn create_view(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<ViewInput>,
) -> ApiResult<(StatusCode, Json<SavedView>)> {
    caller.require(&state, Action::UseWorkspace).await?;
    let mut errors = Vec::new();
    if body.value.name.is_none() {
        errors.push(DomainError::new("name", "is required"));
    }
    if body.value.query.is_none() {
        errors.push(DomainError::new("query", "is required"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let now = state.now();
    let mut v = SavedView {
        id: ViewId(0),
        owner_id: caller.staff_id(),
        name: String::new(),
        query: String::new(),
        columns: ViewColumn::DEFAULT.to_vec(),
        sort: "-updated".into(),
        position: 0,
        created_at: now,
        updated_at: now,
    };
    apply(&state, &caller, &mut v, &body.value).await?;
    let id = state.store.create_view(v).await?;
    Ok((StatusCode::CREATED, Json(state.store.saved_view(id).await?.ok_or(ApiError::NotFound)?)))
}

#[utoipa::path(get, path = "/views/{id}", tag = "views", params(("id" = i64, Path)), responses((status = 200, body = SavedView), (status = 404)))]
pub async fn get_view(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<SavedView>> {
    Ok(Json(visible(&state, &caller, id).await?))
}

#[utoipa::path(patch, path = "/views/{id}", tag = "views", params(("id" = i64, Path)), request_body = ViewInput,
    responses((status = 200, body = SavedView), (status = 403), (status = 404), (status = 422)))]
pub async fn update_view(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<ViewInput>,
) -> ApiResult<Json<SavedView>> {
    let mut v = visible(&state, &caller, id).await?;
    if !may_change(&caller, &v) {
        return Err(ApiError::Forbidden);
    }
    apply(&state, &caller, &mut v, &body.value).await?;
    v.updated_at = state.now();
    state.store.update_view(&v).await?;
    Ok(Json(v))
}

#[utoipa::path(delete, path = "/views/{id}", tag = "views", params(("id" = i64, Path)), responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_view(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    let v = visible(&state, &caller, id).await?;
    if !may_change(&caller, &v) {
        return Err(ApiError::Forbidden);
    }
    state.store.delete_view(v.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many tickets each of the caller's views holds now (built-in first,
/// then saved), within what they may see; counting stops at 1000.
#[utoipa::path(get, path = "/views/counts", tag = "views", responses((status = 200, body = ViewCounts)))]
pub async fn view_counts(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ViewCounts>> {
    caller.require(&state, Action::UseWorkspace).await?;
    let user = caller.staff_id().ok_or(ApiError::Forbidden)?;
    let mut asks: Vec<(String, String)> =
        BUILT_IN_VIEWS.iter().map(|v| (v.key.to_string(), v.query.to_string())).collect();
    asks.extend(state.store.saved_views(user).await?.into_iter().map(|v| (v.id.0.to_string(), v.query)));
    let mut counts = Vec::with_capacity(asks.len());
    for (view, q) in asks {
        let query = ticket_query(&caller, &q, TicketSort::newest_first(), None, 1)?;
        let count = state.store.count_tickets(&query, COUNT_CAP).await?;
        counts.push(ViewCount { view, count, capped: count >= COUNT_CAP });
    }
    Ok(Json(ViewCounts { counts }))
}
