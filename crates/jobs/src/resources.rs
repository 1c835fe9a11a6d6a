//! The resource request: the numbers behind "we need more people". The
//! load of the last four weeks, the first-reply SLA attainment and median
//! of the last eight, and an Erlang C estimate of what fewer or more
//! agents would do to the wait for a first reply. Definitions:
//! docs/METRICS.md.

use std::collections::BTreeMap;

use domain::Millis;
use domain::kpi::cells::{CellQuery, CellView, Clock, day_date, day_number};
use domain::kpi::{Measure, Slice};
use insight::kpi::{Distribution, Rate};
use insight::staffing::{StaffingRow, staffing_table};
use jiff::tz::TimeZone;
use serde::Serialize;
use store::{Store, StoreError};

use crate::cockpit::Window;

const HOUR: i64 = 3_600_000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WeekFigures {
    /// The start of the week's first local day (weeks of 7 local days,
    /// the last ending today).
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
    /// Active agents now (role agent): the people employed.
    pub agents: u32,
    /// Of them, working at any one time: `agents` × (1 − shrinkage),
    /// rounded, at least 1.
    pub working: u32,
    /// Tickets per open hour of the KPI calendar over the last 4 weeks.
    pub arrivals_per_hour: f64,
    pub handle_minutes: f64,
    pub first_reply_target_minutes: f64,
    pub shrinkage: f64,
    /// From two fewer to five more agents working than now.
    pub staffing: Vec<StaffingRow>,
    /// The case in a sentence.
    pub summary: String,
}

pub async fn resource_request(store: &dyn Store, now: Millis) -> Result<ResourceRequest, StoreError> {
    resource_request_within(store, now, crate::cockpit::EXACT_ROWS).await
}

/// The request from the rows when the 8 weeks hold at most `exact_rows`
/// measured rows, else from the rollup's cells (where they count this
/// zone's days).
pub async fn resource_request_within(
    store: &dyn Store,
    now: Millis,
    exact_rows: i64,
) -> Result<ResourceRequest, StoreError> {
    let settings = crate::kpi::settings(store).await?;
    let handle = settings.handle_minutes.unwrap_or(15.0).clamp(0.1, 24.0 * 60.0);
    let target = settings.first_reply_target_minutes.unwrap_or(60.0).clamp(0.1, 30.0 * 24.0 * 60.0);
    let shrinkage = settings.shrinkage.unwrap_or(0.3).clamp(0.0, 0.95);
    // The 8 weeks of 7 local days ending today.
    let tz = crate::cockpit::time_zone(store).await;
    let window = crate::cockpit::Window::days_to(now, 8 * 7, tz.clone());
    let first = day_number(window.first);
    let load = match from_cells(store, &window, exact_rows).await? {
        Some(load) => load,
        None => from_rows(store, &window, now).await?,
    };
    let day_start = |day: i64| local_start(day, 0, &tz);
    let weeks = (0..8)
        .map(|w| {
            let days: Vec<&DayLoad> = (first + 7 * w..first + 7 * w + 7).filter_map(|d| load.get(&d)).collect();
            let sla = days.iter().fold((0, 0), |(y, n), d| (y + d.sla.0, n + d.sla.1));
            WeekFigures {
                from: day_start(first + 7 * w),
                created: days.iter().map(|d| d.arrivals.iter().sum::<i64>()).sum(),
                solved: days.iter().map(|d| d.solved).sum(),
                sla_first_reply: Rate::new(sla.0, sla.1),
                first_reply_median_minutes: first_reply_median(&days).map(|ms| ms / 60_000.0),
            }
        })
        .collect::<Vec<_>>();
    // Arrivals per open hour over the last four weeks: each local hour's
    // arrivals count by the share of that hour the calendar is open.
    let business = crate::kpi::business_clock(store).await?;
    let recent = first + 4 * 7;
    let open_hours = business.between(day_start(recent), now) as f64 / HOUR as f64;
    let mut arrived = 0.0;
    for (day, d) in load.range(recent..) {
        for (hour, n) in d.arrivals.iter().enumerate().filter(|(_, n)| **n != 0) {
            let from = local_start(*day, hour as i8, &tz);
            arrived += *n as f64 * business.between(from, from + HOUR) as f64 / HOUR as f64;
        }
    }
    let per_hour = if open_hours > 0.0 { arrived / open_hours } else { 0.0 };
    let agents = crate::kpi::active_agents(store).await?;
    // The people employed are not all working at once: the shrinkage
    // (breaks, meetings, training, leave) takes its share of their time.
    let working = ((f64::from(agents) * (1.0 - shrinkage)).round() as u32).max(1);
    let staffing = staffing_table(per_hour, handle, target, shrinkage, working.saturating_sub(2).max(1), working + 5);
    let now_row = staffing.iter().find(|r| r.agents == working);
    let better = staffing.iter().find(|r| r.agents > working && r.within_target.is_some_and(|s| s >= 0.8));
    let pct = |x: Option<f64>| x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "none".into());
    let employed = format!(
        "With {agents} agents employed ({working} working at a time after {:.0}% shrinkage)",
        shrinkage * 100.0
    );
    let summary = match (now_row, better) {
        (Some(n), Some(b)) if n.within_target.is_none_or(|s| s < 0.8) => format!(
            "{employed}, {} of tickets get a first reply within {target:.0} minutes; with {} working ({:.0} employed), {}.",
            pct(n.within_target),
            b.agents,
            b.full_time_equivalents.ceil(),
            pct(b.within_target)
        ),
        (Some(n), _) => format!(
            "{employed}, {} of tickets get a first reply within {target:.0} minutes at {:.0}% occupancy.",
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
        working,
        arrivals_per_hour: per_hour,
        handle_minutes: handle,
        first_reply_target_minutes: target,
        shrinkage,
        staffing,
        summary,
    })
}

