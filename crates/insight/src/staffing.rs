//! Erlang C: how long work waits for an agent when it arrives at random
//! (Poisson) at a steady rate and each item takes a known average time.
//! Used by the resource-request report to put numbers on "what would two
//! more agents do to first reply time". Formulas: docs/METRICS.md.

use serde::Serialize;

/// The chance that an arrival waits, for `traffic` Erlangs (arrival rate ×
/// handle time) and `agents`; `None` when the agents cannot keep up
/// (`agents ≤ traffic`: the queue grows without end).
pub fn wait_probability(traffic: f64, agents: u32) -> Option<f64> {
    let n = f64::from(agents);
    if traffic <= 0.0 {
        return Some(0.0);
    }
    if n <= traffic {
        return None;
    }
    // Σ_{k<N} A^k/k! and A^N/N!, term by term (no factorials overflow).
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..agents {
        sum += term;
        term *= traffic / f64::from(k + 1);
    }
    let top = term * n / (n - traffic);
    Some(top / (sum + top))
}

/// Mean wait before an agent takes it, in the unit of `handle`.
pub fn mean_wait(traffic: f64, agents: u32, handle: f64) -> Option<f64> {
    let pw = wait_probability(traffic, agents)?;
    Some(if pw == 0.0 { 0.0 } else { pw * handle / (f64::from(agents) - traffic) })
}

/// Share answered within `target` (same unit as `handle`).
pub fn service_level(traffic: f64, agents: u32, handle: f64, target: f64) -> Option<f64> {
    let pw = wait_probability(traffic, agents)?;
    Some(1.0 - pw * (-(f64::from(agents) - traffic) * target / handle.max(f64::MIN_POSITIVE)).exp())
}

/// One staffing level's expected figures.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StaffingRow {
    pub agents: u32,
    /// Mean wait for an agent, minutes; none when they cannot keep up.
    pub mean_wait_minutes: Option<f64>,
    /// Share started within the target.
    pub within_target: Option<f64>,
    /// Traffic ÷ agents.
    pub occupancy: f64,
    /// Agents ÷ (1 − shrinkage): people to employ for this many working.
    pub full_time_equivalents: f64,
}

/// Figures for `from` to `to` agents: `per_hour` arrivals, `handle_minutes`
/// each, target wait `target_minutes`, `shrinkage` the share of paid time
/// not available (breaks, training, leave).
pub fn staffing_table(
    per_hour: f64,
    handle_minutes: f64,
    target_minutes: f64,
    shrinkage: f64,
    from: u32,
    to: u32,
) -> Vec<StaffingRow> {
    let traffic = per_hour * handle_minutes / 60.0;
    (from.max(1)..=to.max(from.max(1)))
        .map(|n| StaffingRow {
            agents: n,
            mean_wait_minutes: mean_wait(traffic, n, handle_minutes),
            within_target: service_level(traffic, n, handle_minutes, target_minutes),
            occupancy: traffic / f64::from(n),
            full_time_equivalents: f64::from(n) / (1.0 - shrinkage.clamp(0.0, 0.95)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64, tol: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= tol)
    }

    #[test]
    fn the_textbook_call_centre() {
        // 100 calls in 30 minutes, 180 s each: 10 Erlangs; target 20 s (figures
        // worked out independently from the closed form).
        let a = 100.0 / 1800.0 * 180.0;
        for (n, pw, sl, asa) in [
            (11, 0.6821, 0.3896, 122.8),
            (12, 0.4494, 0.6402, 40.4),
            (13, 0.2853, 0.7956, 17.1),
            (14, 0.1741, 0.8884, 7.8),
        ] {
            assert!(close(wait_probability(a, n), pw, 0.0005), "{n}: {:?}", wait_probability(a, n));
            assert!(close(service_level(a, n, 180.0, 20.0), sl, 0.0005), "{n}: {:?}", service_level(a, n, 180.0, 20.0));
            assert!(close(mean_wait(a, n, 180.0), asa, 0.1), "{n}: {:?}", mean_wait(a, n, 180.0));
        }
        assert_eq!(wait_probability(a, 10), None, "ten agents never catch up");
    }

    #[test]
    fn more_agents_wait_less_and_idle_more() {
        let t = staffing_table(12.0, 20.0, 30.0, 0.3, 4, 8);
        assert_eq!(t.first().map(|r| r.agents), Some(4));
        assert_eq!(t[0].mean_wait_minutes, None, "4 agents for 4 Erlangs");
        assert!(t.windows(2).skip(1).all(|w| w[1].mean_wait_minutes < w[0].mean_wait_minutes));
        assert!((t[1].occupancy - 0.8).abs() < 1e-9);
        assert!((t[1].full_time_equivalents - 5.0 / 0.7).abs() < 1e-9);
    }
}
