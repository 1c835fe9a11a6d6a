//! The KPIs of a slice: aggregates of its measured rows in a period.
//! Definitions: docs/METRICS.md.

use std::collections::BTreeMap;

use serde::Serialize;

use domain::kpi::cells::{CellSums, Clock};

use super::distribution::Distribution;
use super::measures::{Measure, MeasureRow};

/// A duration KPI, counted on the plain clock and in business hours.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TimeKpi {
    pub calendar: Option<Distribution>,
    pub business: Option<Distribution>,
}

/// A share: `yes` of `of`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Rate {
    pub yes: i64,
    pub of: i64,
    /// `yes ÷ of`, 0–1; none when `of` is 0.
    pub rate: Option<f64>,
}

impl Rate {
    pub fn new(yes: i64, of: i64) -> Rate {
        Rate { yes, of, rate: (of > 0).then(|| yes as f64 / of as f64) }
    }
}

/// The KPIs from ticket events for one slice and period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TicketKpis {
    /// Tickets that arrived.
    pub created: i64,
    /// Tickets whose last solve fell in the period (and are solved now).
    pub solved: i64,
    /// Reopens that happened in the period.
    pub reopens: i64,
    pub first_reply: TimeKpi,
    pub next_reply: TimeKpi,
    pub first_resolution: TimeKpi,
    pub full_resolution: TimeKpi,
    pub requester_wait: TimeKpi,
    pub agent_work: TimeKpi,
    pub agent_wait: TimeKpi,
    /// Solved with at most one public staff reply (Zendesk's one-touch).
    pub one_touch: Rate,
    /// Solved without the customer writing after the first reply.
    pub no_further_contact: Rate,
    /// Solved tickets reopened at least once.
    pub reopen_rate: Rate,
    /// Met ÷ (met + breached) per SLA target.
    pub sla_first_reply: Rate,
    pub sla_next_reply: Rate,
    pub sla_periodic_update: Rate,
    pub sla_resolution: Rate,
    /// Logged work per handled contact (one agent's time on one ticket);
    /// its mean is the AHT.
    pub handle_time: TimeKpi,
}

/// A slice's measures as the rollup's cells hold them: per measure the
/// summed cell, and per measure and clock the buckets (lower bound, count).
#[derive(Debug, Clone, Default)]
pub struct CellFigures {
    pub sums: BTreeMap<Measure, CellSums>,
    pub buckets: BTreeMap<(Measure, Clock), Vec<(i64, i64)>>,
}

impl CellFigures {
    pub fn count(&self, m: Measure) -> i64 {
        self.sums.get(&m).map(|s| s.n).unwrap_or(0)
    }

    /// A yes/no measure's share (its values are 1 or 0, so their sum is the yeses).
    pub fn rate(&self, m: Measure) -> Rate {
        self.sums.get(&m).map(|s| Rate::new(s.value, s.n)).unwrap_or_else(|| Rate::new(0, 0))
    }

    pub fn distribution(&self, m: Measure, clock: Clock) -> Option<Distribution> {
        let sum = self.sums.get(&m).map(|s| if clock == Clock::Calendar { s.value } else { s.business })?;
        Distribution::of_buckets(self.buckets.get(&(m, clock)).map(Vec::as_slice).unwrap_or(&[]), sum)
    }

    fn time(&self, m: Measure) -> TimeKpi {
        TimeKpi { calendar: self.distribution(m, Clock::Calendar), business: self.distribution(m, Clock::Business) }
    }
}

impl TicketKpis {
    /// The KPIs from the rollup's cells (see `Distribution::of_buckets` for
    /// how near the medians and percentiles are; all else is exact).
    pub fn of_cells(c: &CellFigures) -> TicketKpis {
        TicketKpis {
            created: c.count(Measure::Created),
            solved: c.count(Measure::OneTouch),
            reopens: c.count(Measure::Reopen),
            first_reply: c.time(Measure::FirstReply),
            next_reply: c.time(Measure::NextReply),
            first_resolution: c.time(Measure::FirstResolution),
            full_resolution: c.time(Measure::FullResolution),
            requester_wait: c.time(Measure::RequesterWait),
            agent_work: c.time(Measure::AgentWork),
            agent_wait: c.time(Measure::AgentWait),
            one_touch: c.rate(Measure::OneTouch),
            no_further_contact: c.rate(Measure::NoFurtherContact),
            reopen_rate: c.rate(Measure::Reopened),
            sla_first_reply: c.rate(Measure::SlaFirstReply),
            sla_next_reply: c.rate(Measure::SlaNextReply),
            sla_periodic_update: c.rate(Measure::SlaPeriodicUpdate),
            sla_resolution: c.rate(Measure::SlaResolution),
            handle_time: c.time(Measure::HandleTime),
        }
    }

    /// Aggregates rows already limited to the period and slice.
    pub fn of(rows: &[MeasureRow]) -> TicketKpis {
        let mut by: BTreeMap<Measure, (Vec<i64>, Vec<i64>)> = BTreeMap::new();
        for r in rows {
            let e = by.entry(r.measure).or_default();
            e.0.push(r.value);
            e.1.push(r.business);
        }
        let mut time = |m: Measure| match by.get_mut(&m) {
            Some((cal, bus)) => TimeKpi { calendar: Distribution::of(cal), business: Distribution::of(bus) },
            None => TimeKpi::default(),
        };
        let first_reply = time(Measure::FirstReply);
        let next_reply = time(Measure::NextReply);
        let first_resolution = time(Measure::FirstResolution);
        let full_resolution = time(Measure::FullResolution);
        let requester_wait = time(Measure::RequesterWait);
        let agent_work = time(Measure::AgentWork);
        let agent_wait = time(Measure::AgentWait);
        let handle_time = time(Measure::HandleTime);
        let rate = |m: Measure| match by.get(&m) {
            Some((values, _)) => Rate::new(values.iter().filter(|v| **v > 0).count() as i64, values.len() as i64),
            None => Rate::new(0, 0),
        };
        let count = |m: Measure| by.get(&m).map(|(v, _)| v.len() as i64).unwrap_or(0);
        TicketKpis {
            created: count(Measure::Created),
            solved: count(Measure::OneTouch),
            reopens: count(Measure::Reopen),
            first_reply,
            next_reply,
            first_resolution,
            full_resolution,
            requester_wait,
            agent_work,
            agent_wait,
            one_touch: rate(Measure::OneTouch),
            no_further_contact: rate(Measure::NoFurtherContact),
            reopen_rate: rate(Measure::Reopened),
            sla_first_reply: rate(Measure::SlaFirstReply),
            sla_next_reply: rate(Measure::SlaNextReply),
            sla_periodic_update: rate(Measure::SlaPeriodicUpdate),
            sla_resolution: rate(Measure::SlaResolution),
            handle_time,
        }
    }
}
