//! `/me`: the agent's own settings: status, notifications, password,
//! personal API tokens (the secret shown once), links to their macros.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use domain::{AgentStatus, DomainError, NotificationPrefs};

use super::parts::{form_errors, local_path, words};
use super::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, see_other};
use crate::AppState;
use crate::api::auth::{ChangePassword, change_password};
use crate::api::tokens::{CreateToken, create_token, revoke_token};
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(settings))
        .route("/me/status", post(set_status))
        .route("/me/preferences", post(set_preferences))
        .route("/me/password", post(set_password))
        .route("/me/tokens", post(new_token))
        .route("/me/tokens/{id}/revoke", post(revoke))
}

/// What the page shows besides its forms: a message, a new token's secret,
/// errors for one of its forms.
#[derive(Default)]
struct Extra {
    notice: Option<String>,
    secret: Option<String>,
    password_errors: Vec<DomainError>,
    token_errors: Vec<DomainError>,
}

async fn render_settings(state: &AppState, caller: &Caller, extra: Extra) -> Result<Response, PageError> {
    let user_id = caller.staff_id().ok_or(PageError::Api(ApiError::Forbidden))?;
    let user = state.store.user(user_id).await?.ok_or(ApiError::NotFound)?;
    let shell = Shell::new(state, caller, "/me").await?;
    let prefs = state.store.preferences(user_id).await?;
    let teams: Vec<String> = state
        .store
        .teams()
        .await?
        .into_iter()
        .filter(|t| t.member_ids.contains(&user_id) || t.lead_id == Some(user_id))
        .map(|t| t.name)
        .collect();
    let mut sections = vec![Section::Facts {
        title: None,
        facts: vec![
            ("Name".into(), Cell::text(&user.name)),
            ("Email".into(), Cell::text(&user.email)),
            ("Role".into(), Cell::text(user.role.as_str())),
            ("Teams".into(), Cell::text(if teams.is_empty() { "none".into() } else { teams.join(", ") })),
            ("Time zone".into(), Cell::text(user.time_zone.clone().unwrap_or_else(|| "the helpdesk's".into()))),
        ],
    }];
    if let Some(secret) = extra.secret {
        sections.push(Section::Secret {
            label: "Your new API token. Copy it now: it is not shown again.".into(),
            value: secret,
        });
    }
    let statuses: Vec<&str> = AgentStatus::ALL.iter().map(|s| s.as_str()).collect();
    sections.push(Section::Form {
        title: Some("Status".into()),
        form: Form::new(
            "status",
            "/me/status",
            "Set status",
            vec![
                Field::select("status", "I am", shell.status, words(&statuses))
                    .hint("Routing gives new work to agents who are online."),
                Field::hidden("back", "/me"),
            ],
        ),
    });
    sections.push(Section::Form {
        title: Some("Notifications".into()),
        form: Form::new(
            "prefs",
            "/me/preferences",
            "Save notifications",
            vec![
                Field::check("assigned_to_me", "A ticket is assigned to me", prefs.assigned_to_me),
                Field::check("customer_replied", "A customer writes on one of my tickets", prefs.customer_replied),
                Field::check("new_in_my_teams", "A new ticket arrives unassigned in my teams", prefs.new_in_my_teams),
                Field::check("desktop", "Also as desktop notifications", prefs.desktop)
                    .hint("Shown while the workspace is open; the browser asks once."),
            ]
            .into_iter()
            .chain((user.role == domain::Role::Manager).then(|| {
                Field::check("alert_mail", "Bottleneck and spike alerts by email too", prefs.alert_mail)
                    .hint("Alerts are always on the cockpit and in your notifications.")
            }))
            .collect(),
        ),
    });
    sections.push(Section::Form {
        title: Some("Change password".into()),
        form: Form::new(
            "password",
            "/me/password",
            "Change password",
            vec![
                Field::typed("current_password", "Current password", "password", ""),
                Field::typed("new_password", "New password", "password", "").hint("At least 10 characters."),
                Field::typed("repeat", "New password again", "password", ""),
            ],
        )
        .with_errors(&extra.password_errors),
    });
    let tokens = state.store.api_tokens(user_id).await?;
    sections.push(Section::Table {
        title: Some("API tokens".into()),
        table: super::Table {
            head: vec!["Name", "Created", "Last used", "State"],
            rows: tokens
                .iter()
                .map(|t| {
                    vec![
                        Cell::text(&t.name),
                        Cell::text(shell.when(t.created_at).text),
                        Cell::text(t.last_used_at.map(|u| shell.when(u).text).unwrap_or_else(|| "never".into())),
                        Cell::text(if t.revoked_at.is_some() { "revoked" } else { "active" }),
                    ]
                })
                .collect(),
            empty: "No tokens yet.",
            next: None,
        },
    });
    sections.push(Section::Form {
        title: None,
        form: Form::new(
            "token",
            "/me/tokens",
            "Create token",
            vec![Field::required("name", "What the token is for", "")],
        )
        .with_errors(&extra.token_errors),
    });
    for t in tokens.iter().filter(|t| t.revoked_at.is_none()) {
        sections.push(Section::Form {
            title: None,
            form: Form::new(
                &format!("revoke-{}", t.id),
                format!("/me/tokens/{}/revoke", t.id),
                &format!("Revoke “{}”", t.name),
                vec![],
            )
            .danger(),
        });
    }
    sections.push(Section::Links {
        title: Some("Also yours".into()),
        links: vec![Cell::link("My macros and canned responses", "/me/macros"), Cell::link("New view", "/views/new")],
    });
    let failed = !extra.password_errors.is_empty() || !extra.token_errors.is_empty();
    Page::new(shell, "My settings", sections).notice(extra.notice).respond(if failed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    })
}

