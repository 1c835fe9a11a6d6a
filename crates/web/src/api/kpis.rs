//! The department's KPIs for a period and slice, beside the period before
//! (`GET /kpis`), and each of the cockpit's tables as CSV (`GET /kpis.csv`).
//! Definitions: docs/METRICS.md.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use domain::kpi::Slice;
use domain::policy::Action;
use domain::{Channel, DomainError, Priority};
use jobs::cockpit::{CockpitReport, Window};
use jobs::kpi::KpiSettings;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_kpis))
        .routes(routes!(kpis_csv))
        .routes(routes!(kpis_xlsx))
        .routes(routes!(get_kpi_settings, set_kpi_settings))
}

/// Which period and slice. Every value is text here so a bad one is a
/// field message (422), not a bare 400.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct KpiQuery {
    /// Local days up to today, 1 to 366 (default 30); ignored with `from`.
    pub days: Option<String>,
    /// First day, `YYYY-MM-DD` (with `to`, both included).
    pub from: Option<String>,
    pub to: Option<String>,
    /// IANA zone of the days (default: the installation's).
    pub tz: Option<String>,
    pub team_id: Option<String>,
    pub agent_id: Option<String>,
    pub channel: Option<String>,
    pub priority: Option<String>,
    pub organization_id: Option<String>,
    pub tag: Option<String>,
    /// The requester's tier (or the ticket's organization's when higher):
    /// `standard`, `priority`, `vip`.
    pub tier: Option<String>,
    /// One of the manager's topics (Customer insights), by name: its tickets
    /// are those with the topic's tag.
    pub topic: Option<String>,
    /// For the CSV: `days` (default), `agents`, `teams`, `first_reply`,
    /// `backlog`, `channels`, `arrivals`, `handle`, `summary`.
    pub table: Option<String>,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn number(field: &str, v: &Option<String>, errors: &mut Vec<DomainError>) -> Option<i64> {
    let raw = present(v)?;
    match raw.parse::<i64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            errors.push(DomainError::new(field, format!("'{raw}' is not a positive whole number")));
            None
        }
    }
}

fn date(field: &str, v: &Option<String>, errors: &mut Vec<DomainError>) -> Option<jiff::civil::Date> {
    let raw = present(v)?;
    match raw.parse::<jiff::civil::Date>() {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(DomainError::new(field, format!("'{raw}' is not a date as YYYY-MM-DD")));
            None
        }
    }
}

impl KpiQuery {
    /// The window and slice asked for, or every problem with them.
    pub async fn parse(&self, state: &AppState) -> ApiResult<(Window, Slice)> {
        let mut errors = Vec::new();
        let tz = match present(&self.tz) {
            Some(name) => jiff::tz::TimeZone::get(name).unwrap_or_else(|_| {
                errors.push(DomainError::new("tz", format!("'{name}' is not an IANA time zone")));
                jiff::tz::TimeZone::UTC
            }),
            None => jobs::cockpit::time_zone(state.store.as_ref()).await,
        };
        let days = number("days", &self.days, &mut errors).unwrap_or(30);
        if !(1..=366).contains(&days) {
            errors.push(DomainError::new("days", "must be from 1 to 366"));
        }
        let window = match (date("from", &self.from, &mut errors), date("to", &self.to, &mut errors)) {
            (Some(first), Some(last)) => {
                let length = first.until(last).map(|s| i64::from(s.get_days())).unwrap_or(-1);
                if !(0..366).contains(&length) {
                    errors.push(DomainError::new("to", "must be on or after from, at most 366 days"));
                }
                Window { first, last, tz }
            }
            (Some(_), None) => {
                errors.push(DomainError::new("to", "is needed with from"));
                Window::days_to(state.now(), days, tz)
            }
            (None, Some(_)) => {
                errors.push(DomainError::new("from", "is needed with to"));
                Window::days_to(state.now(), days, tz)
            }
            (None, None) => Window::days_to(state.now(), days, tz),
        };
        let mut slice = Slice {
            team_id: number("team_id", &self.team_id, &mut errors),
            agent_id: number("agent_id", &self.agent_id, &mut errors),
            channel: present(&self.channel).and_then(|c| Channel::parse("channel", c).map_err(|e| errors.push(e)).ok()),
            priority: present(&self.priority)
                .and_then(|p| Priority::parse("priority", p).map_err(|e| errors.push(e)).ok()),
            organization_id: number("organization_id", &self.organization_id, &mut errors),
            tag: present(&self.tag).map(|t| t.to_lowercase()),
            tier: present(&self.tier).and_then(|t| domain::Tier::parse("tier", t).map_err(|e| errors.push(e)).ok()),
        };
        if let Some(name) = present(&self.topic) {
            let topics = jobs::insights::topic_defs(state.store.as_ref()).await?;
            match topics.iter().find(|t| t.name.eq_ignore_ascii_case(name)) {
                None => errors.push(DomainError::new("topic", format!("there is no topic '{name}'"))),
                Some(t) => match (&t.tag, &slice.tag) {
                    (None, _) => errors.push(DomainError::new(
                        "topic",
                        format!("the topic '{}' has no tag; give it one (Customer insights) to slice by it", t.name),
                    )),
                    (Some(tag), Some(other)) if tag != other => {
                        errors.push(DomainError::new("topic", "give a tag or a topic, not both"))
                    }
                    (Some(tag), _) => slice.tag = Some(tag.to_lowercase()),
                },
            }
        }
        if errors.is_empty() { Ok((window, slice)) } else { Err(ApiError::Invalid(errors)) }
    }

