//! What the KPIs are computed from: each ticket's measured rows (one per
//! reply, solve, reopen, SLA outcome …) and its facts as its events left
//! them. `insight::kpi` derives them from events; storage keeps them
//! current (the KPI rollup). Definitions: docs/METRICS.md.

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
    /// `sla_*`: a target clock's outcome, 1 met, 0 breached.
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

/// Which rows a KPI counts: every field given must match. Team, agent,
/// channel and priority are the ticket's at the measured instant;
/// organization and tag are the ticket's now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Slice {
    pub team_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub channel: Option<Channel>,
    pub priority: Option<Priority>,
    pub organization_id: Option<i64>,
    pub tag: Option<String>,
}