async fn settings(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    render_settings(&state, &caller, Extra { notice: n.notice, ..Default::default() }).await
}

async fn set_status(
    State(state): State<AppState>,
    Staff(caller): Staff,
    form: FormData,
) -> Result<Response, PageError> {
    let status = AgentStatus::parse("status", &form.text("status")).map_err(ApiError::from)?;
    let user = caller.staff_id().ok_or(PageError::Api(ApiError::Forbidden))?;
    crate::background::set_status(state.store.as_ref(), user, status, state.now()).await?;
    Ok(see_other(&local_path(&form.text("back"), "/me"), None))
}

async fn set_preferences(
    State(state): State<AppState>,
    Staff(caller): Staff,
    form: FormData,
) -> Result<Response, PageError> {
    let user = caller.staff_id().ok_or(PageError::Api(ApiError::Forbidden))?;
    // Only managers are shown the alert mail box; the others keep theirs.
    let manager = state.store.user(user).await?.is_some_and(|u| u.role == domain::Role::Manager);
    let alert_mail = if manager { form.ticked("alert_mail") } else { state.store.preferences(user).await?.alert_mail };
    let prefs = NotificationPrefs {
        assigned_to_me: form.ticked("assigned_to_me"),
        customer_replied: form.ticked("customer_replied"),
        new_in_my_teams: form.ticked("new_in_my_teams"),
        desktop: form.ticked("desktop"),
        alert_mail,
    };
    state.store.set_preferences(user, &prefs).await?;
    Ok(see_other("/me", Some("Notifications saved.")))
}

async fn set_password(
    State(state): State<AppState>,
    Staff(caller): Staff,
    form: FormData,
) -> Result<Response, PageError> {
    let (new, repeat) = (form.get("new_password").unwrap_or_default(), form.get("repeat").unwrap_or_default());
    if new != repeat {
        let e = DomainError::new("repeat", "the two new passwords differ");
        return render_settings(&state, &caller, Extra { password_errors: vec![e], ..Default::default() }).await;
    }
    let input = ChangePassword {
        current_password: form.get("current_password").unwrap_or_default().into(),
        new_password: new.into(),
    };
    match change_password(State(state.clone()), caller.clone(), ApiJson { value: input, raw: Bytes::new() }).await {
        // Changing the password ends every session, this one too.
        Ok(_) => Ok(see_other("/login", Some("Your password was changed. Sign in with the new one."))),
        Err(e) => {
            let mut errors = form_errors(e)?;
            for e in errors.iter_mut().filter(|e| e.field == "password") {
                e.field = "new_password".into();
            }
            render_settings(&state, &caller, Extra { password_errors: errors, ..Default::default() }).await
        }
    }
}

async fn new_token(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    let input = CreateToken { name: form.text("name") };
    match create_token(State(state.clone()), caller.clone(), ApiJson { value: input, raw: Bytes::new() }).await {
        Ok((_, axum::Json(created))) => {
            render_settings(&state, &caller, Extra { secret: Some(created.token), ..Default::default() }).await
        }
        Err(e) => {
            let errors = form_errors(e)?;
            render_settings(&state, &caller, Extra { token_errors: errors, ..Default::default() }).await
        }
    }
}

async fn revoke(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    revoke_token(State(state), caller, Path(id)).await?;
    Ok(see_other("/me", Some("The token was revoked.")))
}
