//! What the KPIs are computed from: each ticket's measured rows (one per
//! reply, solve, reopen, SLA outcome …) and its facts as its events left
//! them. `insight::kpi` derives them from events; storage keeps them
//! current (the KPI rollup). Definitions: docs/METRICS.md.

pub mod cells;

use serde::{Deserialize, Serialize};

use crate::str_enum::str_enum;
use crate::{Channel, Millis, Priority, Status};

str_enum!(
    /// What a row measures. Its `value` is a duration in milliseconds for
    /// the times, 1 or 0 for the yes/no ones (one touch, met). `created`:
    /// the ticket arrived. `first_reply`: creation to the first public staff
    /// reply. `next_reply`: a customer message after that to the staff reply
    /// answering it. `first_resolution` / `full_resolution`: creation to the
    /// first / last solve. `requester_wait`, `agent_work`, `agent_wait`: time
    /// in new+open+on hold, new+open, pending until the last solve.
    /// `one_touch`, `no_further_contact`, `reopened`: at the last solve, 1
    /// when it took at most one public staff reply / the customer wrote
    /// nothing after the first reply / it was reopened. `reopen`: a reopen.
    /// `sla_*`: a target clock's outcome, 1 met, 0 breached. `handle_time`:
    /// one agent's logged work on the ticket (a handled contact), at their
    /// last entry.
    Measure {
        Created = "created",
        FirstReply = "first_reply",
        NextReply = "next_reply",
        FirstResolution = "first_resolution",
        FullResolution = "full_resolution",
        RequesterWait = "requester_wait",
        AgentWork = "agent_work",
        AgentWait = "agent_wait",
        OneTouch = "one_touch",
        NoFurtherContact = "no_further_contact",
        Reopened = "reopened",
        Reopen = "reopen",
        SlaFirstReply = "sla_first_reply",
        SlaNextReply = "sla_next_reply",
        SlaPeriodicUpdate = "sla_periodic_update",
        SlaResolution = "sla_resolution",
        HandleTime = "handle_time",
    }
);

impl Measure {
    /// The SLA measure of a target kind as the SLA events name it.
    pub fn of_sla_target(raw: &str) -> Option<Measure> {
        match raw {
            "first_reply" => Some(Measure::SlaFirstReply),
            "next_reply" => Some(Measure::SlaNextReply),
            "periodic_update" => Some(Measure::SlaPeriodicUpdate),
            "resolution" => Some(Measure::SlaResolution),
            _ => None,
        }
    }
}

/// One measured row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MeasureRow {
    pub measure: Measure,
    pub at: Millis,
    /// Calendar milliseconds, or 1/0.
    pub value: i64,
    /// Business milliseconds (same as `value` for the yes/no measures).
    pub business: i64,
    pub team_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub channel: Channel,
    pub priority: Priority,
}

/// A ticket measured: its facts, its rows, and how many of its events
/// they were measured from (a view from fewer never replaces one from more).
pub type MeasuredTicket = (TicketFacts, Vec<MeasureRow>, i64);

/// The ticket as its events left it: what the slices other than the
/// measured instant read (organization, tier come from the directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketFacts {
    pub ticket_id: i64,
    pub created_at: Millis,
    pub status: Status,
    pub channel: Channel,
    pub priority: Priority,
    pub team_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub requester_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub tags: Vec<String>,
    /// Merged into another ticket: counted as arrived, never as solved.
    pub merged: bool,
    pub public_replies: i64,
    pub reopens: i64,
    /// The last solve, while the ticket is solved or closed.
    pub solved_at: Option<Millis>,
}

/// Unsolved tickets of one status, team and agent (theirs now) created in
/// one range: `range` is the last index `i` of the ranges asked for with
/// `created_at <= until[i]` (0 when none), so `until` = now − an age
/// bucket's lower bound counts tickets by age.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCount {
    pub status: Status,
    pub team_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub range: usize,
    pub tickets: i64,
    /// When the oldest of them was created.
    pub first_created: Millis,
}

/// Which rows a KPI counts: every field given must match. Team, agent,
/// channel and priority are the ticket's at the measured instant;
/// organization and tag are the ticket's now; tier is the requester's
/// now (or the ticket's organization's when higher, as SLA policies
/// read it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Slice {
    pub team_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub channel: Option<Channel>,
    pub priority: Option<Priority>,
    pub organization_id: Option<i64>,
    pub tag: Option<String>,
    pub tier: Option<crate::Tier>,
}

