//! `/admin/kpis`: the manager's KPI targets (per KPI, for the department
//! or one team; the cockpit judges them green, amber or red), what support
//! costs (cost per ticket, the ROI report), the resource request's staffing
//! assumptions and the calendar business time is counted in. Saved through
//! the API's own checks (`PUT /api/v1/settings/kpis`). Managers and admins.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use domain::DomainError;
use domain::kpi::{KpiTarget, TargetKpi};
use domain::policy::Action;
use jobs::kpi::{Costs, KpiSettings};

use crate::AppState;
use crate::api::approvals::money;
use crate::api::kpis::set_kpi_settings;
use crate::extract::{ApiJson, Caller};
use crate::pages::cockpit::target_label;
use crate::pages::parts::form_errors;
use crate::pages::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/kpis", get(show))
        .route("/admin/kpis/targets", post(save_target))
        .route("/admin/kpis/costs", post(save_costs))
}

/// The target form as typed.
#[derive(Debug, Clone)]
struct TargetForm {
    kpi: String,
    team_id: String,
    target: String,
    /// Percent of the target.
    amber: String,
}

impl Default for TargetForm {
    fn default() -> Self {
        Self { kpi: String::new(), team_id: String::new(), target: String::new(), amber: "10".into() }
    }
}

/// The costs and staffing form as typed: money in major units, shares in percent.
#[derive(Debug, Clone, Default)]
struct CostsForm {
    calendar_id: String,
    agent_hourly: String,
    agent_hours_per_week: String,
    tools_monthly: String,
    overhead_monthly: String,
    handle_minutes: String,
    first_reply_target_minutes: String,
    shrinkage: String,
}

fn number_text(v: Option<f64>) -> String {
    v.map(|v| format!("{}", (v * 1000.0).round() / 1000.0)).unwrap_or_default()
}

impl CostsForm {
    fn of(s: &KpiSettings) -> Self {
        let c = &s.costs;
        let cents = |v: i64| if v == 0 { String::new() } else { money(v) };
        Self {
            calendar_id: s.calendar_id.map(|c| c.to_string()).unwrap_or_default(),
            agent_hourly: cents(c.agent_hourly_cents),
            agent_hours_per_week: number_text(c.agent_hours_per_week),
            tools_monthly: cents(c.tools_monthly_cents),
            overhead_monthly: cents(c.overhead_monthly_cents),
            handle_minutes: number_text(s.handle_minutes),
            first_reply_target_minutes: number_text(s.first_reply_target_minutes),
            shrinkage: number_text(s.shrinkage.map(|x| x * 100.0)),
        }
    }

    fn read(form: &FormData) -> Self {
        Self {
            calendar_id: form.text("calendar_id"),
            agent_hourly: form.text("agent_hourly"),
            agent_hours_per_week: form.text("agent_hours_per_week"),
            tools_monthly: form.text("tools_monthly"),
            overhead_monthly: form.text("overhead_monthly"),
            handle_minutes: form.text("handle_minutes"),
            first_reply_target_minutes: form.text("first_reply_target_minutes"),
            shrinkage: form.text("shrinkage"),
        }
    }

