//! `/admin/sla`: SLA policies in the order they are tried: conditions
//! (priority, tier, channel, team, tags), targets in minutes (business
//! hours or around the clock), the calendar, what pauses the clocks, when
//! to warn. Managers and admins.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use domain::policy::Action;
use domain::sla::{SlaConditions, SlaPolicy, SlaTarget, SlaTargetKind};
use domain::{Channel, DomainError, Priority, Status, TeamId, Tier};

use crate::AppState;
use crate::api::sla::{PolicyInput, create_policy, delete_policy, replace_policy};
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller};
use crate::pages::parts::form_errors;
use crate::pages::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/sla", get(list).post(create))
        .route("/admin/sla/{id}", get(edit).post(save))
        .route("/admin/sla/{id}/delete", post(remove))
}

fn checks<T: Copy + PartialEq>(
    all: &[T],
    chosen: &[T],
    word: impl Fn(T) -> &'static str,
) -> Vec<(String, String, bool)> {
    all.iter().map(|v| (word(*v).to_string(), word(*v).replace('_', " "), chosen.contains(v))).collect()
}

async fn policy_form(
    state: &AppState,
    id: &str,
    action: String,
    submit: &str,
    p: &PolicyInput,
) -> Result<Form, PageError> {
    let c = &p.conditions;
    let directory = state.directory().await?;
    let teams =
        directory.teams.iter().map(|t| (t.id.0.to_string(), t.name.clone(), c.team_ids.contains(&t.id))).collect();
    let mut calendars = vec![(String::new(), "around the clock".to_string())];
    calendars.extend(state.store.calendars().await?.into_iter().map(|c| (c.id.0.to_string(), c.name)));
    let mut fields = vec![
        Field::required("name", "Name", &p.name),
        Field::typed("position", "Order", "number", p.position.to_string())
            .hint("Policies are tried lowest first; the first that matches applies."),
        Field::check("active", "In force", p.active),
        Field::checks("priorities", "For priorities", checks(Priority::ALL, &c.priorities, Priority::as_str))
            .hint("None ticked: any."),
        Field::checks("tiers", "For customer tiers", checks(Tier::ALL, &c.tiers, Tier::as_str)),
        Field::checks("channels", "For channels", checks(Channel::ALL, &c.channels, Channel::as_str)),
        Field::checks("team_ids", "For teams", teams),
        Field::text("tags", "With all these tags", c.tags.join(" ")),
    ];
    for kind in SlaTargetKind::ALL {
        let t = p.targets.iter().find(|t| t.kind == *kind);
        fields.push(Field::typed(
            &format!("{}_minutes", kind.as_str()),
            &format!("{} within (minutes)", kind.title()),
            "number",
            t.map(|t| t.minutes.to_string()).unwrap_or_default(),
        ));
        fields.push(Field::check(
            &format!("{}_business", kind.as_str()),
            &format!("{}: in business hours", kind.title()),
            t.is_none_or(|t| t.business_hours),
        ));
    }
    fields.push(Field::select(
        "calendar_id",
        "Business hours",
        p.calendar_id.map(|c| c.to_string()).unwrap_or_default(),
        calendars,
    ));
    fields.push(Field::checks(
        "pause_on",
        "The clocks stop while",
        checks(&[Status::Pending, Status::OnHold], &p.pause_on, Status::as_str),
    ));
    fields.push(Field::typed("warn_percent", "Warn at (% of a target)", "number", p.warn_percent.to_string()));
    Ok(Form::new(id, action, submit, fields))
}

/// The form as the API's input; unknown words are the form's mistakes.
fn input(form: &FormData) -> Result<PolicyInput, Vec<DomainError>> {
    let mut errors = Vec::new();
    let mut words = |name: &str, parse: &dyn Fn(&str) -> Result<(), DomainError>| {
        for v in form.all(name) {
            if let Err(e) = parse(v) {
                errors.push(e);
            }
        }
        form.all(name)
    };
    let priorities = words("priorities", &|v| Priority::parse("priorities", v).map(|_| ()));
    let tiers = words("tiers", &|v| Tier::parse("tiers", v).map(|_| ()));
    let channels = words("channels", &|v| Channel::parse("channels", v).map(|_| ()));
    let pause = words("pause_on", &|v| Status::parse("pause_on", v).map(|_| ()));
    let conditions = SlaConditions {
        priorities: priorities.iter().filter_map(|v| Priority::parse("p", v).ok()).collect(),
        tiers: tiers.iter().filter_map(|v| Tier::parse("t", v).ok()).collect(),
        channels: channels.iter().filter_map(|v| Channel::parse("c", v).ok()).collect(),
        team_ids: form.all("team_ids").iter().filter_map(|v| v.parse().ok()).map(TeamId).collect(),
        tags: form.text("tags").split([' ', ',']).filter(|t| !t.is_empty()).map(str::to_string).collect(),
        ..Default::default()
    };
    let mut targets = Vec::new();
    for kind in SlaTargetKind::ALL {
        match form.number(&format!("{}_minutes", kind.as_str())) {
            Ok(Some(minutes)) => targets.push(SlaTarget {
                kind: *kind,
                minutes,
                business_hours: form.ticked(&format!("{}_business", kind.as_str())),
            }),
            Ok(None) => {}
            Err(e) => errors.push(DomainError::new("targets", e.message)),
        }
    }
    let number = |name: &str, default: i64, errors: &mut Vec<DomainError>| {
        form.number(name).map_err(|e| errors.push(e)).ok().flatten().unwrap_or(default)
    };
    let position = number("position", 0, &mut errors);
    let warn_percent = number("warn_percent", 75, &mut errors);
    let calendar_id = form.number("calendar_id").map_err(|e| errors.push(e)).ok().flatten();
    let value = PolicyInput {
        name: form.text("name"),
        position,
        active: form.ticked("active"),
        conditions,
        targets,
        calendar_id,
        pause_on: pause.iter().filter_map(|v| Status::parse("s", v).ok()).collect(),
        warn_percent,
    };
    if errors.is_empty() { Ok(value) } else { Err(errors) }
}

