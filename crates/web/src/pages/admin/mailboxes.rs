//! `/admin/mailboxes`: the addresses customers write to, the team each
//! routes to, the acknowledgement, the IMAP account and how fetching goes.
//! A new mailbox's push token is shown once.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use domain::policy::Action;
use domain::{DomainError, Mailbox, MailboxId};

use crate::AppState;
use crate::api::mailboxes::{ImapInput, MailboxInput, create_mailbox, update_mailbox};
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, IdempotencyHeader};
use crate::pages::parts::form_errors;
use crate::pages::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/mailboxes", get(list).post(create)).route("/admin/mailboxes/{id}", get(edit).post(save))
}

async fn team_options(state: &AppState) -> Result<Vec<(String, String)>, PageError> {
    let mut out = vec![(String::new(), "no team (general queue)".to_string())];
    out.extend(state.store.teams().await?.into_iter().map(|t| (t.id.0.to_string(), t.name)));
    Ok(out)
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    errors: &[DomainError],
    secret: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageMail).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let teams = team_options(state).await?;
    let mut rows = Vec::new();
    for m in state.store.mailboxes().await? {
        let fetch = match &m.imap {
            Some(i) => {
                let f = state.store.mailbox_fetch(m.id).await?;
                format!(
                    "IMAP {}: {}{}",
                    i.host,
                    f.state.as_str(),
                    f.last_error.map(|e| format!(" ({e})")).unwrap_or_default()
                )
            }
            None => "push or SMTP".into(),
        };
        let team = m
            .team_id
            .and_then(|t| teams.iter().find(|(id, _)| *id == t.0.to_string()))
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| "—".into());
        rows.push(vec![
            Cell::link(&m.address, format!("/admin/mailboxes/{}", m.id)),
            Cell::text(&m.name),
            Cell::text(team),
            Cell::text(fetch),
            Cell::text(if m.active { "active" } else { "off" }),
        ]);
    }
    let mut sections = Vec::new();
    if let Some(secret) = secret {
        sections.push(Section::Secret {
            label: "The mailbox's push token for POST /api/v1/inbound/email; copy it now, it is not shown again."
                .into(),
            value: secret,
        });
    }
    sections.push(Section::Table {
        title: None,
        table: Table {
            head: vec!["Address", "Name", "Team", "Mail arrives by", "State"],
            rows,
            empty: "No mailboxes yet.",
            next: None,
        },
    });
    let form = Form::new(
        "new-mailbox",
        "/admin/mailboxes",
        "Create mailbox",
        vec![
            Field::typed("address", "Address", "email", ""),
            Field::required("name", "Name", ""),
            Field::select("team_id", "Routes to", "", teams),
        ],
    )
    .with_errors(errors);
    sections.push(Section::Form { title: Some("New mailbox".into()), form });
    Page::new(shell, "Mailboxes", sections).notice(notice).after_form(errors)
}

async fn list(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    list_page(&state, &caller, &[], None, n.notice).await
}

async fn create(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    let team = match form.number("team_id") {
        Ok(t) => t,
        Err(e) => return list_page(&state, &caller, &[e], None, None).await,
    };
    let value = MailboxInput {
        address: Some(form.text("address")),
        name: Some(form.text("name")),
        team_id: Some(team),
        ..Default::default()
    };
    match create_mailbox(
        State(state.clone()),
        caller.clone(),
        IdempotencyHeader(None),
        ApiJson { value, raw: Bytes::new() },
    )
    .await
    {
        Ok((_, axum::Json(made))) => {
            let notice = Some(format!("{} was created.", made.mailbox.address));
            list_page(&state, &caller, &[], Some(made.push_token), notice).await
        }
        Err(e) => {
            let errors = form_errors(e)?;
            list_page(&state, &caller, &errors, None, None).await
        }
    }
}

