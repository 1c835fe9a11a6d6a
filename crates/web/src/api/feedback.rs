//! Customer feedback: the inbox of survey answers (`GET /feedback`, filtered
//! like the page), their CSAT, NPS and CES (`GET /feedback/summary`),
//! following one up (a note of review, a follow-up ticket), the survey
//! settings, and a customer's survey subscription.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::lifecycle::{self, NewTicket};
use domain::policy::Action;
use domain::survey::{Feedback, FeedbackFilter, Rating, ResponseCount, SurveyKind, SurveySettings};
use domain::{AuthorKind, Channel, CustomerId, FeedbackId, Priority, TeamId, TicketId, TicketType, UserId, Visibility};
use insight::feedback::FeedbackSummary;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{NewMessage, PageRequest, TicketCreate};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_feedback))
        .routes(routes!(feedback_summary))
        .routes(routes!(get_feedback))
        .routes(routes!(review_feedback))
        .routes(routes!(follow_up))
        .routes(routes!(share_feedback))
        .routes(routes!(get_survey_settings, set_survey_settings))
        .routes(routes!(get_subscription, set_subscription))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct FeedbackQuery {
    /// `csat`, `nps` or `ces`.
    pub kind: Option<String>,
    /// `good`, `neutral` or `bad`.
    pub rating: Option<String>,
    /// Only answers with a comment.
    pub with_comment: Option<bool>,
    pub team_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub reviewed: Option<bool>,
    /// Answered at or after (Unix ms).
    pub from: Option<i64>,
    /// Answered before (Unix ms).
    pub to: Option<i64>,
    pub ticket_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

impl FeedbackQuery {
    pub(crate) fn filter(&self) -> ApiResult<FeedbackFilter> {
        Ok(FeedbackFilter {
            kind: self.kind.as_deref().map(|k| SurveyKind::parse("kind", k)).transpose()?,
            rating: self.rating.as_deref().map(|r| Rating::parse("rating", r)).transpose()?,
            with_comment: self.with_comment.unwrap_or(false),
            team_id: self.team_id.map(TeamId),
            agent_id: self.agent_id.map(UserId),
            reviewed: self.reviewed,
            from: self.from,
            to: self.to,
            ticket_id: self.ticket_id.map(TicketId),
            customer_id: self.customer_id.map(CustomerId),
            ..FeedbackFilter::default()
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedbackList {
    pub feedback: Vec<Feedback>,
    /// Pass as `after` for the next page.
    pub next_after: Option<i64>,
}

/// Newest first.
#[utoipa::path(get, path = "/feedback", tag = "feedback", params(FeedbackQuery),
    responses((status = 200, body = FeedbackList), (status = 403), (status = 422)))]
pub async fn list_feedback(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<FeedbackQuery>,
) -> ApiResult<Json<FeedbackList>> {
    caller.require(&state, Action::UseWorkspace).await?;
    let filter = q.filter()?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be from 1 to 200"));
    }
    let page = state.store.feedback_list(&filter, PageRequest { after: q.after, limit }).await?;
    Ok(Json(FeedbackList { feedback: page.items, next_after: page.next.map(|c| c.id) }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SummaryView {
    #[serde(flatten)]
    pub summary: FeedbackSummary,
    /// Invitations sent in the period (by send time) and answered, per kind.
    pub csat_responses: ResponseCount,
    pub nps_responses: ResponseCount,
}

/// CSAT, NPS and CES of the filtered answers (definitions in docs/METRICS.md).
#[utoipa::path(get, path = "/feedback/summary", tag = "feedback", params(FeedbackQuery),
    responses((status = 200, body = SummaryView), (status = 403), (status = 422)))]
pub async fn feedback_summary(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<FeedbackQuery>,
) -> ApiResult<Json<SummaryView>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(summary(&state, &q.filter()?).await?))
}

pub(crate) async fn summary(state: &AppState, filter: &FeedbackFilter) -> ApiResult<SummaryView> {
    let counts = state.store.score_counts(filter).await?;
    let (from, to) = (filter.from.unwrap_or(0), filter.to.unwrap_or(i64::MAX));
    Ok(SummaryView {
        summary: insight::feedback::summarise(&counts),
        csat_responses: state.store.response_count(SurveyKind::Csat, from, to).await?,
        nps_responses: state.store.response_count(SurveyKind::Nps, from, to).await?,
    })
}

#[utoipa::path(get, path = "/feedback/{id}", tag = "feedback",
    responses((status = 200, body = Feedback), (status = 403), (status = 404)))]
