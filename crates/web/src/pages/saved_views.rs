//! Saved views: `/views/new` and `/views/saved/{id}/edit`. A view is a
//! search in the query syntax with the columns and order the agent picks,
//! their own or (managers and admins) shared with all staff.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use domain::policy::Action;
use domain::saved_view::VIEW_SORTS;
use domain::{DomainError, SavedView, ViewColumn};
use serde::Deserialize;

use super::parts::form_errors;
use super::{Cell, Field, Form, FormData, Page, PageError, Section, Shell, Staff, see_other};
use crate::AppState;
use crate::api::views::{ViewInput, create_view, delete_view, update_view, visible};
use crate::extract::{ApiJson, Caller};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/views/new", get(new_form).post(create))
        .route("/views/saved/{id}/edit", get(edit).post(save))
        .route("/views/saved/{id}/delete", post(remove))
}

fn sort_label(s: &str) -> String {
    if s == "sla" {
        return "work queue: SLA due soonest, then priority score".into();
    }
    let (dir, field) = match s.strip_prefix('-') {
        Some(f) => ("newest / highest first", f),
        None => ("oldest / lowest first", s),
    };
    format!("{field}, {dir}")
}

fn view_form(caller: &Caller, id: &str, action: String, submit: &str, v: &ViewInput) -> Form {
    let columns: Vec<ViewColumn> = match &v.columns {
        Some(c) => c.iter().filter_map(|c| ViewColumn::parse("columns", c).ok()).collect(),
        None => ViewColumn::DEFAULT.to_vec(),
    };
    let mut fields = vec![
        Field::required("name", "Name", v.name.clone().unwrap_or_default()),
        Field::required("query", "Tickets matching", v.query.clone().unwrap_or_default()).hint(
            "The search syntax: words, \"phrases\", -exclusions, status:open, tag:vip, assignee:me, assignee:none, team:3, priority:urgent, created>2026-01-01.",
        ),
        Field::checks(
            "columns",
            "Columns",
            ViewColumn::ALL.iter().map(|c| (c.as_str().to_string(), c.title().to_string(), columns.contains(c))).collect(),
        ),
        Field::select(
            "sort",
            "Order",
            v.sort.clone().unwrap_or_else(|| "-updated".into()),
            VIEW_SORTS.iter().map(|s| (s.to_string(), sort_label(s))).collect(),
        ),
    ];
    if caller.principal.may(Action::ManageSharedViews, None) {
        fields.push(Field::check("shared", "Shared with all staff", v.shared.unwrap_or(false)));
    }
    Form::new(id, action, submit, fields)
}

fn input(form: &FormData) -> ViewInput {
    ViewInput {
        name: Some(form.text("name")),
        query: Some(form.text("query")),
        columns: Some(form.all("columns").into_iter().map(str::to_string).collect()),
        sort: Some(form.text("sort")),
        position: None,
        shared: Some(form.ticked("shared")),
    }
}

async fn new_page(
    state: &AppState,
    caller: &Caller,
    v: ViewInput,
    errors: &[DomainError],
) -> Result<Response, PageError> {
    let shell = Shell::new(state, caller, "/views/new").await?;
    let form = view_form(caller, "view", "/views/new".into(), "Create view", &v).with_errors(errors);
    Page::new(shell, "New view", vec![Section::Form { title: None, form }]).after_form(errors)
}

#[derive(Deserialize)]
struct Prefill {
    q: Option<String>,
}

async fn new_form(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(p): Query<Prefill>,
) -> Result<Response, PageError> {
    let v = ViewInput { query: p.q, ..Default::default() };
    new_page(&state, &caller, v, &[]).await
}

async fn create(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    let value = input(&form);
    let again = input(&form);
    match create_view(State(state.clone()), caller.clone(), ApiJson { value, raw: Bytes::new() }).await {
        Ok((_, axum::Json(v))) => Ok(see_other(&format!("/views/saved/{}", v.id), Some("The view was saved."))),
        Err(e) => {
            let errors = form_errors(e)?;
            new_page(&state, &caller, again, &errors).await
        }
    }
}

fn as_input(v: &SavedView) -> ViewInput {
    ViewInput {
        name: Some(v.name.clone()),
        query: Some(v.query.clone()),
        columns: Some(v.columns.iter().map(|c| c.as_str().to_string()).collect()),
        sort: Some(v.sort.clone()),
        position: Some(v.position),
        shared: Some(v.owner_id.is_none()),
    }
}

async fn edit_page(
    state: &AppState,
    caller: &Caller,
    id: i64,
    v: ViewInput,
    errors: &[DomainError],
) -> Result<Response, PageError> {
    let href = format!("/views/saved/{id}");
    let shell = Shell::new(state, caller, &href).await?;
    let form = view_form(caller, "view", format!("{href}/edit"), "Save view", &v).with_errors(errors);
    let sections = vec![
        Section::Form { title: None, form },
        Section::Form {
            title: None,
            form: Form::new("delete", format!("{href}/delete"), "Delete this view", vec![]).danger(),
        },
        Section::Links { title: None, links: vec![Cell::link("Back to the view", href)] },
    ];
    Page::new(shell, "Edit view", sections).after_form(errors)
}

async fn edit(State(state): State<AppState>, Staff(caller): Staff, Path(id): Path<i64>) -> Result<Response, PageError> {
    let v = visible(&state, &caller, id).await?;
    edit_page(&state, &caller, id, as_input(&v), &[]).await
}

async fn save(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let mut value = input(&form);
    if !caller.principal.may(Action::ManageSharedViews, None) {
        value.shared = None;
    }
    match update_view(State(state.clone()), caller.clone(), Path(id), ApiJson { value, raw: Bytes::new() }).await {
        Ok(_) => Ok(see_other(&format!("/views/saved/{id}"), Some("The view was saved."))),
        Err(e) => {
            let errors = form_errors(e)?;
            edit_page(&state, &caller, id, input(&form), &errors).await
        }
    }
}

async fn remove(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    delete_view(State(state), caller, Path(id)).await?;
    Ok(see_other("/views/mine", Some("The view was deleted.")))
}
