//! Saved views: a search in the query syntax with the columns and order an
//! agent chose, kept for themselves or shared with all staff.

use serde::{Deserialize, Serialize};

use crate::search::{self, SearchContext};
use crate::str_enum::str_enum;
use crate::{DomainError, Millis, UserId, ViewId};

str_enum!(
    /// A column a ticket list can show.
    ViewColumn {
        Number = "number", Subject = "subject", Status = "status", Priority = "priority", Type = "type",
        Channel = "channel", Requester = "requester", Assignee = "assignee", Team = "team", Tags = "tags",
        Created = "created", Updated = "updated"
    }
);

impl ViewColumn {
    /// What the column is called in a table header.
    pub fn title(self) -> &'static str {
        match self {
            ViewColumn::Number => "#",
            ViewColumn::Subject => "Subject",
            ViewColumn::Status => "Status",
            ViewColumn::Priority => "Priority",
            ViewColumn::Type => "Type",
            ViewColumn::Channel => "Channel",
            ViewColumn::Requester => "Requester",
            ViewColumn::Assignee => "Assignee",
            ViewColumn::Team => "Team",
            ViewColumn::Tags => "Tags",
            ViewColumn::Created => "Created",
            ViewColumn::Updated => "Updated",
        }
    }

    /// The columns of the built-in views.
    pub const DEFAULT: &'static [ViewColumn] = &[
        ViewColumn::Number,
        ViewColumn::Subject,
        ViewColumn::Requester,
        ViewColumn::Status,
        ViewColumn::Priority,
        ViewColumn::Assignee,
        ViewColumn::Updated,
    ];
}

/// A view every agent has: its address, title and search.
#[derive(Debug, Clone, Copy)]
pub struct BuiltInView {
    pub key: &'static str,
    pub title: &'static str,
    pub query: &'static str,
}

pub const BUILT_IN_VIEWS: [BuiltInView; 7] = [
    BuiltInView { key: "mine", title: "My open tickets", query: "assignee:me status:new status:open status:on_hold" },
    BuiltInView { key: "unassigned", title: "Unassigned", query: "assignee:none status:new status:open" },
    BuiltInView { key: "open", title: "All open in my teams", query: "status:new status:open status:on_hold" },
    BuiltInView { key: "pending", title: "Pending", query: "status:pending" },
    BuiltInView { key: "solved", title: "Recently solved", query: "status:solved" },
    BuiltInView { key: "sla_at_risk", title: "SLA at risk", query: "sla:at_risk" },
    BuiltInView { key: "sla_breached", title: "SLA breached", query: "sla:breached" },
];

/// The orders a list can take: a field, `-` first for descending.
pub const VIEW_SORTS: &[&str] =
    &["-updated", "updated", "-created", "created", "-priority", "priority", "id", "-id", "sla"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SavedView {
    pub id: ViewId,
    /// `None`: shared with all staff; otherwise the owner's own.
    pub owner_id: Option<UserId>,
    pub name: String,
    /// A search in the query syntax, e.g. `status:open tag:vip`.
    pub query: String,
    pub columns: Vec<ViewColumn>,
    /// One of `VIEW_SORTS`.
    pub sort: String,
    /// Order in the navigation (lower first).
    pub position: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A view's query: it must parse, and be at most 500 characters.
pub fn parse_view_query(raw: &str) -> Result<String, DomainError> {
    let q = raw.trim();
    if q.chars().count() > 500 {
        return Err(DomainError::new("query", "must be at most 500 characters"));
    }
    search::parse(q, SearchContext { me: Some(UserId(0)) }).map_err(|e| DomainError::new("query", e.message))?;
    Ok(q.to_string())
}

pub fn parse_view_sort(raw: &str) -> Result<String, DomainError> {
    let s = raw.trim();
    if VIEW_SORTS.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(DomainError::new("sort", format!("'{s}' is not one of: {}", VIEW_SORTS.join(", "))))
    }
}

/// Columns in the order given, each once; at least one.
pub fn parse_view_columns(raw: &[String]) -> Result<Vec<ViewColumn>, DomainError> {
    let mut out = Vec::new();
    for c in raw {
        let col = ViewColumn::parse("columns", c)?;
        if !out.contains(&col) {
            out.push(col);
        }
    }
    if out.is_empty() {
        return Err(DomainError::new("columns", "choose at least one column"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_parts_are_checked() {
        assert_eq!(parse_view_query(" status:open tag:vip ").unwrap(), "status:open tag:vip");
        assert_eq!(parse_view_query("status:finished").unwrap_err().field, "query");
        assert!(parse_view_query(&"x ".repeat(300)).is_err());
        assert!(parse_view_sort("-updated").is_ok());
        assert_eq!(parse_view_sort("subject").unwrap_err().field, "sort");
        let cols = parse_view_columns(&["subject".into(), "Status".into(), "subject".into()]).unwrap();
        assert_eq!(cols, vec![ViewColumn::Subject, ViewColumn::Status]);
        assert!(parse_view_columns(&[]).is_err());
        assert!(parse_view_columns(&["colour".into()]).is_err());
    }
}
