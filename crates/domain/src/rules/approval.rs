//! Approvals for refunds and compensation. Each role may grant up to a
//! limit per currency without asking; above it an agent asks, a manager
//! decides with a reason, and a request left unanswered past its time limit
//! goes to a fallback approver.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::str_enum::str_enum;
use crate::{ApprovalId, DomainError, Millis, Role, TicketId, UserId};

str_enum!(ApprovalKind { Refund = "refund", Compensation = "compensation" });
str_enum!(
    ApprovalState { Pending = "pending", Approved = "approved", Rejected = "rejected", Granted = "granted" }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Approval {
    pub id: ApprovalId,
    pub ticket_id: TicketId,
    pub kind: ApprovalKind,
    /// In the currency's minor unit (cents).
    pub amount_minor: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    pub reason: String,
    pub requested_by: UserId,
    /// `granted`: within the requester's own limit, no approver needed.
    pub state: ApprovalState,
    /// Who is asked now (a manager of the ticket's team, then the fallback).
    pub approver_id: Option<UserId>,
    pub escalated: bool,
    pub decided_by: Option<UserId>,
    pub decision_reason: Option<String>,
    pub created_at: Millis,
    /// When an unanswered request goes to the fallback approver.
    pub due_at: Millis,
    pub decided_at: Option<Millis>,
}

/// What each role may grant alone, per currency, and who answers when the
/// manager does not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalLimits {
    /// Role → currency → most (minor units) granted without approval.
    pub limits: BTreeMap<Role, BTreeMap<String, i64>>,
    /// Hours a request waits before it goes to the fallback approver.
    pub timeout_hours: i64,
    /// The fallback approver; `None`: any admin.
    pub fallback_user_id: Option<UserId>,
}

impl Default for ApprovalLimits {
    fn default() -> Self {
        let eur = |v: i64| BTreeMap::from([("EUR".to_string(), v), ("USD".to_string(), v)]);
        Self {
            limits: BTreeMap::from([
                (Role::Agent, eur(5_000)),
                (Role::Manager, eur(50_000)),
                (Role::Admin, eur(500_000)),
            ]),
            timeout_hours: 24,
            fallback_user_id: None,
        }
    }
}

impl ApprovalLimits {
    pub fn check(&self) -> Result<(), Vec<DomainError>> {
        let mut errors = Vec::new();
        if !(1..=720).contains(&self.timeout_hours) {
            errors.push(DomainError::new("timeout_hours", "must be 1 to 720"));
        }
        for per in self.limits.values() {
            for (cur, v) in per {
                if parse_currency(cur).is_err() || *v < 0 {
                    errors.push(DomainError::new("limits", format!("{cur}: a currency code and a limit ≥ 0")));
                }
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// Whether a role may grant this much alone.
    pub fn may_grant(&self, role: Role, currency: &str, amount_minor: i64) -> bool {
        self.limits.get(&role).and_then(|l| l.get(currency)).is_some_and(|max| amount_minor <= *max)
    }
}

pub fn parse_currency(raw: &str) -> Result<String, DomainError> {
    let c = raw.trim().to_ascii_uppercase();
    if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err(DomainError::new("currency", "a three-letter ISO 4217 code, such as EUR"))
    }
}

pub fn parse_amount(minor: i64) -> Result<i64, DomainError> {
    if (1..=10_000_000_000).contains(&minor) {
        Ok(minor)
    } else {
        Err(DomainError::new("amount_minor", "must be above 0 and at most 100,000,000.00"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_role_and_currency() {
        let l = ApprovalLimits::default();
        assert!(l.may_grant(Role::Agent, "EUR", 5_000));
        assert!(!l.may_grant(Role::Agent, "EUR", 5_001));
        assert!(!l.may_grant(Role::Agent, "GBP", 1), "no limit set: always ask");
        assert!(l.may_grant(Role::Manager, "USD", 50_000));
        assert_eq!(parse_currency(" eur ").unwrap(), "EUR");
        assert!(parse_currency("EURO").is_err());
        assert!(parse_amount(0).is_err());
    }
}
