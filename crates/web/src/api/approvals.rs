//! Approvals for refunds and compensation. `POST /tickets/{id}/approvals`
//! asks (or grants at once within the caller's role limit); the ticket's
//! team lead (else an admin) decides with `POST /approvals/{id}/decision`
//! and a reason; unanswered past the time limit it goes to the fallback
//! approver. `GET /approvals` lists them, `GET /approvals.csv` exports.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::event::NewEvent;
use domain::policy::Action;
use domain::rules::approval::{parse_amount, parse_currency};
use domain::rules::escalation::parse_reason;
use domain::rules::{Approval, ApprovalKind, ApprovalState};
use domain::{ApprovalId, EventKind, Role, TicketId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_approval))
        .routes(routes!(list_approvals))
        .routes(routes!(export_approvals))
        .routes(routes!(decide_approval))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalInput {
    pub kind: ApprovalKind,
    /// In the currency's minor unit: 2500 is 25.00.
    pub amount_minor: i64,
    pub currency: String,
    pub reason: String,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub approve: bool,
    /// Required either way.
    pub reason: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ApprovalFilter {
    /// `pending`, `approved`, `rejected`, `granted`; all when absent.
    pub state: Option<String>,
    pub ticket_id: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApprovalList {
    pub approvals: Vec<Approval>,
}

fn role_of(caller: &Caller) -> ApiResult<Role> {
    match &caller.principal {
        domain::Principal::Staff(s) => Ok(s.role),
        domain::Principal::Customer(_) => Err(ApiError::Forbidden),
    }
}

pub(crate) fn money(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

pub(crate) async fn request(state: &AppState, caller: &Caller, id: i64, input: &ApprovalInput) -> ApiResult<Approval> {
    let t = super::tickets::load(state, caller, id, Action::UpdateTicket).await?;
    let role = role_of(caller)?;
    let by = caller.staff_id().ok_or(ApiError::Forbidden)?;
    let mut errors = Vec::new();
    let amount = parse_amount(input.amount_minor).map_err(|e| errors.push(e)).ok();
    let currency = parse_currency(&input.currency).map_err(|e| errors.push(e)).ok();
    let reason = parse_reason(&input.reason).map_err(|e| errors.push(e)).ok();
    let (Some(amount), Some(currency), Some(reason)) = (amount, currency, reason) else {
        return Err(ApiError::Invalid(errors));
    };
    let limits = jobs::approvals::approval_limits(state.store.as_ref()).await?;
    let now = state.now();
    let granted = limits.may_grant(role, &currency, amount);
    let approver = if granted {
        None
    } else {
        jobs::notices::managers_of(state.store.as_ref(), &t).await?.into_iter().find(|u| *u != by)
    };
    let approver = match approver {
        Some(a) => Some(a),
        None if !granted => jobs::notices::admins(state.store.as_ref()).await?.into_iter().find(|u| *u != by),
        None => None,
    };
    let a = Approval {
        id: ApprovalId(0),
        ticket_id: t.id,
        kind: input.kind,
        amount_minor: amount,
        currency: currency.clone(),
        reason: reason.clone(),
        requested_by: by,
        state: if granted { ApprovalState::Granted } else { ApprovalState::Pending },
        approver_id: approver,
        escalated: false,
        decided_by: granted.then_some(by),
        decision_reason: granted.then(|| "within the requester's own limit".to_string()),
        created_at: now,
        due_at: now + limits.timeout_hours * 3_600_000,
        decided_at: granted.then_some(now),
    };
    let event = NewEvent::change(
        now,
        caller.actor(),
        EventKind::ApprovalRequested,
        "approval",
        serde_json::Value::Null,
        json!({ "kind": a.kind, "amount": money(amount), "currency": currency, "reason": reason, "state": a.state }),
    );
    let id = state.store.create_approval(a.clone(), event).await?;
    if !granted {
        state.store.enqueue_job(jobs::approvals::timeout_job(id, a.due_at, now)).await?;
        if let Some(u) = approver {
            let text = format!("#{}: {} of {} {} to approve — {}", t.id, a.kind, money(amount), a.currency, a.reason);
            state.store.notify(vec![jobs::notices::notice(u, "approval", text, &t, now)]).await?;
        }
        // Slack and other hooks: the request with a link to decide it in Switchboard.
        let what = format!("{} of {} {} to approve — {}", a.kind, money(amount), a.currency, a.reason);
        let mut out = jobs::integrations::ticket_event(
            "approval.requested",
            &t,
            &what,
            json!({ "approval_id": id, "link": "/approvals", "link_text": "Approve or reject in Switchboard" }),
        );
        out.key = format!("approval:{id}");
        jobs::integrations::publish(state.store.as_ref(), out, now).await?;
    }
    state
        .audit(
            &caller.label(),
            "approval.request",
            &format!("approval:{id}"),
            true,
            serde_json::to_value(input).unwrap_or_default(),
        )
        .await;
    state.store.approval(id).await?.ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/tickets/{id}/approvals", tag = "service rules", params(("id" = i64, Path)), request_body = ApprovalInput,
    responses((status = 201, body = Approval), (status = 404), (status = 422)))]
pub async fn request_approval(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<ApprovalInput>,
) -> ApiResult<(StatusCode, Json<Approval>)> {
    Ok((StatusCode::CREATED, Json(request(&state, &caller, id, &body.value).await?)))
}

/// Approvals on tickets the caller may see.
pub(crate) async fn visible(state: &AppState, caller: &Caller, f: &ApprovalFilter) -> ApiResult<Vec<Approval>> {
    caller.require(state, Action::UseWorkspace).await?;
    let st = match f.state.as_deref() {
        None | Some("") | Some("all") => None,
        Some(s) => Some(ApprovalState::parse("state", s).map_err(|e| ApiError::Invalid(vec![e]))?),
    };
    let mut out = Vec::new();
    for a in state.store.approvals(st, f.ticket_id.map(TicketId)).await? {
        if let Some(t) = state.store.ticket(a.ticket_id).await?
            && caller.require_ticket(state, Action::ViewTicket, &t).await.is_ok()
        {
            out.push(a);
        }
    }
    Ok(out)
}

#[utoipa::path(get, path = "/approvals", tag = "service rules", params(ApprovalFilter), responses((status = 200, body = ApprovalList)))]
pub async fn list_approvals(
    State(state): State<AppState>,
    caller: Caller,
    Query(f): Query<ApprovalFilter>,
) -> ApiResult<Json<ApprovalList>> {
    Ok(Json(ApprovalList { approvals: visible(&state, &caller, &f).await? }))
}

fn csv_field(s: &str) -> String {
    // Quoted, and a leading formula character defused for spreadsheets.
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub(crate) fn to_csv(rows: &[Approval]) -> String {
    let mut out = String::from(
        "id,ticket_id,kind,amount,currency,reason,requested_by,state,approver_id,escalated,decided_by,decision_reason,created_at,decided_at\n",
    );
    let iso = |ms: i64| jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default();
    for a in rows {
        let cols = [
            a.id.to_string(),
            a.ticket_id.to_string(),
            a.kind.to_string(),
            money(a.amount_minor),
            a.currency.clone(),
            csv_field(&a.reason),
            a.requested_by.to_string(),
            a.state.to_string(),
            a.approver_id.map(|u| u.to_string()).unwrap_or_default(),
            a.escalated.to_string(),
            a.decided_by.map(|u| u.to_string()).unwrap_or_default(),
            csv_field(a.decision_reason.as_deref().unwrap_or_default()),
            iso(a.created_at),
            a.decided_at.map(iso).unwrap_or_default(),
        ];
        out.push_str(&cols.join(","));
        out.push('\n');
    }
    out
}

#[utoipa::path(get, path = "/approvals.csv", tag = "service rules", params(ApprovalFilter), responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_approvals(
    State(state): State<AppState>,
    caller: Caller,
    Query(f): Query<ApprovalFilter>,
) -> ApiResult<Response> {
    let rows = visible(&state, &caller, &f).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"approvals.csv\""),
        ],
        to_csv(&rows),
    )
        .into_response())
}

