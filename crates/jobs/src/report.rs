//! Reports for senior management: the last full week (Monday to Sunday)
//! or month of the department's KPIs against the one before, per team,
//! with the backlog, as an HTML email to the people who asked for that
//! cadence and as a print-ready page. A daily job sends each report once,
//! on the Monday or the 1st (local time).

use std::sync::Arc;

use async_trait::async_trait;
use domain::kpi::Slice;
use domain::{DomainError, Job, Millis};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{Store, StoreError};

use crate::cockpit::{CockpitReport, Window, duration_text, local_date, summary_lines, time_zone};
use crate::{Handler, JobError};

pub const REPORTS_DUE: &str = "reports.due";
pub const SETTINGS_KEY: &str = "report_settings";

/// How often a recipient hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Weekly,
    Monthly,
}

impl Cadence {
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recipient {
    pub email: String,
    pub every: Cadence,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportSettings {
    #[serde(default)]
    pub recipients: Vec<Recipient>,
}

impl ReportSettings {
    /// Addresses checked and lower-cased; at most 50 recipients.
    pub fn parse(self) -> Result<Self, Vec<DomainError>> {
        let mut errors = Vec::new();
        let mut recipients = Vec::new();
        for (i, r) in self.recipients.iter().enumerate() {
            match domain::EmailAddress::parse(&r.email) {
                Ok(a) => recipients.push(Recipient { email: a.as_str().to_string(), every: r.every }),
                Err(_) => errors.push(DomainError::new(
                    format!("recipients[{i}].email"),
                    format!("'{}' is not an email address", r.email),
                )),
            }
        }
        if recipients.len() > 50 {
            errors.push(DomainError::new("recipients", "at most 50"));
        }
        if errors.is_empty() { Ok(ReportSettings { recipients }) } else { Err(errors) }
    }
}

pub async fn settings(store: &dyn Store) -> Result<ReportSettings, StoreError> {
    Ok(store.setting(SETTINGS_KEY).await?.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default())
}

/// The last full week (Monday–Sunday) or calendar month before `today`.
pub fn period(cadence: Cadence, today: Date, tz: jiff::tz::TimeZone) -> Window {
    match cadence {
        Cadence::Weekly => {
            let back = i64::from(today.weekday().to_monday_zero_offset()) + 7;
            let first = today.checked_sub(jiff::Span::new().days(back)).unwrap_or(today);
            let last = first.checked_add(jiff::Span::new().days(6)).unwrap_or(first);
            Window { first, last, tz }
        }
        Cadence::Monthly => {
            let this_month = today.first_of_month();
            let last = this_month.yesterday().unwrap_or(this_month);
            Window { first: last.first_of_month(), last, tz }
        }
    }
}

/// The report of the last full period, for the whole department.
pub async fn build(store: &dyn Store, now: Millis, cadence: Cadence) -> Result<CockpitReport, StoreError> {
    let tz = time_zone(store).await;
    let today = local_date(now, &tz).unwrap_or(Date::constant(2026, 1, 1));
    let window = period(cadence, today, tz);
    crate::cockpit::report(store, now, &window, &Slice::default()).await
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The report's title: "Weekly support report, 2026-11-23 to 2026-11-29".
pub fn title(r: &CockpitReport, cadence: Cadence) -> String {
    let name = if cadence == Cadence::Weekly { "Weekly" } else { "Monthly" };
    format!("{name} support report, {} to {}", r.from, r.to)
}

/// Team names for the tables (id → name).
pub type TeamNames = std::collections::HashMap<i64, String>;

/// The report as plain text and as an HTML body (self-contained: inline
/// styles, no scripts, no remote images; prints on A4).
pub fn render(r: &CockpitReport, cadence: Cadence, teams: &TeamNames) -> (String, String) {
    let title = title(r, cadence);
    let lines = summary_lines(r);
    let mut plain = format!("{title}\nCompared with {} to {}.\n\n", r.previous_from, r.previous_to);
    for l in &lines {
        match &l.change {
            Some(c) => plain.push_str(&format!("{}: {} (before: {}; {})\n", l.name, l.now, l.before, c.label())),
            None => plain.push_str(&format!("{}: {} (before: {})\n", l.name, l.now, l.before)),
        }
    }
    let style = "border-bottom:1px solid #ddd;padding:4px 8px;text-align:left";
    let cell = format!("style=\"{style}\"");
    let mut html = format!(
        "<div style=\"font-family:sans-serif;max-width:760px\"><h1 style=\"font-size:20px\">{}</h1><p>Compared with {} to {} ({}).</p>\
         <table style=\"border-collapse:collapse\"><thead><tr><th {cell}>KPI</th><th {cell}>This period</th><th {cell}>Period before</th><th {cell}>Change</th></tr></thead><tbody>",
        escape(&title),
        escape(&r.previous_from),
        escape(&r.previous_to),
        escape(&r.time_zone)
    );
    for l in &lines {
        // Coloured, and said in words for those who cannot see the colour.
        let colour = match l.change.as_ref().and_then(|c| c.better) {
            Some(true) => "color:#1a7f37",
            Some(false) => "color:#b42318",
            None => "",
        };
        html.push_str(&format!(
            "<tr><td {cell}>{}</td><td {cell}>{}</td><td {cell}>{}</td><td style=\"{style};{colour}\">{}</td></tr>",
            escape(&l.name),
            escape(&l.now),
            escape(&l.before),
            escape(&l.change.as_ref().map(|c| c.label()).unwrap_or_default())
        ));
    }
    html.push_str("</tbody></table>");
    if !r.teams.is_empty() {
        plain.push_str("\nTeams:\n");
        html.push_str(&format!(
            "<h2 style=\"font-size:16px\">Teams</h2><table style=\"border-collapse:collapse\"><thead><tr><th {cell}>Team</th><th {cell}>Solved</th><th {cell}>First reply, median</th><th {cell}>One-touch</th><th {cell}>CSAT</th></tr></thead><tbody>"
        ));
        for t in &r.teams {
            let name = t.id.and_then(|id| teams.get(&id).cloned()).unwrap_or_else(|| "No team".into());
            let median = t.first_reply.as_ref().map(|d| duration_text(d.median)).unwrap_or_else(|| "–".into());
            let pct = |x: Option<f64>| x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "–".into());
            plain.push_str(&format!(
                "{name}: {} solved, first reply {median}, one-touch {}, CSAT {}\n",
                t.solved,
                pct(t.one_touch.rate),
                pct(t.csat)
            ));
            html.push_str(&format!(
                "<tr><td {cell}>{}</td><td {cell}>{}</td><td {cell}>{}</td><td {cell}>{}</td><td {cell}>{}</td></tr>",
                escape(&name),
                t.solved,
                escape(&median),
                pct(t.one_touch.rate),
                pct(t.csat)
            ));
        }
        html.push_str("</tbody></table>");
    }
    let ages: Vec<String> = r.backlog.by_age.iter().map(|b| format!("{} {}", b.count, b.label)).collect();
    plain.push_str(&format!("\nBacklog now: {} ({})\n", r.backlog.total, ages.join(", ")));
    html.push_str(&format!("<p>Backlog now: {} ({})</p></div>", r.backlog.total, escape(&ages.join(", "))));
    (plain, html)
}

async fn team_names(store: &dyn Store) -> Result<TeamNames, StoreError> {
    Ok(store.teams().await?.into_iter().map(|t| (t.id.0, t.name)).collect())
}

/// Mails the report of `cadence` to its recipients; how many it went to.
pub async fn send(
    store: &dyn Store,
    transport: Option<&dyn mail::delivery::Transport>,
    now: Millis,
    cadence: Cadence,
) -> Result<usize, JobError> {
    let recipients: Vec<String> =
        settings(store).await?.recipients.into_iter().filter(|r| r.every == cadence).map(|r| r.email).collect();
    let Some(transport) = transport.filter(|_| !recipients.is_empty()) else { return Ok(0) };
    let r = build(store, now, cadence).await?;
    let (plain, html) = render(&r, cadence, &team_names(store).await?);
    let from = mail::outbound::sender_address(store).await?;
    let message = mail::delivery::notice_message(&from, &recipients, &title(&r, cadence), &plain, &html)
        .map_err(JobError::Fail)?;
    transport.send(message.envelope(), &message.formatted()).await.map_err(|e| JobError::Retry(e.message))?;
    Ok(recipients.len())
}

/// `reports.due`, hourly: on a Monday the weekly report, on the 1st the monthly
/// one, each once per period however often the job runs.
pub struct ReportsDue {
    pub store: Arc<dyn Store>,
    pub transport: Option<Arc<dyn mail::delivery::Transport>>,
}

#[async_trait]
impl Handler for ReportsDue {
    async fn run(&self, _: &Job, now: Millis) -> Result<(), JobError> {
        let store = self.store.as_ref();
        let tz = time_zone(store).await;
        let Some(today) = local_date(now, &tz) else { return Ok(()) };
        for cadence in [Cadence::Weekly, Cadence::Monthly] {
            let due = match cadence {
                Cadence::Weekly => today.weekday() == jiff::civil::Weekday::Monday,
                Cadence::Monthly => today.day() == 1,
            };
            let sent_key = format!("report_sent:{}:{}", cadence.as_str(), period(cadence, today, tz.clone()).first);
            if !due || store.setting(&sent_key).await?.is_some() {
                continue;
            }
            let mailed = send(store, self.transport.as_deref(), now, cadence).await?;
            store.set_setting(&sent_key, &json!({ "at": now, "mailed": mailed })).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_full_week_and_month() {
        let utc = jiff::tz::TimeZone::UTC;
        let w = period(Cadence::Weekly, Date::constant(2026, 12, 2), utc.clone());
        assert_eq!((w.first, w.last), (Date::constant(2026, 11, 23), Date::constant(2026, 11, 29)));
        let w = period(Cadence::Weekly, Date::constant(2026, 11, 30), utc.clone());
        assert_eq!((w.first, w.last), (Date::constant(2026, 11, 23), Date::constant(2026, 11, 29)), "on the Monday");
        let m = period(Cadence::Monthly, Date::constant(2026, 12, 1), utc.clone());
        assert_eq!((m.first, m.last), (Date::constant(2026, 11, 1), Date::constant(2026, 11, 30)));
        let m = period(Cadence::Monthly, Date::constant(2027, 3, 15), utc);
        assert_eq!((m.first, m.last, m.days()), (Date::constant(2027, 2, 1), Date::constant(2027, 2, 28), 28));
    }
}