pub async fn get_feedback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Feedback>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(state.store.feedback(FeedbackId(id)).await?.ok_or(ApiError::NotFound)?))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// What was done about it (required).
    pub note: String,
}

/// Marks the answer reviewed with a note.
#[utoipa::path(post, path = "/feedback/{id}/review", tag = "feedback", request_body = ReviewInput,
    responses((status = 200, body = Feedback), (status = 403), (status = 404), (status = 422)))]
pub async fn review_feedback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<ReviewInput>,
) -> ApiResult<Json<Feedback>> {
    caller.require(&state, Action::ManageFeedback).await?;
    Ok(Json(review(&state, &caller, id, &body.value.note).await?))
}

pub(crate) async fn review(state: &AppState, caller: &Caller, id: i64, note: &str) -> ApiResult<Feedback> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(ApiError::invalid("note", "must be 1 to 2000 characters"));
    }
    let by = caller.staff_id().ok_or(ApiError::Forbidden)?;
    if !state.store.review_feedback(FeedbackId(id), by, note, state.now()).await? {
        return Err(ApiError::NotFound);
    }
    state.audit(&caller.label(), "feedback.review", &format!("feedback:{id}"), true, json!({ "note": note })).await;
    state.store.feedback(FeedbackId(id)).await?.ok_or(ApiError::NotFound)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FollowUp {
    pub ticket_id: TicketId,
}

/// Opens a ticket for the customer to follow the answer up, assigned to
/// the caller, with the answer in an internal note.
#[utoipa::path(post, path = "/feedback/{id}/follow-up", tag = "feedback",
    responses((status = 201, body = FollowUp), (status = 403), (status = 404)))]
pub async fn follow_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, Json<FollowUp>)> {
    caller.require(&state, Action::ManageFeedback).await?;
    Ok((StatusCode::CREATED, Json(FollowUp { ticket_id: open_follow_up(&state, &caller, id).await? })))
}

pub(crate) async fn open_follow_up(state: &AppState, caller: &Caller, id: i64) -> ApiResult<TicketId> {
    let f = state.store.feedback(FeedbackId(id)).await?.ok_or(ApiError::NotFound)?;
    let customer = state.store.customer(f.customer_id).await?.ok_or(ApiError::NotFound)?;
    let now = state.now();
    let about = f.ticket_id.map(|t| format!(" on #{t}")).unwrap_or_default();
    let (ticket, events) = lifecycle::open_ticket(
        NewTicket {
            subject: format!("Following up your feedback{about}"),
            status: None,
            priority: if f.rating == Rating::Bad { Priority::High } else { Priority::Normal },
            ticket_type: TicketType::Question,
            channel: Channel::Email,
            requester_id: customer.id,
            organization_id: customer.organization_id,
            assignee_id: caller.staff_id(),
            team_id: f.team_id,
            tags: vec!["feedback-follow-up".into()],
            custom_fields: Default::default(),
            problem_id: None,
            follow_up_of: None,
        },
        caller.actor(),
        now,
    )?;
    let mut note = format!("{} answer {} ({}){about}", f.kind.as_str().to_uppercase(), f.score, f.rating);
    if let Some(r) = &f.reason {
        note.push_str(&format!(", reason: {r}"));
    }
    if let Some(c) = &f.comment {
        note.push_str(&format!("\n\n\"{c}\""));
    }
    let message = NewMessage {
        visibility: Visibility::Internal,
        author_kind: AuthorKind::Staff,
        author_id: caller.staff_id().map(|u| u.0),
        channel: Channel::Email,
        body_text: note,
        body_html: String::new(),
        metadata: json!({ "feedback_id": f.id.0 }),
        attachment_ids: vec![],
        created_at: now,
        email: None,
    };
    let created = state
        .store
        .create_ticket(TicketCreate { ticket, events, messages: vec![message], new_requester: None }, None)
        .await?;
    state
        .audit(&caller.label(), "feedback.follow_up", &format!("feedback:{id}"), true, json!({ "ticket": created.id }))
        .await;
    Ok(created.id)
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareInput {
    /// Colleagues to tell (staff ids).
    #[serde(default)]
    pub user_ids: Vec<i64>,
    /// Also post it to the hooks that take `rating.received` (Slack).
    #[serde(default)]
    pub to_hooks: bool,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Shared {
    pub told: usize,
    pub hooks: usize,
}

/// Shares the answer: a notice to each colleague named, and to the hooks.
#[utoipa::path(post, path = "/feedback/{id}/share", tag = "feedback", request_body = ShareInput,
    responses((status = 200, body = Shared), (status = 403), (status = 404), (status = 422)))]