/// What the request reads of one local day of the department: arrivals by
/// local hour, tickets solved, the first-reply SLA (met, judged) and the
/// first replies: their values from the rows, or their buckets and sum
/// from the rollup's cells.
#[derive(Default)]
struct DayLoad {
    arrivals: [i64; 24],
    solved: i64,
    sla: (i64, i64),
    replies: Vec<i64>,
    reply_buckets: Vec<(i64, i64)>,
    reply_sum: i64,
}

const MEASURES: [Measure; 4] = [Measure::Created, Measure::OneTouch, Measure::SlaFirstReply, Measure::FirstReply];

/// The start of a local day's hour, as an instant.
fn local_start(day: i64, hour: i8, tz: &TimeZone) -> Millis {
    day_date(day).at(hour, 0, 0, 0).to_zoned(tz.clone()).map(|z| z.timestamp().as_millisecond()).unwrap_or(0)
}

/// The median first reply of some days (ms): exact from values, within
/// half a bucket from buckets.
fn first_reply_median(days: &[&DayLoad]) -> Option<f64> {
    if days.iter().any(|d| !d.reply_buckets.is_empty()) {
        let mut buckets: BTreeMap<i64, i64> = BTreeMap::new();
        for (lower, n) in days.iter().flat_map(|d| d.reply_buckets.iter()) {
            *buckets.entry(*lower).or_default() += n;
        }
        let buckets: Vec<(i64, i64)> = buckets.into_iter().collect();
        return Distribution::of_buckets(&buckets, days.iter().map(|d| d.reply_sum).sum()).map(|d| d.median);
    }
    let mut values: Vec<i64> = days.iter().flat_map(|d| d.replies.iter().copied()).collect();
    Distribution::of(&mut values).map(|d| d.median)
}

/// The window's days from the rollup's cells, when they count this zone's
/// days and the window holds more than `exact_rows` rows (a big
/// department's 8 weeks are millions of rows; their cells a few thousand).
async fn from_cells(
    store: &dyn Store,
    window: &Window,
    exact_rows: i64,
) -> Result<Option<BTreeMap<i64, DayLoad>>, StoreError> {
    if store.cells_zone().await?.as_deref() != Some(window.tz.iana_name().unwrap_or("UTC")) {
        return Ok(None);
    }
    let days = (day_number(window.first), day_number(window.last));
    let q = CellQuery {
        view: CellView::All,
        a: None,
        b: None,
        measures: MEASURES.to_vec(),
        first_day: days.0,
        last_day: days.1,
        by_day: true,
        clock: None,
    };
    let replies = CellQuery { measures: vec![Measure::FirstReply], clock: Some(Clock::Calendar), ..q.clone() };
    let (cells, buckets) = tokio::try_join!(store.kpi_cells(&q), store.kpi_buckets(&replies))?;
    if cells.iter().map(|(_, s)| s.n).sum::<i64>() <= exact_rows {
        return Ok(None);
    }
    let mut load: BTreeMap<i64, DayLoad> = BTreeMap::new();
    for (k, s) in cells {
        let d = load.entry(k.day).or_default();
        match k.measure {
            Measure::Created => {
                if let Some(h) = d.arrivals.get_mut(k.hour.clamp(0, 23) as usize) {
                    *h += s.n;
                }
            }
            Measure::OneTouch => d.solved += s.n,
            Measure::SlaFirstReply => d.sla = (d.sla.0 + s.value, d.sla.1 + s.n),
            Measure::FirstReply => d.reply_sum += s.value,
            _ => {}
        }
    }
    for (k, n) in buckets {
        load.entry(k.day).or_default().reply_buckets.push((k.lower, n));
    }
    Ok(Some(load))
}

/// The window's days from the measured rows (exact).
async fn from_rows(store: &dyn Store, window: &Window, now: Millis) -> Result<BTreeMap<i64, DayLoad>, StoreError> {
    let rows = store.measure_rows(&MEASURES, window.start(), now + 1, &Slice::default()).await?;
    let mut load: BTreeMap<i64, DayLoad> = BTreeMap::new();
    for r in rows {
        let Ok(at) = jiff::Timestamp::from_millisecond(r.at) else { continue };
        let local = at.to_zoned(window.tz.clone());
        let d = load.entry(day_number(local.date())).or_default();
        match r.measure {
            Measure::Created => {
                if let Some(h) = d.arrivals.get_mut(local.hour().clamp(0, 23) as usize) {
                    *h += 1;
                }
            }
            Measure::OneTouch => d.solved += 1,
            Measure::SlaFirstReply => d.sla = (d.sla.0 + i64::from(r.value > 0), d.sla.1 + 1),
            Measure::FirstReply => d.replies.push(r.value),
            _ => {}
        }
    }
    Ok(load)
}
