//! Settings of the whole installation that admins change in the workspace.

use serde::{Deserialize, Serialize};

use crate::DomainError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct InstanceSettings {
    /// The support department's name, shown in the workspace.
    pub helpdesk_name: String,
    /// Times are shown in this IANA zone to staff who have not set their own.
    pub time_zone: String,
}

impl Default for InstanceSettings {
    fn default() -> Self {
        Self { helpdesk_name: "Switchboard".into(), time_zone: "UTC".into() }
    }
}

impl InstanceSettings {
    /// Checks every field, naming the ones that are wrong.
    pub fn parse(self) -> Result<Self, Vec<DomainError>> {
        let mut errors = Vec::new();
        let helpdesk_name =
            crate::directory::parse_name("helpdesk_name", &self.helpdesk_name).map_err(|e| errors.push(e)).ok();
        let time_zone = crate::directory::parse_time_zone(&self.time_zone).map_err(|e| errors.push(e)).ok();
        match (helpdesk_name, time_zone) {
            (Some(helpdesk_name), Some(time_zone)) if errors.is_empty() => Ok(Self { helpdesk_name, time_zone }),
            _ => Err(errors),
        }
    }
}
