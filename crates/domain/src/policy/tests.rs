//! The role × action matrix, exhaustively: every action for every kind of
//! principal against tickets placed in and out of their reach.

use std::collections::BTreeMap;

use super::*;
use crate::{Channel, Priority, Status, TicketId, TicketType};

const TEAM_A: TeamId = TeamId(1);
const TEAM_B: TeamId = TeamId(2);
const AGENT: UserId = UserId(10);
const OTHER_AGENT: UserId = UserId(11);
const MANAGER: UserId = UserId(20);
const ADMIN: UserId = UserId(30);
const ORG: OrganizationId = OrganizationId(5);

fn ticket(team: Option<TeamId>, assignee: Option<UserId>, requester: i64, org: Option<OrganizationId>) -> Ticket {
    Ticket {
        id: TicketId(1),
        subject: "s".into(),
        status: Status::Open,
        priority: Priority::Normal,
        ticket_type: TicketType::Question,
        channel: Channel::Email,
        requester_id: CustomerId(requester),
        organization_id: org,
        assignee_id: assignee,
        team_id: team,
        tags: vec![],
        custom_fields: BTreeMap::new(),
        problem_id: None,
        merged_into: None,
        follow_up_of: None,
        created_at: 0,
        updated_at: 0,
        solved_at: None,
        version: 1,
    }
}

fn staff(user: UserId, role: Role, teams: &[TeamId], led: &[TeamId], reports: &[UserId]) -> Principal {
    Principal::Staff(StaffPrincipal {
        user_id: user,
        role,
        team_ids: teams.to_vec(),
        led_team_ids: led.to_vec(),
        report_ids: reports.to_vec(),
    })
}

fn agent_a() -> Principal {
    staff(AGENT, Role::Agent, &[TEAM_A], &[], &[])
}
fn manager_b() -> Principal {
    // Leads team B; the agent of team A reports to them.
    staff(MANAGER, Role::Manager, &[], &[TEAM_B], &[AGENT])
}
fn admin() -> Principal {
    staff(ADMIN, Role::Admin, &[], &[], &[])
}
fn customer(id: i64, shares: bool) -> Principal {
    Principal::Customer(CustomerPrincipal {
        customer_id: CustomerId(id),
        organization_id: Some(ORG),
        organization_shares_tickets: shares,
    })
}

#[test]
fn ticket_visibility_by_principal() {
    let in_a = ticket(Some(TEAM_A), None, 100, None);
    let in_b = ticket(Some(TEAM_B), None, 100, None);
    let in_b_assigned_to_agent = ticket(Some(TEAM_B), Some(AGENT), 100, None);
    let in_b_assigned_other = ticket(Some(TEAM_B), Some(OTHER_AGENT), 100, None);
    let no_team = ticket(None, None, 100, None);
    let org_ticket = ticket(Some(TEAM_B), None, 101, Some(ORG));

    let cases: &[(&str, Principal, &Ticket, bool)] = &[
        ("agent sees own team", agent_a(), &in_a, true),
        ("agent not other team", agent_a(), &in_b, false),
        ("agent sees assigned in other team", agent_a(), &in_b_assigned_to_agent, true),
        ("agent not other's in other team", agent_a(), &in_b_assigned_other, false),
        ("agent sees general queue", agent_a(), &no_team, true),
        ("manager sees led team", manager_b(), &in_b, true),
        ("manager not unled team", manager_b(), &in_a, false),
        ("manager sees report's assigned", manager_b(), &ticket(Some(TEAM_A), Some(AGENT), 1, None), true),
        ("admin sees all", admin(), &in_a, true),
        ("admin sees all b", admin(), &in_b_assigned_other, true),
        ("customer sees own", customer(100, false), &in_b, true),
        ("customer not others'", customer(100, false), &org_ticket, false),
        ("customer sees org's when shared", customer(100, true), &org_ticket, true),
        ("customer not general queue", customer(102, true), &no_team, false),
    ];
    for (name, p, t, want) in cases {
        assert_eq!(p.can_see(t), *want, "{name}");
        assert_eq!(p.may(Action::ViewTicket, Some(t)), *want, "{name}");
    }
}

#[test]
fn role_action_matrix() {
    use Action::*;
    let own = ticket(Some(TEAM_A), Some(AGENT), 100, None);
    // For each principal, the actions allowed on a ticket they can see.
    let expect: &[(&str, Principal, &[Action])] = &[
        (
            "agent",
            agent_a(),
            &[
                ViewTicket,
                CreateTicket,
                UpdateTicket,
                ReplyPublic,
                AddInternalNote,
                ViewInternal,
                MergeTickets,
                ViewCustomers,
                EditCustomers,
                ViewOrganizations,
                ViewStaff,
                ViewFields,
                ManageOwnTokens,
                UseWorkspace,
            ],
        ),
        (
            "manager",
            staff(MANAGER, Role::Manager, &[], &[TEAM_A], &[]),
            &[
                ViewTicket,
                CreateTicket,
                UpdateTicket,
                ReplyPublic,
                AddInternalNote,
                ViewInternal,
                MergeTickets,
                ViewCustomers,
                EditCustomers,
                ViewOrganizations,
                EditOrganizations,
                ViewStaff,
                ViewFields,
                ManageOwnTokens,
                UseWorkspace,
                ManageSharedViews,
                ManageServiceRules,
                ManageFeedback,
                ViewReports,
                LogTimeForOthers,
            ],
        ),
        ("admin", admin(), Action::ALL),
        ("customer", customer(100, false), &[ViewTicket, CreateTicket, ReplyPublic]),
    ];
    for (name, p, allowed) in expect {
        for action in Action::ALL {
            let want = allowed.contains(action);
            assert_eq!(p.may(*action, Some(&own)), want, "{name} {action:?}");
        }
    }
    // Nobody may act on a ticket they cannot see, whatever their role allows.
    let hidden = ticket(Some(TEAM_B), Some(OTHER_AGENT), 999, None);
    for p in [agent_a(), customer(100, true)] {
        for action in Action::ALL.iter().filter(|a| a.is_on_ticket()) {
            assert!(!p.may(*action, Some(&hidden)), "{p:?} {action:?}");
        }
    }
    // Ticket actions without a ticket are refused.
    assert!(!admin().may(ViewTicket, None));
}

#[test]
fn team_members_are_managed_by_admins_and_the_team_lead() {
    let lead = staff(MANAGER, Role::Manager, &[], &[TEAM_B], &[]);
    assert!(lead.may_manage_members(Some(MANAGER)));
    assert!(!lead.may_manage_members(Some(UserId(99))), "not a team they lead");
    assert!(!lead.may_manage_members(None));
    assert!(admin().may_manage_members(None));
    assert!(!staff(AGENT, Role::Agent, &[TEAM_A], &[], &[]).may_manage_members(Some(AGENT)), "agents never");
    assert!(!customer(1, false).may_manage_members(Some(MANAGER)));
}

#[test]
fn scopes_match_can_see() {
    match customer(7, true).ticket_scope() {
        TicketScope::Limited { requester_id, organization_id, no_team, .. } => {
            assert_eq!(requester_id, Some(CustomerId(7)));
            assert_eq!(organization_id, Some(ORG));
            assert!(!no_team);
        }
        TicketScope::All => unreachable!("customer scope is limited"),
    }
    match customer(7, false).ticket_scope() {
        TicketScope::Limited { organization_id, .. } => assert_eq!(organization_id, None),
        TicketScope::All => unreachable!("customer scope is limited"),
    }
    assert_eq!(admin().ticket_scope(), TicketScope::All);
}
