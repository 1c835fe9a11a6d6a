//! `/survey/{token}`: the answer page a survey email links to, without
//! sign-in. The token is signed and expires; a forged, expired or
//! misplaced one gets a clear page and nothing is recorded. A one-click
//! link (`?score=N`) records the score at once; the form adds a reason and
//! a comment (and CES when it is on). Answering again updates the answer.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use domain::survey::{self, Answer, Feedback, SurveyInvitation, SurveyKind, SurveySettings, TokenError};
use domain::{DomainError, SurveyInvitationId};
use serde::Deserialize;

use super::{PageError, render};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/survey/{token}", get(show).post(answer))
        .route("/survey/{token}/unsubscribe", get(unsubscribe_form).post(unsubscribe))
}

pub(crate) struct Choice {
    score: String,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    heading: String,
    notice: Option<String>,
    errors: Vec<String>,
    /// A one-button form (unsubscribing), when not empty.
    submit: String,
    question: Option<&'static str>,
    choices: Vec<Choice>,
    reasons: Vec<Choice>,
    comment: String,
    ces_question: Option<&'static str>,
    ces_choices: Vec<Choice>,
    action: String,
}

impl SurveyPage {
    fn message(heading: &str, text: &str) -> Self {
        Self {
            heading: heading.into(),
            notice: Some(text.into()),
            errors: vec![],
            submit: String::new(),
            question: None,
            choices: vec![],
            reasons: vec![],
            comment: String::new(),
            ces_question: None,
            ces_choices: vec![],
            action: String::new(),
        }
    }

    fn respond(&self, status: StatusCode) -> Result<Response, PageError> {
        Ok((status, render(self)?).into_response())
    }
}

/// What the form shows: the invitation's question with this answer (or
/// the stored one) selected.
struct Shown<'a> {
    token: &'a str,
    inv: &'a SurveyInvitation,
    settings: &'a SurveySettings,
    score: Option<i64>,
    reason: Option<String>,
    comment: Option<String>,
    ces: Option<i64>,
}

fn choices(kind: SurveyKind, scale: survey::CsatScale, selected: Option<i64>) -> Vec<Choice> {
    kind.choices(scale)
        .into_iter()
        .map(|(s, label)| Choice { score: s.to_string(), label, checked: selected == Some(s) })
        .collect()
}

fn form_page(s: Shown<'_>, notice: Option<String>, errors: Vec<String>) -> SurveyPage {
    let csat = s.inv.kind == SurveyKind::Csat;
    let reasons = if csat {
        s.settings
            .reasons
            .iter()
            .map(|r| Choice {
                score: r.clone(),
                label: r.replace('_', " "),
                checked: s.reason.as_deref() == Some(r.as_str()),
            })
            .collect()
    } else {
        vec![]
    };
    let ces = csat && s.settings.ces_enabled && s.inv.ticket_id.is_some();
    SurveyPage {
        heading: if notice.is_some() && errors.is_empty() { "Thank you".into() } else { "Your feedback".into() },
        notice,
        errors,
        submit: String::new(),
        question: Some(s.inv.kind.question()),
        choices: choices(s.inv.kind, s.inv.scale, s.score),
        reasons,
        comment: s.comment.unwrap_or_default(),
        ces_question: ces.then(|| SurveyKind::Ces.question()),
        ces_choices: if ces { choices(SurveyKind::Ces, s.inv.scale, s.ces) } else { vec![] },
        action: format!("/survey/{}", s.token),
    }
}

