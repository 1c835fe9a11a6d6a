//! `/mailboxes`: the addresses customers write to, each routed to a team,
//! with the token a mail provider uses to push raw mail.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::policy::Action;
use domain::{AfterFetch, DomainError, EmailAddress, ImapSecurity, ImapSettings, Mailbox, MailboxId, TeamId};
use serde::{Deserialize, Serialize};
use store::MailboxFetch;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::accounts::{hash_token, random_secret};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller, IdempotencyHeader};

/// Prefix of mailbox push tokens.
pub const MAILBOX_TOKEN_PREFIX: &str = "sbm_";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_mailboxes, create_mailbox))
        .routes(routes!(get_mailbox, update_mailbox))
        .routes(routes!(rotate_token))
        .routes(routes!(fetch_status))
}

/// On create `address` and `name` are required.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailboxInput {
    pub address: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<Option<i64>>,
    pub active: Option<bool>,
    /// The acknowledgement mailed for each new ticket (a template:
    /// `{{ticket.number}}`, `{{ticket.subject}}`, `{{customer.name}}`,
    /// `{{customer.first_name}}`, `{{customer.email}}`, `{{mailbox.name}}`);
    /// null or empty turns it off.
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>)]
    pub auto_reply: Option<Option<String>>,
    /// The IMAP account its mail is fetched from; null stops fetching.
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<ImapInput>)]
    pub imap: Option<Option<ImapInput>>,
}

/// An IMAP account. The password is kept and never shown; leave it out to
/// keep the stored one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapInput {
    pub host: String,
    /// 993 with `tls`, else 143.
    pub port: Option<u16>,
    /// `tls` (default), `starttls` or `plain`.
    pub security: Option<ImapSecurity>,
    pub username: String,
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// Default `INBOX`.
    pub folder: Option<String>,
    /// `seen` (default) or `move`.
    pub after_fetch: Option<AfterFetch>,
    /// With `after_fetch: move`: where to.
    pub move_to: Option<String>,
    /// For servers without IDLE; default 60.
    pub poll_seconds: Option<u32>,
}

/// The IMAP account's settings from the input, or the field problems.
fn imap_settings(i: &ImapInput, stored_password: Option<&str>) -> Result<(ImapSettings, String), Vec<DomainError>> {
    let mut errors = Vec::new();
    let text = |field: &str, v: &str, errors: &mut Vec<DomainError>| {
        let v = v.trim();
        if v.is_empty() || v.len() > 255 || v.chars().any(char::is_control) {
            errors.push(DomainError::new(field, "must be 1 to 255 characters, no control characters"));
        }
        v.to_string()
    };
    let host = text("imap.host", &i.host, &mut errors);
    let username = text("imap.username", &i.username, &mut errors);
    let folder = text("imap.folder", i.folder.as_deref().unwrap_or("INBOX"), &mut errors);
    let security = i.security.unwrap_or(ImapSecurity::Tls);
    let after_fetch = i.after_fetch.unwrap_or(AfterFetch::Seen);
    let move_to = i.move_to.as_deref().map(|m| text("imap.move_to", m, &mut errors));
    if after_fetch == AfterFetch::Move && move_to.is_none() {
        errors.push(DomainError::new("imap.move_to", "is required with after_fetch: move"));
    }
    let password = match (i.password.as_deref(), stored_password) {
        (Some(p), _) if !p.is_empty() && p.len() <= 1024 => p.to_string(),
        (Some(_), _) => {
            errors.push(DomainError::new("imap.password", "must be 1 to 1024 characters"));
            String::new()
        }
        (None, Some(p)) => p.to_string(),
        (None, None) => {
            errors.push(DomainError::new("imap.password", "is required"));
            String::new()
        }
    };
    let poll_seconds = i.poll_seconds.unwrap_or(60);
    if !(5..=86_400).contains(&poll_seconds) {
        errors.push(DomainError::new("imap.poll_seconds", "must be between 5 and 86400"));
    }
    let port = i.port.unwrap_or(if security == ImapSecurity::Tls { 993 } else { 143 });
    if port == 0 {
        errors.push(DomainError::new("imap.port", "must not be 0"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((ImapSettings { host, port, security, username, folder, after_fetch, move_to, poll_seconds }, password))
}

/// Longest auto-reply template.
const AUTO_REPLY_MAX: usize = 10_000;

/// A mailbox with its push token, shown once (on create and rotation).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MailboxWithToken {
    pub mailbox: Mailbox,
    /// For `POST /inbound/email` (`Authorization: Bearer sbm_…`).
    pub push_token: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MailboxList {
    pub mailboxes: Vec<Mailbox>,
}

fn new_token() -> (String, String) {
    let token = format!("{MAILBOX_TOKEN_PREFIX}{}", random_secret());
    let hash = hash_token(&token);
    (token, hash)
}

/// Applies the input to the mailbox, checking every field (the API and
/// the configuration file both go through here).
pub async fn apply(store: &dyn store::Store, m: &mut Mailbox, input: &MailboxInput) -> ApiResult<()> {
    let mut errors = Vec::new();
    if let Some(a) = &input.address {
        match EmailAddress::parse(a) {
            Ok(a) if a.as_str().contains('+') => {
                errors.push(DomainError::new("address", "must not contain '+': it carries reply tokens"));
            }
            Ok(a) => m.address = a.as_str().to_string(),
            Err(e) => errors.push(DomainError::new("address", e.message)),
        }
    }
    if let Some(n) = &input.name {
        match domain::directory::parse_name("name", n) {
            Ok(n) => m.name = n,
            Err(e) => errors.push(e),
        }
    }
    if let Some(team) = input.team_id {
        if let Some(t) = team
            && store.team(TeamId(t)).await?.is_none()
        {
            errors.push(DomainError::new("team_id", format!("team {t} does not exist")));
        }
        m.team_id = team.map(TeamId);
    }
    if let Some(a) = input.active {
        m.active = a;
    }
    if let Some(template) = &input.auto_reply {
        let template = template.as_deref().map(str::trim).filter(|t| !t.is_empty());
        match template {
            Some(t) if t.len() > AUTO_REPLY_MAX => {
                errors.push(DomainError::new("auto_reply", format!("must be at most {AUTO_REPLY_MAX} bytes")));
            }
            Some(t) => match mail::auto_reply::check(t) {
                Ok(()) => m.auto_reply = Some(t.to_string()),
                Err(e) => errors.push(DomainError::new("auto_reply", format!("template error: {e}"))),
            },
            None => m.auto_reply = None,
        }
    }
    match &input.imap {
        Some(Some(i)) => match imap_settings(i, m.imap_password.as_deref()) {
            Ok((settings, password)) => {
                m.imap = Some(settings);
                m.imap_password = Some(password);
            }
            Err(e) => errors.extend(e),
        },
        Some(None) => {
            m.imap = None;
            m.imap_password = None;
        }
        None => {}
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Invalid(errors)) }
}

#[utoipa::path(post, path = "/mailboxes", tag = "mail", request_body = MailboxInput,
    responses((status = 201, body = MailboxWithToken), (status = 403), (status = 409), (status = 422)))]
