//! In-app notices for staff: an escalation raised to them, an approval to
//! decide or decided, a trigger's message, a surge.

use serde::{Deserialize, Serialize};

use crate::{Millis, NotificationId, TicketId, UserId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: NotificationId,
    pub user_id: UserId,
    /// `escalation`, `approval`, `trigger`, `surge` …
    pub kind: String,
    pub text: String,
    pub ticket_id: Option<TicketId>,
    pub created_at: Millis,
    pub read_at: Option<Millis>,
}

/// A notice before storage gives it an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub user_id: UserId,
    pub kind: String,
    pub text: String,
    pub ticket_id: Option<TicketId>,
    pub created_at: Millis,
}

/// Longest notice kept, in characters.
pub const TEXT_MAX: usize = 1000;
