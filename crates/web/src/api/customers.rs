//! `/customers`: the people who ask for help.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use domain::directory::{parse_name, parse_time_zone};
use domain::policy::Action;
use domain::{Customer, CustomerId, DomainError, EmailAddress, OrganizationId, Tier};
use serde::{Deserialize, Serialize};
use store::PageRequest;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::links::{self, PageLinks, PageMeta};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller, IdempotencyHeader};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_customers, create_customer)).routes(routes!(get_customer, update_customer))
}

/// A customer's details. On create `email` and `name` are required; on
/// update send only what changes (`null` clears optional fields).
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    pub email: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<i64>)]
    pub organization_id: Option<Option<i64>>,
    pub tier: Option<Tier>,
    /// Yearly value in cents.
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<i64>)]
    pub annual_value_cents: Option<Option<i64>>,
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    /// Marks the customer churned at this time (UTC ms); `null` un-marks.
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<i64>)]
    pub churned_at: Option<Option<i64>>,
    /// Gives the customer a portal account (create only).
    pub password: Option<String>,
}

/// Applies the input to a customer, collecting every field error.
async fn apply(state: &AppState, c: &mut Customer, input: &CustomerInput) -> ApiResult<()> {
    let mut errors: Vec<DomainError> = Vec::new();
    if let Some(e) = &input.email {
        match EmailAddress::parse(e) {
            Ok(e) => c.email = e.to_string(),
            Err(e) => errors.push(e),
        }
    }
    if let Some(n) = &input.name {
        match parse_name("name", n) {
            Ok(n) => c.name = n,
            Err(e) => errors.push(e),
        }
    }
    if let Some(p) = &input.phone {
        c.phone = p.as_ref().map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    }
    if let Some(o) = input.organization_id {
        if let Some(id) = o
            && state.store.organization(OrganizationId(id)).await?.is_none()
        {
            errors.push(DomainError::new("organization_id", format!("organization {id} does not exist")));
        }
        c.organization_id = o.map(OrganizationId);
    }
    if let Some(t) = input.tier {
        c.tier = t;
    }
    if let Some(v) = input.annual_value_cents {
        if v.is_some_and(|v| v < 0) {
            errors.push(DomainError::new("annual_value_cents", "must not be negative"));
        }
        c.annual_value_cents = v;
    }
    if let Some(tags) = &input.tags {
        match domain::ticket::parse_tags(tags) {
            Ok(t) => c.tags = t,
            Err(e) => errors.push(e),
        }
    }
    if let Some(tz) = &input.time_zone {
        c.time_zone = match tz {
            Some(tz) => parse_time_zone(tz).map_err(|e| errors.push(e)).ok(),
            None => None,
        };
    }
    if let Some(l) = &input.locale {
        c.locale = l.clone();
    }
    if let Some(x) = &input.external_id {
        c.external_id = x.clone();
    }
    if let Some(ch) = input.churned_at {
        c.churned_at = ch;
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Invalid(errors)) }
}

/// Creates a customer; with `password` they can also sign in.
#[utoipa::path(post, path = "/customers", tag = "customers", request_body = CustomerInput,
    responses((status = 201, body = Customer), (status = 409), (status = 422)))]
pub async fn create_customer(
    State(state): State<AppState>,
    caller: Caller,
    idem: IdempotencyHeader,
    body: ApiJson<CustomerInput>,
) -> ApiResult<(StatusCode, Json<Customer>)> {
    caller.require(&state, Action::EditCustomers).await?;
    let input = &body.value;
    let mut errors = Vec::new();
    if input.email.is_none() {
        errors.push(DomainError::new("email", "is required"));
    }
    if input.name.is_none() {
        errors.push(DomainError::new("name", "is required"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let now = state.now();
    let email = EmailAddress::parse(input.email.as_deref().unwrap_or_default())?;
    let mut c = Customer::new(&email, input.name.as_deref().unwrap_or_default(), now);
    apply(&state, &mut c, input).await?;
    let hash = match &input.password {
        Some(p) => {
            crate::accounts::check_password_strength(p)?;
            Some(crate::accounts::hash_password(p.clone()).await?)
        }
        None => None,
    };
    let created = state.store.create_customer(c, hash, idem.key(&caller, "customers", &body.raw)).await?;
    let c = state.store.customer(created.id).await?.ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CustomerListParams {
    pub organization_id: Option<i64>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerList {
    pub customers: Vec<Customer>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

/// Customers in the order they were created.
#[utoipa::path(get, path = "/customers", tag = "customers", params(CustomerListParams), responses((status = 200, body = CustomerList)))]
pub async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    Query(p): Query<CustomerListParams>,
) -> ApiResult<Json<CustomerList>> {
    caller.require(&state, Action::ViewCustomers).await?;
    let (limit, after) = links::limit_and_cursor(p.limit, p.cursor.as_deref())?;
    let page = state
        .store
        .customers(PageRequest { after: after.map(|c| c.id), limit }, p.organization_id.map(OrganizationId))
        .await?;
    let (meta, links) = links::page(&state, &headers, &uri, page.next);
    Ok(Json(CustomerList { customers: page.items, meta, links }))
}

#[utoipa::path(get, path = "/customers/{id}", tag = "customers", params(("id" = i64, Path)), responses((status = 200, body = Customer), (status = 404)))]
pub async fn get_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Customer>> {
    caller.require(&state, Action::ViewCustomers).await?;
    Ok(Json(state.store.customer(CustomerId(id)).await?.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(patch, path = "/customers/{id}", tag = "customers", params(("id" = i64, Path)), request_body = CustomerInput,
    responses((status = 200, body = Customer), (status = 404), (status = 409), (status = 422)))]
pub async fn update_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<CustomerInput>,
) -> ApiResult<Json<Customer>> {
    caller.require(&state, Action::EditCustomers).await?;
    if body.value.password.is_some() {
        return Err(ApiError::invalid("password", "customers change their own password with POST /auth/password"));
    }
    let mut c = state.store.customer(CustomerId(id)).await?.ok_or(ApiError::NotFound)?;
    let tier = c.tier;
    apply(&state, &mut c, &body.value).await?;
    c.updated_at = state.now();
    state.store.update_customer(&c).await?;
    state.caches.forget_principals();
    if c.tier != tier {
        // The KPIs' tier slice follows: their tickets move in the background.
        state.store.enqueue_job(jobs::kpi::retier_later(store::TierHolder::Customer(c.id), c.updated_at)).await?;
    }
    Ok(Json(state.store.customer(c.id).await?.ok_or(ApiError::NotFound)?))
}
