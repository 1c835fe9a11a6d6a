//! Macros and canned responses: `/me/macros` for an agent's own,
//! `/admin/macros` for the shared ones (admins). A form for each, through
//! the API's checks (placeholders must compile, assignees and teams exist).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use domain::policy::Action;
use domain::{DomainError, Macro, MacroActions, MacroAssignee, Priority, Status, TeamId, TicketType, UserId};

use super::names::staff;
use super::parts::form_errors;
use super::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};
use crate::AppState;
use crate::api::macros::{MacroInput, create_macro, delete_macro, update_macro, usable};
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/macros", get(list_own).post(create_own))
        .route("/admin/macros", get(list_shared).post(create_shared))
        .route("/me/macros/{id}", get(edit).post(save))
        .route("/admin/macros/{id}", get(edit).post(save))
        .route("/me/macros/{id}/delete", post(remove))
        .route("/admin/macros/{id}/delete", post(remove))
}

/// Where a macro's pages live: the agent's own, or the shared ones.
fn base(m: &Macro) -> &'static str {
    if m.owner_id.is_some() { "/me/macros" } else { "/admin/macros" }
}

fn summary(a: &MacroActions) -> String {
    let mut parts = Vec::new();
    if let Some(s) = a.status {
        parts.push(format!("status {s}"));
    }
    if let Some(p) = a.priority {
        parts.push(format!("priority {p}"));
    }
    if let Some(t) = a.ticket_type {
        parts.push(format!("type {t}"));
    }
    match a.assignee {
        Some(MacroAssignee::Me) => parts.push("assign to me".into()),
        Some(MacroAssignee::Nobody) => parts.push("unassign".into()),
        Some(MacroAssignee::User(u)) => parts.push(format!("assign to agent {u}")),
        None => {}
    }
    if a.team_id.is_some() {
        parts.push("move team".into());
    }
    parts.extend(a.add_tags.iter().map(|t| format!("+{t}")));
    parts.extend(a.remove_tags.iter().map(|t| format!("−{t}")));
    if parts.is_empty() { "text only (canned response)".into() } else { parts.join(", ") }
}

fn options<T: Copy>(all: &[T], word: impl Fn(T) -> &'static str) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), "unchanged".to_string())];
    out.extend(all.iter().map(|v| (word(*v).to_string(), word(*v).replace('_', " "))));
    out
}

async fn macro_form(state: &AppState, id: &str, action: String, submit: &str, m: &Macro) -> Result<Form, PageError> {
    let a = &m.actions;
    let mut assignees = vec![
        (String::new(), "unchanged".to_string()),
        ("me".into(), "the agent applying it".into()),
        ("nobody".into(), "nobody".into()),
    ];
    assignees.extend(staff(state).await?.into_iter().filter(|u| u.active).map(|u| (u.id.0.to_string(), u.name)));
    let assignee = match a.assignee {
        Some(MacroAssignee::Me) => "me".to_string(),
        Some(MacroAssignee::Nobody) => "nobody".into(),
        Some(MacroAssignee::User(u)) => u.0.to_string(),
        None => String::new(),
    };
    let mut teams = vec![(String::new(), "unchanged".to_string())];
    teams.extend(state.store.teams().await?.into_iter().map(|t| (t.id.0.to_string(), t.name)));
    Ok(Form::new(
        id,
        action,
        submit,
        vec![
            Field::required("name", "Name", &m.name),
            Field::area("body", "Text", &m.body, 6).hint(
                "Placeholders: {{ customer.first_name }}, {{ customer.name }}, {{ ticket.number }}, {{ ticket.subject }}, {{ agent.first_name }}, {{ agent.name }}.",
            ),
            Field::select(
                "public",
                "The text is",
                if m.public { "true" } else { "false" },
                vec![("true".into(), "a reply to the customer".into()), ("false".into(), "an internal note".into())],
            ),
            Field::select("status", "Status", a.status.map(|s| s.as_str()).unwrap_or(""), options(Status::ALL, Status::as_str)),
            Field::select("priority", "Priority", a.priority.map(|s| s.as_str()).unwrap_or(""), options(Priority::ALL, Priority::as_str)),
            Field::select("type", "Type", a.ticket_type.map(|s| s.as_str()).unwrap_or(""), options(TicketType::ALL, TicketType::as_str)),
            Field::select("assignee", "Assign to", assignee, assignees),
            Field::select("team_id", "Team", a.team_id.map(|t| t.0.to_string()).unwrap_or_default(), teams),
            Field::text("add_tags", "Add tags", a.add_tags.join(" ")),
            Field::text("remove_tags", "Remove tags", a.remove_tags.join(" ")),
            Field::check("active", "In use", m.active),
        ],
    ))
}

