//! `/admin/triggers` and `/admin/automations`: the rules in their order,
//! a form to add one and a page to edit each. Conditions and actions are
//! written as JSON (the API's shapes; examples in the hints and in
//! docs/RULES.md). Managers and admins.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use domain::policy::Action;
use domain::rules::{RuleKind, RunOn, ServiceRule};
use domain::{DomainError, ServiceRuleId};

use crate::AppState;
use crate::api::triggers::{self, RuleInput};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::pages::parts::form_errors;
use crate::pages::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/rules/{kind}", get(list).post(create))
        .route("/admin/rules/{kind}/{id}", get(edit).post(save))
        .route("/admin/rules/{kind}/{id}/delete", post(remove))
}

fn kind_of(raw: &str) -> Result<RuleKind, PageError> {
    match raw {
        "triggers" => Ok(RuleKind::Trigger),
        "automations" => Ok(RuleKind::Automation),
        _ => Err(ApiError::NotFound.into()),
    }
}

fn plural(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Trigger => "triggers",
        RuleKind::Automation => "automations",
    }
}

fn example(kind: RuleKind) -> (&'static str, &'static str) {
    match kind {
        RuleKind::Trigger => (
            r#"[{"field": "message", "op": "contains", "value": ["refund", "money back"]}]"#,
            r#"[{"action": "add_tags", "value": ["refund"]}, {"action": "notify", "value": {"to": "team", "text": "A refund was asked for"}}]"#,
        ),
        RuleKind::Automation => (
            r#"[{"field": "status", "op": "is", "value": "pending"}, {"field": "hours_since_status", "op": "greater_than", "value": 71}]"#,
            r#"[{"action": "email_requester", "value": {"body": "Hello {{ customer.first_name }}, is there anything else we can do?"}}]"#,
        ),
    }
}

fn pretty<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn rule_form(kind: RuleKind, id: &str, action: String, submit: &str, r: &RuleInput) -> Form {
    let (all, actions) = example(kind);
    let mut fields = vec![
        Field::required("name", "Name", &r.name),
        Field::typed("position", "Order", "number", r.position.to_string()).hint("Lowest runs first."),
        Field::check("active", "Active", r.active),
    ];
    if kind == RuleKind::Trigger {
        let runs = [("both", "on creation and updates"), ("create", "on creation"), ("update", "on updates")];
        fields.push(Field::select(
            "run_on",
            "Runs",
            r.run_on.as_str(),
            runs.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect(),
        ));
    }
    fields.extend([
        Field::area("all", "Every one of these conditions (JSON)", pretty(&r.all), 6).hint(format!("e.g. {all}")),
        Field::area("any", "… and one of these, if any (JSON)", pretty(&r.any), 3),
        Field::area("actions", "Actions (JSON)", pretty(&r.actions), 6).hint(format!("e.g. {actions}")),
    ]);
    Form::new(id, action, submit, fields)
}

fn json_field<T: serde::de::DeserializeOwned + Default>(
    form: &FormData,
    name: &str,
    errors: &mut Vec<DomainError>,
) -> T {
    let raw = form.text(name);
    if raw.trim().is_empty() {
        return T::default();
    }
    serde_json::from_str(&raw).unwrap_or_else(|e| {
        errors.push(DomainError::new(name, format!("not valid JSON here: {e}")));
        T::default()
    })
}

fn input(form: &FormData) -> Result<RuleInput, Vec<DomainError>> {
    let mut errors = Vec::new();
    let position = form.number("position").map_err(|e| errors.push(e)).ok().flatten().unwrap_or(0);
    let run_on =
        RunOn::parse("run_on", form.get("run_on").unwrap_or("both")).map_err(|e| errors.push(e)).unwrap_or(RunOn::Both);
    let value = RuleInput {
        name: form.text("name"),
        position,
        active: form.ticked("active"),
        run_on,
        all: json_field(form, "all", &mut errors),
        any: json_field(form, "any", &mut errors),
        actions: json_field(form, "actions", &mut errors),
    };
    if errors.is_empty() { Ok(value) } else { Err(errors) }
}

fn as_input(r: &ServiceRule) -> RuleInput {
    RuleInput {
        name: r.name.clone(),
        position: r.position,
        active: r.active,
        run_on: r.run_on,
        all: r.all.clone(),
        any: r.any.clone(),
        actions: r.actions.clone(),
    }
}

