//! The manager's service pages: `/escalations` (the queue, with a form to
//! record each outcome), `/approvals` (to decide, and export as CSV),
//! `/incidents` (active and past major incidents, solved in one step), and
//! everyone's `/notifications`.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use domain::rules::{ApprovalState, EscalationState};

use crate::AppState;
use crate::api::approvals::money;
use crate::api::approvals::{ApprovalFilter, DecisionInput};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::pages::parts::form_errors;
use crate::pages::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/escalations", get(escalations).post(resolve))
        .route("/approvals", get(approvals).post(decide))
        .route("/incidents", get(incidents).post(solve))
        .route("/notifications", get(notifications).post(read_all))
}

async fn escalations_page(
    state: &AppState,
    caller: &Caller,
    errors: &[domain::DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    let shell = Shell::new(state, caller, "/escalations").await?;
    let open = crate::api::escalations::visible(state, caller, Some(EscalationState::Open), None).await?;
    let done = crate::api::escalations::visible(state, caller, Some(EscalationState::Resolved), None).await?;
    let row = |e: &domain::rules::Escalation| {
        vec![
            Cell::link(format!("#{}", e.ticket_id), format!("/tickets/{}", e.ticket_id)),
            Cell::text(e.tier.as_str()),
            Cell::text(e.source.as_str().replace('_', " ")),
            Cell::text(&e.reason),
            Cell::text(shell.when(e.created_at).text),
            Cell::text(e.outcome.clone().unwrap_or_default()),
        ]
    };
    let mut sections = vec![Section::Table {
        title: Some("Open".into()),
        table: Table {
            head: vec!["Ticket", "To", "Why", "Reason", "Raised", "Outcome"],
            rows: open.iter().map(row).collect(),
            empty: "Nothing escalated.",
            next: None,
        },
    }];
    if !open.is_empty() && caller.require(state, domain::Action::ManageServiceRules).await.is_ok() {
        let options = open.iter().map(|e| (e.id.0.to_string(), format!("#{} — {}", e.ticket_id, e.reason))).collect();
        let form = Form::new(
            "resolve",
            "/escalations",
            "Record the outcome",
            vec![
                Field::select("escalation_id", "Escalation", "", options),
                Field::required("outcome", "What was done", ""),
            ],
        )
        .with_errors(errors);
        sections.push(Section::Form { title: Some("Resolve".into()), form });
    }
    sections.push(Section::Table {
        title: Some("Resolved".into()),
        table: Table {
            head: vec!["Ticket", "To", "Why", "Reason", "Raised", "Outcome"],
            rows: done.iter().take(50).map(row).collect(),
            empty: "None yet.",
            next: None,
        },
    });
    Page::new(shell, "Escalations", sections).notice(notice).after_form(errors)
}

async fn escalations(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    escalations_page(&state, &caller, &[], n.notice).await
}

async fn resolve(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    let id = form.number("escalation_id").ok().flatten().ok_or(ApiError::NotFound)?;
    match crate::api::escalations::resolve(&state, &caller, id, &form.text("outcome")).await {
        Ok(_) => Ok(see_other("/escalations", Some("Recorded; whoever escalated it is told."))),
        Err(e) => {
            let errors = form_errors(e)?;
            escalations_page(&state, &caller, &errors, None).await
        }
    }
}

async fn approvals_page(
    state: &AppState,
    caller: &Caller,
    errors: &[domain::DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    let shell = Shell::new(state, caller, "/approvals").await?;
    let all = crate::api::approvals::visible(state, caller, &ApprovalFilter { state: None, ticket_id: None }).await?;
    let rows = all
        .iter()
        .take(200)
        .map(|a| {
            vec![
                Cell::link(format!("#{}", a.ticket_id), format!("/tickets/{}", a.ticket_id)),
                Cell::text(a.kind.as_str()),
                Cell::text(format!("{} {}", money(a.amount_minor), a.currency)),
                Cell::text(&a.reason),
                Cell::text(a.state.as_str()),
                Cell::text(a.decision_reason.clone().unwrap_or_default()),
                Cell::text(shell.when(a.created_at).text),
            ]
        })
        .collect();
    let mut sections = vec![
        Section::Table {
            title: None,
            table: Table {
                head: vec!["Ticket", "Kind", "Amount", "Reason", "State", "Decision", "Asked"],
                rows,
                empty: "No requests.",
                next: None,
            },
        },
        Section::Links { title: None, links: vec![Cell::link("Download as CSV", "/api/v1/approvals.csv")] },
    ];
    let pending: Vec<_> = all.iter().filter(|a| a.state == ApprovalState::Pending).collect();
    if !pending.is_empty() && caller.require(state, domain::Action::ManageServiceRules).await.is_ok() {
        let options = pending
            .iter()
            .map(|a| {
                (
                    a.id.0.to_string(),
                    format!("#{} {} {} {} — {}", a.ticket_id, a.kind, money(a.amount_minor), a.currency, a.reason),
                )
            })
            .collect();
        let choices =
            vec![("approve".to_string(), "Approve".to_string()), ("reject".to_string(), "Reject".to_string())];
        let form = Form::new(
            "decide",
            "/approvals",
            "Decide",
            vec![
                Field::select("approval_id", "Request", "", options),
                Field::select("decision", "Decision", "approve", choices),
                Field::required("reason", "Reason (the agent sees it)", ""),
            ],
        )
        .with_errors(errors);
        sections.push(Section::Form { title: Some("Decide".into()), form });
    }
    Page::new(shell, "Approvals", sections).notice(notice).after_form(errors)
}

async fn approvals(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    approvals_page(&state, &caller, &[], n.notice).await
}

async fn decide(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    let id = form.number("approval_id").ok().flatten().ok_or(ApiError::NotFound)?;
    let input = DecisionInput { approve: form.text("decision") == "approve", reason: form.text("reason") };
    match crate::api::approvals::decide(&state, &caller, id, &input).await {
        Ok(a) => Ok(see_other("/approvals", Some(&format!("{}; the agent is told.", a.state)))),
        Err(ApiError::Conflict { message, .. }) => Ok(see_other("/approvals", Some(&message))),
        Err(e) => {
            let errors = form_errors(e)?;
            approvals_page(&state, &caller, &errors, None).await
        }
    }
}

async fn incidents_page(
    state: &AppState,
    caller: &Caller,
    errors: &[domain::DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    let shell = Shell::new(state, caller, "/incidents").await?;
    let all = state.store.major_incidents(false).await.map_err(ApiError::from)?;
    let rows = all
        .iter()
        .map(|m| {
            let matching = [m.matching.words.join(", "), m.matching.tags.join(", ")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" / ");
            vec![
                Cell::link(format!("#{} {}", m.problem_id, m.title), format!("/tickets/{}", m.problem_id)),
                Cell::text(if m.active { "active" } else { "over" }),
                Cell::text(m.linked.to_string()),
                Cell::text(matching),
            ]
        })
        .collect();
    let mut sections = vec![Section::Table {
        title: None,
        table: Table {
            head: vec!["Problem", "State", "Linked incidents", "Links new tickets on"],
            rows,
            empty: "No major incidents.",
            next: None,
        },
    }];
    let active: Vec<_> = all.iter().filter(|m| m.active).collect();
    if !active.is_empty() {
        let options =
            active.iter().map(|m| (m.problem_id.0.to_string(), format!("#{} {}", m.problem_id, m.title))).collect();
        let form = Form::new(
            "solve",
            "/incidents",
            "Reply to all and solve",
            vec![
                Field::select("problem_id", "Major incident", "", options),
                Field::area("reply", "The reply every linked ticket gets", "", 5),
            ],
        )
        .with_errors(errors);
        sections.push(Section::Form { title: Some("Solve".into()), form });
    }
    if caller.require(state, domain::Action::ManageServiceRules).await.is_ok() {
        let rules = jobs::surge::surge_rules(state.store.as_ref()).await.map_err(ApiError::from)?;
        let surges = jobs::surge::surges(state.store.as_ref(), &rules, state.now()).await.map_err(ApiError::from)?;
        let rows = surges
            .iter()
            .map(|s| vec![Cell::text(&s.tag), Cell::text(s.recent.to_string()), Cell::text(format!("{}×", s.ratio))])
            .collect();
        sections.push(Section::Table {
            title: Some(format!("Surges now (last {} minutes)", rules.window_minutes)),
            table: Table { head: vec!["Tag", "Tickets", "Against usual"], rows, empty: "Nothing unusual.", next: None },
        });
    }
    Page::new(shell, "Major incidents", sections).notice(notice).after_form(errors)
}

async fn incidents(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    incidents_page(&state, &caller, &[], n.notice).await
}

async fn solve(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    let id = form.number("problem_id").ok().flatten().ok_or(ApiError::NotFound)?;
    match crate::api::incidents::solve(&state, &caller, id, &form.text("reply")).await {
        Ok(o) => Ok(see_other("/incidents", Some(&format!("{} linked tickets answered and solved.", o.changed)))),
        Err(ApiError::Conflict { message, .. }) => Ok(see_other("/incidents", Some(&message))),
        Err(e) => {
            let errors = form_errors(e)?;
            incidents_page(&state, &caller, &errors, None).await
        }
    }
}

async fn notifications(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &caller, "/notifications").await?;
    let me = caller.staff_id().ok_or(ApiError::Forbidden)?;
    let list = state.store.notifications(me, false, 100).await.map_err(ApiError::from)?;
    let rows = list
        .iter()
        .map(|n| {
            let text = match n.ticket_id {
                Some(t) => Cell::link(&n.text, format!("/tickets/{t}")),
                None => Cell::text(&n.text),
            };
            vec![
                text,
                Cell::text(&n.kind),
                Cell::text(shell.when(n.created_at).text),
                Cell::text(if n.read_at.is_some() { "" } else { "new" }),
            ]
        })
        .collect();
    let sections = vec![
        Section::Table {
            title: None,
            table: Table { head: vec!["Notice", "About", "When", ""], rows, empty: "Nothing yet.", next: None },
        },
        Section::Form { title: None, form: Form::new("read", "/notifications", "Mark all read", vec![]) },
    ];
    Page::new(shell, "Notifications", sections).notice(n.notice).respond(axum::http::StatusCode::OK)
}

async fn read_all(State(state): State<AppState>, Staff(caller): Staff) -> Result<Response, PageError> {
    let me = caller.staff_id().ok_or(ApiError::Forbidden)?;
    state.store.mark_notifications_read(me, state.now()).await.map_err(ApiError::from)?;
    Ok(see_other("/notifications", Some("All read.")))
}
