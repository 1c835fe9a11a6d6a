//! `/admin/routing`: rules that send new tickets to a team (by words,
//! channel, tier, mailbox), and how each team gives its tickets to agents
//! (mode, capacity per channel, reassignment when an agent goes offline).
//! Managers see and set their own teams; admins all.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use domain::policy::Action;
use domain::routing::{AssignMode, RouteConditions, RoutingRule, TeamRouting};
use domain::{Channel, DomainError, RoutingRuleId, TeamId, Tier};

use super::{Reach, reach};
use crate::AppState;
use crate::api::routing::{RoutingRuleInput, checked};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::pages::parts::form_errors;
use crate::pages::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/routing", get(list).post(create))
        .route("/admin/routing/delete", post(remove))
        .route("/admin/routing/teams/{id}", post(save_team))
}

fn ticks<T: Copy + PartialEq>(
    all: &[T],
    chosen: &[T],
    word: impl Fn(T) -> &'static str,
) -> Vec<(String, String, bool)> {
    all.iter().map(|v| (word(*v).to_string(), word(*v).replace('_', " "), chosen.contains(v))).collect()
}

fn describe(r: &RoutingRule, teams: &[(TeamId, String)]) -> String {
    let c = &r.conditions;
    let mut parts = Vec::new();
    if !c.words.is_empty() {
        parts.push(format!("words: {}", c.words.join(", ")));
    }
    if !c.channels.is_empty() {
        parts.push(format!("channels: {}", c.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")));
    }
    if !c.tiers.is_empty() {
        parts.push(format!("tiers: {}", c.tiers.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")));
    }
    let team = teams.iter().find(|(id, _)| *id == r.team_id).map(|(_, n)| n.clone()).unwrap_or_default();
    format!("{} → {team}", if parts.is_empty() { "every new ticket".to_string() } else { parts.join("; ") })
}

async fn page(
    state: &AppState,
    caller: &Caller,
    errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageServiceRules).await?;
    let led = reach(caller)?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let directory = state.directory().await?;
    let teams: Vec<(TeamId, String)> = directory.teams.iter().map(|t| (t.id, t.name.clone())).collect();
    let rules = state.store.routing_rules().await.map_err(ApiError::from)?;
    let rows = rules
        .iter()
        .map(|r| vec![Cell::text(r.position.to_string()), Cell::text(&r.name), Cell::text(describe(r, &teams))])
        .collect();
    let mut sections = vec![Section::Table {
        title: Some("Routing rules (the first that matches picks the team)".into()),
        table: Table {
            head: vec!["Order", "Rule", "Sends"],
            rows,
            empty: "No rules: new tickets wait without a team.",
            next: None,
        },
    }];
    if !rules.is_empty() {
        let options = rules.iter().map(|r| (r.id.0.to_string(), r.name.clone())).collect();
        sections.push(Section::Form {
            title: None,
            form: Form::new(
                "delete-route",
                "/admin/routing/delete",
                "Delete rule",
                vec![Field::select("rule_id", "Rule", "", options)],
            )
            .danger(),
        });
    }
    let team_options: Vec<(String, String)> = teams.iter().map(|(id, n)| (id.0.to_string(), n.clone())).collect();
    let form = Form::new(
        "new-route",
        "/admin/routing",
        "Add rule",
        vec![
            Field::required("name", "Name", ""),
            Field::typed("position", "Order", "number", "0"),
            Field::text("words", "Words in subject or message (any of them, comma-separated)", ""),
            Field::checks("channels", "Channels", ticks(Channel::ALL, &[], Channel::as_str)).hint("None ticked: any."),
            Field::checks("tiers", "Customer tiers", ticks(Tier::ALL, &[], Tier::as_str)),
            Field::select("team_id", "Send to team", "", team_options),
        ],
    )
    .with_errors(errors);
    sections.push(Section::Form { title: Some("New routing rule".into()), form });
    for team in &directory.teams {
        if let Reach::Led(ids) = &led
            && !ids.contains(&team.id)
        {
            continue;
        }
        let (r, _) = state.store.team_routing(team.id).await.map_err(ApiError::from)?;
        let modes = AssignMode::ALL.iter().map(|m| (m.as_str().to_string(), m.as_str().replace('_', " "))).collect();
        let mut fields = vec![Field::select("mode", "Assign by", r.mode.as_str(), modes)];
        for ch in Channel::ALL {
            fields.push(Field::typed(
                &format!("capacity_{}", ch.as_str()),
                &format!("Most open {} tickets per agent", ch.as_str()),
                "number",
                r.capacity.get(ch).map(|c| c.to_string()).unwrap_or_default(),
            ));
        }
        fields.push(Field::check(
            "reassign_when_offline",
            "Hand on open work when an agent goes offline",
            r.reassign_when_offline,
        ));
        sections.push(Section::Form {
            title: Some(format!("Team {}", team.name)),
            form: Form::new(&format!("team-{}", team.id), format!("/admin/routing/teams/{}", team.id), "Save", fields),
        });
    }
    Page::new(shell, "Routing", sections).notice(notice).after_form(errors)
}

async fn list(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    page(&state, &caller, &[], n.notice).await
}

async fn create(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    caller.require(&state, Action::ManageServiceRules).await?;
    let mut errors = Vec::new();
    let position = form.number("position").map_err(|e| errors.push(e)).ok().flatten().unwrap_or(0);
    let team_id = form.number("team_id").map_err(|e| errors.push(e)).ok().flatten().unwrap_or(0);
    let input = RoutingRuleInput {
        name: form.text("name"),
        position,
        active: true,
        conditions: RouteConditions {
            words: form.text("words").split(',').map(str::trim).filter(|w| !w.is_empty()).map(String::from).collect(),
            channels: form.all("channels").iter().filter_map(|c| Channel::parse("channels", c).ok()).collect(),
            tiers: form.all("tiers").iter().filter_map(|t| Tier::parse("tiers", t).ok()).collect(),
            ..Default::default()
        },
        team_id,
    };
    // The API's checks: a name, a team that exists.
    let rule = match checked(&state, RoutingRuleId(0), &input, state.now()).await {
        Ok(r) if errors.is_empty() => r,
        Ok(_) => return page(&state, &caller, &errors, None).await,
        Err(e) => {
            errors.extend(form_errors(e)?);
            return page(&state, &caller, &errors, None).await;
        }
    };
    state.store.create_routing_rule(rule).await.map_err(ApiError::from)?;
    Ok(see_other("/admin/routing", Some("The rule routes new tickets from now on.")))
}

async fn remove(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    caller.require(&state, Action::ManageServiceRules).await?;
    let id = form.number("rule_id").ok().flatten().ok_or(ApiError::NotFound)?;
    if !state.store.delete_routing_rule(RoutingRuleId(id)).await.map_err(ApiError::from)? {
        return Err(ApiError::NotFound.into());
    }
    Ok(see_other("/admin/routing", Some("The rule was deleted.")))
}

async fn save_team(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    caller.require(&state, Action::ManageServiceRules).await?;
    if let Reach::Led(ids) = reach(&caller)?
        && !ids.contains(&TeamId(id))
    {
        return Err(ApiError::Forbidden.into());
    }
    state.store.team(TeamId(id)).await.map_err(ApiError::from)?.ok_or(ApiError::NotFound)?;
    let mut errors = Vec::new();
    let mode = AssignMode::parse("mode", &form.text("mode")).map_err(|e| errors.push(e)).unwrap_or(AssignMode::Manual);
    let mut settings =
        TeamRouting { mode, reassign_when_offline: form.ticked("reassign_when_offline"), ..Default::default() };
    for ch in Channel::ALL {
        match form.number(&format!("capacity_{}", ch.as_str())) {
            Ok(Some(n)) if (0..=1000).contains(&n) => {
                settings.capacity.insert(*ch, n);
            }
            Ok(Some(_)) => errors.push(DomainError::new(format!("capacity_{}", ch.as_str()), "0 to 1000")),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return page(&state, &caller, &errors, None).await;
    }
    state.store.set_team_routing(TeamId(id), &settings).await.map_err(ApiError::from)?;
    Ok(see_other("/admin/routing", Some("The team's routing was saved.")))
}
