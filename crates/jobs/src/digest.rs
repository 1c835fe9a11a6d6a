//! The weekly metrics digest and the daily spike check.
//!
//! The digest compares the last seven days with the seven before: volume,
//! first reply and resolution times (medians), CSAT, NPS, SLA attainment,
//! the top topics and the topics that moved most. It goes to the hooks
//! that take `digest.weekly` (Slack) and by mail to the chosen people.
//! The spike check tells managers, and the hooks that take
//! `spike.detected`, about topics whose volume ends well above usual.

use std::sync::Arc;

use async_trait::async_trait;
use domain::{Job, Millis};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{Store, StoreError};

use crate::insights::{self, InsightReport};
use crate::{Handler, JobError};

pub const DIGEST_WEEKLY: &str = "digest.weekly";
pub const SPIKE_CHECK: &str = "insights.spikes";
/// Where the digest's settings are kept (`Store::setting`).
pub const SETTINGS_KEY: &str = "digest_settings";
const DAY: Millis = 86_400_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DigestSettings {
    /// Who gets the digest by mail.
    pub recipients: Vec<String>,
}

impl DigestSettings {
    pub fn parse(self) -> Result<Self, Vec<domain::DomainError>> {
        let mut errors = Vec::new();
        let mut recipients = Vec::new();
        for r in &self.recipients {
            match domain::EmailAddress::parse(r) {
                Ok(a) => recipients.push(a.as_str().to_string()),
                Err(_) => errors.push(domain::DomainError::new("recipients", format!("'{r}' is not an email address"))),
            }
        }
        if recipients.len() > 50 {
            errors.push(domain::DomainError::new("recipients", "at most 50"));
        }
        if errors.is_empty() { Ok(Self { recipients }) } else { Err(errors) }
    }
}

pub async fn settings(store: &dyn Store) -> Result<DigestSettings, StoreError> {
    Ok(store.setting(SETTINGS_KEY).await?.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default())
}

/// One week's figures, as the KPI engine defines them (docs/METRICS.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WeekFigures {
    pub created: i64,
    pub solved: i64,
    /// Median of the week's first replies (calendar).
    pub first_reply_median_ms: Option<f64>,
    /// Median full resolution time of the tickets solved in the week.
    pub resolution_median_ms: Option<f64>,
    /// 0–1.
    pub csat: Option<f64>,
    pub nps: Option<f64>,
    /// SLA clocks met ÷ (met + breached) with their outcome in the week, all targets, 0–1.
    pub sla_attainment: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Mover {
    pub topic: String,
    pub this_week: i64,
    pub last_week: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Digest {
    pub from: Millis,
    pub to: Millis,
    pub this_week: WeekFigures,
    pub last_week: WeekFigures,
    /// The week's biggest topics and their tickets.
    pub top_topics: Vec<(String, i64)>,
    /// Up most and down most against last week.
    pub risers: Vec<Mover>,
    pub fallers: Vec<Mover>,
    pub text: String,
}

async fn week(store: &dyn Store, from: Millis, to: Millis) -> Result<WeekFigures, StoreError> {
    use domain::kpi::{Measure, Slice};
    let mut measures = vec![Measure::Created, Measure::OneTouch, Measure::FirstReply, Measure::FullResolution];
    measures.extend(crate::cockpit::SLA_MEASURES);
    let k = insight::kpi::TicketKpis::of(&store.measure_rows(&measures, from, to, &Slice::default()).await?);
    let counts = store
        .score_counts(&domain::survey::FeedbackFilter { from: Some(from), to: Some(to), ..Default::default() })
        .await?;
    let s = insight::feedback::summarise(&counts);
    let sla = [&k.sla_first_reply, &k.sla_next_reply, &k.sla_periodic_update, &k.sla_resolution];
    let (met, of) = sla.iter().fold((0, 0), |(y, n), r| (y + r.yes, n + r.of));
    Ok(WeekFigures {
        created: k.created,
        solved: k.solved,
        first_reply_median_ms: k.first_reply.calendar.map(|d| d.median),
        resolution_median_ms: k.full_resolution.calendar.map(|d| d.median),
        csat: s.csat.csat,
        nps: s.nps.nps,
        sla_attainment: insight::kpi::Rate::new(met, of).rate,
    })
}

fn hours(ms: Option<f64>) -> String {
    ms.map(crate::cockpit::duration_text).unwrap_or_else(|| "–".into())
}

fn percent(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "–".into())
}

