//! `/admin/settings`: the helpdesk's name and the time zone times are shown in.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use domain::policy::Action;
use domain::{DomainError, InstanceSettings};

use crate::AppState;
use crate::api::settings::put_settings;
use crate::extract::{ApiJson, Caller};
use crate::pages::parts::form_errors;
use crate::pages::{Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, see_other};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/settings", get(show).post(save))
}

async fn page(
    state: &AppState,
    caller: &Caller,
    s: InstanceSettings,
    errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageSettings).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let form = Form::new(
        "settings",
        "/admin/settings",
        "Save settings",
        vec![
            Field::required("helpdesk_name", "Helpdesk name", s.helpdesk_name),
            Field::required("time_zone", "Time zone", s.time_zone)
                .hint("IANA name, e.g. Europe/Berlin; staff who set their own see theirs."),
        ],
    )
    .with_errors(errors);
    Page::new(shell, "Settings", vec![Section::Form { title: None, form }]).notice(notice).after_form(errors)
}

async fn show(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let s = state.store.instance_settings().await?;
    page(&state, &caller, s, &[], n.notice).await
}

async fn save(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    let value = InstanceSettings { helpdesk_name: form.text("helpdesk_name"), time_zone: form.text("time_zone") };
    match put_settings(State(state.clone()), caller.clone(), ApiJson { value: value.clone(), raw: Bytes::new() }).await
    {
        Ok(_) => Ok(see_other("/admin/settings", Some("Settings saved."))),
        Err(e) => {
            let errors = form_errors(e)?;
            page(&state, &caller, value, &errors, None).await
        }
    }
}
