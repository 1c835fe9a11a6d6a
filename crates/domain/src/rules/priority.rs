//! Priority from urgency × impact. Urgency comes from what the ticket says
//! and how soon its SLA is due; impact from what the customer is worth and
//! how many customers share the problem. The matrix maps the two to a
//! priority; the score orders work queues within a priority.

use serde::{Deserialize, Serialize};

use crate::str_enum::str_enum;
use crate::{DomainError, Millis, Priority, Tier};

str_enum!(Level { Low = "low", Medium = "medium", High = "high" });

impl Level {
    fn rank(self) -> usize {
        match self {
            Level::Low => 0,
            Level::Medium => 1,
            Level::High => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PriorityMatrix {
    /// Off: priorities are only what people and triggers set.
    pub enabled: bool,
    /// Words in the subject or first message that make a ticket urgent.
    pub urgent_words: Vec<String>,
    /// Tiers whose tickets are at least of medium urgency.
    pub urgent_tiers: Vec<Tier>,
    /// An SLA target due within this many minutes makes it urgent.
    pub sla_due_within_minutes: i64,
    /// Annual value (cents) from which impact is medium, and high.
    pub value_medium_cents: i64,
    pub value_high_cents: i64,
    /// Incidents linked to the ticket's problem from which impact is medium, and high.
    pub affected_medium: i64,
    pub affected_high: i64,
    /// `matrix[urgency][impact]`, low → high on both axes.
    pub matrix: [[Priority; 3]; 3],
}

impl Default for PriorityMatrix {
    fn default() -> Self {
        use Priority::*;
        Self {
            enabled: false,
            urgent_words: ["down", "outage", "security", "breach", "data loss", "cannot log in", "hacked"]
                .map(String::from)
                .to_vec(),
            urgent_tiers: vec![Tier::Vip],
            sla_due_within_minutes: 60,
            value_medium_cents: 1_000_000,
            value_high_cents: 10_000_000,
            affected_medium: 3,
            affected_high: 10,
            matrix: [[Low, Normal, Normal], [Normal, Normal, High], [Normal, High, Urgent]],
        }
    }
}

/// What the matrix reads of a ticket.
#[derive(Debug, Clone, Default)]
pub struct PriorityInputs<'a> {
    pub text: &'a str,
    pub tier: Option<Tier>,
    pub annual_value_cents: Option<i64>,
    /// Time until the soonest SLA target, if one runs.
    pub sla_due_in: Option<Millis>,
    /// Incidents linked to the same problem (0 when none).
    pub affected: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PriorityOutcome {
    pub urgency: Level,
    pub impact: Level,
    pub priority: Priority,
    /// 0–100: higher is worked first among equal SLA due times.
    pub score: i64,
    /// Why, in words, for the ticket page.
    pub reasons: Vec<String>,
}

impl PriorityMatrix {
    pub fn check(&self) -> Result<(), Vec<DomainError>> {
        let mut errors = Vec::new();
        if self.sla_due_within_minutes < 0 || self.value_medium_cents < 0 || self.affected_medium < 0 {
            errors.push(DomainError::new("priority_matrix", "thresholds must not be negative"));
        }
        if self.value_high_cents < self.value_medium_cents || self.affected_high < self.affected_medium {
            errors.push(DomainError::new("priority_matrix", "a high threshold must not be below the medium one"));
        }
        if self.urgent_words.iter().any(|w| w.trim().is_empty()) {
            errors.push(DomainError::new("urgent_words", "must not hold empty words"));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    pub fn assess(&self, i: &PriorityInputs<'_>) -> PriorityOutcome {
        let mut reasons = Vec::new();
        let words = super::phrase::Words::of(i.text);
        let said: Vec<&String> = self.urgent_words.iter().filter(|w| words.has(w)).collect();
        let due_soon = i.sla_due_in.is_some_and(|d| d <= self.sla_due_within_minutes * 60_000);
        let urgent_tier = i.tier.is_some_and(|t| self.urgent_tiers.contains(&t));
        let urgency = if !said.is_empty() || due_soon {
            if let Some(w) = said.first() {
                reasons.push(format!("urgency high: the customer wrote \"{w}\""));
            }
            if due_soon {
                reasons
                    .push(format!("urgency high: an SLA target is due within {} minutes", self.sla_due_within_minutes));
            }
            Level::High
        } else if urgent_tier {
            reasons.push(format!("urgency medium: {} customer", i.tier.map(|t| t.as_str()).unwrap_or_default()));
            Level::Medium
        } else {
            reasons.push("urgency low: no urgent words, tier or SLA due soon".into());
            Level::Low
        };
        let value = i.annual_value_cents.unwrap_or(0);
        let by_value = if value >= self.value_high_cents && self.value_high_cents > 0 {
            Level::High
        } else if value >= self.value_medium_cents && self.value_medium_cents > 0 {
            Level::Medium
        } else {
            Level::Low
        };
        let by_affected = if i.affected >= self.affected_high && self.affected_high > 0 {
            Level::High
        } else if i.affected >= self.affected_medium && self.affected_medium > 0 {
            Level::Medium
        } else {
            Level::Low
        };
        let impact = by_value.max(by_affected);
        if by_value != Level::Low {
            reasons.push(format!("impact {by_value}: customer worth {} a year", value / 100));
        }
        if by_affected != Level::Low {
            reasons.push(format!("impact {by_affected}: {} customers affected by the same problem", i.affected));
        }
        if impact == Level::Low {
            reasons.push("impact low: one customer of ordinary value".into());
        }
        let priority = self.matrix[urgency.rank()][impact.rank()];
        let score = ((urgency.rank() * 3 + impact.rank()) * 10) as i64 + if urgent_tier { 10 } else { 0 } + 10;
        reasons.push(format!("priority {priority}: urgency {urgency} × impact {impact}"));
        PriorityOutcome { urgency, impact, priority, score: score.min(100), reasons }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_reads_words_value_and_reach() {
        let m = PriorityMatrix { enabled: true, ..Default::default() };
        let quiet = m.assess(&PriorityInputs { text: "How do I change my invoice address?", ..Default::default() });
        assert_eq!((quiet.urgency, quiet.impact, quiet.priority), (Level::Low, Level::Low, Priority::Low));
        let outage = m.assess(&PriorityInputs {
            text: "Everything is DOWN for us",
            annual_value_cents: Some(20_000_000),
            ..Default::default()
        });
        assert_eq!((outage.urgency, outage.impact, outage.priority), (Level::High, Level::High, Priority::Urgent));
        assert!(outage.reasons[0].contains("\"down\""), "{:?}", outage.reasons);
        let vip =
            m.assess(&PriorityInputs { text: "a question", tier: Some(Tier::Vip), affected: 4, ..Default::default() });
        assert_eq!((vip.urgency, vip.impact, vip.priority), (Level::Medium, Level::Medium, Priority::Normal));
        assert!(vip.score > quiet.score && outage.score > vip.score);
        let due = m.assess(&PriorityInputs { text: "hi", sla_due_in: Some(30 * 60_000), ..Default::default() });
        assert_eq!(due.urgency, Level::High);
        assert!(!m.assess(&PriorityInputs { text: "download", ..Default::default() }).reasons[0].contains("down\""));
    }

    #[test]
    fn thresholds_are_checked() {
        let m = PriorityMatrix { value_high_cents: 1, value_medium_cents: 2, ..Default::default() };
        assert!(m.check().is_err());
        assert!(PriorityMatrix::default().check().is_ok());
    }
}
