//! Customer insights for support and the departments it serves: topics
//! with volume, CSAT, quotes, affected customers and their value, spikes,
//! root causes of bad ratings (`GET /insights`, also as CSV); the
//! manager's topics (named, merged, mapped to tags); the weekly digest
//! (preview, send now, recipients).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use domain::DomainError;
use domain::policy::Action;
use insight::topics::{TopicDef, merge};
use jobs::digest::{Digest, DigestSettings};
use jobs::insights::InsightReport;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_insights))
        .routes(routes!(insights_csv))
        .routes(routes!(get_topics, set_topics))
        .routes(routes!(merge_topics))
        .routes(routes!(preview_digest))
        .routes(routes!(send_digest))
        .routes(routes!(get_digest_settings, set_digest_settings))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Period {
    /// Days up to today, 7 to 366 (default 30).
    pub days: Option<usize>,
}

pub(crate) async fn report(state: &AppState, days: Option<usize>) -> ApiResult<InsightReport> {
    let days = days.unwrap_or(30);
    if !(7..=366).contains(&days) {
        return Err(ApiError::invalid("days", "must be from 7 to 366"));
    }
    Ok(jobs::insights::report(state.store.as_ref(), state.now(), days).await?)
}

/// Topics (the manager's, and ones found in the texts), spikes and root causes.
#[utoipa::path(get, path = "/insights", tag = "insights", params(Period),
    responses((status = 200, body = InsightReport), (status = 403), (status = 422)))]
pub async fn get_insights(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<Period>,
) -> ApiResult<Json<InsightReport>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(report(&state, p.days).await?))
}

fn csv_field(s: &str) -> String {
    // A leading = + - @ would run as a formula in a spreadsheet.
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// The report's topics as CSV, one row each, for product and marketing.
pub(crate) fn to_csv(r: &InsightReport) -> String {
    let mut out = String::from(
        "topic,kind,tickets,feature_requests,csat_percent,csat_answers,customers,customer_value,spike,quotes\r\n",
    );
    for (t, kind) in r.topics.iter().map(|t| (t, "defined")).chain(r.suggested.iter().map(|t| (t, "found"))) {
        let row = [
            csv_field(&t.name),
            kind.to_string(),
            t.tickets.to_string(),
            t.feature_requests.to_string(),
            t.csat.map(|c| format!("{:.1}", c * 100.0)).unwrap_or_default(),
            t.csat_answers.to_string(),
            t.customers.to_string(),
            format!("{:.2}", t.customer_value_cents as f64 / 100.0),
            csv_field(t.spike.as_ref().map(|s| s.text.as_str()).unwrap_or_default()),
            csv_field(&t.quotes.join(" | ")),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

#[utoipa::path(get, path = "/insights.csv", tag = "insights", params(Period),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403), (status = 422)))]
pub async fn insights_csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<Period>,
) -> ApiResult<Response> {
    caller.require(&state, Action::UseWorkspace).await?;
    let r = report(&state, p.days).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"customer-insights.csv\""),
        ],
        to_csv(&r),
    )
        .into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TopicList {
    pub topics: Vec<TopicDef>,
}

#[utoipa::path(get, path = "/insights/topics", tag = "insights", responses((status = 200, body = TopicList)))]
pub async fn get_topics(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<TopicList>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(TopicList { topics: jobs::insights::topic_defs(state.store.as_ref()).await? }))
}

/// Checks the topics: names unique and given, each with a term or a tag.
pub(crate) fn check_topics(topics: Vec<TopicDef>) -> Result<Vec<TopicDef>, Vec<DomainError>> {
    let mut errors = Vec::new();
    let mut out: Vec<TopicDef> = Vec::new();
    for (i, t) in topics.into_iter().enumerate() {
        let name = t.name.trim().to_string();
        let terms: Vec<String> = t.terms.iter().map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect();
        let tag = match t.tag.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
            Some(g) => match domain::ticket::parse_tags(&[g.to_string()]) {
                Ok(mut tags) => tags.pop(),
                Err(e) => {
                    errors.push(DomainError::new(format!("topics[{i}].tag"), e.message));
                    None
                }
            },
            None => None,
        };
        if name.is_empty() || name.chars().count() > 80 {
            errors.push(DomainError::new(format!("topics[{i}].name"), "must be 1 to 80 characters"));
        } else if out.iter().any(|o| o.name.eq_ignore_ascii_case(&name)) {
            errors.push(DomainError::new(format!("topics[{i}].name"), "is used by another topic"));
        }
        if terms.is_empty() && tag.is_none() {
            errors.push(DomainError::new(format!("topics[{i}].terms"), "give a word or a tag"));
        }
        out.push(TopicDef { name, terms, tag });
    }
    if out.len() > 200 {
        errors.push(DomainError::new("topics", "at most 200"));
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

pub(crate) async fn save_topics(state: &AppState, caller: &Caller, topics: Vec<TopicDef>) -> ApiResult<Vec<TopicDef>> {
    caller.require(state, Action::ManageFeedback).await?;
    let topics = check_topics(topics).map_err(ApiError::Invalid)?;
    let v = serde_json::to_value(&topics).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.store.set_setting(jobs::insights::TOPICS_KEY, &v).await?;
    state.audit(&caller.label(), "topics.update", "topics", true, v).await;
    Ok(topics)
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicsInput {
    pub topics: Vec<TopicDef>,
}

/// Replaces the manager's topics.
#[utoipa::path(put, path = "/insights/topics", tag = "insights", request_body = TopicsInput,
    responses((status = 200, body = TopicList), (status = 403), (status = 422)))]
