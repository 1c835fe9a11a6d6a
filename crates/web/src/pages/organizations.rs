//! `/organizations`: the companies customers belong to: a list, a profile
//! with members and tickets, editing (managers and admins), and creating.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use domain::policy::Action;
use domain::{DomainError, Organization, OrganizationId, Tier};
use serde::Deserialize;
use store::PageRequest;

use super::customers::ticket_table;
use super::parts::{form_errors, words};
use super::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};
use crate::AppState;
use crate::api::organizations::{OrganizationInput, create_organization, update_organization};
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, IdempotencyHeader};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organizations", get(list))
        .route("/organizations/new", post(create))
        .route("/organizations/{id}", get(profile).post(save))
}

#[derive(Deserialize)]
struct ListParams {
    after: Option<i64>,
    notice: Option<String>,
}

fn org_form(id: &str, action: String, submit: &str, o: &OrganizationInput) -> Form {
    let tiers: Vec<&str> = Tier::ALL.iter().map(|t| t.as_str()).collect();
    Form::new(
        id,
        action,
        submit,
        vec![
            Field::required("name", "Name", o.name.clone().unwrap_or_default()),
            Field::text("domains", "Email domains", o.domains.clone().unwrap_or_default().join(" "))
                .hint("New customers with these domains join the organization."),
            Field::select("tier", "Tier", o.tier.map(|t| t.as_str()).unwrap_or("standard"), words(&tiers)),
            Field::area("notes", "Notes", o.notes.clone().unwrap_or_default(), 3),
            Field::check("shares_tickets", "Members see each other's tickets", o.shares_tickets.unwrap_or(false)),
        ],
    )
}

fn input(form: &FormData) -> Result<OrganizationInput, DomainError> {
    Ok(OrganizationInput {
        name: Some(form.text("name")),
        domains: Some(form.text("domains").split([' ', ',']).filter(|d| !d.is_empty()).map(str::to_string).collect()),
        tier: Some(Tier::parse("tier", &form.text("tier"))?),
        notes: Some(form.get("notes").unwrap_or_default().to_string()),
        shares_tickets: Some(form.ticked("shares_tickets")),
    })
}

fn as_input(o: &Organization) -> OrganizationInput {
    OrganizationInput {
        name: Some(o.name.clone()),
        domains: Some(o.domains.clone()),
        tier: Some(o.tier),
        notes: Some(o.notes.clone()),
        shares_tickets: Some(o.shares_tickets),
    }
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    after: Option<i64>,
    draft: Option<(OrganizationInput, Vec<DomainError>)>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ViewOrganizations).await?;
    let shell = Shell::new(state, caller, "/organizations").await?;
    let page = state.store.organizations(PageRequest { after, limit: 50 }).await?;
    let rows = page
        .items
        .iter()
        .map(|o| {
            vec![
                Cell::link(&o.name, format!("/organizations/{}", o.id)),
                Cell::text(o.domains.join(" ")),
                Cell::text(o.tier.as_str()).class(format!("tier {}", o.tier)),
                Cell::text(if o.shares_tickets { "shared" } else { "private" }),
            ]
        })
        .collect();
    let mut sections = vec![Section::Table {
        title: None,
        table: Table {
            head: vec!["Name", "Domains", "Tier", "Tickets"],
            rows,
            empty: "No organizations yet.",
            next: page.next.map(|c| format!("/organizations?after={}", c.id)),
        },
    }];
    let failed = draft.as_ref().is_some_and(|(_, e)| !e.is_empty());
    if caller.principal.may(Action::EditOrganizations, None) {
        let (o, errors) = draft.unwrap_or_default();
        let form = org_form("new-org", "/organizations/new".into(), "Create", &o).with_errors(&errors);
        sections.push(Section::Form { title: Some("New organization".into()), form });
    }
    let status = if failed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Page::new(shell, "Organizations", sections).notice(notice).respond(status)
}

