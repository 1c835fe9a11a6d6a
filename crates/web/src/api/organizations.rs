//! `/organizations`: the companies customers belong to.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use domain::directory::parse_name;
use domain::policy::Action;
use domain::{DomainError, Organization, OrganizationId, Tier};
use serde::{Deserialize, Serialize};
use store::PageRequest;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::links::{self, PageLinks, PageMeta};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller, IdempotencyHeader};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organizations, create_organization))
        .routes(routes!(get_organization, update_organization))
}

/// On create `name` is required; on update send only what changes.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationInput {
    pub name: Option<String>,
    /// Email domains whose mail belongs to this organization.
    pub domains: Option<Vec<String>>,
    pub tier: Option<Tier>,
    pub notes: Option<String>,
    /// Members see each other's tickets.
    pub shares_tickets: Option<bool>,
}

fn apply(o: &mut Organization, input: &OrganizationInput) -> ApiResult<()> {
    let mut errors = Vec::new();
    if let Some(n) = &input.name {
        match parse_name("name", n) {
            Ok(n) => o.name = n,
            Err(e) => errors.push(e),
        }
    }
    if let Some(domains) = &input.domains {
        let mut clean = Vec::new();
        for d in domains {
            let d = d.trim().trim_start_matches('@').to_lowercase();
            let allowed = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
            if d.is_empty() || !d.contains('.') || !d.chars().all(allowed) {
                errors.push(DomainError::new("domains", format!("'{d}' is not a domain such as example.com")));
            } else if !clean.contains(&d) {
                clean.push(d);
            }
        }
        o.domains = clean;
    }
    if let Some(t) = input.tier {
        o.tier = t;
    }
    if let Some(n) = &input.notes {
        if n.chars().count() > 10_000 {
            errors.push(DomainError::new("notes", "must be at most 10,000 characters"));
        }
        o.notes = n.clone();
    }
    if let Some(s) = input.shares_tickets {
        o.shares_tickets = s;
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Invalid(errors)) }
}

#[utoipa::path(post, path = "/organizations", tag = "customers", request_body = OrganizationInput,
    responses((status = 201, body = Organization), (status = 409), (status = 422)))]
pub async fn create_organization(
    State(state): State<AppState>,
    caller: Caller,
    idem: IdempotencyHeader,
    body: ApiJson<OrganizationInput>,
) -> ApiResult<(StatusCode, Json<Organization>)> {
    caller.require(&state, Action::EditOrganizations).await?;
    if body.value.name.is_none() {
        return Err(ApiError::invalid("name", "is required"));
    }
    let now = state.now();
    let mut o = Organization {
        id: OrganizationId(0),
        name: String::new(),
        domains: vec![],
        tier: Tier::Standard,
        notes: String::new(),
        shares_tickets: false,
        created_at: now,
        updated_at: now,
    };
    apply(&mut o, &body.value)?;
    let created = state.store.create_organization(o, idem.key(&caller, "organizations", &body.raw)).await?;
    state
        .audit(
            &caller.label(),
            "organization.create",
            &format!("organization:{}", created.id),
            true,
            serde_json::Value::Null,
        )
        .await;
    Ok((StatusCode::CREATED, Json(state.store.organization(created.id).await?.ok_or(ApiError::NotFound)?)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizationList {
    pub organizations: Vec<Organization>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

#[utoipa::path(get, path = "/organizations", tag = "customers", params(PageParams), responses((status = 200, body = OrganizationList)))]
pub async fn list_organizations(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<OrganizationList>> {
    caller.require(&state, Action::ViewOrganizations).await?;
    let (limit, after) = links::limit_and_cursor(p.limit, p.cursor.as_deref())?;
    let page = state.store.organizations(PageRequest { after: after.map(|c| c.id), limit }).await?;
    let (meta, links) = links::page(&state, &headers, &uri, page.next);
    Ok(Json(OrganizationList { organizations: page.items, meta, links }))
}

#[utoipa::path(get, path = "/organizations/{id}", tag = "customers", params(("id" = i64, Path)), responses((status = 200, body = Organization), (status = 404)))]
pub async fn get_organization(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Organization>> {
    caller.require(&state, Action::ViewOrganizations).await?;
    Ok(Json(state.store.organization(OrganizationId(id)).await?.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(patch, path = "/organizations/{id}", tag = "customers", params(("id" = i64, Path)), request_body = OrganizationInput,
    responses((status = 200, body = Organization), (status = 404), (status = 422)))]
pub async fn update_organization(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<OrganizationInput>,
) -> ApiResult<Json<Organization>> {
    caller.require(&state, Action::EditOrganizations).await?;
    let mut o = state.store.organization(OrganizationId(id)).await?.ok_or(ApiError::NotFound)?;
    let tier = o.tier;
    apply(&mut o, &body.value)?;
    o.updated_at = state.now();
    state.store.update_organization(&o).await?;
    state.caches.forget_principals();
    if o.tier != tier {
        // The KPIs' tier slice follows: its tickets move in the background.
        state.store.enqueue_job(jobs::kpi::retier_later(store::TierHolder::Organization(o.id), o.updated_at)).await?;
    }
    state
        .audit(
            &caller.label(),
            "organization.update",
            &format!("organization:{id}"),
            true,
            serde_json::to_value(&body.value).unwrap_or_default(),
        )
        .await;
    Ok(Json(o))
}
