//! `/webhooks`: Slack incoming webhooks and generic webhooks (admins), and
//! each hook's delivery log. A generic hook's signing secret is shown once,
//! when it is made.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::WebhookId;
use domain::integration::{Delivery, EVENTS, Webhook, WebhookInput};
use domain::policy::Action;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::PageRequest;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<Webhook>,
    /// The events a hook can receive.
    pub events: Vec<&'static str>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// Verifies the `X-Switchboard-Signature` header; shown only now.
    pub secret: String,
}

#[utoipa::path(get, path = "/webhooks", tag = "integrations",
    responses((status = 200, body = WebhookList), (status = 403)))]
pub async fn list_webhooks(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<WebhookList>> {
    caller.require(&state, Action::ManageSettings).await?;
    Ok(Json(WebhookList { webhooks: state.store.webhooks().await?, events: EVENTS.to_vec() }))
}

pub(crate) async fn create(state: &AppState, caller: &Caller, input: WebhookInput) -> ApiResult<CreatedWebhook> {
    let input = input.parse().map_err(ApiError::Invalid)?;
    let now = state.now();
    let hook = Webhook {
        id: WebhookId(0),
        name: input.name,
        kind: input.kind,
        url: input.url,
        events: input.events,
        only_bad_ratings: input.only_bad_ratings,
        secret: format!("whsec_{}", crate::accounts::random_secret()),
        active: input.active,
        failures_in_a_row: 0,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    };
    let id = state.store.create_webhook(hook.clone()).await?;
    state.audit(&caller.label(), "webhook.create", &format!("webhook:{id}"), true, json!({ "url": hook.url })).await;
    let secret = hook.secret.clone();
    Ok(CreatedWebhook { webhook: Webhook { id, ..hook }, secret })
}

#[utoipa::path(post, path = "/webhooks", tag = "integrations", request_body = WebhookInput,
    responses((status = 201, body = CreatedWebhook), (status = 403), (status = 422)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<WebhookInput>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    caller.require(&state, Action::ManageSettings).await?;
    Ok((StatusCode::CREATED, Json(create(&state, &caller, body.value).await?)))
}

#[utoipa::path(get, path = "/webhooks/{id}", tag = "integrations",
    responses((status = 200, body = Webhook), (status = 403), (status = 404)))]
pub async fn get_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Webhook>> {
    caller.require(&state, Action::ManageSettings).await?;
    Ok(Json(state.store.webhook(WebhookId(id)).await?.ok_or(ApiError::NotFound)?))
}

/// Replaces the hook's settings; `active: true` switches a disabled hook
/// back on and resets its failure count.
#[utoipa::path(put, path = "/webhooks/{id}", tag = "integrations", request_body = WebhookInput,
    responses((status = 200, body = Webhook), (status = 403), (status = 404), (status = 422)))]
pub async fn update_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<WebhookInput>,
) -> ApiResult<Json<Webhook>> {
    caller.require(&state, Action::ManageSettings).await?;
    let input = body.value.parse().map_err(ApiError::Invalid)?;
    let current = state.store.webhook(WebhookId(id)).await?.ok_or(ApiError::NotFound)?;
    let next = Webhook {
        name: input.name,
        kind: input.kind,
        url: input.url,
        events: input.events,
        only_bad_ratings: input.only_bad_ratings,
        active: input.active,
        updated_at: state.now(),
        ..current
    };
    if !state.store.update_webhook(&next).await? {
        return Err(ApiError::NotFound);
    }
    state.audit(&caller.label(), "webhook.update", &format!("webhook:{id}"), true, json!({ "url": next.url })).await;
    Ok(Json(state.store.webhook(WebhookId(id)).await?.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(delete, path = "/webhooks/{id}", tag = "integrations",
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(&state, Action::ManageSettings).await?;
    if !state.store.delete_webhook(WebhookId(id)).await? {
        return Err(ApiError::NotFound);
    }
    state.audit(&caller.label(), "webhook.delete", &format!("webhook:{id}"), true, json!({})).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DeliveryQuery {
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<Delivery>,
    pub next_after: Option<i64>,
}

/// Every attempt, newest first, with the receiver's status code or error.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "integrations", params(DeliveryQuery),
    responses((status = 200, body = DeliveryList), (status = 403), (status = 404)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<Json<DeliveryList>> {
    caller.require(&state, Action::ManageSettings).await?;
    state.store.webhook(WebhookId(id)).await?.ok_or(ApiError::NotFound)?;
    let page =
        state.store.deliveries(WebhookId(id), PageRequest { after: q.after, limit: q.limit.unwrap_or(50) }).await?;
    Ok(Json(DeliveryList { deliveries: page.items, next_after: page.next.map(|c| c.id) }))
}
