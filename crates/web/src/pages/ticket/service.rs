//! The ticket page's service panel: why the ticket has its priority, its
//! escalations and approvals, the major incident it belongs to; forms to
//! escalate to a manager (with a reason) and to ask for a refund or
//! compensation.

use axum::extract::{Path, State};
use axum::response::Response;
use domain::rules::{ApprovalKind, ApprovalState, EscalationState};
use domain::{Ticket, TicketType};

use super::panel::again;
use crate::AppState;
use crate::api::approvals::ApprovalInput;
use crate::api::approvals::money;
use crate::api::escalations::EscalateInput;
use crate::extract::Caller;
use crate::pages::{FormData, PageError, Staff, see_other};

pub(crate) struct ServicePanel {
    pub reasons: Vec<String>,
    pub escalations: Vec<String>,
    pub approvals: Vec<String>,
    /// The active major incident: the problem's number and title.
    pub incident: Option<(i64, String, bool)>,
    pub kinds: Vec<&'static str>,
    /// Managers and admins may make the ticket a major incident.
    pub can_manage: bool,
    /// This ticket's own major incident: active, and what it links by.
    pub major: Option<(bool, String, String)>,
    /// Survey answers about the ticket: the answer's id and what it said.
    pub feedback: Vec<(i64, String)>,
    /// The newest scored customer message's sentiment.
    pub sentiment: Option<String>,
}

pub(crate) async fn panel(state: &AppState, caller: &Caller, t: &Ticket) -> Result<ServicePanel, PageError> {
    let store = state.store.as_ref();
    let reasons =
        store.ticket_priority(t.id).await.map_err(crate::error::ApiError::from)?.map(|p| p.reasons).unwrap_or_default();
    let escalations = store
        .escalations(None, Some(t.id), 20)
        .await
        .map_err(crate::error::ApiError::from)?
        .into_iter()
        .map(|e| match e.state {
            EscalationState::Open => {
                format!("Open, to the {}: {} ({})", e.tier, e.reason, e.source.as_str().replace('_', " "))
            }
            EscalationState::Resolved => format!("Resolved: {} — {}", e.reason, e.outcome.unwrap_or_default()),
        })
        .collect();
    let approvals = store
        .approvals(None, Some(t.id))
        .await
        .map_err(crate::error::ApiError::from)?
        .into_iter()
        .map(|a| {
            let what = format!("{} {} {}", a.kind, money(a.amount_minor), a.currency);
            match a.state {
                ApprovalState::Pending => format!(
                    "{what}: waiting for approval{}",
                    if a.escalated { " (sent to the fallback approver)" } else { "" }
                ),
                s => format!("{what}: {s} — {}", a.decision_reason.unwrap_or_default()),
            }
        })
        .collect();
    let problem = if t.ticket_type == TicketType::Problem { Some(t.id) } else { t.problem_id };
    let incident = match problem {
        Some(p) => store
            .major_incident(p)
            .await
            .map_err(crate::error::ApiError::from)?
            .filter(|m| m.active)
            .map(|m| (m.problem_id.0, m.title, m.problem_id == t.id)),
        None => None,
    };
    let can_manage = caller.require(state, domain::Action::ManageServiceRules).await.is_ok();
    let major = store
        .major_incident(t.id)
        .await
        .map_err(crate::error::ApiError::from)?
        .map(|m| (m.active, m.matching.words.join(", "), m.matching.tags.join(", ")));
    let filter = domain::survey::FeedbackFilter { ticket_id: Some(t.id), ..Default::default() };
    let feedback = store
        .feedback_list(&filter, store::PageRequest { after: None, limit: 10 })
        .await
        .map_err(crate::error::ApiError::from)?
        .items
        .into_iter()
        .map(|f| {
            let mut text = format!("{} {} ({})", f.kind.as_str().to_uppercase(), f.rating, f.score);
            if let Some(r) = &f.reason {
                text.push_str(&format!(", {}", r.replace('_', " ")));
            }
            if let Some(c) = &f.comment {
                text.push_str(&format!(": “{c}”"));
            }
            (f.id.0, text)
        })
        .collect();
    let sentiment = store
        .message_sentiments(t.id)
        .await
        .map_err(crate::error::ApiError::from)?
        .last()
        .map(|(_, s)| format!("{} ({:.2})", s.label, s.score));
    Ok(ServicePanel {
        feedback,
        sentiment,
        can_manage,
        major,
        reasons,
        escalations,
        approvals,
        incident,
        kinds: ApprovalKind::ALL.iter().map(|k| k.as_str()).collect(),
    })
}

pub(crate) async fn escalate(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let input = EscalateInput { reason: form.text("reason"), tier: None };
    match crate::api::escalations::raise(&state, &caller, id, &input).await {
        Ok(e) => Ok(see_other(&format!("/tickets/{id}"), Some(&format!("Escalated to the {}.", e.tier)))),
        Err(crate::error::ApiError::Conflict { message, .. }) => {
            Ok(see_other(&format!("/tickets/{id}"), Some(&message)))
        }
        Err(e) => again(&state, &caller, id, e).await,
    }
}

pub(crate) async fn request_approval(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let amount = form.text("amount").trim().replace(',', ".");
    let amount_minor = match amount.split_once('.') {
        Some((whole, cents)) => {
            let cents = format!("{cents:0<2}");
            whole.parse::<i64>().ok().zip(cents.get(..2).and_then(|c| c.parse::<i64>().ok())).map(|(w, c)| w * 100 + c)
        }
        None => amount.parse::<i64>().ok().map(|w| w * 100),
    }
    .unwrap_or(0);
    let kind = ApprovalKind::parse("kind", &form.text("kind")).unwrap_or(ApprovalKind::Refund);
    let input = ApprovalInput { kind, amount_minor, currency: form.text("currency"), reason: form.text("reason") };
    match crate::api::approvals::request(&state, &caller, id, &input).await {
        Ok(a) if a.state == ApprovalState::Granted => {
            Ok(see_other(&format!("/tickets/{id}"), Some("Granted: within your own limit.")))
        }
        Ok(_) => Ok(see_other(&format!("/tickets/{id}"), Some("Asked for approval; you will be told the decision."))),
        Err(e) => again(&state, &caller, id, e).await,
    }
}

fn list(raw: &str) -> Vec<String> {
    raw.split(',').map(str::trim).filter(|w| !w.is_empty()).map(String::from).collect()
}

pub(crate) async fn major_incident(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let input = crate::api::incidents::MajorIncidentInput {
        active: form.ticked("active"),
        matching: domain::rules::incident::IncidentMatch {
            words: list(&form.text("words")),
            tags: list(&form.text("tags")),
        },
    };
    match crate::api::incidents::set(&state, &caller, id, &input).await {
        Ok(m) if m.active => Ok(see_other(&format!("/tickets/{id}"), Some("This ticket is a major incident now."))),
        Ok(_) => Ok(see_other(&format!("/tickets/{id}"), Some("The major incident is over."))),
        Err(e) => again(&state, &caller, id, e).await,
    }
}

pub(crate) async fn link(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let ids: Vec<i64> =
        form.text("tickets").split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    match crate::api::incidents::link(&state, &caller, id, &ids).await {
        Ok(o) => Ok(see_other(
            &format!("/tickets/{id}"),
            Some(&format!("{} tickets linked; {} left as they were.", o.changed, o.skipped)),
        )),
        Err(e) => again(&state, &caller, id, e).await,
    }
}