    /// These values over `current`, or each field's message.
    fn apply(&self, current: &KpiSettings) -> Result<KpiSettings, Vec<DomainError>> {
        let mut errors = Vec::new();
        let mut cents = |field: &str, raw: &str| match parse_money(raw) {
            Ok(v) => v,
            Err(m) => {
                errors.push(DomainError::new(field, m));
                0
            }
        };
        let costs = Costs {
            agent_hourly_cents: cents("agent_hourly", &self.agent_hourly),
            agent_hours_per_week: None,
            tools_monthly_cents: cents("tools_monthly", &self.tools_monthly),
            overhead_monthly_cents: cents("overhead_monthly", &self.overhead_monthly),
        };
        let mut optional = |field: &str, raw: &str| decimal(field, raw).map_err(|e| errors.push(e)).ok().flatten();
        let hours = optional("agent_hours_per_week", &self.agent_hours_per_week);
        let handle = optional("handle_minutes", &self.handle_minutes);
        let first_reply = optional("first_reply_target_minutes", &self.first_reply_target_minutes);
        let shrinkage = optional("shrinkage", &self.shrinkage).map(|p| p / 100.0);
        let calendar_id = match self.calendar_id.as_str() {
            "" => None,
            s => match s.parse() {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.push(DomainError::new("calendar_id", "choose a calendar from the list"));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(KpiSettings {
            calendar_id,
            handle_minutes: handle,
            first_reply_target_minutes: first_reply,
            shrinkage,
            costs: Costs { agent_hours_per_week: hours, ..costs },
            ..current.clone()
        })
    }
}

/// A number as typed; empty is none.
fn decimal(field: &str, raw: &str) -> Result<Option<f64>, DomainError> {
    match raw {
        "" => Ok(None),
        s => match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(DomainError::new(field, format!("'{s}' is not a number"))),
        },
    }
}

/// An amount in major units ("32.50") as minor units; empty is nothing.
fn parse_money(raw: &str) -> Result<i64, String> {
    let cleaned: String = raw.chars().filter(|c| !matches!(c, ',' | ' ' | '_')).collect();
    if cleaned.is_empty() {
        return Ok(0);
    }
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.len() > 2 || !(fraction.is_empty() || digits(fraction)) || whole.len() > 12 {
        return Err(format!("'{raw}' is not an amount like 32.50"));
    }
    let whole: i64 = whole.parse().map_err(|_| format!("'{raw}' is too large"))?;
    let fraction: i64 = if fraction.is_empty() { 0 } else { format!("{fraction:0<2}").parse().unwrap_or(0) };
    Ok(whole * 100 + fraction)
}

/// Which form came back, with what was typed and its messages.
enum Returned {
    Target(TargetForm, Vec<DomainError>),
    Costs(CostsForm, Vec<DomainError>),
}

async fn page(
    state: &AppState,
    caller: &Caller,
    returned: Option<Returned>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ViewReports).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let settings = jobs::kpi::settings(state.store.as_ref()).await?;
    let directory = state.directory().await?;
    let team_name = |id: Option<i64>| match id {
        None => "The department".to_string(),
        Some(id) => directory
            .teams
            .iter()
            .find(|t| t.id.0 == id)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| format!("team {id}")),
    };
    let mut targets = settings.targets.clone();
    targets
        .sort_by_key(|t| (TargetKpi::ALL.iter().position(|k| *k == t.kpi), t.team_id.is_some(), team_name(t.team_id)));
    let table = Table {
        head: vec!["KPI", "For", "Target", "Amber"],
        rows: targets
            .iter()
            .map(|t| {
                let sign = if t.kpi.lower_is_better() { "≤ " } else { "≥ " };
                let slack = t.target.abs() * t.amber;
                let (low, high) =
                    if t.kpi.lower_is_better() { (t.target, t.target + slack) } else { (t.target - slack, t.target) };
                vec![
                    Cell::text(target_label(t.kpi)),
                    Cell::text(team_name(t.team_id)),
                    Cell::text(format!("{sign}{}", number_text(Some(t.target)))),
                    Cell::text(format!(
                        "{}–{} ({}%)",
                        number_text(Some(low)),
                        number_text(Some(high)),
                        number_text(Some(t.amber * 100.0))
                    )),
                ]
            })
            .collect(),
        empty: "No targets yet: the cockpit judges nothing green, amber or red until you set one.",
        next: None,
    };
    let (target_form, target_errors, costs_form, costs_errors) = match returned {
        Some(Returned::Target(f, e)) => (f, e, CostsForm::of(&settings), vec![]),
        Some(Returned::Costs(f, e)) => (TargetForm::default(), vec![], f, e),
        None => (TargetForm::default(), vec![], CostsForm::of(&settings), vec![]),
    };
    let kpis = TargetKpi::ALL.iter().map(|k| (k.as_str().to_string(), target_label(*k).to_string())).collect();
    let mut teams = vec![(String::new(), "The department".to_string())];
    teams.extend(directory.teams.iter().map(|t| (t.id.0.to_string(), t.name.clone())));
    let set_target = Form::new(
        "target",
        "/admin/kpis/targets",
        "Save target",
        vec![
            Field::select("kpi", "KPI", target_form.kpi.clone(), kpis),
            Field::select("team_id", "For", target_form.team_id.clone(), teams)
                .hint("A team's own target is used on its cockpit; the department's otherwise."),
            Field::text("target", "Target", target_form.target.clone()).hint(
                "In the KPI's unit: minutes, hours, percent, tickets or NPS points. \
                 Leave it empty to remove this KPI's target for the team chosen.",
            ),
            Field::typed("amber", "Amber band (% of the target)", "number", target_form.amber.clone())
                .hint("How far past the target is still amber rather than red; 10 by default."),
        ],
    )
    .with_errors(&target_errors);
    let mut calendars = vec![(String::new(), "The first calendar (around the clock when there is none)".to_string())];
    calendars.extend(state.store.calendars().await?.into_iter().map(|c| (c.id.0.to_string(), c.name)));
    let c = &costs_form;
    let costs = Form::new(
        "costs",
        "/admin/kpis/costs",
        "Save costs and staffing",
        vec![
            Field::select("calendar_id", "Business hours for the KPIs", c.calendar_id.clone(), calendars)
                .hint("A new calendar counts for tickets measured from now on; `switchboard kpi rebuild` measures the rest again."),
            Field::text("agent_hourly", "An agent's cost per hour", c.agent_hourly.clone())
                .hint("Salary, taxes and benefits, e.g. 32.50."),
            Field::text("agent_hours_per_week", "An agent's paid hours per week", c.agent_hours_per_week.clone())
                .hint("40 when empty."),
            Field::text("tools_monthly", "Tools per month", c.tools_monthly.clone())
                .hint("Licences, telephony and the like."),
            Field::text("overhead_monthly", "Overhead per month", c.overhead_monthly.clone())
                .hint("Management, office and training."),
            Field::text("handle_minutes", "Minutes of work per ticket", c.handle_minutes.clone())
                .hint("For the resource request's staffing estimate; 15 when empty."),
            Field::text("first_reply_target_minutes", "First reply target (minutes)", c.first_reply_target_minutes.clone())
                .hint("The service level the staffing estimate aims for; 60 when empty."),
            Field::text("shrinkage", "Shrinkage (%)", c.shrinkage.clone())
                .hint("Paid time not available for tickets (breaks, meetings, training); 30 when empty."),
        ],
    )
    .with_errors(&costs_errors);
    let errors: Vec<DomainError> = target_errors.into_iter().chain(costs_errors).collect();
    let sections = vec![
        Section::Table { title: Some("Targets".into()), table },
        Section::Form { title: Some("Set a target".into()), form: set_target },
        Section::Form { title: Some("Costs and staffing".into()), form: costs },
        Section::Links { title: None, links: vec![Cell::link("The cockpit", "/cockpit")] },
    ];
    Page::new(shell, "KPI targets, costs and staffing", sections).notice(notice).after_form(&errors)
}

