//! `/settings`: the installation's settings (helpdesk name, the time zone
//! times are shown in). All staff read them; admins change them.

use axum::Json;
use axum::extract::State;
use domain::InstanceSettings;
use domain::policy::Action;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, put_settings))
}

#[utoipa::path(get, path = "/settings", tag = "settings", responses((status = 200, body = InstanceSettings)))]
pub async fn get_settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<InstanceSettings>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(state.store.instance_settings().await?))
}

/// Replaces the settings (absent fields take their defaults).
#[utoipa::path(put, path = "/settings", tag = "settings", request_body = InstanceSettings,
    responses((status = 200, body = InstanceSettings), (status = 403), (status = 422)))]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<InstanceSettings>,
) -> ApiResult<Json<InstanceSettings>> {
    caller.require(&state, Action::ManageSettings).await?;
    let settings = body.value.clone().parse().map_err(ApiError::Invalid)?;
    state.store.set_instance_settings(&settings).await?;
    state.caches.settings.clear();
    state
        .audit(
            &caller.label(),
            "settings.update",
            "settings",
            true,
            serde_json::to_value(&settings).unwrap_or_default(),
        )
        .await;
    Ok(Json(settings))
}
