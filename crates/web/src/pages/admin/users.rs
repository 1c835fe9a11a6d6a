//! `/admin/users`: staff accounts and roles. Admins create and change
//! them (a new account's password is shown once); a manager sees the
//! people in the teams they lead, with their status.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use domain::policy::Action;
use domain::{DomainError, Role, User, UserId};

use super::{Reach, reach};
use crate::AppState;
use crate::api::users::{UserInput, create_user, update_user};
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, IdempotencyHeader};
use crate::pages::names::staff;
use crate::pages::parts::{form_errors, words};
use crate::pages::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/users", get(list).post(create)).route("/admin/users/{id}", get(edit).post(save))
}

fn roles() -> Vec<(String, String)> {
    words(&Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>())
}

/// The staff a caller may see here: all for admins, their teams' people for a manager.
async fn visible_staff(state: &AppState, caller: &Caller) -> Result<(Vec<User>, bool), PageError> {
    let all = staff(state).await?;
    match reach(caller)? {
        Reach::All => Ok((all, true)),
        Reach::Led(teams) => {
            let mine: Vec<UserId> = state
                .store
                .teams()
                .await?
                .into_iter()
                .filter(|t| teams.contains(&t.id))
                .flat_map(|t| t.member_ids)
                .collect();
            Ok((all.into_iter().filter(|u| mine.contains(&u.id)).collect(), false))
        }
    }
}

struct Extra {
    errors: Vec<DomainError>,
    draft: UserInput,
    secret: Option<String>,
    notice: Option<String>,
}

async fn list_page(state: &AppState, caller: &Caller, extra: Extra) -> Result<Response, PageError> {
    let (people, admin) = visible_staff(state, caller).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let statuses: HashMap<UserId, &'static str> =
        state.store.agent_statuses().await?.into_iter().map(|(u, s, _)| (u, s.as_str())).collect();
    let teams = state.store.teams().await?;
    let rows = people
        .iter()
        .map(|u| {
            let in_teams: Vec<&str> =
                teams.iter().filter(|t| t.member_ids.contains(&u.id)).map(|t| t.name.as_str()).collect();
            let name = if admin { Cell::link(&u.name, format!("/admin/users/{}", u.id)) } else { Cell::text(&u.name) };
            let status = statuses.get(&u.id).copied().unwrap_or("offline");
            vec![
                name,
                Cell::text(&u.email),
                Cell::text(u.role.as_str()),
                Cell::text(in_teams.join(", ")),
                Cell::text(status).class(format!("agent-status {status}")),
                Cell::text(if u.active { "active" } else { "deactivated" }),
            ]
        })
        .collect();
    let mut sections = Vec::new();
    if let Some(secret) = extra.secret {
        sections.push(Section::Secret {
            label: "The new account's password; give it to them now, it is not shown again.".into(),
            value: secret,
        });
    }
    sections.push(Section::Table {
        title: None,
        table: Table {
            head: vec!["Name", "Email", "Role", "Teams", "Status", "Account"],
            rows,
            empty: "Nobody here yet.",
            next: None,
        },
    });
    if admin {
        let d = &extra.draft;
        let form = Form::new(
            "new-user",
            "/admin/users",
            "Create account",
            vec![
                Field::required("name", "Name", d.name.clone().unwrap_or_default()),
                Field::typed("email", "Email", "email", d.email.clone().unwrap_or_default()),
                Field::select("role", "Role", d.role.map(|r| r.as_str()).unwrap_or("agent"), roles()),
                Field::typed("password", "Password", "password", "").hint("Leave empty to generate one."),
            ],
        )
        .with_errors(&extra.errors);
        sections.push(Section::Form { title: Some("New account".into()), form });
    }
    let status = if extra.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Page::new(shell, if admin { "Users and roles" } else { "My people" }, sections).notice(extra.notice).respond(status)
}

async fn list(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    list_page(&state, &caller, Extra { errors: vec![], draft: UserInput::default(), secret: None, notice: n.notice })
        .await
}

