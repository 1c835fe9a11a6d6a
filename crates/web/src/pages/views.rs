//! Ticket lists: the built-in views (`/views/mine` …) and saved views
//! (`/views/saved/{id}`), 50 rows a page (keyset pagination), the columns
//! and order the view chose, a checkbox per row for bulk actions. Each is
//! a search in the query syntax within what the agent may see. The page
//! updates itself live (the script re-reads it when a ticket changes).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::saved_view::BUILT_IN_VIEWS;
use domain::{Priority, Status, ViewColumn};
use serde::Deserialize;
use store::{Cursor, TicketSort};

use super::names::{Names, staff};
use super::{Cell, FormData, PageError, Shell, Staff, render, see_other};
use crate::AppState;
use crate::api::tickets::bulk::{BulkChange, bulk_change};
use crate::api::tickets::ticket_query;
use crate::api::tickets::update::UpdateTicket;
use crate::api::views::visible;
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/views/{view}", get(built_in))
        .route("/views/saved/{id}", get(saved))
        .route("/tickets/bulk", post(bulk))
}

const PAGE: u32 = 50;

pub(crate) struct Row {
    id: i64,
    cells: Vec<Cell>,
}

#[derive(Template)]
#[template(path = "view.html")]
struct ViewPage {
    shell: Shell,
    title: String,
    query: String,
    edit: Option<String>,
    notice: Option<String>,
    columns: Vec<ViewColumn>,
    rows: Vec<Row>,
    next: Option<String>,
    back: String,
    assignees: Vec<(i64, String)>,
    macros: Vec<(i64, String)>,
}

impl ViewPage {
    fn statuses(&self) -> &'static [Status] {
        &[Status::Open, Status::Pending, Status::OnHold, Status::Solved, Status::Closed]
    }

    fn priorities(&self) -> &'static [Priority] {
        Priority::ALL
    }
}

#[derive(Deserialize)]
struct ListParams {
    cursor: Option<String>,
    notice: Option<String>,
}

/// One row's cells, in the view's columns.
pub(crate) fn cells(shell: &Shell, t: &domain::Ticket, columns: &[ViewColumn], names: &Names) -> Vec<Cell> {
    let href = format!("/tickets/{}", t.id);
    columns
        .iter()
        .map(|c| match c {
            ViewColumn::Number => Cell::link(t.id.0.to_string(), &href),
            ViewColumn::Subject => Cell::link(&t.subject, &href).class("subject"),
            ViewColumn::Status => Cell::text(t.status.as_str().replace('_', " ")).class(format!("status {}", t.status)),
            ViewColumn::Priority => Cell::text(t.priority.as_str()).class(format!("priority {}", t.priority)),
            ViewColumn::Type => Cell::text(t.ticket_type.as_str()),
            ViewColumn::Channel => Cell::text(t.channel.as_str()),
            ViewColumn::Requester => {
                Cell::link(names.customer(t.requester_id.0), format!("/customers/{}", t.requester_id))
            }
            ViewColumn::Assignee => Cell::text(names.user(t.assignee_id.map(|a| a.0))),
            ViewColumn::Team => Cell::text(names.team(t.team_id.map(|a| a.0))),
            ViewColumn::Tags => Cell::text(t.tags.join(" ")).class("tags"),
            ViewColumn::Created => Cell::text(shell.when(t.created_at).text),
            ViewColumn::Updated => Cell::text(shell.when(t.updated_at).text),
        })
        .collect()
}

struct ListSpec {
    title: String,
    href: String,
    query: String,
    columns: Vec<ViewColumn>,
    sort: String,
    edit: Option<String>,
}

async fn list(state: &AppState, caller: &Caller, spec: ListSpec, params: ListParams) -> Result<Response, PageError> {
    let after = match params.cursor.as_deref() {
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| ApiError::bad_request("not a page of this list"))?),
        None => None,
    };
    let sort = TicketSort::parse(&spec.sort).unwrap_or_else(TicketSort::newest_first);
    let query = ticket_query(caller, &spec.query, sort, after, PAGE)?;
    let found = state.store.tickets(&query).await.map_err(ApiError::from)?;
    let shell = Shell::new(state, caller, &spec.href).await?;
    let names = Names::load(state, &found.items).await?;
    let rows = found.items.iter().map(|t| Row { id: t.id.0, cells: cells(&shell, t, &spec.columns, &names) }).collect();
    let assignees = staff(state).await?.into_iter().filter(|u| u.active).map(|u| (u.id.0, u.name)).collect();
    let macros = state
        .store
        .macros(caller.staff_id())
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .filter(|m| m.active)
        .map(|m| (m.id.0, m.name))
        .collect();
    let back = match &params.cursor {
        Some(c) => format!("{}?cursor={c}", spec.href),
        None => spec.href.clone(),
    };
    let page = ViewPage {
        shell,
        title: spec.title,
        query: spec.query,
        edit: spec.edit,
        notice: params.notice,
        columns: spec.columns,
        rows,
        next: found.next.map(|c| format!("{}?cursor={}", spec.href, c.encode())),
        back,
        assignees,
        macros,
    };
    Ok(render(&page)?.into_response())
}

