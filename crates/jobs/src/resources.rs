//! The resource request: the numbers behind "we need more people". The
//! load of the last four weeks, the first-reply SLA attainment and median
//! of the last eight, and an Erlang C estimate of what fewer or more
//! agents would do to the wait for a first reply. Definitions:
//! docs/METRICS.md.

use domain::Millis;
use domain::kpi::{Measure, Slice};
use insight::kpi::{Distribution, Rate};
use insight::staffing::{StaffingRow, staffing_table};
use serde::Serialize;
use store::{Store, StoreError};

const HOUR: i64 = 3_600_000;
const WEEK: i64 = 7 * 24 * HOUR;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WeekFigures {
    /// First day of the week (the 7 days ending `weeks_ago` weeks before now).
    pub from: Millis,
    pub created: i64,
    pub solved: i64,
    pub sla_first_reply: Rate,
    /// Median first reply, minutes.
    pub first_reply_median_minutes: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResourceRequest {
    /// Oldest first, the last 8 weeks.
    pub weeks: Vec<WeekFigures>,
    pub backlog: i64,
    /// Active agents now.
    pub agents: u32,
    /// Tickets per open hour of the KPI calendar over the last 4 weeks.
    pub arrivals_per_hour: f64,
    pub handle_minutes: f64,
    pub first_reply_target_minutes: f64,
    pub shrinkage: f64,
    /// From two fewer to five more agents than now.
    pub staffing: Vec<StaffingRow>,
    /// The case in a sentence.
    pub summary: String,
}

pub async fn resource_request(store: &dyn Store, now: Millis) -> Result<ResourceRequest, StoreError> {
    let settings = crate::kpi::settings(store).await?;
    let handle = settings.handle_minutes.unwrap_or(15.0).clamp(0.1, 24.0 * 60.0);
    let target = settings.first_reply_target_minutes.unwrap_or(60.0).clamp(0.1, 30.0 * 24.0 * 60.0);
    let shrinkage = settings.shrinkage.unwrap_or(0.3).clamp(0.0, 0.95);
    let measures = [Measure::Created, Measure::OneTouch, Measure::SlaFirstReply, Measure::FirstReply];
    let start = now - 8 * WEEK;
    let rows = store.measure_rows(&measures, start, now + 1, &Slice::default()).await?;
    let weeks = (0..8)
        .map(|w| {
            let from = start + w * WEEK;
            let of = |m: Measure| rows.iter().filter(move |r| r.measure == m && r.at >= from && r.at < from + WEEK);
            let sla: Vec<i64> = of(Measure::SlaFirstReply).map(|r| r.value).collect();
            let mut frt: Vec<i64> = of(Measure::FirstReply).map(|r| r.value).collect();
            WeekFigures {
                from,
                created: of(Measure::Created).count() as i64,
                solved: of(Measure::OneTouch).count() as i64,
                sla_first_reply: Rate::new(sla.iter().filter(|v| **v > 0).count() as i64, sla.len() as i64),
                first_reply_median_minutes: Distribution::of(&mut frt).map(|d| d.median / 60_000.0),
            }
        })
        .collect::<Vec<_>>();
    // Arrivals per open hour over the last four weeks.
    let business = crate::kpi::business_clock(store).await?;
    let recent = now - 4 * WEEK;
    let open_hours = business.between(recent, now) as f64 / HOUR as f64;
    let arrived =
        rows.iter().filter(|r| r.measure == Measure::Created && r.at >= recent && business.is_open(r.at)).count();
    let per_hour = if open_hours > 0.0 { arrived as f64 / open_hours } else { 0.0 };
    let agents = crate::kpi::active_agents(store).await?;
    let staffing =
        staffing_table(per_hour, handle, target, shrinkage, agents.saturating_sub(2).max(1), agents.max(1) + 5);
    let now_row = staffing.iter().find(|r| r.agents == agents);
    let better = staffing.iter().find(|r| r.agents > agents && r.within_target.is_some_and(|s| s >= 0.8));
    let pct = |x: Option<f64>| x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "none".into());
    let summary = match (now_row, better) {
        (Some(n), Some(b)) if n.within_target.is_none_or(|s| s < 0.8) => format!(
            "With {} agents, {} of tickets get a first reply within {target:.0} minutes; with {} ({} more), {}.",
            n.agents,
            pct(n.within_target),
            b.agents,
            b.agents - n.agents,
            pct(b.within_target)
        ),
        (Some(n), _) => format!(
            "With {} agents, {} of tickets get a first reply within {target:.0} minutes at {:.0}% occupancy.",
            n.agents,
            pct(n.within_target),
            n.occupancy * 100.0
        ),
        _ => "No agents to estimate with.".to_string(),
    };
    let backlog = crate::cockpit::open_tickets(&store.open_counts(&Slice::default(), &[]).await?, |_| true);
    Ok(ResourceRequest {
        weeks,
        backlog,
        agents,
        arrivals_per_hour: per_hour,
        handle_minutes: handle,
        first_reply_target_minutes: target,
        shrinkage,
        staffing,
        summary,
    })
}
