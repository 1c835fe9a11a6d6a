//! `/tokens`: personal API tokens. The token is shown once at creation and
//! stored only as its hash; revoking takes effect at once.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::TokenId;
use domain::policy::Action;
use serde::{Deserialize, Serialize};
use store::ApiToken;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::accounts::{self, TOKEN_PREFIX};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_tokens, create_token)).routes(routes!(revoke_token))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for, e.g. "reporting script".
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The secret, shown only now: send it as `Authorization: Bearer <token>`.
    pub token: String,
    pub api_token: ApiToken,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub tokens: Vec<ApiToken>,
}

async fn staff(state: &AppState, caller: &Caller) -> ApiResult<domain::UserId> {
    caller.require(state, Action::ManageOwnTokens).await?;
    caller.staff_id().ok_or(ApiError::Forbidden)
}

/// The caller's tokens (never their secrets).
#[utoipa::path(get, path = "/tokens", tag = "auth", responses((status = 200, body = TokenList)))]
pub async fn list_tokens(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<TokenList>> {
    let user = staff(&state, &caller).await?;
    Ok(Json(TokenList { tokens: state.store.api_tokens(user).await? }))
}

/// Creates a personal API token.
#[utoipa::path(post, path = "/tokens", tag = "auth", request_body = CreateToken, responses((status = 201, body = CreatedToken)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let user = staff(&state, &caller).await?;
    let name = domain::directory::parse_name("name", &body.value.name)?;
    let token = format!("{TOKEN_PREFIX}{}", accounts::random_secret());
    let api_token = state.store.create_api_token(user, &name, &accounts::hash_token(&token), state.now()).await?;
    state
        .audit(
            &caller.label(),
            "token.create",
            &format!("token:{}", api_token.id),
            true,
            serde_json::json!({ "name": name }),
        )
        .await;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, api_token })))
}

/// Revokes one of the caller's tokens.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "auth", params(("id" = i64, Path)), responses((status = 204), (status = 404)))]
pub async fn revoke_token(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    let user = staff(&state, &caller).await?;
    if !state.store.revoke_api_token(user, TokenId(id), state.now()).await? {
        return Err(ApiError::NotFound);
    }
    state.caches.forget_principals();
    state.audit(&caller.label(), "token.revoke", &format!("token:{id}"), true, serde_json::Value::Null).await;
    Ok(StatusCode::NO_CONTENT)
}
