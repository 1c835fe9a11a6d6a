//! `/me`: who the caller is.

use axum::Json;
use axum::extract::State;
use domain::{Customer, Principal, TeamId, User, UserId};
use serde::Serialize;
use store::PrincipalRef;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// `staff` or `customer`.
    pub kind: String,
    pub user: Option<User>,
    pub customer: Option<Customer>,
    pub team_ids: Vec<TeamId>,
    pub led_team_ids: Vec<TeamId>,
    pub report_ids: Vec<UserId>,
}

/// The signed-in staff user or customer, with what decides their access.
#[utoipa::path(get, path = "/me", tag = "auth", responses((status = 200, body = Me), (status = 401)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Me>> {
    Ok(Json(match (&caller.principal, caller.who) {
        (Principal::Staff(p), PrincipalRef::Staff(id)) => Me {
            kind: "staff".into(),
            user: Some(state.store.user(id).await?.ok_or(ApiError::NotFound)?),
            customer: None,
            team_ids: p.team_ids.clone(),
            led_team_ids: p.led_team_ids.clone(),
            report_ids: p.report_ids.clone(),
        },
        (_, PrincipalRef::Customer(id)) => Me {
            kind: "customer".into(),
            user: None,
            customer: state.store.customer(id).await?,
            team_ids: vec![],
            led_team_ids: vec![],
            report_ids: vec![],
        },
        (Principal::Customer(_), PrincipalRef::Staff(_)) => return Err(ApiError::NotFound),
    }))
}
