//! `/views/{view}`: the built-in ticket lists, newest change first, a page
//! of 50 at a time (keyset pagination). Each is a search in the query
//! syntax, within what the signed-in agent may see.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::search::{self, SearchContext};
use serde::Deserialize;
use store::{Cursor, TicketQuery, TicketSort};

use super::{PageError, Staff, render};
use crate::AppState;
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/views/{view}", get(view))
}

/// A built-in view: its address, title and search.
pub(crate) struct View {
    pub key: &'static str,
    pub title: &'static str,
    query: &'static str,
}

pub(crate) const VIEWS: [View; 5] = [
    View { key: "mine", title: "My open tickets", query: "assignee:me status:new status:open status:on_hold" },
    View { key: "unassigned", title: "Unassigned", query: "assignee:none status:new status:open" },
    View { key: "open", title: "All open in my teams", query: "status:new status:open status:on_hold" },
    View { key: "pending", title: "Pending", query: "status:pending" },
    View { key: "solved", title: "Recently solved", query: "status:solved" },
];

const PAGE: u32 = 50;

pub(crate) struct Row {
    number: i64,
    subject: String,
    status: &'static str,
    priority: &'static str,
    updated: String,
    updated_iso: String,
}

#[derive(Template)]
#[template(path = "view.html")]
struct ViewPage<'a> {
    title: &'static str,
    current: &'static str,
    views: &'a [View],
    me: String,
    tickets: Vec<Row>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct Page {
    cursor: Option<String>,
}

/// `2026-11-23 14:05` (UTC) and its ISO form.
pub(crate) fn when(ms: i64) -> (String, String) {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => (t.strftime("%Y-%m-%d %H:%M").to_string(), t.to_string()),
        Err(_) => (String::new(), String::new()),
    }
}

async fn view(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(key): Path<String>,
    Query(page): Query<Page>,
) -> Result<Response, PageError> {
    let view = VIEWS.iter().find(|v| v.key == key).ok_or(ApiError::NotFound)?;
    let parsed = search::parse(view.query, SearchContext { me: caller.staff_id() }).map_err(ApiError::from)?;
    let after = match page.cursor.as_deref() {
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| ApiError::bad_request("not a page of this list"))?),
        None => None,
    };
    let query = TicketQuery {
        scope: caller.principal.ticket_scope(),
        filter: parsed.filter,
        text: parsed.text,
        staff_text: true,
        sort: TicketSort::parse("-updated").unwrap_or_else(TicketSort::newest_first),
        after,
        limit: PAGE,
    };
    let found = state.store.tickets(&query).await.map_err(ApiError::from)?;
    let tickets = found
        .items
        .iter()
        .map(|t| {
            let (updated, updated_iso) = when(t.updated_at);
            Row {
                number: t.id.0,
                subject: t.subject.clone(),
                status: t.status.as_str(),
                priority: t.priority.as_str(),
                updated,
                updated_iso,
            }
        })
        .collect();
    let me = super::signed_in_name(&state, &caller).await?;
    let page = ViewPage {
        title: view.title,
        current: view.key,
        views: &VIEWS,
        me,
        tickets,
        next: found.next.map(|c| c.encode()),
    };
    Ok(render(&page)?.into_response())
}
