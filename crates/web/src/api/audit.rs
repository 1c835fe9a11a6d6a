//! `/audit`: the record of admin actions and refused access (admins only).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use domain::policy::Action;
use serde::Serialize;
use store::{AuditEntry, PageRequest};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::organizations::PageParams;
use crate::AppState;
use crate::api::links::{self, PageLinks, PageMeta};
use crate::error::ApiResult;
use crate::extract::Caller;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditList {
    pub entries: Vec<AuditEntry>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

/// Newest first.
#[utoipa::path(get, path = "/audit", tag = "staff", params(PageParams), responses((status = 200, body = AuditList), (status = 403)))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<AuditList>> {
    caller.require(&state, Action::ViewAudit).await?;
    let (limit, after) = links::limit_and_cursor(p.limit, p.cursor.as_deref())?;
    let page = state.store.audit(PageRequest { after: after.map(|c| c.id), limit }).await?;
    let (meta, links) = links::page(&state, &headers, &uri, page.next);
    Ok(Json(AuditList { entries: page.items, meta, links }))
}
