//! An agent's working state: whether they take work now (routing reads it)
//! and what they want to be told about.

use serde::{Deserialize, Serialize};

use crate::str_enum::str_enum;

str_enum!(
    /// Whether an agent takes work now. Every change is kept, so occupancy
    /// (handling time ÷ time online) can be computed later.
    AgentStatus { Online = "online", Away = "away", Offline = "offline" }
);

/// What the workspace tells an agent about, live, while they are signed
/// in, and whether a manager's alerts also come by mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationPrefs {
    /// A ticket was assigned to me (by someone else or a rule).
    pub assigned_to_me: bool,
    /// A customer wrote on a ticket assigned to me.
    pub customer_replied: bool,
    /// A new ticket arrived unassigned in one of my teams.
    pub new_in_my_teams: bool,
    /// Also as a desktop notification (the browser asks once).
    pub desktop: bool,
    /// Managers: bottleneck and spike alerts also by email (they are
    /// always in the app).
    pub alert_mail: bool,
}

impl Default for NotificationPrefs {
    fn default() -> Self {
        Self { assigned_to_me: true, customer_replied: true, new_in_my_teams: false, desktop: false, alert_mail: true }
    }
}
