//! The side panel's forms: the ticket's fields (status, priority, type,
//! team, assignee, tags, custom fields) saved with the version the page
//! showed, "assign to me", merging into another ticket and logging time.
//! Each goes through the API's own checks and writer.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Response;
use domain::{Action, DomainError, FieldKind, Priority, Status, TicketType};
use serde_json::Value;

use super::{Draft, page};
use crate::AppState;
use crate::api::tickets::load;
use crate::api::tickets::merge::{MergeTicket, merge_ticket};
use crate::api::tickets::time::{LogTime, log_time as log_time_api};
use crate::api::tickets::update::{UpdateTicket, checked_patch, write_patch};
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, IfMatch};
use crate::pages::{FormData, PageError, Staff, see_other};

/// The update the panel asks for: only what differs from the ticket now.
async fn requested(state: &AppState, caller: &Caller, id: i64, form: &FormData) -> Result<UpdateTicket, ApiError> {
    let t = load(state, caller, id, Action::ViewTicket).await?;
    let mut errors: Vec<DomainError> = Vec::new();
    let mut update = UpdateTicket::default();
    let word = |name: &str| form.text(name);
    if let Ok(s) = Status::parse("status", &word("status")).map_err(|e| errors.push(e))
        && s != t.status
    {
        update.status = Some(s);
    }
    if let Ok(p) = Priority::parse("priority", &word("priority")).map_err(|e| errors.push(e))
        && p != t.priority
    {
        update.priority = Some(p);
    }
    if let Ok(k) = TicketType::parse("type", &word("type")).map_err(|e| errors.push(e))
        && k != t.ticket_type
    {
        update.ticket_type = Some(k);
    }
    for (name, current, slot) in [
        ("team_id", t.team_id.map(|x| x.0), &mut update.team_id),
        ("assignee_id", t.assignee_id.map(|x| x.0), &mut update.assignee_id),
    ] {
        match form.number(name) {
            Ok(v) if v != current => *slot = Some(v),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    let tags: Vec<String> = word("tags").split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_string).collect();
    let mut sorted = domain::ticket::parse_tags(&tags).unwrap_or_else(|_| tags.clone());
    sorted.sort();
    if sorted != t.tags {
        update.tags = Some(tags);
    }
    let mut custom = BTreeMap::new();
    for def in state.fields().await?.iter().filter(|d| d.active) {
        let raw = form.text(&format!("cf_{}", def.key));
        let value = match def.kind {
            _ if raw.is_empty() && def.kind != FieldKind::Checkbox => Value::Null,
            FieldKind::Checkbox => Value::Bool(form.ticked(&format!("cf_{}", def.key))),
            FieldKind::Number => match raw.parse::<f64>() {
                Ok(n) => serde_json::json!(n),
                Err(_) => {
                    errors.push(DomainError::new(
                        format!("custom_fields.{}", def.key),
                        format!("'{raw}' is not a number"),
                    ));
                    continue;
                }
            },
            _ => Value::String(raw),
        };
        let current = t.custom_fields.get(&def.id).cloned().unwrap_or(Value::Null);
        let same = match (&current, &value) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (Value::Null, Value::Bool(false)) => true,
            (a, b) => a == b,
        };
        if !same {
            custom.insert(def.key.clone(), value);
        }
    }
    update.custom_fields = custom;
    if errors.is_empty() { Ok(update) } else { Err(ApiError::Invalid(errors)) }
}

pub(super) async fn again(state: &AppState, caller: &Caller, id: i64, e: ApiError) -> Result<Response, PageError> {
    match e {
        ApiError::Invalid(errors) => page(state, caller, id, Draft::default(), &errors, None).await,
        ApiError::Stale { .. } => {
            let why = DomainError::new(
                "version",
                "Someone changed this ticket since you opened it; here it is as it is now. Make your change again.",
            );
            page(state, caller, id, Draft::default(), &[why], None).await
        }
        other => Err(other.into()),
    }
}

pub(crate) async fn save_fields(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let version = form.number("version").ok().flatten();
    let update = match requested(&state, &caller, id, &form).await {
        Ok(u) => u,
        Err(e) => return again(&state, &caller, id, e).await,
    };
    let saved = match checked_patch(&state, &caller, &update).await {
        Ok(patch) => write_patch(&state, &caller, id, IfMatch(version), &patch).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(see_other(&format!("/tickets/{id}"), Some("Saved."))),
        Err(e) => again(&state, &caller, id, e).await,
    }
}

/// "Assign to me".
pub(crate) async fn take(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let update = UpdateTicket { assignee_id: Some(caller.staff_id().map(|u| u.0)), ..Default::default() };
    let version = form.number("version").ok().flatten();
    let saved = match checked_patch(&state, &caller, &update).await {
        Ok(patch) => write_patch(&state, &caller, id, IfMatch(version), &patch).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(see_other(&format!("/tickets/{id}"), Some("The ticket is yours."))),
        Err(e) => again(&state, &caller, id, e).await,
    }
}

pub(crate) async fn merge(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let target = match form.text("target").trim_start_matches('#').parse::<i64>() {
        Ok(t) => t,
        Err(_) => {
            let e = DomainError::new("target_id", "type the number of the ticket to merge into");
            return page(&state, &caller, id, Draft::default(), &[e], None).await;
        }
    };
    let body = ApiJson { value: MergeTicket { target_id: target }, raw: axum::body::Bytes::new() };
    match merge_ticket(State(state.clone()), caller.clone(), Path(id), body).await {
        Ok(_) => Ok(see_other(&format!("/tickets/{target}"), Some(&format!("#{id} was merged into this ticket.")))),
        Err(e) => again(&state, &caller, id, e).await,
    }
}

/// "Log time": minutes (decimals allowed; negative takes time back).
pub(crate) async fn log_time(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let raw = form.text("minutes").trim().replace(',', ".");
    let minutes = match raw.parse::<f64>() {
        Ok(m) if m.is_finite() => m,
        _ => {
            let e = DomainError::new("seconds", "type the minutes you worked, such as 6 or 6.5");
            return page(&state, &caller, id, Draft::default(), &[e], None).await;
        }
    };
    let body =
        LogTime { seconds: (minutes * 60.0).round() as i64, agent_id: None, source: None, note: form.text("note") };
    let body = ApiJson { value: body, raw: axum::body::Bytes::new() };
    match log_time_api(State(state.clone()), caller.clone(), Path(id), body).await {
        Ok(_) => Ok(see_other(&format!("/tickets/{id}"), Some("Time logged."))),
        Err(e) => again(&state, &caller, id, e).await,
    }
}