/// The form as the API's input.
fn input(form: &FormData, shared: Option<bool>) -> Result<MacroInput, Vec<DomainError>> {
    let mut errors = Vec::new();
    let word = |n: &str| form.text(n);
    let pick = |n: &str| -> Option<String> { Some(word(n)).filter(|w| !w.is_empty()) };
    let status = pick("status").and_then(|s| Status::parse("status", &s).map_err(|e| errors.push(e)).ok());
    let priority = pick("priority").and_then(|s| Priority::parse("priority", &s).map_err(|e| errors.push(e)).ok());
    let ticket_type = pick("type").and_then(|s| TicketType::parse("type", &s).map_err(|e| errors.push(e)).ok());
    let assignee = match word("assignee").as_str() {
        "" => None,
        "me" => Some(MacroAssignee::Me),
        "nobody" => Some(MacroAssignee::Nobody),
        n => n
            .parse()
            .map(|u| MacroAssignee::User(UserId(u)))
            .map_err(|_| errors.push(DomainError::new("assignee", "not an agent")))
            .ok(),
    };
    let team_id = form.number("team_id").map_err(|e| errors.push(e)).ok().flatten().map(TeamId);
    let tags = |n: &str| word(n).split([' ', ',']).filter(|t| !t.is_empty()).map(str::to_string).collect::<Vec<_>>();
    let value = MacroInput {
        name: Some(word("name")),
        body: Some(form.get("body").unwrap_or_default().to_string()),
        public: Some(form.get("public") != Some("false")),
        actions: Some(MacroActions {
            status,
            priority,
            ticket_type,
            assignee,
            team_id,
            add_tags: tags("add_tags"),
            remove_tags: tags("remove_tags"),
        }),
        active: Some(form.ticked("active")),
        shared,
    };
    if errors.is_empty() { Ok(value) } else { Err(errors) }
}

fn blank(owner: Option<UserId>) -> Macro {
    Macro {
        id: domain::MacroId(0),
        owner_id: owner,
        name: String::new(),
        body: String::new(),
        public: true,
        actions: MacroActions::default(),
        active: true,
        created_at: 0,
        updated_at: 0,
    }
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    shared: bool,
    draft: Option<(Macro, Vec<DomainError>)>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    if shared {
        caller.require(state, Action::ManageSharedMacros).await?;
    }
    let path = if shared { "/admin/macros" } else { "/me/macros" };
    let shell = Shell::new(state, caller, if shared { "/admin" } else { "/me" }).await?;
    let all = state.store.macros(caller.staff_id()).await?;
    let rows = all
        .iter()
        .filter(|m| m.owner_id.is_none() == shared)
        .map(|m| {
            vec![
                Cell::link(&m.name, format!("{}/{}", base(m), m.id)),
                Cell::text(if m.public { "reply" } else { "note" }),
                Cell::text(summary(&m.actions)),
                Cell::text(if m.active { "in use" } else { "off" }),
            ]
        })
        .collect();
    let failed = draft.as_ref().is_some_and(|(_, e)| !e.is_empty());
    let (m, errors) = draft.unwrap_or_else(|| (blank(None), vec![]));
    let form = macro_form(state, "new-macro", path.into(), "Create", &m).await?.with_errors(&errors);
    let title = if shared { "Shared macros and canned responses" } else { "My macros and canned responses" };
    let sections = vec![
        Section::Table {
            title: None,
            table: Table { head: vec!["Name", "Text is", "Changes", "State"], rows, empty: "None yet.", next: None },
        },
        Section::Form { title: Some("New".into()), form },
    ];
    Page::new(shell, title, sections).notice(notice).respond(if failed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    })
}