    /// The query string that asks for the same window and slice.
    pub fn to_query_string(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("days", &self.days),
            ("from", &self.from),
            ("to", &self.to),
            ("tz", &self.tz),
            ("team_id", &self.team_id),
            ("agent_id", &self.agent_id),
            ("channel", &self.channel),
            ("priority", &self.priority),
            ("organization_id", &self.organization_id),
            ("tag", &self.tag),
            ("tier", &self.tier),
            ("topic", &self.topic),
        ]
        .into_iter()
        .filter_map(|(k, v)| present(v).map(|v| (k, v)))
        .collect();
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    }
}

pub(crate) async fn report(state: &AppState, caller: &Caller, q: &KpiQuery) -> ApiResult<CockpitReport> {
    caller.require(state, Action::ViewReports).await?;
    let (window, slice) = q.parse(state).await?;
    Ok(jobs::cockpit::report(state.store.as_ref(), state.now(), &window, &slice).await?)
}

/// KPIs of the period and the one before, days, spreads, backlog,
/// scorecards, channel mix and arrivals.
#[utoipa::path(get, path = "/kpis", tag = "reports", params(KpiQuery),
    responses((status = 200, body = CockpitReport), (status = 403), (status = 422)))]
pub async fn get_kpis(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<KpiQuery>,
) -> ApiResult<Json<CockpitReport>> {
    Ok(Json(report(&state, &caller, &q).await?))
}

