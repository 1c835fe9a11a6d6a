//! `/admin`: configuring the department. Admins see everything; managers
//! see the people and teams they lead (and change who is in those teams).

mod calendars;
mod feedback;
mod fields;
mod jobs;
mod kpis;
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
        .merge(kpis::router())
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
        Cell::link("KPI targets, costs and staffing", "/admin/kpis"),
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

/// A settings document that came back: its key, the text sent, its errors.
pub(crate) type FailedDocument<'a> = Option<(&'a str, String, Vec<domain::DomainError>)>;

/// One form per JSON settings document (`docs`: key and title; `current`:
/// each one's stored text), posting to `{action}/{key}`; the one that came
/// back shows what was sent and its errors, which are returned too.
pub(crate) fn document_forms(
    action: &str,
    docs: &[(&str, &str)],
    current: Vec<String>,
    failed: &FailedDocument<'_>,
) -> (Vec<Section>, Vec<domain::DomainError>) {
    use domain::DomainError;
    let mut shown = Vec::new();
    let sections = docs
        .iter()
        .zip(current)
        .map(|((key, title), value)| {
            let (value, errors) = match failed {
                Some((k, raw, errs)) if k == key => {
                    shown.extend(errs.iter().cloned());
                    (raw.clone(), errs.clone())
                }
                _ => (value, vec![]),
            };
            let errors: Vec<DomainError> =
                errors.iter().map(|e| DomainError::new("document", format!("{}: {}", e.field, e.message))).collect();
            let form = super::Form::new(
                key,
                format!("{action}/{key}"),
                "Save",
                vec![super::Field::area("document", title, value, 14)],
            )
            .with_errors(&errors);
            Section::Form { title: Some((*title).to_string()), form }
        })
        .collect();
    (sections, shown)
}
