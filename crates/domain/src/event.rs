//! The append-only history of a ticket. Metrics, audit and export read it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::str_enum::str_enum;
use crate::{AuthorKind, EventId, Millis, TicketId};

str_enum!(
    /// What changed. Field changes keep the value before and after.
    /// `related_to`: mail naming another ticket came from an outsider and
    /// opened this one. `email_bounced`: a delivery status notification said
    /// a reply did not arrive. `email_sent` / `email_failed`: an outgoing
    /// email was handed to the mail server, or failed for good.
    EventKind {
        Created = "created",
        SubjectChanged = "subject_changed",
        StatusChanged = "status_changed",
        PriorityChanged = "priority_changed",
        TypeChanged = "type_changed",
        Assigned = "assigned",
        TeamChanged = "team_changed",
        RequesterChanged = "requester_changed",
        OrganizationChanged = "organization_changed",
        TagsChanged = "tags_changed",
        FieldChanged = "field_changed",
        MessageAdded = "message_added",
        Merged = "merged",
        MergedFrom = "merged_from",
        LinkedToProblem = "linked_to_problem",
        FollowUpOf = "follow_up_of",
        FollowUpCreated = "follow_up_created",
        RelatedTo = "related_to",
        CollaboratorAdded = "collaborator_added",
        EmailBounced = "email_bounced",
        EmailSent = "email_sent",
        EmailFailed = "email_failed",
        SlaTargetApplied = "sla_target_applied",
        SlaWarning = "sla_warning",
        SlaBreached = "sla_breached",
        SlaFulfilled = "sla_fulfilled",
        RulesFired = "rules_fired",
        RuleLoopStopped = "rule_loop_stopped",
        PriorityAssessed = "priority_assessed",
        Escalated = "escalated",
        EscalationResolved = "escalation_resolved",
        ApprovalRequested = "approval_requested",
        ApprovalDecided = "approval_decided",
        ApprovalEscalated = "approval_escalated",
        MajorIncidentChanged = "major_incident_changed",
        SurveySent = "survey_sent",
        SatisfactionReceived = "satisfaction_received",
        TimeLogged = "time_logged",
    }
);

/// Who made a change: a customer, a staff user, or the system (a rule or job).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Actor {
    pub kind: AuthorKind,
    pub id: Option<i64>,
}

impl Actor {
    pub fn system() -> Self {
        Self { kind: AuthorKind::System, id: None }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketEvent {
    pub id: EventId,
    pub ticket_id: TicketId,
    /// 1, 2, 3 … within the ticket.
    pub seq: i64,
    pub at: Millis,
    pub actor: Actor,
    pub kind: EventKind,
    /// The field changed (custom field key for `field_changed`).
    pub field: Option<String>,
    #[schema(value_type = Object)]
    pub from: Value,
    #[schema(value_type = Object)]
    pub to: Value,
}

/// An event before storage gives it an id and sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub at: Millis,
    pub actor: Actor,
    pub kind: EventKind,
    pub field: Option<String>,
    pub from: Value,
    pub to: Value,
}

impl NewEvent {
    pub fn new(at: Millis, actor: Actor, kind: EventKind) -> Self {
        Self { at, actor, kind, field: None, from: Value::Null, to: Value::Null }
    }

    pub fn change(at: Millis, actor: Actor, kind: EventKind, field: &str, from: Value, to: Value) -> Self {
        Self { at, actor, kind, field: Some(field.to_string()), from, to }
    }
}
