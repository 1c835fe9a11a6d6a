//! `/mailboxes`: the addresses customers write to, each routed to a team,
//! with the token a mail provider uses to push raw mail.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::policy::Action;
use domain::{DomainError, EmailAddress, Mailbox, MailboxId, TeamId};
use serde::{Deserialize, Serialize};
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
}

/// On create `address` and `name` are required.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
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

async fn apply(state: &AppState, m: &mut Mailbox, input: &MailboxInput) -> ApiResult<()> {
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
            && state.store.team(TeamId(t)).await?.is_none()
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
    let mut m = Mailbox {
        id: MailboxId(0),
        address: String::new(),
        name: String::new(),
        team_id: None,
        active: true,
        auto_reply: None,
        created_at: now,
        updated_at: now,
    };
    apply(&state, &mut m, input).await?;
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
    apply(&state, &mut m, &body.value).await?;
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
