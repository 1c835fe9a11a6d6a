//! `/admin`: configuring the department. Admins see everything; managers
//! see the people and teams they lead (and change who is in those teams).

mod calendars;
mod feedback;
mod fields;
mod jobs;
mod mailboxes;
mod routing;
mod rule_settings;
mod rules;
mod settings;
mod sla;
mod teams;
mod users;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use domain::{Principal, Role};

use super::{Cell, Page, PageError, Section, Shell, Staff};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::Caller;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(index))
        .merge(users::router())
        .merge(teams::router())
        .merge(mailboxes::router())
        .merge(fields::router())
        .merge(settings::router())
        .merge(jobs::router())
        .merge(calendars::router())
        .merge(sla::router())
        .merge(rules::router())
        .merge(routing::router())
        .merge(rule_settings::router())
        .merge(feedback::router())
}

/// Who is in the admin area: admins, or a manager (their teams only).
pub(crate) enum Reach {
    All,
    /// A manager: the teams they lead.
    Led(Vec<domain::TeamId>),
}

pub(crate) fn reach(caller: &Caller) -> Result<Reach, PageError> {
    match &caller.principal {
        Principal::Staff(s) if s.role == Role::Admin => Ok(Reach::All),
        Principal::Staff(s) if s.role == Role::Manager => Ok(Reach::Led(s.led_team_ids.clone())),
        _ => Err(PageError::Api(ApiError::Forbidden)),
    }
}

async fn index(State(state): State<AppState>, Staff(caller): Staff) -> Result<Response, PageError> {
    let all = matches!(reach(&caller)?, Reach::All);
    let shell = Shell::new(&state, &caller, "/admin").await?;
    let mut links = vec![
        Cell::link("Users and roles", "/admin/users"),
        Cell::link("Teams and members", "/admin/teams"),
        Cell::link("SLA policies", "/admin/sla"),
        Cell::link("Business hours", "/admin/calendars"),
        Cell::link("Routing", "/admin/routing"),
        Cell::link("Triggers", "/admin/rules/triggers"),
        Cell::link("Automations", "/admin/rules/automations"),
        Cell::link("Priority, escalation, approval and surge settings", "/admin/rule-settings"),
        Cell::link("Surveys, topics, the digest and Slack", "/admin/feedback"),
        Cell::link("Escalation queue", "/escalations"),
        Cell::link("Approvals", "/approvals"),
        Cell::link("Major incidents", "/incidents"),
    ];
    if all {
        links.extend([
            Cell::link("Mailboxes", "/admin/mailboxes"),
            Cell::link("Custom fields", "/admin/fields"),
            Cell::link("Shared macros and canned responses", "/admin/macros"),
            Cell::link("Settings", "/admin/settings"),
            Cell::link("Background jobs", "/admin/jobs"),
        ]);
    }
    let title = if all { "Admin" } else { "My teams" };
    Page::new(shell, title, vec![Section::Links { title: None, links }]).respond(StatusCode::OK)
}
