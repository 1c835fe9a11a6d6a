//! The ROI report: what support cost in a period against the revenue of
//! the customers it kept. Customers who contacted support and those who
//! did not are compared by churn; the churn support avoided, applied to
//! the annual value of the customers it served, is the revenue retained.
//! Definitions: docs/METRICS.md.

use domain::Millis;
use domain::kpi::{Measure, Slice};
use insight::kpi::Rate;
use serde::Serialize;
use store::{Store, StoreError};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerGroup {
    /// Customers at the start of the period (created before it, not churned before it).
    pub customers: i64,
    /// Of those, churned during the period.
    pub churn: Rate,
    /// Sum of their annual value, cents.
    pub annual_value_cents: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoiReport {
    pub from: Millis,
    pub to: Millis,
    pub supported: CustomerGroup,
    pub unsupported: CustomerGroup,
    /// Agents × hourly cost × paid hours, plus tools and overhead, cents.
    pub support_cost_cents: i64,
    pub solved: i64,
    /// Support cost ÷ tickets solved, cents.
    pub cost_per_ticket_cents: Option<i64>,
    /// Supported customers' annual value × (unsupported churn − supported churn), cents (0 when support churn is higher).
    pub revenue_retained_cents: i64,
    /// (revenue retained − cost) ÷ cost.
    pub roi: Option<f64>,
}

/// What `days` of support cost, in cents: the active agents' paid hours
/// at the hourly cost, plus tools and overhead per month.
pub async fn support_cost_cents(store: &dyn Store, days: f64) -> Result<f64, StoreError> {
    let costs = crate::kpi::settings(store).await?.costs;
    let agents = crate::kpi::active_agents(store).await? as f64;
    let hours = costs.agent_hours_per_week.unwrap_or(40.0).max(0.0);
    Ok(agents * costs.agent_hourly_cents as f64 * hours * days / 7.0
        + (costs.tools_monthly_cents + costs.overhead_monthly_cents) as f64 * days / (365.0 / 12.0))
}

/// The ROI of the `days` up to `now`.
pub async fn roi(store: &dyn Store, now: Millis, days: i64) -> Result<RoiReport, StoreError> {
    // The last `days` local days, today up to now (as the cockpit counts).
    let window = crate::cockpit::Window::days_to(now, days, crate::cockpit::time_zone(store).await);
    let (from, to) = (window.start(), now);
    let retention = store.retention(from, to).await?;
    let group = |g: store::CustomerCohort| CustomerGroup {
        customers: g.customers,
        churn: Rate::new(g.churned, g.customers),
        annual_value_cents: g.annual_value_cents,
    };
    let (supported, unsupported) = (group(retention.supported), group(retention.unsupported));
    let cost = support_cost_cents(store, days as f64).await?;
    let support_cost_cents = cost.round() as i64;
    // Counted from the rollup's daily cells: at 10M tickets a year, 90
    // days' solves are 2.5M rows but 90 cells.
    let solved = match crate::cockpit::daily_counts(store, &window, &[Measure::OneTouch]).await? {
        Some(days) => days.values().flat_map(|by| by.get(&Measure::OneTouch)).sum(),
        None => store.measure_rows(&[Measure::OneTouch], from, to, &Slice::default()).await?.len() as i64,
    };
    let avoided = match (unsupported.churn.rate, supported.churn.rate) {
        (Some(u), Some(s)) if u > s => u - s,
        _ => 0.0,
    };
    let revenue_retained_cents = (supported.annual_value_cents as f64 * avoided).round() as i64;
    Ok(RoiReport {
        from,
        to,
        supported,
        unsupported,
        support_cost_cents,
        solved,
        cost_per_ticket_cents: (solved > 0).then(|| (cost / solved as f64).round() as i64),
        revenue_retained_cents,
        roi: (support_cost_cents > 0)
            .then(|| (revenue_retained_cents - support_cost_cents) as f64 / support_cost_cents as f64),
    })
}
