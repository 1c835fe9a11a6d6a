use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Uri};
use domain::Ticket;
use domain::search::{self, SearchContext};
use serde::{Deserialize, Serialize};
use store::{TicketQuery, TicketSort};

use crate::AppState;
use crate::api::links::{self, PageLinks, PageMeta};
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

/// Filters of a ticket list. Each also exists in the search syntax of `q`;
/// lists take comma-separated values.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Search syntax: words, "phrases", -exclusions, field:value terms.
    pub q: Option<String>,
    /// e.g. `open,pending`
    pub status: Option<String>,
    pub priority: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub ticket_type: Option<String>,
    pub channel: Option<String>,
    /// A user id, `me` or `none`.
    pub assignee: Option<String>,
    /// A team id or `none`.
    pub team: Option<String>,
    pub requester: Option<String>,
    pub organization: Option<String>,
    /// All of these tags.
    pub tag: Option<String>,
    /// YYYY-MM-DD, inclusive (UTC).
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    pub updated_from: Option<String>,
    pub updated_to: Option<String>,
    /// `created`, `updated`, `priority` or `id`; `-` for descending. Default `-created`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 100, default 50.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketList {
    pub tickets: Vec<Ticket>,
    pub meta: PageMeta,
    pub links: PageLinks,
}

/// Turns the named filters into search terms, so one parser decides.
fn as_search_text(p: &ListParams) -> ApiResult<String> {
    let mut terms: Vec<String> = Vec::new();
    let lists = [
        ("status", &p.status),
        ("priority", &p.priority),
        ("type", &p.ticket_type),
        ("channel", &p.channel),
        ("tag", &p.tag),
        ("assignee", &p.assignee),
        ("team", &p.team),
        ("requester", &p.requester),
        ("organization", &p.organization),
    ];
    for (field, value) in lists {
        for v in value.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|v| !v.is_empty()) {
            if v.contains(|c: char| c.is_whitespace() || c == '"') {
                return Err(ApiError::bad_request(format!("{field} values cannot contain spaces or quotes")));
            }
            terms.push(format!("{field}:{v}"));
        }
    }
    let ranges = [
        ("created>=", &p.created_from),
        ("created<=", &p.created_to),
        ("updated>=", &p.updated_from),
        ("updated<=", &p.updated_to),
    ];
    for (op, value) in ranges {
        if let Some(v) = value {
            if v.contains(|c: char| c.is_whitespace() || c == '"') {
                return Err(ApiError::bad_request("dates are YYYY-MM-DD"));
            }
            terms.push(format!("{op}{v}"));
        }
    }
    if let Some(q) = &p.q {
        terms.push(q.clone());
    }
    Ok(terms.join(" "))
}

async fn run(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    uri: &Uri,
    raw: Option<String>,
    require_q: bool,
) -> ApiResult<TicketList> {
    let params: ListParams = serde_urlencoded::from_str(raw.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::BadRequest { code: "invalid_query", message: e.to_string() })?;
    if require_q && params.q.as_deref().is_none_or(|q| q.trim().is_empty()) {
        return Err(ApiError::bad_request("q is required: words, \"phrases\", -exclusions, field:value"));
    }
    let text = as_search_text(&params)?;
    let sort = match params.sort.as_deref() {
        None => TicketSort::newest_first(),
        Some(s) => TicketSort::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "sort must be created, updated, priority or id, with - for descending; got {s}"
            ))
        })?,
    };
    let (limit, after) = links::limit_and_cursor(params.limit, params.cursor.as_deref())?;
    let query = ticket_query(caller, &text, sort, after, limit)?;
    let page = state.store.tickets(&query).await?;
    let (meta, links) = links::page(state, headers, uri, page.next);
    Ok(TicketList { tickets: page.items, meta, links })
}

/// A search in the query syntax within what the caller may see: the one
/// way lists, views, counts and search pages ask storage.
pub(crate) fn ticket_query(
    caller: &Caller,
    text: &str,
    sort: TicketSort,
    after: Option<store::Cursor>,
    limit: u32,
) -> ApiResult<TicketQuery> {
    let parsed = search::parse(text, SearchContext { me: caller.staff_id() })?;
    Ok(TicketQuery {
        scope: caller.principal.ticket_scope(),
        filter: parsed.filter,
        text: parsed.text,
        staff_text: caller.principal.is_staff(),
        sort,
        after,
        limit,
    })
}

/// Tickets the caller may see, filtered and sorted, a page at a time.
#[utoipa::path(get, path = "/tickets", tag = "tickets", params(ListParams),
    responses((status = 200, body = TicketList), (status = 400)))]
pub async fn list_tickets(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<TicketList>> {
    Ok(Json(run(&state, &caller, &headers, &uri, raw, false).await?))
}

/// Full-text search over subjects and messages with the query syntax:
/// `refund "credit card" -spam status:open tag:vip assignee:me created>2026-01-01`.
#[utoipa::path(get, path = "/search", tag = "tickets", params(ListParams),
    responses((status = 200, body = TicketList), (status = 400)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<TicketList>> {
    Ok(Json(run(&state, &caller, &headers, &uri, raw, true).await?))
}