async fn edit_page(
    state: &AppState,
    caller: &Caller,
    m: Mailbox,
    errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageMail).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let imap = m.imap.clone();
    let form = Form::new(
        "mailbox",
        format!("/admin/mailboxes/{}", m.id),
        "Save",
        vec![
            Field::required("name", "Name", &m.name),
            Field::select("team_id", "Routes to", m.team_id.map(|t| t.0.to_string()).unwrap_or_default(), team_options(state).await?),
            Field::check("active", "Receives mail", m.active),
            Field::area("auto_reply", "Acknowledgement", m.auto_reply.clone().unwrap_or_default(), 5)
                .hint("Mailed for each new ticket; empty sends none. Placeholders: {{ customer.first_name }}, {{ ticket.number }}, {{ ticket.subject }}."),
            Field::text("imap_host", "IMAP server", imap.as_ref().map(|i| i.host.clone()).unwrap_or_default()).hint("Empty: mail is pushed or received by SMTP."),
            Field::typed("imap_port", "IMAP port", "number", imap.as_ref().map(|i| i.port.to_string()).unwrap_or_default()),
            Field::text("imap_username", "IMAP user", imap.as_ref().map(|i| i.username.clone()).unwrap_or_default()),
            Field::typed("imap_password", "IMAP password", "password", "").hint("Stored, never shown; empty keeps the stored one."),
            Field::text("imap_folder", "IMAP folder", imap.as_ref().map(|i| i.folder.clone()).unwrap_or_else(|| "INBOX".into())),
        ],
    )
    .with_errors(errors);
    let sections = vec![
        Section::Form { title: None, form },
        Section::Links { title: None, links: vec![Cell::link("All mailboxes", "/admin/mailboxes")] },
    ];
    Page::new(shell, m.address.clone(), sections).notice(notice).after_form(errors)
}

async fn edit(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let m = state.store.mailbox(MailboxId(id)).await?.ok_or(ApiError::NotFound)?;
    edit_page(&state, &caller, m, &[], n.notice).await
}

/// The form's IMAP part: none when the server is empty.
fn imap(form: &FormData, current: &Mailbox) -> Result<Option<ImapInput>, DomainError> {
    let host = form.text("imap_host");
    if host.is_empty() {
        return Ok(None);
    }
    let port = match form.number("imap_port")? {
        Some(p) => Some(u16::try_from(p).map_err(|_| DomainError::new("imap_port", "must be 1 to 65535"))?),
        None => None,
    };
    let password = Some(form.text("imap_password")).filter(|p| !p.is_empty());
    let previous = current.imap.clone();
    Ok(Some(ImapInput {
        host,
        port,
        security: previous.as_ref().map(|p| p.security),
        username: form.text("imap_username"),
        password,
        folder: Some(form.text("imap_folder")).filter(|f| !f.is_empty()),
        after_fetch: previous.as_ref().map(|p| p.after_fetch),
        move_to: previous.as_ref().and_then(|p| p.move_to.clone()),
        poll_seconds: previous.as_ref().map(|p| p.poll_seconds),
    }))
}

async fn save(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let current = state.store.mailbox(MailboxId(id)).await?.ok_or(ApiError::NotFound)?;
    let parsed = form.number("team_id").and_then(|team| Ok((team, imap(&form, &current)?)));
    let (team, imap) = match parsed {
        Ok(v) => v,
        Err(e) => return edit_page(&state, &caller, current, &[e], None).await,
    };
    let auto_reply = form.get("auto_reply").unwrap_or_default().trim().to_string();
    let value = MailboxInput {
        name: Some(form.text("name")),
        team_id: Some(team),
        active: Some(form.ticked("active")),
        auto_reply: Some(Some(auto_reply).filter(|a| !a.is_empty())),
        imap: Some(imap),
        ..Default::default()
    };
    match update_mailbox(State(state.clone()), caller.clone(), Path(id), ApiJson { value, raw: Bytes::new() }).await {
        Ok(_) => Ok(see_other(&format!("/admin/mailboxes/{id}"), Some("Saved."))),
        Err(e) => {
            let mut errors = form_errors(e)?;
            for e in errors.iter_mut() {
                if let Some(rest) = e.field.strip_prefix("imap.") {
                    e.field = format!("imap_{rest}");
                }
            }
            edit_page(&state, &caller, current, &errors, None).await
        }
    }
}