fn field(s: &str) -> String {
    // A leading = + - @ would run as a formula in a spreadsheet.
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn minutes(ms: Option<f64>) -> String {
    ms.map(|m| format!("{:.1}", m / 60_000.0)).unwrap_or_default()
}

/// One of the report's tables as CSV rows (header first).
pub(crate) fn table(r: &CockpitReport, which: &str) -> Option<Vec<Vec<String>>> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let head = |cols: &[&str]| cols.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    match which {
        "days" => {
            rows.push(head(&["date", "created", "solved", "first_reply_median_minutes", "sla_met", "sla_breached"]));
            for d in &r.days {
                rows.push(vec![
                    d.date.clone(),
                    d.created.to_string(),
                    d.solved.to_string(),
                    minutes(d.first_reply_median),
                    d.sla.yes.to_string(),
                    (d.sla.of - d.sla.yes).to_string(),
                ]);
            }
        }
        "agents" | "teams" => {
            let cards = if which == "agents" { &r.agents } else { &r.teams };
            rows.push(head(&[
                "id",
                "solved",
                "replies",
                "first_reply_median_minutes",
                "first_reply_p90_minutes",
                "one_touch_percent",
                "reopen_percent",
                "csat_percent",
                "handled_contacts",
                "aht_minutes",
                "online_hours",
                "occupancy_percent",
                "solved_per_online_hour",
            ]));
            for c in cards {
                let pct = |x: Option<f64>| x.map(|v| format!("{:.1}", v * 100.0)).unwrap_or_default();
                let w = c.workload.as_ref();
                rows.push(vec![
                    opt(c.id),
                    c.solved.to_string(),
                    c.replies.to_string(),
                    minutes(c.first_reply.as_ref().map(|d| d.median)),
                    minutes(c.first_reply.as_ref().map(|d| d.p90 as f64)),
                    pct(c.one_touch.rate),
                    pct(c.reopen_rate.rate),
                    pct(c.csat),
                    c.handle.contacts.to_string(),
                    minutes(c.handle.aht_ms),
                    w.map(|w| format!("{:.2}", w.online_ms as f64 / 3_600_000.0)).unwrap_or_default(),
                    pct(w.and_then(|w| w.occupancy)),
                    w.and_then(|w| w.solved_per_online_hour).map(|x| format!("{x:.2}")).unwrap_or_default(),
                ]);
            }
        }
        "handle" => {
            rows.push(head(&["channel", "handled_contacts", "handle_minutes", "aht_minutes"]));
            for c in &r.handle_by_channel {
                rows.push(vec![
                    c.channel.as_str().to_string(),
                    c.handle.contacts.to_string(),
                    minutes(Some(c.handle.handle_ms as f64)),
                    minutes(c.handle.aht_ms),
                ]);
            }
        }
        "first_reply" => {
            rows.push(head(&["bucket", "replies"]));
            rows.extend(r.first_reply_histogram.iter().map(|b| vec![b.label.clone(), b.count.to_string()]));
        }
        "backlog" => {
            rows.push(head(&["age", "tickets"]));
            rows.extend(r.backlog.by_age.iter().map(|b| vec![b.label.clone(), b.count.to_string()]));
        }
        "channels" => {
            rows.push(head(&["channel", "created"]));
            rows.extend(r.channels.iter().map(|b| vec![b.label.clone(), b.count.to_string()]));
        }
        "arrivals" => {
            let mut h = vec!["weekday".to_string()];
            h.extend((0..24).map(|x| format!("{x:02}")));
            rows.push(h);
            for (day, counts) in
                ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"].iter().zip(&r.arrivals)
            {
                let mut row = vec![day.to_string()];
                row.extend(counts.iter().map(|c| c.to_string()));
                rows.push(row);
            }
        }
        "summary" => {
            rows.push(head(&["kpi", "this_period", "previous_period", "change", "direction"]));
            for l in jobs::cockpit::summary_lines(r) {
                let direction = l.change.as_ref().map(|c| c.direction()).unwrap_or_default().to_string();
                let change = l.change.map(|c| c.text).unwrap_or_default();
                rows.push(vec![l.name, l.now, l.before, change, direction]);
            }
        }
        _ => return None,
    }
    Some(rows)
}

pub(crate) fn to_csv(rows: &[Vec<String>]) -> String {
    rows.iter().map(|r| r.iter().map(|c| field(c)).collect::<Vec<_>>().join(",") + "\r\n").collect()
}

/// One of the cockpit's tables as CSV (`table=`, default `days`).
#[utoipa::path(get, path = "/kpis.csv", tag = "reports", params(KpiQuery),
    responses((status = 200, content_type = "text/csv"), (status = 403), (status = 422)))]
pub async fn kpis_csv(State(state): State<AppState>, caller: Caller, Query(q): Query<KpiQuery>) -> ApiResult<Response> {
    let which = present(&q.table).unwrap_or("days").to_string();
    let r = report(&state, &caller, &q).await?;
    let rows = table(&r, &which).ok_or_else(|| {
        ApiError::invalid(
            "table",
            "must be one of: days, agents, teams, first_reply, backlog, channels, arrivals, handle, summary",
        )
    })?;
    let disposition = format!("attachment; filename=\"kpis-{which}-{}-{}.csv\"", r.from, r.to);
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        to_csv(&rows),
    )
        .into_response())
}

/// The calendar business time is counted in, and the manager's targets.
#[utoipa::path(get, path = "/settings/kpis", tag = "reports",
    responses((status = 200, body = KpiSettings), (status = 403)))]
pub async fn get_kpi_settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<KpiSettings>> {
    caller.require(&state, Action::ViewReports).await?;
    Ok(Json(jobs::kpi::settings(state.store.as_ref()).await?))
}