pub async fn create_mailbox(
    State(state): State<AppState>,
    caller: Caller,
    idem: IdempotencyHeader,
    body: ApiJson<MailboxInput>,
) -> ApiResult<(StatusCode, Json<MailboxWithToken>)> {
    caller.require(&state, Action::ManageMail).await?;
    let input = &body.value;
    let mut missing = Vec::new();
    if input.address.is_none() {
        missing.push(DomainError::new("address", "is required"));
    }
    if input.name.is_none() {
        missing.push(DomainError::new("name", "is required"));
    }
    if !missing.is_empty() {
        return Err(ApiError::Invalid(missing));
    }
    let now = state.now();
    let mut m = Mailbox::blank(now);
    apply(state.store.as_ref(), &mut m, input).await?;
    let (token, hash) = new_token();
    let created = state.store.create_mailbox(m, &hash, idem.key(&caller, "mailboxes", &body.raw)).await?;
    if created.replayed {
        return Err(ApiError::Conflict {
            code: "replayed",
            message: "this mailbox was created by an earlier request; rotate its token to get a new one".into(),
        });
    }
    let mailbox = state.store.mailbox(created.id).await?.ok_or(ApiError::NotFound)?;
    state
        .audit(
            &caller.label(),
            "mailbox.create",
            &format!("mailbox:{}", mailbox.id),
            true,
            serde_json::json!({ "address": mailbox.address }),
        )
        .await;
    Ok((StatusCode::CREATED, Json(MailboxWithToken { mailbox, push_token: token })))
}

#[utoipa::path(get, path = "/mailboxes", tag = "mail", responses((status = 200, body = MailboxList), (status = 403)))]
pub async fn list_mailboxes(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<MailboxList>> {
    caller.require(&state, Action::ManageMail).await?;
    Ok(Json(MailboxList { mailboxes: state.store.mailboxes().await? }))
}

#[utoipa::path(get, path = "/mailboxes/{id}", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = Mailbox), (status = 404)))]
pub async fn get_mailbox(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Mailbox>> {
    caller.require(&state, Action::ManageMail).await?;
    Ok(Json(state.store.mailbox(MailboxId(id)).await?.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(patch, path = "/mailboxes/{id}", tag = "mail", params(("id" = i64, Path)), request_body = MailboxInput,
    responses((status = 200, body = Mailbox), (status = 404), (status = 409), (status = 422)))]
pub async fn update_mailbox(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<MailboxInput>,
) -> ApiResult<Json<Mailbox>> {
    caller.require(&state, Action::ManageMail).await?;
    let mut m = state.store.mailbox(MailboxId(id)).await?.ok_or(ApiError::NotFound)?;
    apply(state.store.as_ref(), &mut m, &body.value).await?;
    m.updated_at = state.now();
    state.store.update_mailbox(&m).await?;
    state
        .audit(
            &caller.label(),
            "mailbox.update",
            &format!("mailbox:{id}"),
            true,
            serde_json::to_value(&body.value).unwrap_or_default(),
        )
        .await;
    Ok(Json(m))
}

/// Replaces the push token; the old one stops working at once.
#[utoipa::path(post, path = "/mailboxes/{id}/token", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = MailboxWithToken), (status = 404)))]
pub async fn rotate_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<MailboxWithToken>> {
    caller.require(&state, Action::ManageMail).await?;
    let (token, hash) = new_token();
    state.store.set_mailbox_token(MailboxId(id), &hash).await?;
    let mailbox = state.store.mailbox(MailboxId(id)).await?.ok_or(ApiError::NotFound)?;
    state.audit(&caller.label(), "mailbox.rotate_token", &format!("mailbox:{id}"), true, serde_json::Value::Null).await;
    Ok(Json(MailboxWithToken { mailbox, push_token: token }))
}

/// Where fetching the mailbox's IMAP folder stands: the last UID filed,
/// health (`new`, `ok`, `failing` with the error and the next try).
#[utoipa::path(get, path = "/mailboxes/{id}/fetch", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = MailboxFetch), (status = 404)))]
pub async fn fetch_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<MailboxFetch>> {
    caller.require(&state, Action::ManageMail).await?;
    state.store.mailbox(MailboxId(id)).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(state.store.mailbox_fetch(MailboxId(id)).await?))
}
