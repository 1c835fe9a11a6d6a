//! `/admin/jobs`: background jobs that failed for good (the dead letters),
//! with why, and a retry for each; and what is queued or running.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use domain::JobStatus;
use domain::policy::Action;
use store::PageRequest;

use crate::AppState;
use crate::api::jobs::retry;
use crate::pages::{Cell, Form, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/jobs", get(list)).route("/admin/jobs/{id}/retry", post(retry_one))
}

async fn list(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    caller.require(&state, Action::ManageJobs).await?;
    let shell = Shell::new(&state, &caller, "/admin").await?;
    let page = |status| state.store.jobs(Some(status), PageRequest { after: None, limit: 100 });
    let dead = page(JobStatus::Dead).await?.items;
    let mut waiting = page(JobStatus::Running).await?.items;
    waiting.extend(page(JobStatus::Queued).await?.items);
    let row = |j: &domain::Job, when: i64| {
        vec![
            Cell::text(j.id.0.to_string()),
            Cell::text(&j.kind),
            Cell::text(j.attempts.to_string()),
            Cell::text(j.last_error.clone().unwrap_or_else(|| "—".into())),
            Cell::text(shell.when(when).text),
        ]
    };
    let mut sections = vec![Section::Table {
        title: Some("Failed for good".into()),
        table: Table {
            head: vec!["Job", "Kind", "Attempts", "Last error", "Failed"],
            rows: dead.iter().map(|j| row(j, j.finished_at.unwrap_or(j.run_at))).collect(),
            empty: "No job has failed for good.",
            next: None,
        },
    }];
    for j in &dead {
        sections.push(Section::Form {
            title: None,
            form: Form::new(
                &format!("retry-{}", j.id),
                format!("/admin/jobs/{}/retry", j.id),
                &format!("Retry job {}", j.id),
                vec![],
            ),
        });
    }
    sections.push(Section::Table {
        title: Some("Queued and running".into()),
        table: Table {
            head: vec!["Job", "Kind", "Attempts", "Last error", "Runs at"],
            rows: waiting.iter().map(|j| row(j, j.run_at)).collect(),
            empty: "Nothing is waiting.",
            next: None,
        },
    });
    Page::new(shell, "Background jobs", sections).notice(n.notice).respond(axum::http::StatusCode::OK)
}

async fn retry_one(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let _ = retry(State(state), caller, Path(id)).await?;
    Ok(see_other("/admin/jobs", Some(&format!("Job {id} is queued again."))))
}