/// The digest of the seven days up to `now`.
pub async fn weekly(store: &dyn Store, now: Millis) -> Result<Digest, StoreError> {
    let (from, before) = (now - 7 * DAY, now - 14 * DAY);
    let this_week = week(store, from, now).await?;
    let last_week = week(store, before, from).await?;
    let report: InsightReport = insights::report(store, now, 14).await?;
    let topics = if report.topics.is_empty() { &report.suggested } else { &report.topics };
    let split = report.days.saturating_sub(7);
    let mut movers: Vec<Mover> = topics
        .iter()
        .map(|t| Mover {
            topic: t.name.clone(),
            this_week: t.daily[split..].iter().sum(),
            last_week: t.daily[..split].iter().sum(),
        })
        .collect();
    let mut top: Vec<(String, i64)> = movers.iter().map(|m| (m.topic.clone(), m.this_week)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(5);
    movers.sort_by_key(|m| std::cmp::Reverse(m.this_week - m.last_week));
    let risers: Vec<Mover> = movers.iter().filter(|m| m.this_week > m.last_week).take(3).cloned().collect();
    let fallers: Vec<Mover> = movers.iter().rev().filter(|m| m.this_week < m.last_week).take(3).cloned().collect();
    let line = |name: &str, now: String, then: String| format!("• {name}: {now} (last week {then})");
    let nps = |v: Option<f64>| v.map(|v| format!("{v:.0}")).unwrap_or_else(|| "–".into());
    let mut text = vec![
        "*Weekly support digest*".to_string(),
        line("Tickets created", this_week.created.to_string(), last_week.created.to_string()),
        line("Tickets solved", this_week.solved.to_string(), last_week.solved.to_string()),
        line(
            "First reply time (median)",
            hours(this_week.first_reply_median_ms),
            hours(last_week.first_reply_median_ms),
        ),
        line("Resolution time (median)", hours(this_week.resolution_median_ms), hours(last_week.resolution_median_ms)),
        line("CSAT", percent(this_week.csat), percent(last_week.csat)),
        line("NPS", nps(this_week.nps), nps(last_week.nps)),
        line("SLA attainment", percent(this_week.sla_attainment), percent(last_week.sla_attainment)),
    ];
    if !top.is_empty() {
        text.push(format!(
            "Top topics: {}",
            top.iter().map(|(t, n)| format!("{t} ({n})")).collect::<Vec<_>>().join(", ")
        ));
    }
    let moved =
        |m: &[Mover]| m.iter().map(|m| format!("{} {}→{}", m.topic, m.last_week, m.this_week)).collect::<Vec<_>>();
    if !risers.is_empty() {
        text.push(format!("Up most: {}", moved(&risers).join(", ")));
    }
    if !fallers.is_empty() {
        text.push(format!("Down most: {}", moved(&fallers).join(", ")));
    }
    Ok(Digest { from, to: now, this_week, last_week, top_topics: top, risers, fallers, text: text.join("\n") })
}

/// Posts the digest to the hooks and mails it; how many people it was mailed to.
pub async fn send(
    store: &dyn Store,
    transport: Option<&dyn mail::delivery::Transport>,
    now: Millis,
) -> Result<(Digest, usize), JobError> {
    let d = weekly(store, now).await?;
    let summary = "Weekly support digest".to_string();
    let key = format!("digest:{}", now / DAY);
    let out = crate::integrations::alert("digest.weekly", key, summary, json!({ "text": d.text, "digest": d }));
    crate::integrations::publish(store, out, now).await?;
    let recipients = settings(store).await?.recipients;
    let Some(transport) = transport.filter(|_| !recipients.is_empty()) else { return Ok((d, 0)) };
    let from = mail::outbound::sender_address(store).await?;
    let plain = d.text.replace('*', "");
    let html = format!(
        "<h1>Weekly support digest</h1><ul>{}</ul>",
        plain.lines().skip(1).map(|l| format!("<li>{}</li>", escape(l.trim_start_matches("• ")))).collect::<String>()
    );
    let message = mail::delivery::notice_message(&from, &recipients, "Weekly support digest", &plain, &html)
        .map_err(JobError::Fail)?;
    transport.send(message.envelope(), &message.formatted()).await.map_err(|e| JobError::Retry(e.message))?;
    Ok((d, recipients.len()))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `digest.weekly`, on its schedule.
pub struct WeeklyDigest {
    pub store: Arc<dyn Store>,
    pub transport: Option<Arc<dyn mail::delivery::Transport>>,
}

#[async_trait]
impl Handler for WeeklyDigest {
    async fn run(&self, _: &Job, now: Millis) -> Result<(), JobError> {
        send(self.store.as_ref(), self.transport.as_deref(), now).await.map(|_| ())
    }
}

/// Where the daily check leaves the spikes it found, for the cockpit.
const SPIKES_NOW_KEY: &str = "insights.spikes_now";

/// The spikes the last daily check found, if it ran in the last 36 hours:
/// (topic, text).
pub async fn spikes_now(store: &dyn Store, now: Millis) -> Result<Vec<(String, String)>, StoreError> {
    let Some(v) = store.setting(SPIKES_NOW_KEY).await? else { return Ok(vec![]) };
    if v["at"].as_i64().is_none_or(|at| at < now - 36 * 3_600_000) {
        return Ok(vec![]);
    }
    Ok(serde_json::from_value(v["spikes"].clone()).unwrap_or_default())
}

/// Tells managers and the hooks about spiking topics, once per spike, and
/// keeps them for the cockpit; the spikes found.
pub async fn check_spikes(store: &dyn Store, now: Millis) -> Result<Vec<String>, StoreError> {
    let report = insights::report(store, now, 35).await?;
    let topics = if report.topics.is_empty() { &report.suggested } else { &report.topics };
    let mut found = Vec::new();
    let mut kept = Vec::new();
    for t in topics {
        let Some(s) = &t.spike else { continue };
        found.push(s.text.clone());
        kept.push((t.name.clone(), s.text.clone()));
        // Told once per spike: a spike that lasts is not news every day.
        let alert = crate::alerts::Alert {
            event: "spike.detected",
            kind: "spike",
            key: format!("spike:{}:{}", t.name, s.since),
            text: s.text.clone(),
            detail: json!({ "topic": t }),
        };
        crate::alerts::raise(store, alert, now).await?;
    }
    store.set_setting(SPIKES_NOW_KEY, &json!({ "at": now, "spikes": kept })).await?;
    Ok(found)
}

/// `insights.spikes`, daily.
pub struct SpikeCheck {
    pub store: Arc<dyn Store>,
}

#[async_trait]
impl Handler for SpikeCheck {
    async fn run(&self, _: &Job, now: Millis) -> Result<(), JobError> {
        check_spikes(self.store.as_ref(), now).await?;
        Ok(())
    }
}
