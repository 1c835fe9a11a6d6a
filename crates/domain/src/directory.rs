//! Who takes part: customers and their organizations, staff and their teams.

use serde::{Deserialize, Serialize};

use crate::str_enum::str_enum;
use crate::{CustomerId, Millis, OrganizationId, TeamId, UserId};

str_enum!(
    /// Service tier of a customer or organization; SLAs and routing read it.
    Tier { Standard = "standard", Priority = "priority", Vip = "vip" }
);

impl Tier {
    /// A ticket's tier: its requester's, or its organization's when that
    /// is higher (SLAs, routing and the KPIs' tier slice agree on this).
    pub fn of_ticket(requester: Tier, organization: Option<Tier>) -> Tier {
        organization.map_or(requester, |o| o.max(requester))
    }
}
str_enum!(
    /// Staff roles. Managers lead teams; admins configure everything.
    Role { Agent = "agent", Manager = "manager", Admin = "admin" }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    /// Mail from these domains belongs to the organization.
    pub domains: Vec<String>,
    pub tier: Tier,
    pub notes: String,
    /// Members may see each other's tickets.
    pub shares_tickets: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Customer {
    pub id: CustomerId,
    /// Lower-cased; unique.
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub organization_id: Option<OrganizationId>,
    pub tier: Tier,
    /// What the customer is worth per year, in the account's currency (cents).
    pub annual_value_cents: Option<i64>,
    pub tags: Vec<String>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    pub external_id: Option<String>,
    /// Whether the customer can sign in (has a password).
    pub has_account: bool,
    pub churned_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Customer {
    /// A new customer (id 0 until stored), standard tier, nothing else known.
    pub fn new(email: &crate::EmailAddress, name: &str, now: Millis) -> Self {
        Self {
            id: CustomerId(0),
            email: email.to_string(),
            name: name.to_string(),
            phone: None,
            organization_id: None,
            tier: Tier::Standard,
            annual_value_cents: None,
            tags: vec![],
            time_zone: None,
            locale: None,
            external_id: None,
            has_account: false,
            churned_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Staff are deactivated, never deleted, so history keeps their name.
    pub active: bool,
    /// The department's line: agent → manager → head of support.
    pub reports_to: Option<UserId>,
    pub time_zone: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub description: String,
    /// The manager who leads the team.
    pub lead_id: Option<UserId>,
    pub member_ids: Vec<UserId>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A name shown to people: trimmed, 1 to 200 characters.
pub fn parse_name(field: &str, raw: &str) -> Result<String, crate::DomainError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(crate::DomainError::new(field, "must not be empty"));
    }
    if s.chars().count() > 200 {
        return Err(crate::DomainError::new(field, "must be at most 200 characters"));
    }
    Ok(s.to_string())
}

/// An IANA time zone name such as `Europe/Berlin`, checked against the
/// bundled time zone database.
pub fn parse_time_zone(raw: &str) -> Result<String, crate::DomainError> {
    let s = raw.trim();
    jiff::tz::TimeZone::get(s).map(|_| s.to_string()).map_err(|_| {
        crate::DomainError::new("time_zone", format!("'{s}' is not an IANA time zone such as Europe/Berlin"))
    })
}