async fn list_own(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    list_page(&state, &caller, false, None, n.notice).await
}

async fn list_shared(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    list_page(&state, &caller, true, None, n.notice).await
}

async fn create(state: AppState, caller: Caller, form: FormData, shared: bool) -> Result<Response, PageError> {
    let fail = |errors: Vec<DomainError>| {
        let mut m = blank(None);
        m.name = form.text("name");
        m.body = form.get("body").unwrap_or_default().into();
        (m, errors)
    };
    let value = match input(&form, Some(shared)) {
        Ok(v) => v,
        Err(errors) => return list_page(&state, &caller, shared, Some(fail(errors)), None).await,
    };
    match create_macro(State(state.clone()), caller.clone(), ApiJson { value, raw: Bytes::new() }).await {
        Ok(_) => Ok(see_other(if shared { "/admin/macros" } else { "/me/macros" }, Some("The macro was created."))),
        Err(e) => {
            let errors = form_errors(e)?;
            list_page(&state, &caller, shared, Some(fail(errors)), None).await
        }
    }
}

async fn create_own(
    State(state): State<AppState>,
    Staff(caller): Staff,
    form: FormData,
) -> Result<Response, PageError> {
    create(state, caller, form, false).await
}

async fn create_shared(
    State(state): State<AppState>,
    Staff(caller): Staff,
    form: FormData,
) -> Result<Response, PageError> {
    create(state, caller, form, true).await
}

async fn edit_page(state: &AppState, caller: &Caller, m: Macro, errors: &[DomainError]) -> Result<Response, PageError> {
    let shell = Shell::new(state, caller, if m.owner_id.is_some() { "/me" } else { "/admin" }).await?;
    let path = format!("{}/{}", base(&m), m.id);
    let form = macro_form(state, "macro", path.clone(), "Save", &m).await?.with_errors(errors);
    let sections = vec![
        Section::Form { title: None, form },
        Section::Form {
            title: None,
            form: Form::new("delete", format!("{path}/delete"), "Delete this macro", vec![]).danger(),
        },
        Section::Links { title: None, links: vec![Cell::link("Back to the list", base(&m))] },
    ];
    Page::new(shell, format!("Macro: {}", m.name), sections).after_form(errors)
}

async fn edit(State(state): State<AppState>, Staff(caller): Staff, Path(id): Path<i64>) -> Result<Response, PageError> {
    let m = usable(&state, &caller, id).await?;
    edit_page(&state, &caller, m, &[]).await
}

async fn save(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let current = usable(&state, &caller, id).await?;
    let value = match input(&form, None) {
        Ok(v) => v,
        Err(errors) => return edit_page(&state, &caller, current, &errors).await,
    };
    match update_macro(State(state.clone()), caller.clone(), Path(id), ApiJson { value, raw: Bytes::new() }).await {
        Ok(_) => Ok(see_other(base(&current), Some("Saved."))),
        Err(ApiError::Forbidden) => Err(ApiError::Forbidden.into()),
        Err(e) => {
            let errors = form_errors(e)?;
            edit_page(&state, &caller, current, &errors).await
        }
    }
}

async fn remove(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let current = usable(&state, &caller, id).await?;
    delete_macro(State(state), caller, Path(id)).await?;
    Ok(see_other(base(&current), Some("The macro was deleted.")))
}
