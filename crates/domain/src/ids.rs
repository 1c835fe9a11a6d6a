//! Typed ids so a customer id is never passed where a ticket id belongs.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = i64)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    TicketId,
    MessageId,
    UserId,
    CustomerId,
    OrganizationId,
    TeamId,
    FieldId,
    EventId,
    AttachmentId,
    TokenId,
    MailboxId,
    QuarantineId,
    MacroId,
    ViewId,
    JobId,
    CalendarId,
    SlaPolicyId,
    RoutingRuleId,
    ServiceRuleId,
    EscalationId,
    ApprovalId,
    NotificationId,
    SurveyInvitationId,
    FeedbackId,
    WebhookId,
    DeliveryId,
    PulseId
);