/// The invitation a token opens, or the page that says why it does not.
async fn open(state: &AppState, token: &str) -> Result<Result<SurveyInvitation, SurveyPage>, PageError> {
    let invalid = || {
        SurveyPage::message(
            "This link does not work",
            "This survey link is not valid. Please use the link from the email we sent you; nothing was recorded.",
        )
    };
    let (id, ticket) = match survey::verify(&state.survey_secret, token, state.now()) {
        Ok(v) => v,
        Err(TokenError::Expired) => {
            return Ok(Err(SurveyPage::message(
                "This survey has closed",
                "This survey link has expired, so your answer could not be recorded. Thank you all the same.",
            )));
        }
        Err(TokenError::Malformed | TokenError::Forged) => return Ok(Err(invalid())),
    };
    match state.store.invitation(id).await? {
        // A link signed for one ticket never answers another's survey.
        Some(inv) if inv.ticket_id == ticket => Ok(Ok(inv)),
        _ => Ok(Err(invalid())),
    }
}

fn status_of(page: &SurveyPage) -> StatusCode {
    if page.heading == "This survey has closed" { StatusCode::GONE } else { StatusCode::BAD_REQUEST }
}

#[derive(Deserialize)]
struct OneClick {
    score: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<OneClick>,
) -> Result<Response, PageError> {
    let inv = match open(&state, &token).await? {
        Ok(inv) => inv,
        Err(page) => return page.respond(status_of(&page)),
    };
    let settings = jobs::survey::settings(state.store.as_ref()).await?;
    let stored = state.store.invitation_feedback(inv.id).await?;
    let ces = ces_answer(&state, &inv).await?;
    let mut shown = Shown {
        token: &token,
        inv: &inv,
        settings: &settings,
        score: stored.as_ref().map(|f| f.score),
        reason: stored.as_ref().and_then(|f| f.reason.clone()),
        comment: stored.as_ref().and_then(|f| f.comment.clone()),
        ces: ces.map(|f| f.score),
    };
    let Some(raw) = q.score else {
        return form_page(shown, None, vec![]).respond(StatusCode::OK);
    };
    // One click: the score alone, keeping a reason and comment given before.
    let answer = parse_answer(&inv, &settings, Some(&raw), shown.reason.as_deref(), shown.comment.as_deref());
    match answer {
        Err(errors) => form_page(shown, None, messages(&errors)).respond(StatusCode::UNPROCESSABLE_ENTITY),
        Ok(a) => {
            shown.score = Some(a.score);
            jobs::survey::record(state.store.as_ref(), &inv, a, state.now()).await?;
            let notice = "Your rating was saved. Tell us more below if you like.".to_string();
            form_page(shown, Some(notice), vec![]).respond(StatusCode::OK)
        }
    }
}

#[derive(Deserialize)]
struct AnswerForm {
    score: Option<String>,
    reason: Option<String>,
    comment: Option<String>,
    ces: Option<String>,
}

async fn answer(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(input): Form<AnswerForm>,
) -> Result<Response, PageError> {
    let inv = match open(&state, &token).await? {
        Ok(inv) => inv,
        Err(page) => return page.respond(status_of(&page)),
    };
    let settings = jobs::survey::settings(state.store.as_ref()).await?;
    let mut errors = Vec::new();
    let answer =
        parse_answer(&inv, &settings, input.score.as_deref(), input.reason.as_deref(), input.comment.as_deref())
            .map_err(|e| errors.extend(e))
            .ok();
    let ces_wanted = inv.kind == SurveyKind::Csat && settings.ces_enabled && inv.ticket_id.is_some();
    let ces = match input.ces.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(raw) if ces_wanted => match raw.parse::<i64>() {
            Ok(score) => match Answer::parse(SurveyKind::Ces, inv.scale, score, None, None, &[]) {
                Ok(a) => Some(a),
                Err(e) => {
                    errors.extend(e.into_iter().map(|e| DomainError::new("ces", e.message)));
                    None
                }
            },
            Err(_) => {
                errors.push(DomainError::new("ces", "must be a whole number"));
                None
            }
        },
        _ => None,
    };
    let shown = Shown {
        token: &token,
        inv: &inv,
        settings: &settings,
        score: answer.as_ref().map(|a| a.score).or_else(|| input.score.as_deref().and_then(|s| s.parse().ok())),
        reason: input.reason.clone().filter(|r| !r.is_empty()),
        comment: input.comment.clone(),
        ces: ces.as_ref().map(|a| a.score),
    };
    let Some(answer) = answer.filter(|_| errors.is_empty()) else {
        return form_page(shown, None, messages(&errors)).respond(StatusCode::UNPROCESSABLE_ENTITY);
    };
    let now = state.now();
    jobs::survey::record(state.store.as_ref(), &inv, answer, now).await?;
    if let Some(a) = ces {
        let ces_inv = ces_invitation(&state, &inv, now).await?;
        jobs::survey::record(state.store.as_ref(), &ces_inv, a, now).await?;
    }
    let notice = "Your answer was saved. You can change it with the same link.".to_string();
    form_page(shown, Some(notice), vec![]).respond(StatusCode::OK)
}