async fn built_in(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(key): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<Response, PageError> {
    let view = BUILT_IN_VIEWS.iter().find(|v| v.key == key).ok_or(ApiError::NotFound)?;
    let spec = ListSpec {
        title: view.title.into(),
        href: format!("/views/{}", view.key),
        query: view.query.into(),
        columns: ViewColumn::DEFAULT.to_vec(),
        sort: "-updated".into(),
        edit: None,
    };
    list(&state, &caller, spec, params).await
}

async fn saved(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    Query(params): Query<ListParams>,
) -> Result<Response, PageError> {
    let v = visible(&state, &caller, id).await?;
    let spec = ListSpec {
        title: v.name,
        href: format!("/views/saved/{}", v.id),
        query: v.query,
        columns: v.columns,
        sort: v.sort,
        edit: Some(format!("/views/saved/{}/edit", v.id)),
    };
    list(&state, &caller, spec, params).await
}

/// The bulk form's action as the API's bulk change.
fn bulk_request(form: &FormData, me: Option<i64>) -> Result<BulkChange, String> {
    let ids = form
        .all("ids")
        .iter()
        .map(|i| i.parse::<i64>().map_err(|_| format!("'{i}' is not a ticket number")))
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Err("Select tickets first.".into());
    }
    let value = form.text("value");
    let action = form.text("action");
    let changes = |c: UpdateTicket| BulkChange { ticket_ids: ids.clone(), changes: Some(c), ..Default::default() };
    let (kind, arg) = action.split_once(':').unwrap_or((action.as_str(), ""));
    Ok(match kind {
        "assign_me" => changes(UpdateTicket { assignee_id: Some(me), ..Default::default() }),
        "unassign" => changes(UpdateTicket { assignee_id: Some(None), ..Default::default() }),
        "assign" => changes(UpdateTicket {
            assignee_id: Some(Some(arg.parse().map_err(|_| "not a person to assign to".to_string())?)),
            ..Default::default()
        }),
        "status" => changes(UpdateTicket {
            status: Some(Status::parse("status", arg).map_err(|e| e.message)?),
            ..Default::default()
        }),
        "priority" => changes(UpdateTicket {
            priority: Some(Priority::parse("priority", arg).map_err(|e| e.message)?),
            ..Default::default()
        }),
        "add_tag" | "remove_tag" if value.is_empty() => return Err("Type the tag in the box.".into()),
        "add_tag" => changes(UpdateTicket { add_tags: vec![value], ..Default::default() }),
        "remove_tag" => changes(UpdateTicket { remove_tags: vec![value], ..Default::default() }),
        "merge" => BulkChange {
            ticket_ids: ids.clone(),
            merge_into: Some(
                value.trim_start_matches('#').parse().map_err(|_| "Type the number of the ticket to merge into.")?,
            ),
            ..Default::default()
        },
        "macro" => BulkChange {
            ticket_ids: ids.clone(),
            macro_id: Some(arg.parse().map_err(|_| "not a macro".to_string())?),
            ..Default::default()
        },
        _ => return Err("Choose what to do with the selected tickets.".into()),
    })
}

/// The list's bulk form: the API's bulk change, then back to the list
/// saying what happened to each ticket that was not changed.
async fn bulk(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    let back = super::parts::local_path(&form.text("back"), "/views/mine");
    let request = match bulk_request(&form, caller.staff_id().map(|u| u.0)) {
        Ok(r) => r,
        Err(why) => return Ok(see_other(&back, Some(&why))),
    };
    let done = bulk_change(State(state), caller, ApiJson { value: request, raw: axum::body::Bytes::new() }).await;
    let notice = match done {
        Ok(axum::Json(result)) => {
            let failed: Vec<String> = result
                .results
                .iter()
                .filter(|r| !r.ok)
                .map(|r| format!("#{}: {}", r.ticket_id, r.message.clone().unwrap_or_default()))
                .collect();
            let changed = match result.changed {
                1 => "1 ticket changed.".to_string(),
                n => format!("{n} tickets changed."),
            };
            if failed.is_empty() { changed } else { format!("{changed} Not changed: {}", failed.join("; ")) }
        }
        Err(ApiError::Invalid(errors)) => errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "),
        Err(e) => return Err(e.into()),
    };
    Ok(see_other(&back, Some(&notice)))
}
