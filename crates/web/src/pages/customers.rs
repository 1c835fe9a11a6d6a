//! `/customers`: the people who ask for help: a list (oldest first, 50 a
//! page, or found by email), a profile with their tickets, and editing.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use domain::policy::Action;
use domain::{Customer, CustomerId, DomainError, Tier};
use serde::Deserialize;
use store::{PageRequest, TicketSort};

use super::parts::{form_errors, words};
use super::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};
use crate::AppState;
use crate::api::customers::{CustomerInput, update_customer};
use crate::api::tickets::ticket_query;
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller};

pub fn router() -> Router<AppState> {
    Router::new().route("/customers", get(list)).route("/customers/{id}", get(profile).post(save))
}

#[derive(Deserialize)]
struct ListParams {
    after: Option<i64>,
    email: Option<String>,
}

/// Organizations as select options, with "none" first.
pub(crate) async fn organization_options(state: &AppState) -> Result<Vec<(String, String)>, PageError> {
    let mut out = vec![(String::new(), "none".to_string())];
    let page = state.store.organizations(PageRequest { after: None, limit: 1000 }).await?;
    out.extend(page.items.into_iter().map(|o| (o.id.0.to_string(), o.name)));
    Ok(out)
}

/// A table of tickets matching `query`, newest first.
pub(crate) async fn ticket_table(
    state: &AppState,
    caller: &Caller,
    shell: &Shell,
    query: &str,
    more: &str,
) -> Result<Table, PageError> {
    let q = ticket_query(caller, query, TicketSort::newest_first(), None, 25)?;
    let page = state.store.tickets(&q).await?;
    let rows = page
        .items
        .iter()
        .map(|t| {
            vec![
                Cell::link(t.id.0.to_string(), format!("/tickets/{}", t.id)),
                Cell::link(&t.subject, format!("/tickets/{}", t.id)),
                Cell::text(t.status.as_str().replace('_', " ")).class(format!("status {}", t.status)),
                Cell::text(shell.when(t.created_at).text),
            ]
        })
        .collect();
    let next = page.next.map(|_| format!("/search?{}", serde_urlencoded::to_string([("q", more)]).unwrap_or_default()));
    Ok(Table { head: vec!["#", "Subject", "Status", "Created"], rows, empty: "No tickets.", next })
}

async fn list(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    caller.require(&state, Action::ViewCustomers).await?;
    let shell = Shell::new(&state, &caller, "/customers").await?;
    let mut notice = None;
    if let Some(email) = p.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        match state.store.customer_by_email(email).await? {
            Some(c) => return Ok(see_other(&format!("/customers/{}", c.id), None)),
            None => notice = Some(format!("No customer has the address {email}.")),
        }
    }
    let page = state.store.customers(PageRequest { after: p.after, limit: 50 }, None).await?;
    let orgs: std::collections::HashMap<String, String> = organization_options(&state).await?.into_iter().collect();
    let rows = page
        .items
        .iter()
        .map(|c| {
            let org = c.organization_id.map(|o| o.0.to_string()).unwrap_or_default();
            vec![
                Cell::link(if c.name.is_empty() { &c.email } else { &c.name }, format!("/customers/{}", c.id)),
                Cell::text(&c.email),
                match c.organization_id {
                    Some(o) => Cell::link(orgs.get(&org).cloned().unwrap_or_default(), format!("/organizations/{o}")),
                    None => Cell::text("—"),
                },
                Cell::text(c.tier.as_str()).class(format!("tier {}", c.tier)),
                Cell::text(shell.when(c.created_at).text),
            ]
        })
        .collect();
    let find = Form::new("find", "/customers", "Find", vec![Field::typed("email", "Find by email", "email", "")]).get();
    let sections = vec![
        Section::Form { title: None, form: find },
        Section::Table {
            title: None,
            table: Table {
                head: vec!["Name", "Email", "Organization", "Tier", "Since"],
                rows,
                empty: "No customers yet.",
                next: page.next.map(|c| format!("/customers?after={}", c.id)),
            },
        },
    ];
    Page::new(shell, "Customers", sections).notice(notice).respond(StatusCode::OK)
}