/// Replaces the KPI settings. A new calendar applies to tickets measured
/// from then on; `switchboard kpi rebuild` measures the rest again.
#[utoipa::path(put, path = "/settings/kpis", tag = "reports", request_body = KpiSettings,
    responses((status = 200, body = KpiSettings), (status = 403), (status = 422)))]
pub async fn set_kpi_settings(
    State(state): State<AppState>,
    caller: Caller,
    body: ApiJson<KpiSettings>,
) -> ApiResult<Json<KpiSettings>> {
    caller.require(&state, Action::ViewReports).await?;
    let s = body.value;
    let mut errors = Vec::new();
    if let Some(id) = s.calendar_id
        && state.store.calendar(domain::CalendarId(id)).await?.is_none()
    {
        errors.push(DomainError::new("calendar_id", format!("there is no calendar {id}")));
    }
    let teams = state.store.teams().await?;
    for (i, t) in s.targets.iter().enumerate() {
        errors.extend(t.check(&format!("targets[{i}]")));
        if let Some(team) = t.team_id
            && !teams.iter().any(|x| x.id.0 == team)
        {
            errors.push(DomainError::new(format!("targets[{i}].team_id"), format!("there is no team {team}")));
        }
        if s.targets[..i].iter().any(|o| o.kpi == t.kpi && o.team_id == t.team_id) {
            errors.push(DomainError::new(format!("targets[{i}]"), "this KPI has a target for this team already"));
        }
    }
    for (field, v, ok) in [
        ("handle_minutes", s.handle_minutes, s.handle_minutes.is_none_or(|m| m > 0.0 && m <= 1440.0)),
        (
            "first_reply_target_minutes",
            s.first_reply_target_minutes,
            s.first_reply_target_minutes.is_none_or(|m| m > 0.0 && m <= 43_200.0),
        ),
        ("shrinkage", s.shrinkage, s.shrinkage.is_none_or(|x| (0.0..=0.95).contains(&x))),
    ] {
        if !ok {
            errors.push(DomainError::new(field, format!("{} is out of range", v.unwrap_or_default())));
        }
    }
    let c = &s.costs;
    for (field, cents) in [
        ("costs.agent_hourly_cents", c.agent_hourly_cents),
        ("costs.tools_monthly_cents", c.tools_monthly_cents),
        ("costs.overhead_monthly_cents", c.overhead_monthly_cents),
    ] {
        if cents < 0 {
            errors.push(DomainError::new(field, "cannot be negative"));
        }
    }
    if c.agent_hours_per_week.is_some_and(|h| !(0.0..=168.0).contains(&h)) {
        errors.push(DomainError::new("costs.agent_hours_per_week", "must be from 0 to 168"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let v = serde_json::to_value(&s).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.store.set_setting(jobs::kpi::SETTINGS_KEY, &v).await?;
    state.audit(&caller.label(), "kpi_settings.update", "kpi_settings", true, v).await;
    Ok(Json(s))
}

/// The tables one workbook holds, a sheet each.
const SHEETS: [&str; 9] =
    ["summary", "days", "agents", "teams", "first_reply", "backlog", "channels", "arrivals", "handle"];

/// The report's tables as an Excel workbook; numbers are numbers.
pub(crate) fn to_xlsx(r: &CockpitReport) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for name in SHEETS {
        let sheet = book.add_worksheet();
        sheet.set_name(name)?;
        for (i, row) in table(r, name).unwrap_or_default().iter().enumerate() {
            for (j, cell) in row.iter().enumerate() {
                let (i, j) = (i as u32, j as u16);
                match cell.parse::<f64>() {
                    Ok(n) if i > 0 && n.is_finite() => sheet.write_number(i, j, n)?,
                    _ => sheet.write_string(i, j, cell)?,
                };
            }
        }
    }
    book.save_to_buffer()
}

/// Every cockpit table as an Excel workbook, a sheet each, for the same
/// period and slice as `GET /kpis`.
#[utoipa::path(get, path = "/kpis.xlsx", tag = "reports", params(KpiQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403), (status = 422)))]
pub async fn kpis_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<KpiQuery>,
) -> ApiResult<Response> {
    let r = report(&state, &caller, &q).await?;
    let bytes = to_xlsx(&r).map_err(|e| ApiError::Internal(format!("the workbook: {e}")))?;
    let disposition = format!("attachment; filename=\"kpis-{}-{}.xlsx\"", r.from, r.to);
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
