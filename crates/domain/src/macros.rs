//! Macros and canned responses: a reply or note with placeholders
//! (`{{ customer.first_name }}`), plus changes to the ticket, applied in one
//! action. A macro without changes is a canned response. Shared macros are
//! the admins'; any agent keeps personal ones.

use minijinja::{Environment, UndefinedBehavior, context};
use serde::{Deserialize, Serialize};

use crate::lifecycle::TicketPatch;
use crate::{DomainError, MacroId, Millis, Priority, Status, TeamId, TicketType, UserId};

/// Who a macro assigns the ticket to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MacroAssignee {
    /// The agent applying the macro.
    Me,
    /// Nobody (back to the team's queue).
    Nobody,
    User(UserId),
}

/// The changes a macro makes; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MacroActions {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    #[serde(rename = "type")]
    pub ticket_type: Option<TicketType>,
    pub assignee: Option<MacroAssignee>,
    pub team_id: Option<TeamId>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
}

impl MacroActions {
    pub fn is_empty(&self) -> bool {
        *self == MacroActions::default()
    }

    /// The patch these actions make when `me` applies them.
    pub fn patch(&self, me: UserId) -> TicketPatch {
        TicketPatch {
            status: self.status,
            priority: self.priority,
            ticket_type: self.ticket_type,
            assignee_id: self.assignee.map(|a| match a {
                MacroAssignee::Me => Some(me),
                MacroAssignee::Nobody => None,
                MacroAssignee::User(u) => Some(u),
            }),
            team_id: self.team_id.map(Some),
            add_tags: self.add_tags.clone(),
            remove_tags: self.remove_tags.clone(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Macro {
    pub id: MacroId,
    /// `None`: shared (admin-defined); otherwise the owner's own.
    pub owner_id: Option<UserId>,
    pub name: String,
    /// The reply or note, with placeholders; empty: changes only.
    pub body: String,
    /// The text is a public reply (true) or an internal note.
    pub public: bool,
    pub actions: MacroActions,
    pub active: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// What placeholders can name.
#[derive(Debug, Clone, Default)]
pub struct MacroContext<'a> {
    pub ticket_number: i64,
    pub ticket_subject: &'a str,
    pub customer_name: &'a str,
    pub customer_email: &'a str,
    pub agent_name: &'a str,
    pub agent_email: &'a str,
}

pub(crate) fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or_default()
}

pub(crate) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // A misspelt placeholder is shown empty rather than failing the reply.
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env
}

/// The body's placeholders compile; the error says where they do not.
/// Placeholders: `ticket.number`, `ticket.subject`, `customer.name`,
/// `customer.first_name`, `customer.email`, `agent.name`,
/// `agent.first_name`, `agent.email`.
pub fn parse_macro_body(raw: &str) -> Result<String, DomainError> {
    if raw.len() > crate::message::BODY_MAX_BYTES {
        return Err(DomainError::new("body", "is too long"));
    }
    environment().template_from_str(raw).map_err(|e| DomainError::new("body", format!("placeholder error: {e}")))?;
    Ok(raw.replace("\r\n", "\n"))
}

/// The body with its placeholders filled in.
pub fn render_macro(body: &str, ctx: &MacroContext<'_>) -> Result<String, DomainError> {
    let env = environment();
    let template = env.template_from_str(body).map_err(|e| DomainError::new("body", e.to_string()))?;
    template.render(ctx.values()).map_err(|e| DomainError::new("body", e.to_string()))
}

impl MacroContext<'_> {
    /// The placeholders' values: `ticket.*`, `customer.*`, `agent.*`.
    pub(crate) fn values(&self) -> minijinja::Value {
        context! {
            ticket => context! { number => self.ticket_number, subject => self.ticket_subject },
            customer => context! {
                name => self.customer_name, first_name => first_name(self.customer_name), email => self.customer_email
            },
            agent => context! {
                name => self.agent_name, first_name => first_name(self.agent_name), email => self.agent_email
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_in_and_unknown_ones_are_empty() {
        let ctx = MacroContext {
            ticket_number: 1042,
            ticket_subject: "Refund",
            customer_name: "Ann Lee",
            customer_email: "ann@x.test",
            agent_name: "Lena Novak",
            agent_email: "lena@x.test",
        };
        let text = render_macro(
            "Hi {{customer.first_name}}, about #{{ ticket.number }}.{{ nope.x }} — {{agent.first_name}}",
            &ctx,
        )
        .unwrap();
        assert_eq!(text, "Hi Ann, about #1042. — Lena");
        assert_eq!(parse_macro_body("Hi {{ customer.name").unwrap_err().field, "body");
        // Text that looks like markup stays text: replies are escaped when shown.
        assert_eq!(render_macro("<b>{{ customer.name }}</b>", &ctx).unwrap(), "<b>Ann Lee</b>");
    }

    #[test]
    fn actions_become_a_patch_for_whoever_applies_them() {
        let actions = MacroActions {
            status: Some(Status::Pending),
            assignee: Some(MacroAssignee::Me),
            add_tags: vec!["refund".into()],
            ..Default::default()
        };
        let p = actions.patch(UserId(7));
        assert_eq!(
            (p.status, p.assignee_id, p.add_tags.clone()),
            (Some(Status::Pending), Some(Some(UserId(7))), vec!["refund".to_string()])
        );
        assert!(MacroActions::default().is_empty() && !actions.is_empty());
        let json: MacroActions = serde_json::from_str(r#"{"assignee": {"user": 3}, "type": "incident"}"#).unwrap();
        assert_eq!(json.assignee, Some(MacroAssignee::User(UserId(3))));
        assert!(serde_json::from_str::<MacroActions>(r#"{"colour": "red"}"#).is_err());
    }
}