async fn profile_page(
    state: &AppState,
    caller: &Caller,
    c: Customer,
    errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    let shell = Shell::new(state, caller, "/customers").await?;
    let org = match c.organization_id {
        Some(o) => state.store.organization(o).await?.map(|o| Cell::link(o.name, format!("/organizations/{}", o.id))),
        None => None,
    };
    let facts = vec![
        ("Email".to_string(), Cell::text(&c.email)),
        ("Phone".into(), Cell::text(c.phone.clone().unwrap_or_else(|| "—".into()))),
        ("Organization".into(), org.unwrap_or_else(|| Cell::text("—"))),
        ("Tier".into(), Cell::text(c.tier.as_str()).class(format!("tier {}", c.tier))),
        (
            "Value".into(),
            Cell::text(
                c.annual_value_cents.map(|v| format!("{:.2} a year", v as f64 / 100.0)).unwrap_or_else(|| "—".into()),
            ),
        ),
        ("Portal account".into(), Cell::text(if c.has_account { "yes" } else { "no" })),
        ("Customer since".into(), Cell::text(shell.when(c.created_at).text)),
    ];
    let query = format!("requester:{}", c.id);
    let tickets = ticket_table(state, caller, &shell, &query, &query).await?;
    let filter = domain::survey::FeedbackFilter { customer_id: Some(c.id), ..Default::default() };
    let answers = state.store.feedback_list(&filter, store::PageRequest { after: None, limit: 20 }).await?.items;
    let unsubscribed = state.store.unsubscribed(c.id).await?;
    let feedback = Table {
        head: vec!["Answered", "Survey", "Rating", "Comment", "Ticket"],
        rows: answers
            .iter()
            .map(|f| {
                vec![
                    Cell::link(shell.when(f.answered_at).text, format!("/feedback/{}", f.id)),
                    Cell::text(f.kind.as_str().to_uppercase()),
                    Cell::text(format!("{} ({})", f.rating, f.score)).class(format!("rating {}", f.rating)),
                    Cell::text(f.comment.clone().unwrap_or_default()),
                    match f.ticket_id {
                        Some(t) => Cell::link(format!("#{t}"), format!("/tickets/{t}")),
                        None => Cell::text("relationship"),
                    },
                ]
            })
            .collect(),
        empty: if unsubscribed { "No answers; the customer asked for no surveys." } else { "No survey answers yet." },
        next: None,
    };
    let mut sections = vec![
        Section::Facts { title: None, facts },
        Section::Table { title: Some("Tickets".into()), table: tickets },
        Section::Table { title: Some("Feedback".into()), table: feedback },
    ];
    if caller.principal.may(Action::EditCustomers, None) {
        let tiers: Vec<&str> = Tier::ALL.iter().map(|t| t.as_str()).collect();
        let form = Form::new(
            "customer",
            format!("/customers/{}", c.id),
            "Save",
            vec![
                Field::required("name", "Name", &c.name),
                Field::typed("email", "Email", "email", &c.email),
                Field::text("phone", "Phone", c.phone.clone().unwrap_or_default()),
                Field::select(
                    "organization_id",
                    "Organization",
                    c.organization_id.map(|o| o.0.to_string()).unwrap_or_default(),
                    organization_options(state).await?,
                ),
                Field::select("tier", "Tier", c.tier.as_str(), words(&tiers)),
                Field::typed(
                    "annual_value",
                    "Value a year",
                    "number",
                    c.annual_value_cents.map(|v| format!("{:.2}", v as f64 / 100.0)).unwrap_or_default(),
                ),
                Field::text("tags", "Tags", c.tags.join(" ")),
                Field::text("time_zone", "Time zone", c.time_zone.clone().unwrap_or_default())
                    .hint("IANA, e.g. Europe/Berlin"),
            ],
        )
        .with_errors(errors);
        sections.push(Section::Form { title: Some("Edit".into()), form });
    }
    let title = if c.name.is_empty() { c.email.clone() } else { c.name.clone() };
    Page::new(shell, title, sections).notice(notice).after_form(errors)
}

async fn profile(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    caller.require(&state, Action::ViewCustomers).await?;
    let c = state.store.customer(CustomerId(id)).await?.ok_or(ApiError::NotFound)?;
    profile_page(&state, &caller, c, &[], n.notice).await
}

/// The edit form as the API's input.
fn input(form: &FormData) -> Result<CustomerInput, DomainError> {
    let optional = |name: &str| Some(Some(form.text(name)).filter(|v| !v.is_empty()));
    let value = match form.text("annual_value").as_str() {
        "" => None,
        v => Some(
            (v.parse::<f64>().map_err(|_| DomainError::new("annual_value", format!("'{v}' is not an amount")))? * 100.0)
                .round() as i64,
        ),
    };
    Ok(CustomerInput {
        name: Some(form.text("name")),
        email: Some(form.text("email")),
        phone: optional("phone"),
        organization_id: Some(form.number("organization_id")?),
        tier: Some(Tier::parse("tier", &form.text("tier"))?),
        annual_value_cents: Some(value),
        tags: Some(form.text("tags").split([' ', ',']).filter(|t| !t.is_empty()).map(str::to_string).collect()),
        time_zone: optional("time_zone"),
        ..Default::default()
    })
}

async fn save(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let current = state.store.customer(CustomerId(id)).await?.ok_or(ApiError::NotFound)?;
    let value = match input(&form) {
        Ok(v) => v,
        Err(e) => return profile_page(&state, &caller, current, &[e], None).await,
    };
    match update_customer(State(state.clone()), caller.clone(), Path(id), ApiJson { value, raw: Bytes::new() }).await {
        Ok(_) => Ok(see_other(&format!("/customers/{id}"), Some("Saved."))),
        Err(e) => {
            let errors = form_errors(e)?;
            profile_page(&state, &caller, current, &errors, None).await
        }
    }
}
