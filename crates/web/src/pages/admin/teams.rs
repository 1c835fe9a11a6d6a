//! `/admin/teams`: teams and who is in them. Admins create teams and change
//! anything; the manager who leads a team changes its members and
//! description.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use domain::{DomainError, Role, Team, TeamId};

use super::{Reach, reach};
use crate::AppState;
use crate::api::teams::{TeamInput, create_team, update_team};
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, IdempotencyHeader};
use crate::pages::names::staff;
use crate::pages::parts::form_errors;
use crate::pages::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/teams", get(list).post(create)).route("/admin/teams/{id}", get(edit).post(save))
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    let r = reach(caller)?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let people = staff(state).await?;
    let name = |id: Option<domain::UserId>| {
        id.and_then(|i| people.iter().find(|u| u.id == i)).map(|u| u.name.clone()).unwrap_or_else(|| "—".into())
    };
    let teams: Vec<Team> = state
        .store
        .teams()
        .await?
        .into_iter()
        .filter(|t| match &r {
            Reach::All => true,
            Reach::Led(led) => led.contains(&t.id),
        })
        .collect();
    let rows = teams
        .iter()
        .map(|t| {
            vec![
                Cell::link(&t.name, format!("/admin/teams/{}", t.id)),
                Cell::text(name(t.lead_id)),
                Cell::text(t.member_ids.len().to_string()),
                Cell::text(&t.description),
            ]
        })
        .collect();
    let mut sections = vec![Section::Table {
        title: None,
        table: Table { head: vec!["Team", "Lead", "Members", "About"], rows, empty: "No teams.", next: None },
    }];
    if matches!(r, Reach::All) {
        let form = Form::new(
            "new-team",
            "/admin/teams",
            "Create team",
            vec![Field::required("name", "Name", ""), Field::text("description", "About", "")],
        )
        .with_errors(errors);
        sections.push(Section::Form { title: Some("New team".into()), form });
    }
    Page::new(shell, "Teams and members", sections).notice(notice).after_form(errors)
}

async fn list(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    list_page(&state, &caller, &[], n.notice).await
}

async fn create(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    let value =
        TeamInput { name: Some(form.text("name")), description: Some(form.text("description")), ..Default::default() };
    match create_team(
        State(state.clone()),
        caller.clone(),
        IdempotencyHeader(None),
        ApiJson { value, raw: Bytes::new() },
    )
    .await
    {
        Ok((_, axum::Json(t))) => {
            Ok(see_other(&format!("/admin/teams/{}", t.id), Some("The team was created; now add its members.")))
        }
        Err(e) => {
            let errors = form_errors(e)?;
            list_page(&state, &caller, &errors, None).await
        }
    }
}

async fn edit_page(
    state: &AppState,
    caller: &Caller,
    t: Team,
    errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    let all = match reach(caller)? {
        Reach::All => true,
        Reach::Led(led) if led.contains(&t.id) => false,
        Reach::Led(_) => return Err(ApiError::NotFound.into()),
    };
    let shell = Shell::new(state, caller, "/admin").await?;
    let people = staff(state).await?;
    let mut fields = Vec::new();
    if all {
        let mut leads = vec![(String::new(), "nobody".to_string())];
        leads.extend(
            people
                .iter()
                .filter(|u| matches!(u.role, Role::Manager | Role::Admin))
                .map(|u| (u.id.0.to_string(), u.name.clone())),
        );
        fields.push(Field::required("name", "Name", &t.name));
        fields.push(Field::select("lead_id", "Led by", t.lead_id.map(|l| l.0.to_string()).unwrap_or_default(), leads));
    }
    fields.push(Field::text("description", "About", &t.description));
    fields.push(Field::checks(
        "member_ids",
        "Members",
        people
            .iter()
            .filter(|u| u.active)
            .map(|u| (u.id.0.to_string(), u.name.clone(), t.member_ids.contains(&u.id)))
            .collect(),
    ));
    let form = Form::new("team", format!("/admin/teams/{}", t.id), "Save", fields).with_errors(errors);
    let sections = vec![
        Section::Form { title: None, form },
        Section::Links { title: None, links: vec![Cell::link("All teams", "/admin/teams")] },
    ];
    Page::new(shell, t.name.clone(), sections).notice(notice).after_form(errors)
}

async fn edit(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let t = state.store.team(TeamId(id)).await?.ok_or(ApiError::NotFound)?;
    edit_page(&state, &caller, t, &[], n.notice).await
}

async fn save(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let current = state.store.team(TeamId(id)).await?.ok_or(ApiError::NotFound)?;
    let all = matches!(reach(&caller)?, Reach::All);
    let members: Result<Vec<i64>, _> = form.all("member_ids").iter().map(|m| m.parse::<i64>()).collect();
    let Ok(members) = members else {
        return edit_page(&state, &caller, current, &[DomainError::new("member_ids", "not a person")], None).await;
    };
    let lead = match form.number("lead_id") {
        Ok(l) => l,
        Err(e) => return edit_page(&state, &caller, current, &[e], None).await,
    };
    let value = TeamInput {
        name: all.then(|| form.text("name")),
        description: Some(form.text("description")),
        lead_id: all.then_some(lead),
        member_ids: Some(members),
    };
    match update_team(State(state.clone()), caller.clone(), Path(id), ApiJson { value, raw: Bytes::new() }).await {
        Ok(_) => Ok(see_other(&format!("/admin/teams/{id}"), Some("Saved."))),
        Err(e) => {
            let errors = form_errors(e)?;
            edit_page(&state, &caller, current, &errors, None).await
        }
    }
}