fn blank() -> RuleInput {
    RuleInput {
        name: String::new(),
        position: 0,
        active: true,
        run_on: RunOn::Both,
        all: vec![],
        any: vec![],
        actions: vec![],
    }
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    kind: RuleKind,
    draft: RuleInput,
    errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageServiceRules).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let rows = state
        .store
        .service_rules(kind)
        .await
        .map_err(ApiError::from)?
        .iter()
        .map(|r| {
            vec![
                Cell::text(r.position.to_string()),
                Cell::link(&r.name, format!("/admin/rules/{}/{}", plural(kind), r.id)),
                Cell::text(format!("{} conditions, {} actions", r.all.len() + r.any.len(), r.actions.len())),
                Cell::text(if r.active { "active" } else { "off" }),
            ]
        })
        .collect();
    let form =
        rule_form(kind, "new-rule", format!("/admin/rules/{}", plural(kind)), "Create", &draft).with_errors(errors);
    let title = match kind {
        RuleKind::Trigger => "Triggers",
        RuleKind::Automation => "Automations",
    };
    let sections = vec![
        Section::Table {
            title: None,
            table: Table { head: vec!["Order", "Rule", "What", "State"], rows, empty: "None yet.", next: None },
        },
        Section::Form { title: Some("New rule".into()), form },
    ];
    Page::new(shell, title, sections).notice(notice).after_form(errors)
}

async fn list(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(kind): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    list_page(&state, &caller, kind_of(&kind)?, blank(), &[], n.notice).await
}

async fn create(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(kind): Path<String>,
    form: FormData,
) -> Result<Response, PageError> {
    let kind = kind_of(&kind)?;
    let value = match input(&form) {
        Ok(v) => v,
        Err(errors) => return list_page(&state, &caller, kind, blank(), &errors, None).await,
    };
    match triggers::create(&state, &caller, kind, &value).await {
        Ok(_) => Ok(see_other(&format!("/admin/rules/{}", plural(kind)), Some("The rule is active."))),
        Err(e) => {
            let errors = form_errors(e)?;
            list_page(&state, &caller, kind, value, &errors, None).await
        }
    }
}

async fn find(state: &AppState, kind: RuleKind, id: i64) -> Result<ServiceRule, PageError> {
    Ok(state
        .store
        .service_rule(ServiceRuleId(id))
        .await
        .map_err(ApiError::from)?
        .filter(|r| r.kind == kind)
        .ok_or(ApiError::NotFound)?)
}

async fn edit_page(
    state: &AppState,
    caller: &Caller,
    kind: RuleKind,
    id: i64,
    draft: RuleInput,
    errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageServiceRules).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let base = format!("/admin/rules/{}", plural(kind));
    let form = rule_form(kind, "rule", format!("{base}/{id}"), "Save", &draft).with_errors(errors);
    let sections = vec![
        Section::Form { title: None, form },
        Section::Form {
            title: None,
            form: Form::new("delete", format!("{base}/{id}/delete"), "Delete this rule", vec![]).danger(),
        },
        Section::Links { title: None, links: vec![Cell::link("All rules", base)] },
    ];
    Page::new(shell, draft.name.clone(), sections).notice(notice).after_form(errors)
}

async fn edit(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path((kind, id)): Path<(String, i64)>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let kind = kind_of(&kind)?;
    let r = find(&state, kind, id).await?;
    edit_page(&state, &caller, kind, id, as_input(&r), &[], n.notice).await
}

async fn save(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path((kind, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    let kind = kind_of(&kind)?;
    let current = find(&state, kind, id).await?;
    let value = match input(&form) {
        Ok(v) => v,
        Err(errors) => return edit_page(&state, &caller, kind, id, as_input(&current), &errors, None).await,
    };
    match triggers::replace(&state, &caller, kind, current.id.0, &value).await {
        Ok(_) => Ok(see_other(&format!("/admin/rules/{}/{id}", plural(kind)), Some("Saved."))),
        Err(e) => {
            let errors = form_errors(e)?;
            edit_page(&state, &caller, kind, id, value, &errors, None).await
        }
    }
}

async fn remove(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path((kind, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    triggers::delete(&state, &caller, kind_of(&kind)?, id).await?;
    Ok(see_other(&format!("/admin/rules/{kind}"), Some("The rule was deleted.")))
}
