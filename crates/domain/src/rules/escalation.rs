//! Escalations: a ticket raised from its agent to a manager, and from a
//! manager to the head of support (an admin). Raised by hand with a reason,
//! or automatically when an SLA target is at risk or breached, the customer
//! is VIP, or the ticket touches a sensitive topic. Each escalation and its
//! outcome is kept.

use serde::{Deserialize, Serialize};

use crate::str_enum::str_enum;
use crate::{DomainError, EscalationId, Millis, TicketId, Tier, UserId};

str_enum!(
    /// Who the ticket is raised to: the team's manager, or the head of support.
    EscalationTier { Manager = "manager", Head = "head" }
);
str_enum!(
    EscalationSource {
        Manual = "manual",
        SlaWarning = "sla_warning",
        SlaBreach = "sla_breach",
        Vip = "vip",
        SensitiveTopic = "sensitive_topic",
        NegativeSentiment = "negative_sentiment",
        Trigger = "trigger",
    }
);
str_enum!(EscalationState { Open = "open", Resolved = "resolved" });

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Escalation {
    pub id: EscalationId,
    pub ticket_id: TicketId,
    pub tier: EscalationTier,
    pub source: EscalationSource,
    pub reason: String,
    /// `None` when the system raised it.
    pub raised_by: Option<UserId>,
    pub state: EscalationState,
    /// What the manager did about it, once resolved.
    pub outcome: Option<String>,
    pub resolved_by: Option<UserId>,
    pub created_at: Millis,
    pub resolved_at: Option<Millis>,
}

/// When the system escalates by itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EscalationRules {
    pub on_sla_warning: bool,
    /// A breach goes to the head of support.
    pub on_sla_breach: bool,
    pub vip_tiers: Vec<Tier>,
    /// Words that make a topic sensitive (in the subject or a customer's message).
    pub sensitive_words: Vec<String>,
    /// A customer message whose sentiment score is at or below this
    /// (−1 to 0) escalates to the manager; `None` turns it off.
    pub negative_sentiment_at: Option<f64>,
}

impl Default for EscalationRules {
    fn default() -> Self {
        Self {
            on_sla_warning: true,
            on_sla_breach: true,
            vip_tiers: vec![Tier::Vip],
            sensitive_words: ["security incident", "legal", "lawyer", "chargeback", "refund", "compensation", "gdpr"]
                .map(String::from)
                .to_vec(),
            negative_sentiment_at: Some(-0.6),
        }
    }
}

impl EscalationRules {
    pub fn check(&self) -> Result<(), Vec<DomainError>> {
        if self.sensitive_words.iter().any(|w| w.trim().is_empty()) {
            return Err(vec![DomainError::new("sensitive_words", "must not hold empty words")]);
        }
        if self.negative_sentiment_at.is_some_and(|s| !(-1.0..=0.0).contains(&s)) {
            return Err(vec![DomainError::new("negative_sentiment_at", "must be from -1 to 0")]);
        }
        Ok(())
    }

    /// The sensitive word the text holds, if any (whole words, any case).
    pub fn sensitive_in(&self, text: &str) -> Option<&str> {
        super::phrase::Words::of(text).first_of(&self.sensitive_words)
    }
}

/// The reason a manual escalation needs: 3 to 2000 characters.
pub fn parse_reason(raw: &str) -> Result<String, DomainError> {
    let r = raw.trim();
    if r.chars().count() < 3 {
        return Err(DomainError::new("reason", "say why (at least 3 characters)"));
    }
    if r.chars().count() > 2000 {
        return Err(DomainError::new("reason", "at most 2000 characters"));
    }
    Ok(r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_topics_are_found_as_words() {
        let r = EscalationRules::default();
        assert_eq!(r.sensitive_in("I will file a CHARGEBACK today"), Some("chargeback"));
        assert_eq!(r.sensitive_in("We had a security incident last night"), Some("security incident"));
        assert_eq!(r.sensitive_in("refunded already, thanks"), None);
        assert!(parse_reason("  ").is_err());
        assert_eq!(parse_reason(" customer threatens to leave ").unwrap(), "customer threatens to leave");
    }
}