str_enum!(
    /// The KPIs a manager can set targets for, each with its unit in the
    /// name. Times and rates of failure are better lower.
    TargetKpi {
        FirstReplyMedianMinutes = "first_reply_median_minutes",
        FirstReplyP90Minutes = "first_reply_p90_minutes",
        FullResolutionMedianHours = "full_resolution_median_hours",
        OneTouchPercent = "one_touch_percent",
        ReopenPercent = "reopen_percent",
        SlaFirstReplyPercent = "sla_first_reply_percent",
        SlaResolutionPercent = "sla_resolution_percent",
        CsatPercent = "csat_percent",
        Nps = "nps",
        Backlog = "backlog",
    }
);

impl TargetKpi {
    pub fn lower_is_better(self) -> bool {
        matches!(
            self,
            TargetKpi::FirstReplyMedianMinutes
                | TargetKpi::FirstReplyP90Minutes
                | TargetKpi::FullResolutionMedianHours
                | TargetKpi::ReopenPercent
                | TargetKpi::Backlog
        )
    }
}

/// A manager's target for a KPI, for one team or (no team) the department.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KpiTarget {
    pub kpi: TargetKpi,
    pub team_id: Option<i64>,
    pub target: f64,
    /// How far past the target, as a share of it, is still amber (default 0.1).
    #[serde(default = "default_amber")]
    pub amber: f64,
}

fn default_amber() -> f64 {
    0.1
}

str_enum!(
    /// Green: the target is met; amber: missed by at most the amber share;
    /// red: missed by more.
    Rag { Green = "green", Amber = "amber", Red = "red" }
);

impl KpiTarget {
    /// How `actual` stands against the target.
    pub fn judge(&self, actual: f64) -> Rag {
        let slack = self.target.abs() * self.amber.max(0.0);
        let (met, near) = if self.kpi.lower_is_better() {
            (actual <= self.target, actual <= self.target + slack)
        } else {
            (actual >= self.target, actual >= self.target - slack)
        };
        if met {
            Rag::Green
        } else if near {
            Rag::Amber
        } else {
            Rag::Red
        }
    }

    /// Field messages for a target that cannot be judged.
    pub fn check(&self, field: &str) -> Vec<crate::DomainError> {
        let mut errors = Vec::new();
        if !self.target.is_finite() || (self.kpi != TargetKpi::Nps && self.target < 0.0) {
            errors.push(crate::DomainError::new(format!("{field}.target"), "must be a number of 0 or more"));
        }
        if self.kpi.as_str().ends_with("_percent") && self.target > 100.0 {
            errors.push(crate::DomainError::new(format!("{field}.target"), "a percentage is at most 100"));
        }
        if self.kpi == TargetKpi::Nps && !(-100.0..=100.0).contains(&self.target) {
            errors.push(crate::DomainError::new(format!("{field}.target"), "NPS runs from -100 to 100"));
        }
        if !(0.0..=1.0).contains(&self.amber) {
            errors.push(crate::DomainError::new(format!("{field}.amber"), "must be a share from 0 to 1"));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_judge_green_amber_red_in_the_right_direction() {
        let frt = KpiTarget { kpi: TargetKpi::FirstReplyMedianMinutes, team_id: None, target: 60.0, amber: 0.1 };
        assert_eq!(
            (frt.judge(45.0), frt.judge(60.0), frt.judge(66.0), frt.judge(66.1)),
            (Rag::Green, Rag::Green, Rag::Amber, Rag::Red)
        );
        let csat = KpiTarget { kpi: TargetKpi::CsatPercent, team_id: Some(2), target: 90.0, amber: 0.05 };
        assert_eq!((csat.judge(91.0), csat.judge(85.5), csat.judge(85.0)), (Rag::Green, Rag::Amber, Rag::Red));
        let nps = KpiTarget { kpi: TargetKpi::Nps, team_id: None, target: -10.0, amber: 0.5 };
        assert_eq!((nps.judge(-10.0), nps.judge(-15.0), nps.judge(-16.0)), (Rag::Green, Rag::Amber, Rag::Red));
        assert!(csat.check("t").is_empty());
        let bad = KpiTarget { kpi: TargetKpi::CsatPercent, team_id: None, target: 120.0, amber: 2.0 };
        assert_eq!(bad.check("targets[0]").len(), 2);
    }
}