async fn show(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    page(&state, &caller, None, n.notice).await
}

/// Saves through the API's checks; its field messages, when it refuses.
async fn save(state: &AppState, caller: &Caller, s: KpiSettings) -> Result<Vec<DomainError>, PageError> {
    match set_kpi_settings(State(state.clone()), caller.clone(), ApiJson { value: s, raw: Bytes::new() }).await {
        Ok(_) => Ok(vec![]),
        Err(e) => form_errors(e),
    }
}

async fn save_target(
    State(state): State<AppState>,
    Staff(caller): Staff,
    form: FormData,
) -> Result<Response, PageError> {
    caller.require(&state, Action::ViewReports).await?;
    let typed = TargetForm {
        kpi: form.text("kpi"),
        team_id: form.text("team_id"),
        target: form.text("target"),
        amber: form.text("amber"),
    };
    let mut errors = Vec::new();
    let kpi = TargetKpi::parse("kpi", &typed.kpi).map_err(|e| errors.push(e)).ok();
    let team_id = match typed.team_id.as_str() {
        "" => None,
        s => s.parse::<i64>().map_err(|_| errors.push(DomainError::new("team_id", "choose a team from the list"))).ok(),
    };
    let target = decimal("target", &typed.target).map_err(|e| errors.push(e)).ok().flatten();
    let amber = match decimal("amber", &typed.amber) {
        Ok(a) => Some(a.unwrap_or(10.0)),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if let Some(a) = amber.filter(|a| !(0.0..=100.0).contains(a)) {
        errors.push(DomainError::new("amber", format!("{a} is not from 0 to 100")));
    }
    let (Some(kpi), true) = (kpi, errors.is_empty()) else {
        return page(&state, &caller, Some(Returned::Target(typed, errors)), None).await;
    };
    let mut settings = jobs::kpi::settings(state.store.as_ref()).await?;
    settings.targets.retain(|t| !(t.kpi == kpi && t.team_id == team_id));
    let notice = match target {
        Some(target) => {
            let amber = amber.unwrap_or(10.0) / 100.0;
            settings.targets.push(KpiTarget { kpi, team_id, target, amber });
            "Target saved."
        }
        None => "Target removed.",
    };
    let last = settings.targets.len().saturating_sub(1);
    let errors: Vec<DomainError> = save(&state, &caller, settings)
        .await?
        .into_iter()
        .map(|e| {
            // The new target is the last; its messages go next to its fields.
            let field = match e.field.strip_prefix(&format!("targets[{last}].")) {
                Some("target") => "target".to_string(),
                Some("amber") => "amber".to_string(),
                Some("team_id") => "team_id".to_string(),
                _ => e.field.clone(),
            };
            DomainError::new(field, e.message)
        })
        .collect();
    if errors.is_empty() {
        Ok(see_other("/admin/kpis", Some(notice)))
    } else {
        page(&state, &caller, Some(Returned::Target(typed, errors)), None).await
    }
}

async fn save_costs(
    State(state): State<AppState>,
    Staff(caller): Staff,
    form: FormData,
) -> Result<Response, PageError> {
    caller.require(&state, Action::ViewReports).await?;
    let typed = CostsForm::read(&form);
    let current = jobs::kpi::settings(state.store.as_ref()).await?;
    let settings = match typed.apply(&current) {
        Ok(s) => s,
        Err(errors) => return page(&state, &caller, Some(Returned::Costs(typed, errors)), None).await,
    };
    let errors: Vec<DomainError> = save(&state, &caller, settings)
        .await?
        .into_iter()
        .map(|e| match e.field.as_str() {
            "costs.agent_hourly_cents" => DomainError::new("agent_hourly", e.message),
            "costs.tools_monthly_cents" => DomainError::new("tools_monthly", e.message),
            "costs.overhead_monthly_cents" => DomainError::new("overhead_monthly", e.message),
            "costs.agent_hours_per_week" => DomainError::new("agent_hours_per_week", e.message),
            "shrinkage" => DomainError::new("shrinkage", "must be from 0 to 95"),
            _ => e,
        })
        .collect();
    if errors.is_empty() {
        Ok(see_other("/admin/kpis", Some("Costs and staffing saved.")))
    } else {
        page(&state, &caller, Some(Returned::Costs(typed, errors)), None).await
    }
}

#[cfg(test)]
mod tests {
    use super::parse_money;

    #[test]
    fn amounts_in_major_units() {
        assert_eq!(parse_money(""), Ok(0));
        assert_eq!(parse_money("32"), Ok(3200));
        assert_eq!(parse_money("32.5"), Ok(3250));
        assert_eq!(parse_money("1,500.05"), Ok(150_005));
        assert!(parse_money("-3").is_err());
        assert!(parse_money("3.555").is_err());
        assert!(parse_money("ten").is_err());
        assert!(parse_money(".5").is_err());
    }
}
