use serde::{Deserialize, Serialize};

use crate::str_enum::str_enum;
use crate::{AttachmentId, Channel, MessageId, Millis, TicketId};

str_enum!(
    /// Public replies reach the customer; internal notes stay with staff.
    Visibility { Public = "public", Internal = "internal" }
);
str_enum!(AuthorKind { Customer = "customer", Staff = "staff", System = "system" });

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub ticket_id: TicketId,
    pub visibility: Visibility,
    pub author_kind: AuthorKind,
    /// Customer id or user id, by `author_kind`; none for the system.
    pub author_id: Option<i64>,
    pub channel: Channel,
    pub body_text: String,
    /// Sanitized HTML, safe to show.
    pub body_html: String,
    /// Channel data: for email the Message-ID, In-Reply-To, References,
    /// From, To, Cc, mailbox and content hash.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub attachments: Vec<Attachment>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: AttachmentId,
    pub message_id: Option<MessageId>,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// Where the bytes live in the object store.
    #[serde(skip)]
    pub storage_key: String,
    pub created_at: Millis,
}

/// Longest message body accepted, in bytes.
pub const BODY_MAX_BYTES: usize = 512 * 1024;

pub fn parse_body(raw: &str) -> Result<String, crate::DomainError> {
    if raw.trim().is_empty() {
        return Err(crate::DomainError::new("body", "must not be empty"));
    }
    if raw.len() > BODY_MAX_BYTES {
        return Err(crate::DomainError::new("body", format!("must be at most {BODY_MAX_BYTES} bytes")));
    }
    Ok(raw.to_string())
}