pub(crate) async fn decide(state: &AppState, caller: &Caller, id: i64, input: &DecisionInput) -> ApiResult<Approval> {
    caller.require(state, Action::ManageServiceRules).await?;
    let a = state.store.approval(ApprovalId(id)).await?.ok_or(ApiError::NotFound)?;
    let t = super::tickets::load(state, caller, a.ticket_id.0, Action::ViewTicket).await?;
    let reason = parse_reason(&input.reason).map_err(|e| ApiError::Invalid(vec![e]))?;
    let by = caller.staff_id().ok_or(ApiError::Forbidden)?;
    if a.requested_by == by {
        return Err(ApiError::Conflict {
            code: "own_request",
            message: "someone else must decide your own request".into(),
        });
    }
    if a.state != ApprovalState::Pending {
        return Err(ApiError::Conflict { code: "decided", message: format!("this request is already {}", a.state) });
    }
    let now = state.now();
    let decided = Approval {
        state: if input.approve { ApprovalState::Approved } else { ApprovalState::Rejected },
        decided_by: Some(by),
        decision_reason: Some(reason.clone()),
        decided_at: Some(now),
        ..a
    };
    let event = NewEvent::change(
        now,
        caller.actor(),
        EventKind::ApprovalDecided,
        "approval",
        json!({ "state": "pending" }),
        json!({ "approval_id": decided.id, "kind": decided.kind, "state": decided.state, "reason": reason }),
    );
    if !state.store.update_pending_approval(&decided, event).await? {
        return Err(ApiError::Conflict { code: "decided", message: "this request was decided meanwhile".into() });
    }
    let text = format!(
        "#{}: your {} of {} {} was {} — {}",
        t.id,
        decided.kind,
        money(decided.amount_minor),
        decided.currency,
        decided.state,
        reason
    );
    state.store.notify(vec![jobs::notices::notice(decided.requested_by, "approval", text, &t, now)]).await?;
    state
        .audit(
            &caller.label(),
            "approval.decide",
            &format!("approval:{id}"),
            true,
            serde_json::to_value(input).unwrap_or_default(),
        )
        .await;
    Ok(decided)
}

#[utoipa::path(post, path = "/approvals/{id}/decision", tag = "service rules", params(("id" = i64, Path)), request_body = DecisionInput,
    responses((status = 200, body = Approval), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn decide_approval(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: ApiJson<DecisionInput>,
) -> ApiResult<Json<Approval>> {
    Ok(Json(decide(&state, &caller, id, &body.value).await?))
}
