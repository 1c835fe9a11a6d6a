//! The one place that decides who may do what. The HTTP layer asks it for
//! every request; list and search queries are narrowed by its `TicketScope`.
//!
//! - An agent sees the tickets of their teams and those assigned to them.
//! - A manager sees everything of the teams they lead (and belong to), plus
//!   the tickets assigned to anyone who reports to them, directly or not.
//! - An admin sees all.
//! - Tickets not yet routed to a team form the general queue, which all staff see.
//! - A customer sees their own tickets, and their organization's where the
//!   organization shares tickets.

use crate::{CustomerId, OrganizationId, Role, TeamId, Ticket, UserId};

/// Where a ticket sits: all the policy needs to decide who sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub team_id: Option<TeamId>,
    pub assignee_id: Option<UserId>,
    pub requester_id: CustomerId,
    pub organization_id: Option<OrganizationId>,
}

impl Placement {
    pub fn of(t: &Ticket) -> Self {
        Self {
            team_id: t.team_id,
            assignee_id: t.assignee_id,
            requester_id: t.requester_id,
            organization_id: t.organization_id,
        }
    }
}

/// Who is asking, with what the policy needs to know about them.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    Staff(StaffPrincipal),
    Customer(CustomerPrincipal),
}

#[derive(Debug, Clone, PartialEq)]
pub struct StaffPrincipal {
    pub user_id: UserId,
    pub role: Role,
    pub team_ids: Vec<TeamId>,
    pub led_team_ids: Vec<TeamId>,
    /// Everyone below this user in the reporting line.
    pub report_ids: Vec<UserId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerPrincipal {
    pub customer_id: CustomerId,
    pub organization_id: Option<OrganizationId>,
    pub organization_shares_tickets: bool,
}

/// Every action the API offers, for the role × action matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ViewTicket,
    CreateTicket,
    UpdateTicket,
    ReplyPublic,
    AddInternalNote,
    /// Internal notes and the event history.
    ViewInternal,
    MergeTickets,
    ViewCustomers,
    EditCustomers,
    ViewOrganizations,
    EditOrganizations,
    ViewStaff,
    ManageUsers,
    ManageTeams,
    ViewFields,
    ManageFields,
    ViewAudit,
    ManageOwnTokens,
    /// Mailboxes, their push tokens and the mail quarantine.
    ManageMail,
    /// One's own status, preferences, personal macros and views, presence.
    UseWorkspace,
    /// Macros and canned responses every agent can use.
    ManageSharedMacros,
    /// Views shared with all staff.
    ManageSharedViews,
    /// The installation's settings.
    ManageSettings,
    /// Background jobs: the dead letters, retrying them.
    ManageJobs,
    /// Calendars, SLA policies, routing, triggers, automations, escalation
    /// and approval rules.
    ManageServiceRules,
    /// Survey settings, reviewing and following up customer feedback.
    ManageFeedback,
    /// The department's KPIs, dashboards, alerts and reports.
    ViewReports,
    /// Logging handle time on someone else's behalf (an integration's
    /// calls, a lead's correction); one's own time needs `UpdateTicket`.
    LogTimeForOthers,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::ViewTicket,
        Action::CreateTicket,
        Action::UpdateTicket,
        Action::ReplyPublic,
        Action::AddInternalNote,
        Action::ViewInternal,
        Action::MergeTickets,
        Action::ViewCustomers,
        Action::EditCustomers,
        Action::ViewOrganizations,
        Action::EditOrganizations,
        Action::ViewStaff,
        Action::ManageUsers,
        Action::ManageTeams,
        Action::ViewFields,
        Action::ManageFields,
        Action::ViewAudit,
        Action::ManageOwnTokens,
        Action::ManageMail,
        Action::UseWorkspace,
        Action::ManageSharedMacros,
        Action::ManageSharedViews,
        Action::ManageSettings,
        Action::ManageJobs,
        Action::ManageServiceRules,
        Action::ManageFeedback,
        Action::ViewReports,
        Action::LogTimeForOthers,
    ];

    /// Whether the action concerns one ticket (and so needs it to decide).
    pub fn is_on_ticket(self) -> bool {
        matches!(
            self,
            Action::ViewTicket
                | Action::UpdateTicket
                | Action::ReplyPublic
                | Action::AddInternalNote
                | Action::ViewInternal
                | Action::MergeTickets
        )
    }
}

