//! Agents' time online and what it carried: occupancy (logged handle time
//! ÷ time online) and tickets solved per online hour. Time online comes
//! from the agents' status history. Definitions: docs/METRICS.md
//! ("Handle time and occupancy").

use std::collections::BTreeMap;

use domain::{AgentStatus, Millis};
use serde::Serialize;

const HOUR: f64 = 3_600_000.0;

/// Milliseconds each agent was online within `[from, to)`, from their
/// status history: by agent, oldest first, each agent's status before
/// `from` first when there is one (as `Store::status_history` gives it).
pub fn online_ms(history: &[(i64, AgentStatus, Millis)], from: Millis, to: Millis) -> BTreeMap<i64, i64> {
    let mut out: BTreeMap<i64, i64> = BTreeMap::new();
    for (i, (agent, status, since)) in history.iter().enumerate() {
        let until = match history.get(i + 1) {
            Some((next, _, at)) if next == agent => *at,
            _ => to,
        };
        let overlap = until.min(to) - (*since).max(from);
        let total = out.entry(*agent).or_default();
        if *status == AgentStatus::Online && overlap > 0 {
            *total += overlap;
        }
    }
    out
}

/// What a group of agents (or one) did with their time online.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Workload {
    /// Milliseconds online in the period.
    pub online_ms: i64,
    /// Logged handle time in the period, ms.
    pub handle_ms: i64,
    /// `handle_ms ÷ online_ms`; none without time online.
    pub occupancy: Option<f64>,
    /// Tickets solved in the period.
    pub solved: i64,
    /// `solved ÷ online hours`; none without time online.
    pub solved_per_online_hour: Option<f64>,
}

impl Workload {
    pub fn new(online_ms: i64, handle_ms: i64, solved: i64) -> Workload {
        let online = (online_ms > 0).then_some(online_ms as f64);
        Workload {
            online_ms,
            handle_ms,
            occupancy: online.map(|o| handle_ms as f64 / o),
            solved,
            solved_per_online_hour: online.map(|o| solved as f64 / (o / HOUR)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AgentStatus::*;

    const H: i64 = 3_600_000;

    #[test]
    fn online_time_is_clipped_to_the_window() {
        // Ada: online since before the window, away 10:00–10:30, offline at 12:00.
        // Bo: online 11:00 and still online at the window's end (13:00).
        // Cy: offline all along.
        let history = [
            (1, Online, 7 * H),
            (1, Away, 10 * H),
            (1, Online, 10 * H + H / 2),
            (1, Offline, 12 * H),
            (2, Online, 11 * H),
            (3, Offline, 6 * H),
        ];
        let online = online_ms(&history, 9 * H, 13 * H);
        assert_eq!(online.get(&1), Some(&(H + H + H / 2)), "09:00–10:00 and 10:30–12:00");
        assert_eq!(online.get(&2), Some(&(2 * H)));
        assert_eq!(online.get(&3), Some(&0));
    }

    #[test]
    fn occupancy_and_solves_per_hour() {
        // 6 hours online, 4.5 hours of logged work, 9 tickets solved.
        let w = Workload::new(6 * H, 4 * H + H / 2, 9);
        assert_eq!(w.occupancy, Some(0.75));
        assert_eq!(w.solved_per_online_hour, Some(1.5));
        assert_eq!(Workload::new(0, H, 2).occupancy, None);
    }
}