async fn list(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    list_page(&state, &caller, p.after, None, p.notice).await
}

async fn create(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    caller.require(&state, Action::EditOrganizations).await?;
    let value = match input(&form) {
        Ok(v) => v,
        Err(e) => return list_page(&state, &caller, None, Some((OrganizationInput::default(), vec![e])), None).await,
    };
    let again = input(&form).unwrap_or_default();
    let body = ApiJson { value, raw: Bytes::new() };
    match create_organization(State(state.clone()), caller.clone(), IdempotencyHeader(None), body).await {
        Ok((_, axum::Json(o))) => {
            Ok(see_other(&format!("/organizations/{}", o.id), Some("The organization was created.")))
        }
        Err(e) => {
            let errors = form_errors(e)?;
            list_page(&state, &caller, None, Some((again, errors)), None).await
        }
    }
}

async fn profile_page(
    state: &AppState,
    caller: &Caller,
    o: Organization,
    draft: Option<(OrganizationInput, Vec<DomainError>)>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let shell = Shell::new(state, caller, "/organizations").await?;
    let members = state.store.customers(PageRequest { after: None, limit: 100 }, Some(o.id)).await?;
    let member_rows = members
        .items
        .iter()
        .map(|c| {
            vec![
                Cell::link(if c.name.is_empty() { &c.email } else { &c.name }, format!("/customers/{}", c.id)),
                Cell::text(&c.email),
            ]
        })
        .collect();
    let query = format!("organization:{}", o.id);
    let tickets = ticket_table(state, caller, &shell, &query, &query).await?;
    let mut sections = vec![
        Section::Facts {
            title: None,
            facts: vec![
                ("Domains".into(), Cell::text(if o.domains.is_empty() { "—".into() } else { o.domains.join(" ") })),
                ("Tier".into(), Cell::text(o.tier.as_str()).class(format!("tier {}", o.tier))),
                (
                    "Tickets".into(),
                    Cell::text(if o.shares_tickets {
                        "members see each other's"
                    } else {
                        "each member sees their own"
                    }),
                ),
                ("Notes".into(), Cell::text(if o.notes.is_empty() { "—".to_string() } else { o.notes.clone() })),
            ],
        },
        Section::Table {
            title: Some("Members".into()),
            table: Table { head: vec!["Name", "Email"], rows: member_rows, empty: "No members yet.", next: None },
        },
        Section::Table { title: Some("Tickets".into()), table: tickets },
    ];
    let failed = draft.as_ref().is_some_and(|(_, e)| !e.is_empty());
    if caller.principal.may(Action::EditOrganizations, None) {
        let (input, errors) = draft.unwrap_or_else(|| (as_input(&o), vec![]));
        let form = org_form("org", format!("/organizations/{}", o.id), "Save", &input).with_errors(&errors);
        sections.push(Section::Form { title: Some("Edit".into()), form });
    }
    let status = if failed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Page::new(shell, o.name.clone(), sections).notice(notice).respond(status)
}

async fn profile(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    caller.require(&state, Action::ViewOrganizations).await?;
    let o = state.store.organization(OrganizationId(id)).await?.ok_or(ApiError::NotFound)?;
    profile_page(&state, &caller, o, None, n.notice).await
}

async fn save(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let current = state.store.organization(OrganizationId(id)).await?.ok_or(ApiError::NotFound)?;
    let value = match input(&form) {
        Ok(v) => v,
        Err(e) => {
            return profile_page(&state, &caller, current, Some((OrganizationInput::default(), vec![e])), None).await;
        }
    };
    let again = input(&form).unwrap_or_default();
    match update_organization(State(state.clone()), caller.clone(), Path(id), ApiJson { value, raw: Bytes::new() })
        .await
    {
        Ok(_) => Ok(see_other(&format!("/organizations/{id}"), Some("Saved."))),
        Err(e) => {
            let errors = form_errors(e)?;
            profile_page(&state, &caller, current, Some((again, errors)), None).await
        }
    }
}