fn parse_answer(
    inv: &SurveyInvitation,
    settings: &SurveySettings,
    score: Option<&str>,
    reason: Option<&str>,
    comment: Option<&str>,
) -> Result<Answer, Vec<DomainError>> {
    let score = match score.map(str::trim).filter(|s| !s.is_empty()) {
        None => return Err(vec![DomainError::new("score", "choose a rating")]),
        Some(s) => s.parse::<i64>().map_err(|_| vec![DomainError::new("score", "must be a whole number")])?,
    };
    Answer::parse(inv.kind, inv.scale, score, reason, comment, &settings.reasons)
}

fn messages(errors: &[DomainError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| {
            let field = match e.field.as_str() {
                "score" => "The rating",
                "reason" => "The reason",
                "comment" => "The comment",
                "ces" => "The second answer",
                other => other,
            };
            format!("{field} {}.", e.message)
        })
        .collect()
}

/// The CES answer given on this CSAT page, if any.
async fn ces_answer(state: &AppState, inv: &SurveyInvitation) -> Result<Option<Feedback>, store::StoreError> {
    let Some(ticket) = inv.ticket_id else { return Ok(None) };
    match state.store.ticket_invitation(ticket, SurveyKind::Ces).await? {
        Some(ces) => state.store.invitation_feedback(ces.id).await,
        None => Ok(None),
    }
}

/// The ticket's CES invitation, made the first time CES is answered.
async fn ces_invitation(
    state: &AppState,
    csat: &SurveyInvitation,
    now: domain::Millis,
) -> Result<SurveyInvitation, store::StoreError> {
    let ticket = csat.ticket_id.ok_or(store::StoreError::NotFound)?;
    if let Some(inv) = state.store.ticket_invitation(ticket, SurveyKind::Ces).await? {
        return Ok(inv);
    }
    let inv = SurveyInvitation { id: SurveyInvitationId(0), kind: SurveyKind::Ces, sent_at: now, ..csat.clone() };
    match state.store.create_invitation(inv.clone(), None).await? {
        Some(id) => Ok(SurveyInvitation { id, ..inv }),
        None => state.store.ticket_invitation(ticket, SurveyKind::Ces).await?.ok_or(store::StoreError::NotFound),
    }
}

async fn unsubscribe_form(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, PageError> {
    if let Err(page) = open(&state, &token).await? {
        return page.respond(status_of(&page));
    }
    let mut page = SurveyPage::message("No more surveys?", "We will not ask you for feedback again.");
    page.submit = "Stop sending me surveys".into();
    page.action = format!("/survey/{token}/unsubscribe");
    page.respond(StatusCode::OK)
}

async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, PageError> {
    let inv = match open(&state, &token).await? {
        Ok(inv) => inv,
        Err(page) => return page.respond(status_of(&page)),
    };
    state.store.set_unsubscribed(inv.customer_id, true, state.now()).await?;
    SurveyPage::message("Unsubscribed", "You will not get surveys from us any more.").respond(StatusCode::OK)
}
