use serde::{Deserialize, Serialize};

use crate::str_enum::str_enum;
use crate::{CustomerId, FieldId, Millis, OrganizationId, TeamId, TicketId, UserId};

str_enum!(
    /// Where a ticket is in its life. `closed` is final.
    Status { New = "new", Open = "open", Pending = "pending", OnHold = "on_hold", Solved = "solved", Closed = "closed" }
);
str_enum!(Priority { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" });
str_enum!(TicketType { Question = "question", Incident = "incident", Problem = "problem", Task = "task" });
str_enum!(Channel { Email = "email", Web = "web", Chat = "chat", Phone = "phone", Api = "api", Social = "social" });

impl Status {
    /// Unsolved statuses make up the backlog.
    pub fn is_unsolved(self) -> bool {
        matches!(self, Status::New | Status::Open | Status::Pending | Status::OnHold)
    }
}

impl Priority {
    /// Sort rank: higher is more urgent.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        Priority::ALL.iter().copied().find(|p| p.rank() == rank)
    }
}

/// The current state of a ticket: a cache of its events, written with them in
/// one transaction. `version` counts the writes and is the ETag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ticket {
    /// The human number, shown as #1042.
    pub id: TicketId,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    #[serde(rename = "type")]
    pub ticket_type: TicketType,
    pub channel: Channel,
    pub requester_id: CustomerId,
    pub organization_id: Option<OrganizationId>,
    pub assignee_id: Option<UserId>,
    pub team_id: Option<TeamId>,
    pub tags: Vec<String>,
    /// Custom field values by field id, already validated against their definitions.
    #[schema(value_type = Object)]
    pub custom_fields: std::collections::BTreeMap<FieldId, serde_json::Value>,
    /// For an incident: the problem ticket it belongs to.
    pub problem_id: Option<TicketId>,
    /// Set when this ticket was merged into another and closed.
    pub merged_into: Option<TicketId>,
    /// Set when this ticket follows up a closed one.
    pub follow_up_of: Option<TicketId>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub solved_at: Option<Millis>,
    pub version: i64,
}

/// Maximum subject length, in characters.
pub const SUBJECT_MAX: usize = 250;
/// Maximum tags on one ticket and length of one tag.
pub const TAGS_MAX: usize = 50;
pub const TAG_MAX_LEN: usize = 80;

pub fn parse_subject(raw: &str) -> Result<String, crate::DomainError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(crate::DomainError::new("subject", "must not be empty"));
    }
    if s.chars().count() > SUBJECT_MAX {
        return Err(crate::DomainError::new("subject", format!("must be at most {SUBJECT_MAX} characters")));
    }
    Ok(s.to_string())
}

/// Tags are lower-case words without spaces; duplicates are dropped and the
/// order is kept sorted so equal sets compare equal.
pub fn parse_tags(raw: &[String]) -> Result<Vec<String>, crate::DomainError> {
    let mut tags: Vec<String> = Vec::with_capacity(raw.len());
    for t in raw {
        let t = t.trim().to_lowercase();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > TAG_MAX_LEN || t.chars().any(|c| c.is_whitespace() || matches!(c, ',' | '"' | '\\')) {
            return Err(crate::DomainError::new(
                "tags",
                format!(
                    "'{t}' is not a tag: at most {TAG_MAX_LEN} characters, no spaces, commas, quotes or backslashes"
                ),
            ));
        }
        tags.push(t);
    }
    tags.sort();
    tags.dedup();
    if tags.len() > TAGS_MAX {
        return Err(crate::DomainError::new("tags", format!("at most {TAGS_MAX} tags")));
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_their_words_only() {
        assert_eq!(Status::parse("status", "On_Hold").unwrap(), Status::OnHold);
        let err = Status::parse("status", "done").unwrap_err();
        assert!(err.message.contains("new, open, pending"));
        for p in Priority::ALL {
            assert_eq!(Priority::from_rank(p.rank()), Some(*p));
        }
    }

    #[test]
    fn subject_and_tags_rules() {
        assert!(parse_subject("  ").is_err());
        assert!(parse_subject(&"x".repeat(251)).is_err());
        assert_eq!(parse_subject(" Refund ").unwrap(), "Refund");
        let tags = parse_tags(&["Refund".into(), "vip".into(), "refund".into(), " ".into()]).unwrap();
        assert_eq!(tags, vec!["refund", "vip"]);
        assert!(parse_tags(&["two words".into()]).is_err());
        assert!(parse_tags(&["say\"what".into()]).is_err());
    }
}