pub async fn set_topics(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<TopicsInput>,
) -> ApiResult<Json<TopicList>> {
    Ok(Json(TopicList { topics: save_topics(&state, &caller, body.value.topics).await? }))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The topics to merge, by name.
    pub topics: Vec<String>,
    /// The merged topic's name.
    pub name: String,
}

/// Merges topics into one: their words joined, the first tag kept.
#[utoipa::path(post, path = "/insights/topics/merge", tag = "insights", request_body = MergeInput,
    responses((status = 200, body = TopicList), (status = 403), (status = 422)))]
pub async fn merge_topics(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<MergeInput>,
) -> ApiResult<Json<TopicList>> {
    caller.require(&state, Action::ManageFeedback).await?;
    let all = jobs::insights::topic_defs(state.store.as_ref()).await?;
    let names = &body.value.topics;
    if names.len() < 2 {
        return Err(ApiError::invalid("topics", "name at least two topics"));
    }
    let (chosen, rest): (Vec<TopicDef>, Vec<TopicDef>) = all.into_iter().partition(|t| names.contains(&t.name));
    if chosen.len() != names.len() {
        return Err(ApiError::invalid("topics", "every name must be one of the saved topics"));
    }
    let mut next = rest;
    next.push(merge(&chosen, &body.value.name));
    Ok(Json(TopicList { topics: save_topics(&state, &caller, next).await? }))
}

#[utoipa::path(get, path = "/digest", tag = "insights", responses((status = 200, body = Digest), (status = 403)))]
pub async fn preview_digest(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Digest>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(jobs::digest::weekly(state.store.as_ref(), state.now()).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DigestSent {
    pub digest: Digest,
    /// How many people it was mailed to.
    pub mailed: usize,
}

/// Sends the digest now, to the hooks and the recipients.
#[utoipa::path(post, path = "/digest/send", tag = "insights",
    responses((status = 200, body = DigestSent), (status = 403), (status = 503)))]
pub async fn send_digest(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<DigestSent>> {
    caller.require(&state, Action::ManageFeedback).await?;
    let (digest, mailed) = jobs::digest::send(state.store.as_ref(), state.transport.as_deref(), state.now())
        .await
        .map_err(|e| match e {
            jobs::JobError::Retry(m) | jobs::JobError::Fail(m) => ApiError::Unavailable(format!("the digest: {m}")),
        })?;
    state.audit(&caller.label(), "digest.send", "digest", true, serde_json::json!({ "mailed": mailed })).await;
    Ok(Json(DigestSent { digest, mailed }))
}

#[utoipa::path(get, path = "/settings/digest", tag = "insights", responses((status = 200, body = DigestSettings)))]
pub async fn get_digest_settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<DigestSettings>> {
    caller.require(&state, Action::UseWorkspace).await?;
    Ok(Json(jobs::digest::settings(state.store.as_ref()).await?))
}

#[utoipa::path(put, path = "/settings/digest", tag = "insights", request_body = DigestSettings,
    responses((status = 200, body = DigestSettings), (status = 403), (status = 422)))]
pub async fn set_digest_settings(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<DigestSettings>,
) -> ApiResult<Json<DigestSettings>> {
    caller.require(&state, Action::ManageFeedback).await?;
    let s = body.value.parse().map_err(ApiError::Invalid)?;
    let v = serde_json::to_value(&s).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.store.set_setting(jobs::digest::SETTINGS_KEY, &v).await?;
    state.audit(&caller.label(), "digest_settings.update", "digest_settings", true, v).await;
    Ok(Json(s))
}