/// The tickets a principal may see, as a filter storage applies to lists.
#[derive(Debug, Clone, PartialEq)]
pub enum TicketScope {
    All,
    Limited {
        team_ids: Vec<TeamId>,
        /// Tickets with no team (the general queue).
        no_team: bool,
        assignee_ids: Vec<UserId>,
        requester_id: Option<CustomerId>,
        organization_id: Option<OrganizationId>,
    },
}

impl Principal {
    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::Staff(s) => Some(s.role),
            Principal::Customer(_) => None,
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Principal::Staff(_))
    }

    pub fn ticket_scope(&self) -> TicketScope {
        match self {
            Principal::Staff(s) if s.role == Role::Admin => TicketScope::All,
            Principal::Staff(s) => {
                let mut team_ids = s.team_ids.clone();
                let mut assignee_ids = vec![s.user_id];
                if s.role == Role::Manager {
                    team_ids.extend(s.led_team_ids.iter().copied());
                    assignee_ids.extend(s.report_ids.iter().copied());
                }
                team_ids.sort();
                team_ids.dedup();
                assignee_ids.sort();
                assignee_ids.dedup();
                TicketScope::Limited {
                    team_ids,
                    no_team: true,
                    assignee_ids,
                    requester_id: None,
                    organization_id: None,
                }
            }
            Principal::Customer(c) => TicketScope::Limited {
                team_ids: vec![],
                no_team: false,
                assignee_ids: vec![],
                requester_id: Some(c.customer_id),
                organization_id: c.organization_id.filter(|_| c.organization_shares_tickets),
            },
        }
    }

    /// Whether this principal may do `action`, on `ticket` where the action
    /// concerns one.
    pub fn may(&self, action: Action, ticket: Option<&Ticket>) -> bool {
        if action.is_on_ticket() {
            let Some(ticket) = ticket else { return false };
            if !self.can_see(ticket) {
                return false;
            }
        }
        match self {
            Principal::Staff(s) => match action {
                Action::ManageUsers
                | Action::ManageTeams
                | Action::ManageFields
                | Action::ViewAudit
                | Action::ManageMail
                | Action::ManageSharedMacros
                | Action::ManageSettings
                | Action::ManageJobs => s.role == Role::Admin,
                Action::EditOrganizations
                | Action::ManageSharedViews
                | Action::ManageServiceRules
                | Action::ManageFeedback
                | Action::ViewReports
                | Action::LogTimeForOthers => {
                    matches!(s.role, Role::Manager | Role::Admin)
                }
                _ => true,
            },
            Principal::Customer(_) => matches!(action, Action::ViewTicket | Action::CreateTicket | Action::ReplyPublic),
        }
    }

    /// Whether this principal may change who is in a team: admins any
    /// team, a manager the teams they lead (their own people only).
    pub fn may_manage_members(&self, team_lead: Option<UserId>) -> bool {
        match self {
            Principal::Staff(s) => s.role == Role::Admin || (s.role == Role::Manager && team_lead == Some(s.user_id)),
            Principal::Customer(_) => false,
        }
    }

    pub fn can_see(&self, ticket: &Ticket) -> bool {
        self.can_see_placement(&Placement::of(ticket))
    }

    /// Visibility decided from where a ticket sits, for live updates that
    /// carry only that.
    pub fn can_see_placement(&self, ticket: &Placement) -> bool {
        match self.ticket_scope() {
            TicketScope::All => true,
            TicketScope::Limited { team_ids, no_team, assignee_ids, requester_id, organization_id } => {
                let by_team = match ticket.team_id {
                    Some(t) => team_ids.contains(&t),
                    None => no_team,
                };
                let by_assignee = ticket.assignee_id.is_some_and(|a| assignee_ids.contains(&a));
                let by_requester = requester_id == Some(ticket.requester_id);
                let by_org = organization_id.is_some() && organization_id == ticket.organization_id;
                by_team || by_assignee || by_requester || by_org
            }
        }
    }
}

#[cfg(test)]
mod tests;