fn as_input(p: &SlaPolicy) -> PolicyInput {
    PolicyInput {
        name: p.name.clone(),
        position: p.position,
        active: p.active,
        conditions: p.conditions.clone(),
        targets: p.targets.clone(),
        calendar_id: p.calendar_id.map(|c| c.0),
        pause_on: p.pause_on.clone(),
        warn_percent: p.warn_percent,
    }
}

fn summary(p: &SlaPolicy) -> String {
    p.targets
        .iter()
        .map(|t| format!("{} {} min{}", t.kind.title(), t.minutes, if t.business_hours { " (business)" } else { "" }))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    draft: PolicyInput,
    errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageServiceRules).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let rows = state
        .store
        .sla_policies()
        .await?
        .iter()
        .map(|p| {
            vec![
                Cell::text(p.position.to_string()),
                Cell::link(&p.name, format!("/admin/sla/{}", p.id)),
                Cell::text(summary(p)),
                Cell::text(if p.active { "in force" } else { "off" }),
            ]
        })
        .collect();
    let form =
        policy_form(state, "new-policy", "/admin/sla".into(), "Create policy", &draft).await?.with_errors(errors);
    let sections = vec![
        Section::Table {
            title: None,
            table: Table {
                head: vec!["Order", "Policy", "Targets", "State"],
                rows,
                empty: "No SLA policies yet.",
                next: None,
            },
        },
        Section::Form { title: Some("New policy".into()), form },
    ];
    Page::new(shell, "SLA policies", sections).notice(notice).after_form(errors)
}

fn blank() -> PolicyInput {
    PolicyInput {
        active: true,
        pause_on: vec![Status::Pending, Status::OnHold],
        warn_percent: 75,
        targets: vec![SlaTarget { kind: SlaTargetKind::FirstReply, minutes: 240, business_hours: true }],
        ..Default::default()
    }
}

async fn list(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    list_page(&state, &caller, blank(), &[], n.notice).await
}

async fn create(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    let value = match input(&form) {
        Ok(v) => v,
        Err(errors) => return list_page(&state, &caller, blank(), &errors, None).await,
    };
    let again = value.clone();
    match create_policy(State(state.clone()), caller.clone(), ApiJson { value, raw: Bytes::new() }).await {
        Ok(_) => Ok(see_other("/admin/sla", Some("The policy is in force; open tickets are checked against it."))),
        Err(e) => {
            let errors = form_errors(e)?;
            list_page(&state, &caller, again, &errors, None).await
        }
    }
}

async fn edit_page(
    state: &AppState,
    caller: &Caller,
    id: i64,
    draft: PolicyInput,
    errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageServiceRules).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let form = policy_form(state, "policy", format!("/admin/sla/{id}"), "Save", &draft).await?.with_errors(errors);
    let sections = vec![
        Section::Form { title: None, form },
        Section::Form {
            title: None,
            form: Form::new("delete", format!("/admin/sla/{id}/delete"), "Delete this policy", vec![]).danger(),
        },
        Section::Links { title: None, links: vec![Cell::link("All policies", "/admin/sla")] },
    ];
    Page::new(shell, draft.name.clone(), sections).notice(notice).after_form(errors)
}

async fn find(state: &AppState, id: i64) -> Result<SlaPolicy, PageError> {
    Ok(state.store.sla_policies().await?.into_iter().find(|p| p.id.0 == id).ok_or(ApiError::NotFound)?)
}

async fn edit(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let p = find(&state, id).await?;
    edit_page(&state, &caller, id, as_input(&p), &[], n.notice).await
}

async fn save(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let current = find(&state, id).await?;
    let value = match input(&form) {
        Ok(v) => v,
        Err(errors) => return edit_page(&state, &caller, id, as_input(&current), &errors, None).await,
    };
    let again = value.clone();
    match replace_policy(State(state.clone()), caller.clone(), Path(id), ApiJson { value, raw: Bytes::new() }).await {
        Ok(_) => Ok(see_other(&format!("/admin/sla/{id}"), Some("Saved; open tickets are checked again."))),
        Err(e) => {
            let errors = form_errors(e)?;
            edit_page(&state, &caller, id, again, &errors, None).await
        }
    }
}

async fn remove(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    delete_policy(State(state), caller, Path(id)).await?;
    Ok(see_other("/admin/sla", Some("The policy was deleted.")))
}
