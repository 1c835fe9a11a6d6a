//! `/fields`: admin-defined ticket fields (text, number, dropdown,
//! checkbox, date), validated on every ticket write.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::custom_field::parse_key;
use domain::directory::parse_name;
use domain::policy::Action;
use domain::{CustomFieldDef, DomainError, FieldId, FieldKind};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller, IdempotencyHeader};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_fields, create_field)).routes(routes!(update_field))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateField {
    /// Machine name used in the API, e.g. `order_number`.
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    /// The choices of a dropdown.
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateField {
    pub label: Option<String>,
    pub options: Option<Vec<String>>,
    pub required: Option<bool>,
    /// Inactive fields keep their values but take no new ones.
    pub active: Option<bool>,
}

fn check_options(kind: FieldKind, options: &[String]) -> Result<Vec<String>, DomainError> {
    let clean: Vec<String> = options.iter().map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect();
    match kind {
        FieldKind::Dropdown if clean.is_empty() => {
            Err(DomainError::new("options", "a dropdown needs at least one option"))
        }
        FieldKind::Dropdown => Ok(clean),
        _ if !clean.is_empty() => Err(DomainError::new("options", "only dropdowns have options")),
        _ => Ok(clean),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldList {
    pub fields: Vec<CustomFieldDef>,
}

#[utoipa::path(get, path = "/fields", tag = "fields", responses((status = 200, body = FieldList)))]
pub async fn list_fields(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<FieldList>> {
    caller.require(&state, Action::ViewFields).await?;
    Ok(Json(FieldList { fields: state.store.fields().await? }))
}

#[utoipa::path(post, path = "/fields", tag = "fields", request_body = CreateField,
    responses((status = 201, body = CustomFieldDef), (status = 403), (status = 409), (status = 422)))]
pub async fn create_field(
    State(state): State<AppState>,
    caller: Caller,
    idem: IdempotencyHeader,
    body: ApiJson<CreateField>,
) -> ApiResult<(StatusCode, Json<CustomFieldDef>)> {
    caller.require(&state, Action::ManageFields).await?;
    let input = &body.value;
    let mut errors = Vec::new();
    let key = parse_key(&input.key).map_err(|e| errors.push(e)).ok();
    let label = parse_name("label", &input.label).map_err(|e| errors.push(e)).ok();
    let options = check_options(input.kind, &input.options).map_err(|e| errors.push(e)).ok();
    let (Some(key), Some(label), Some(options)) = (key, label, options) else {
        return Err(ApiError::Invalid(errors));
    };
    let def = CustomFieldDef {
        id: FieldId(0),
        key,
        label,
        kind: input.kind,
        options,
        required: input.required,
        active: true,
        created_at: state.now(),
    };
    let created = state.store.create_field(def.clone(), idem.key(&caller, "fields", &body.raw)).await?;
    state.caches.fields.clear();
    state
        .audit(
            &caller.label(),
            "field.create",
            &format!("field:{}", created.id),
            true,
            serde_json::to_value(input).unwrap_or_default(),
        )
        .await;
    let fields = state.store.fields().await?;
    Ok((StatusCode::CREATED, Json(fields.into_iter().find(|f| f.id == created.id).ok_or(ApiError::NotFound)?)))
}

#[utoipa::path(patch, path = "/fields/{id}", tag = "fields", params(("id" = i64, Path)), request_body = UpdateField,
    responses((status = 200, body = CustomFieldDef), (status = 403), (status = 404), (status = 422)))]
pub async fn update_field(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<UpdateField>,
) -> ApiResult<Json<CustomFieldDef>> {
    caller.require(&state, Action::ManageFields).await?;
    let mut def = state.store.fields().await?.into_iter().find(|f| f.id.0 == id).ok_or(ApiError::NotFound)?;
    let input = &body.value;
    if let Some(l) = &input.label {
        def.label = parse_name("label", l)?;
    }
    if let Some(o) = &input.options {
        def.options = check_options(def.kind, o)?;
    }
    if let Some(r) = input.required {
        def.required = r;
    }
    if let Some(a) = input.active {
        def.active = a;
    }
    state.store.update_field(&def).await?;
    state.caches.fields.clear();
    state
        .audit(
            &caller.label(),
            "field.update",
            &format!("field:{id}"),
            true,
            serde_json::to_value(input).unwrap_or_default(),
        )
        .await;
    Ok(Json(def))
}
