//! `/admin/rule-settings`: the priority matrix, when the system escalates,
//! approval limits per role and surge detection, each edited as its JSON
//! document (the API's shape, checked the same way). Managers and admins.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use domain::DomainError;
use domain::policy::Action;
use domain::rules::incident::SurgeRules;
use domain::rules::{ApprovalLimits, EscalationRules, PriorityMatrix};

use crate::AppState;
use crate::api::rule_settings::read;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::pages::{FormData, Notice, Page, PageError, Shell, Staff, see_other};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/rule-settings", get(show)).route("/admin/rule-settings/{key}", post(save))
}

const DOCS: [(&str, &str); 4] = [
    ("priority_matrix", "Priority matrix: urgency × impact"),
    ("escalation_rules", "When the system escalates"),
    ("approval_limits", "Approval limits per role (minor units: 5000 is 50.00)"),
    ("surge_rules", "Surge detection"),
];

async fn page(
    state: &AppState,
    caller: &Caller,
    failed: Option<(&str, String, Vec<DomainError>)>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageServiceRules).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let pretty = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default();
    let current = [
        pretty(serde_json::to_value(read::<PriorityMatrix>(state, "priority_matrix").await?).unwrap_or_default()),
        pretty(serde_json::to_value(read::<EscalationRules>(state, "escalation_rules").await?).unwrap_or_default()),
        pretty(serde_json::to_value(read::<ApprovalLimits>(state, "approval_limits").await?).unwrap_or_default()),
        pretty(serde_json::to_value(read::<SurgeRules>(state, "surge_rules").await?).unwrap_or_default()),
    ];
    let (sections, errors_shown) = super::document_forms("/admin/rule-settings", &DOCS, current.to_vec(), &failed);
    Page::new(shell, "Priority, escalation, approval and surge settings", sections)
        .notice(notice)
        .after_form(&errors_shown)
}

async fn show(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    page(&state, &caller, None, n.notice).await
}

fn parse<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, Vec<DomainError>> {
    serde_json::from_str(raw).map_err(|e| vec![DomainError::new("document", format!("not valid here: {e}"))])
}

async fn save(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(key): Path<String>,
    form: FormData,
) -> Result<Response, PageError> {
    caller.require(&state, Action::ManageServiceRules).await?;
    let raw = form.text("document");
    let checked: Result<serde_json::Value, Vec<DomainError>> =
        match key.as_str() {
            "priority_matrix" => parse::<PriorityMatrix>(&raw)
                .and_then(|v| v.check().map(|_| serde_json::to_value(v).unwrap_or_default())),
            "escalation_rules" => parse::<EscalationRules>(&raw)
                .and_then(|v| v.check().map(|_| serde_json::to_value(v).unwrap_or_default())),
            "approval_limits" => parse::<ApprovalLimits>(&raw)
                .and_then(|v| v.check().map(|_| serde_json::to_value(v).unwrap_or_default())),
            "surge_rules" => parse::<SurgeRules>(&raw)
                .and_then(|v| v.check().map(|_| serde_json::to_value(v).unwrap_or_default()).map_err(|e| vec![e])),
            _ => return Err(ApiError::NotFound.into()),
        };
    match checked {
        Ok(v) => {
            state.store.set_setting(&key, &v).await.map_err(ApiError::from)?;
            state.audit(&caller.label(), &format!("{key}.update"), &key, true, v).await;
            Ok(see_other("/admin/rule-settings", Some("Saved.")))
        }
        Err(errors) => {
            let name = DOCS.iter().find(|(k, _)| *k == key).map(|(k, _)| *k).unwrap_or("");
            page(&state, &caller, Some((name, raw, errors)), None).await
        }
    }
}