pub async fn share_feedback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<ShareInput>,
) -> ApiResult<Json<Shared>> {
    Ok(Json(share(&state, &caller, id, &body.value).await?))
}

pub(crate) async fn share(state: &AppState, caller: &Caller, id: i64, input: &ShareInput) -> ApiResult<Shared> {
    caller.require(state, Action::UseWorkspace).await?;
    let f = state.store.feedback(FeedbackId(id)).await?.ok_or(ApiError::NotFound)?;
    if input.user_ids.is_empty() && !input.to_hooks {
        return Err(ApiError::invalid("user_ids", "name a colleague or share to the hooks"));
    }
    let mut to = Vec::new();
    for u in &input.user_ids {
        match state.store.user(UserId(*u)).await? {
            Some(x) if x.active => to.push(x.id),
            _ => return Err(ApiError::invalid("user_ids", format!("{u} is not an active colleague"))),
        }
    }
    let who = match caller.staff_id() {
        Some(me) => state.store.user(me).await?.map(|u| u.name).unwrap_or_default(),
        None => String::new(),
    };
    let mut text = format!("{who} shared a {} answer ({}, {})", f.kind.as_str().to_uppercase(), f.rating, f.score);
    if let Some(c) = &f.comment {
        text.push_str(&format!(": “{c}”"));
    }
    if let Some(n) = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        text.push_str(&format!(" — {n}"));
    }
    let now = state.now();
    let notes = to
        .iter()
        .map(|u| domain::notification::NewNotification {
            user_id: *u,
            kind: "feedback".into(),
            text: text.clone(),
            ticket_id: f.ticket_id,
            created_at: now,
        })
        .collect();
    state.store.notify(notes).await?;
    let hooks = if input.to_hooks {
        let mut out = jobs::integrations::rating(state.store.as_ref(), &f).await?;
        out.key = format!("share:{}:{now}", f.id);
        out.rating = None;
        jobs::integrations::publish(state.store.as_ref(), out, now).await?
    } else {
        0
    };
    state
        .audit(
            &caller.label(),
            "feedback.share",
            &format!("feedback:{id}"),
            true,
            json!({ "to": input.user_ids, "hooks": hooks }),
        )
        .await;
    Ok(Shared { told: to.len(), hooks })
}

#[utoipa::path(get, path = "/settings/surveys", tag = "feedback", responses((status = 200, body = SurveySettings)))]
pub async fn get_survey_settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<SurveySettings>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(jobs::survey::settings(state.store.as_ref()).await?))
}

/// Which surveys go out, when, how often, and their words.
#[utoipa::path(put, path = "/settings/surveys", tag = "feedback", request_body = SurveySettings,
    responses((status = 200, body = SurveySettings), (status = 403), (status = 422)))]
pub async fn set_survey_settings(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<SurveySettings>,
) -> ApiResult<Json<SurveySettings>> {
    caller.require(&state, Action::ManageFeedback).await?;
    let s = body.value.parse().map_err(ApiError::Invalid)?;
    let v = serde_json::to_value(&s).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.store.set_setting(jobs::survey::SETTINGS_KEY, &v).await?;
    state.audit(&caller.label(), "survey_settings.update", "survey_settings", true, v).await;
    Ok(Json(s))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// True when the customer asked for no surveys.
    pub unsubscribed: bool,
}

#[utoipa::path(get, path = "/customers/{id}/surveys", tag = "feedback",
    responses((status = 200, body = Subscription), (status = 403), (status = 404)))]
pub async fn get_subscription(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Subscription>> {
    caller.require(&state, Action::ViewCustomers).await?;
    state.store.customer(CustomerId(id)).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(Subscription { unsubscribed: state.store.unsubscribed(CustomerId(id)).await? }))
}

/// Stops (or resumes) surveys to the customer.
#[utoipa::path(put, path = "/customers/{id}/surveys", tag = "feedback", request_body = Subscription,
    responses((status = 200, body = Subscription), (status = 403), (status = 404)))]
pub async fn set_subscription(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<Subscription>,
) -> ApiResult<Json<Subscription>> {
    caller.require(&state, Action::EditCustomers).await?;
    state.store.customer(CustomerId(id)).await?.ok_or(ApiError::NotFound)?;
    state.store.set_unsubscribed(CustomerId(id), body.value.unsubscribed, state.now()).await?;
    state
        .audit(&caller.label(), "customer.surveys", &format!("customer:{id}"), true, json!(body.value.unsubscribed))
        .await;
    Ok(Json(Subscription { unsubscribed: body.value.unsubscribed }))
}