async fn create(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    let draft = || UserInput {
        name: Some(form.text("name")),
        email: Some(form.text("email")),
        role: Role::parse("role", &form.text("role")).ok(),
        password: Some(form.text("password")).filter(|p| !p.is_empty()),
        ..Default::default()
    };
    let value = draft();
    if value.role.is_none() {
        let e = DomainError::new("role", "choose a role");
        return list_page(&state, &caller, Extra { errors: vec![e], draft: draft(), secret: None, notice: None }).await;
    }
    match create_user(
        State(state.clone()),
        caller.clone(),
        IdempotencyHeader(None),
        ApiJson { value, raw: Bytes::new() },
    )
    .await
    {
        Ok((_, axum::Json(created))) => {
            let notice = Some(format!("{} can now sign in as {}.", created.user.name, created.user.email));
            list_page(
                &state,
                &caller,
                Extra { errors: vec![], draft: UserInput::default(), secret: created.initial_password, notice },
            )
            .await
        }
        Err(e) => {
            let errors = form_errors(e)?;
            list_page(&state, &caller, Extra { errors, draft: draft(), secret: None, notice: None }).await
        }
    }
}

async fn edit_page(state: &AppState, caller: &Caller, u: User, errors: &[DomainError]) -> Result<Response, PageError> {
    caller.require(state, Action::ManageUsers).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let mut managers = vec![(String::new(), "nobody".to_string())];
    managers.extend(
        staff(state)
            .await?
            .into_iter()
            .filter(|m| m.id != u.id && matches!(m.role, Role::Manager | Role::Admin))
            .map(|m| (m.id.0.to_string(), m.name)),
    );
    let form = Form::new(
        "user",
        format!("/admin/users/{}", u.id),
        "Save",
        vec![
            Field::required("name", "Name", &u.name),
            Field::typed("email", "Email", "email", &u.email),
            Field::select("role", "Role", u.role.as_str(), roles()),
            Field::select(
                "reports_to",
                "Reports to",
                u.reports_to.map(|r| r.0.to_string()).unwrap_or_default(),
                managers,
            ),
            Field::text("time_zone", "Time zone", u.time_zone.clone().unwrap_or_default())
                .hint("IANA, e.g. Europe/Berlin; empty: the helpdesk's"),
            Field::check("active", "Can sign in", u.active)
                .hint("Staff are deactivated, never deleted, so reports keep their names."),
        ],
    )
    .with_errors(errors);
    let sections = vec![
        Section::Form { title: None, form },
        Section::Links { title: None, links: vec![Cell::link("All users", "/admin/users")] },
    ];
    Page::new(shell, u.name.clone(), sections).after_form(errors)
}

async fn edit(State(state): State<AppState>, Staff(caller): Staff, Path(id): Path<i64>) -> Result<Response, PageError> {
    let u = state.store.user(UserId(id)).await?.ok_or(ApiError::NotFound)?;
    edit_page(&state, &caller, u, &[]).await
}

async fn save(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let current = state.store.user(UserId(id)).await?.ok_or(ApiError::NotFound)?;
    let role = match Role::parse("role", &form.text("role")) {
        Ok(r) => r,
        Err(e) => return edit_page(&state, &caller, current, &[e]).await,
    };
    let reports_to = match form.number("reports_to") {
        Ok(r) => r,
        Err(e) => return edit_page(&state, &caller, current, &[e]).await,
    };
    let value = UserInput {
        name: Some(form.text("name")),
        email: Some(form.text("email")),
        role: Some(role),
        active: Some(form.ticked("active")),
        reports_to: Some(reports_to),
        time_zone: Some(Some(form.text("time_zone")).filter(|t| !t.is_empty())),
        password: None,
    };
    match update_user(State(state.clone()), caller.clone(), Path(id), ApiJson { value, raw: Bytes::new() }).await {
        Ok(_) => Ok(see_other("/admin/users", Some("Saved."))),
        Err(e) => {
            let errors = form_errors(e)?;
            edit_page(&state, &caller, current, &errors).await
        }
    }
}
