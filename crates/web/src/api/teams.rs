//! `/teams`: groups of agents (Billing, Technical …), each led by a manager.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::directory::parse_name;
use domain::policy::Action;
use domain::{DomainError, Team, TeamId, UserId};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller, IdempotencyHeader};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_teams, create_team)).routes(routes!(get_team, update_team))
}

/// On create `name` is required. `member_ids` replaces the members.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<i64>)]
    pub lead_id: Option<Option<i64>>,
    pub member_ids: Option<Vec<i64>>,
}

async fn apply(state: &AppState, t: &mut Team, input: &TeamInput) -> ApiResult<()> {
    let mut errors = Vec::new();
    if let Some(n) = &input.name {
        match parse_name("name", n) {
            Ok(n) => t.name = n,
            Err(e) => errors.push(e),
        }
    }
    if let Some(d) = &input.description {
        t.description = d.trim().to_string();
    }
    if let Some(lead) = input.lead_id {
        if let Some(l) = lead
            && state.store.user(UserId(l)).await?.is_none()
        {
            errors.push(DomainError::new("lead_id", format!("user {l} does not exist")));
        }
        t.lead_id = lead.map(UserId);
    }
    if let Some(members) = &input.member_ids {
        let mut ids: Vec<UserId> = Vec::new();
        for m in members {
            if state.store.user(UserId(*m)).await?.is_none() {
                errors.push(DomainError::new("member_ids", format!("user {m} does not exist")));
            } else if !ids.contains(&UserId(*m)) {
                ids.push(UserId(*m));
            }
        }
        t.member_ids = ids;
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Invalid(errors)) }
}

#[utoipa::path(post, path = "/teams", tag = "staff", request_body = TeamInput,
    responses((status = 201, body = Team), (status = 403), (status = 409), (status = 422)))]
pub async fn create_team(
    State(state): State<AppState>,
    caller: Caller,
    idem: IdempotencyHeader,
    body: ApiJson<TeamInput>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    caller.require(&state, Action::ManageTeams).await?;
    if body.value.name.is_none() {
        return Err(ApiError::invalid("name", "is required"));
    }
    let now = state.now();
    let mut t = Team {
        id: TeamId(0),
        name: String::new(),
        description: String::new(),
        lead_id: None,
        member_ids: vec![],
        created_at: now,
        updated_at: now,
    };
    apply(&state, &mut t, &body.value).await?;
    let created = state.store.create_team(t, idem.key(&caller, "teams", &body.raw)).await?;
    state.caches.forget_principals();
    state
        .audit(
            &caller.label(),
            "team.create",
            &format!("team:{}", created.id),
            true,
            serde_json::to_value(&body.value).unwrap_or_default(),
        )
        .await;
    Ok((StatusCode::CREATED, Json(state.store.team(created.id).await?.ok_or(ApiError::NotFound)?)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TeamList {
    pub teams: Vec<Team>,
}

#[utoipa::path(get, path = "/teams", tag = "staff", responses((status = 200, body = TeamList)))]
pub async fn list_teams(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<TeamList>> {
    caller.require(&state, Action::ViewStaff).await?;
    Ok(Json(TeamList { teams: state.store.teams().await? }))
}

#[utoipa::path(get, path = "/teams/{id}", tag = "staff", params(("id" = i64, Path)), responses((status = 200, body = Team), (status = 404)))]
pub async fn get_team(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Team>> {
    caller.require(&state, Action::ViewStaff).await?;
    Ok(Json(state.store.team(TeamId(id)).await?.ok_or(ApiError::NotFound)?))
}

/// Changes a team. Admins change anything; the manager who leads it may
/// change its members and description.
#[utoipa::path(patch, path = "/teams/{id}", tag = "staff", params(("id" = i64, Path)), request_body = TeamInput,
    responses((status = 200, body = Team), (status = 403), (status = 404), (status = 422)))]
pub async fn update_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<TeamInput>,
) -> ApiResult<Json<Team>> {
    let mut t = state.store.team(TeamId(id)).await?.ok_or(ApiError::NotFound)?;
    // The team's lead may change who is in it and what it is for; the rest is the admins'.
    let members_only = body.value.name.is_none() && body.value.lead_id.is_none();
    if !(members_only && caller.principal.may_manage_members(t.lead_id)) {
        caller.require(&state, Action::ManageTeams).await?;
    }
    apply(&state, &mut t, &body.value).await?;
    t.updated_at = state.now();
    state.store.update_team(&t).await?;
    state.caches.forget_principals();
    state
        .audit(
            &caller.label(),
            "team.update",
            &format!("team:{id}"),
            true,
            serde_json::to_value(&body.value).unwrap_or_default(),
        )
        .await;
    Ok(Json(state.store.team(t.id).await?.ok_or(ApiError::NotFound)?))
}
