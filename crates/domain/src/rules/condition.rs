//! Conditions of triggers and automations: one fact of the ticket, an
//! operator and a value. Facts are read as JSON values so one comparison
//! serves status, tags, custom fields and times alike.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sentiment::SentimentLabel;
use crate::str_enum::str_enum;
use crate::{DomainError, FieldId, Millis, Ticket, Tier};

str_enum!(
    /// How a fact is compared with the condition's value.
    Op {
        Is = "is",
        IsNot = "is_not",
        In = "in",
        NotIn = "not_in",
        Contains = "contains",
        NotContains = "not_contains",
        LessThan = "less_than",
        GreaterThan = "greater_than",
        Changed = "changed",
        ChangedTo = "changed_to",
        Present = "present",
        Absent = "absent",
    }
);

/// The facts a condition may name. `field.<key>` names a custom field.
pub const FACTS: &[&str] = &[
    "status",
    "priority",
    "type",
    "channel",
    "team_id",
    "assignee_id",
    "organization_id",
    "requester_id",
    "tier",
    "tags",
    "subject",
    "message",
    "sentiment",
    "hour",
    "weekday",
    "business_hours",
    "hours_since_created",
    "hours_since_updated",
    "hours_since_status",
    "created",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// One of the facts (`status`, `tags`, `message`, `field.plan` …).
    pub field: String,
    pub op: Op,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub value: Value,
}

/// What is known of a ticket when rules run on it.
pub struct Facts<'a> {
    pub ticket: &'a Ticket,
    pub tier: Tier,
    /// Text of the message this change added (empty when none).
    pub message: &'a str,
    /// Its sentiment (`negative`, `neutral`, `positive`) when a customer wrote it.
    pub sentiment: Option<SentimentLabel>,
    /// Whether this run is for the ticket's creation.
    pub created: bool,
    /// Facts the change changed (`status`, `tags`, `field.*` …).
    pub changed: &'a BTreeSet<String>,
    /// Local hour (0–23) and weekday (`mon` … `sun`) in the helpdesk's zone.
    pub hour: i64,
    pub weekday: &'a str,
    /// Whether the ticket's calendar is open now (always when it has none).
    pub business_hours: bool,
    pub status_since: Millis,
    pub field_keys: &'a HashMap<FieldId, String>,
    pub now: Millis,
}

/// The facts that stay put while rules change the ticket.
#[derive(Debug, Clone)]
pub struct RuleContext {
    pub tier: Tier,
    pub message: String,
    /// The sentiment of `message` when a customer wrote it.
    pub sentiment: Option<SentimentLabel>,
    pub created: bool,
    pub hour: i64,
    pub weekday: String,
    pub business_hours: bool,
    pub status_since: Millis,
    pub field_keys: HashMap<FieldId, String>,
    pub now: Millis,
}

impl RuleContext {
    pub fn facts<'a>(&'a self, ticket: &'a Ticket, changed: &'a BTreeSet<String>) -> Facts<'a> {
        Facts {
            ticket,
            tier: self.tier,
            message: &self.message,
            sentiment: self.sentiment,
            created: self.created,
            changed,
            hour: self.hour,
            weekday: &self.weekday,
            business_hours: self.business_hours,
            status_since: self.status_since,
            field_keys: &self.field_keys,
            now: self.now,
        }
    }
}

impl Facts<'_> {
    /// The fact as a JSON value (`Null` when unknown).
    pub fn value(&self, field: &str) -> Value {
        let t = self.ticket;
        let hours = |since: Millis| Value::from((self.now - since).max(0) / 3_600_000);
        match field {
            "status" => t.status.as_str().into(),
            "priority" => t.priority.as_str().into(),
            "type" => t.ticket_type.as_str().into(),
            "channel" => t.channel.as_str().into(),
            "team_id" => t.team_id.map_or(Value::Null, |v| v.0.into()),
            "assignee_id" => t.assignee_id.map_or(Value::Null, |v| v.0.into()),
            "organization_id" => t.organization_id.map_or(Value::Null, |v| v.0.into()),
            "requester_id" => t.requester_id.0.into(),
            "tier" => self.tier.as_str().into(),
            "tags" => Value::from(t.tags.clone()),
            "subject" => t.subject.as_str().into(),
            "message" => self.message.into(),
            "sentiment" => self.sentiment.map_or(Value::Null, |s| s.as_str().into()),
            "hour" => self.hour.into(),
            "weekday" => self.weekday.into(),
            "business_hours" => self.business_hours.into(),
            "hours_since_created" => hours(t.created_at),
            "hours_since_updated" => hours(t.updated_at),
            "hours_since_status" => hours(self.status_since),
            "created" => self.created.into(),
            other => match other.strip_prefix("field.") {
                Some(key) => t
                    .custom_fields
                    .iter()
                    .find(|(id, _)| self.field_keys.get(id).map(String::as_str) == Some(key))
                    .map(|(_, v)| v.clone())
                    .unwrap_or(Value::Null),
                None => Value::Null,
            },
        }
    }

    fn was_changed(&self, field: &str) -> bool {
        self.changed.contains(field) || (field.starts_with("field.") && self.changed.contains("field.*"))
    }
}

/// Loose equality: numbers by value, words case-insensitively.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn equals(fact: &Value, value: &Value) -> bool {
    match fact {
        Value::Array(items) => items.iter().any(|i| same(i, value)),
        _ => same(fact, value),
    }
}

fn one_of(fact: &Value, values: &Value) -> bool {
    match values {
        Value::Array(vs) => vs.iter().any(|v| equals(fact, v)),
        v => equals(fact, v),
    }
}

/// Whether text holds any of the phrases, as whole words, ignoring case.
fn holds(fact: &Value, phrases: &Value) -> bool {
    let haystack = match fact {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "),
        v => v.as_str().unwrap_or_default().to_string(),
    };
    let words = super::phrase::Words::of(&haystack);
    match phrases {
        Value::Array(vs) => vs.iter().filter_map(Value::as_str).any(|p| words.has(p)),
        v => v.as_str().is_some_and(|p| words.has(p)),
    }
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

impl Condition {
    pub fn matches(&self, f: &Facts<'_>) -> bool {
        let fact = f.value(&self.field);
        let num = |v: &Value| v.as_f64();
        match self.op {
            Op::Is => equals(&fact, &self.value),
            Op::IsNot => !equals(&fact, &self.value),
            Op::In => one_of(&fact, &self.value),
            Op::NotIn => !one_of(&fact, &self.value),
            Op::Contains => holds(&fact, &self.value),
            Op::NotContains => !holds(&fact, &self.value),
            Op::LessThan => matches!((num(&fact), num(&self.value)), (Some(a), Some(b)) if a < b),
            Op::GreaterThan => matches!((num(&fact), num(&self.value)), (Some(a), Some(b)) if a > b),
            Op::Changed => f.was_changed(&self.field),
            Op::ChangedTo => f.was_changed(&self.field) && equals(&fact, &self.value),
            Op::Present => present(&fact),
            Op::Absent => !present(&fact),
        }
    }

    /// Checks the fact's name and that the value suits the operator.
    pub fn check(&self, at: &str) -> Result<(), DomainError> {
        if !FACTS.contains(&self.field.as_str()) && self.field.strip_prefix("field.").is_none_or(|k| k.is_empty()) {
            return Err(DomainError::new(
                at,
                format!("'{}' is not a fact rules know: {} or field.<key>", self.field, FACTS.join(", ")),
            ));
        }
        let needs_value = !matches!(self.op, Op::Changed | Op::Present | Op::Absent);
        if needs_value && self.value.is_null() {
            return Err(DomainError::new(at, format!("'{}' needs a value", self.op)));
        }
        if matches!(self.op, Op::LessThan | Op::GreaterThan) && !self.value.is_number() {
            return Err(DomainError::new(at, format!("'{}' needs a number", self.op)));
        }
        Ok(())
    }
}

/// Whether every one of `all` and at least one of `any` (when given) hold.
pub fn all_and_any(all: &[Condition], any: &[Condition], f: &Facts<'_>) -> bool {
    all.iter().all(|c| c.matches(f)) && (any.is_empty() || any.iter().any(|c| c.matches(f)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn ticket() -> Ticket {
        serde_json::from_value(json!({
            "id": 7, "subject": "Export is down since the update", "status": "open", "priority": "normal",
            "type": "question", "channel": "email", "requester_id": 3, "organization_id": null,
            "assignee_id": null, "team_id": 2, "tags": ["billing", "export"], "custom_fields": {"1": "pro"},
            "problem_id": null, "merged_into": null, "follow_up_of": null, "created_at": 0,
            "updated_at": 7_200_000, "solved_at": null, "version": 3
        }))
        .unwrap()
    }

    fn cond(field: &str, op: Op, value: Value) -> Condition {
        Condition { field: field.into(), op, value }
    }

    #[test]
    fn facts_compare_as_users_expect() {
        let t = ticket();
        let keys = HashMap::from([(FieldId(1), "plan".to_string())]);
        let changed = BTreeSet::from(["status".to_string(), "field.*".to_string()]);
        let f = Facts {
            ticket: &t,
            tier: Tier::Vip,
            message: "Our whole team cannot log in. Security issue?",
            sentiment: Some(SentimentLabel::Negative),
            created: false,
            changed: &changed,
            hour: 9,
            weekday: "tue",
            business_hours: true,
            status_since: 3_600_000,
            field_keys: &keys,
            now: 4 * 3_600_000 + 1,
        };
        assert!(cond("status", Op::Is, json!("OPEN")).matches(&f));
        assert!(cond("tags", Op::Is, json!("export")).matches(&f));
        assert!(cond("tags", Op::In, json!(["x", "billing"])).matches(&f));
        assert!(!cond("tags", Op::NotIn, json!(["billing"])).matches(&f));
        assert!(cond("subject", Op::Contains, json!(["outage", "is down"])).matches(&f));
        assert!(!cond("subject", Op::Contains, json!("dow")).matches(&f), "whole words only");
        assert!(cond("message", Op::Contains, json!("security")).matches(&f));
        assert!(cond("tier", Op::Is, json!("vip")).matches(&f));
        assert!(cond("sentiment", Op::Is, json!("negative")).matches(&f));
        assert!(!cond("sentiment", Op::Is, json!("positive")).matches(&f));
        assert!(cond("field.plan", Op::Is, json!("pro")).matches(&f));
        assert!(cond("field.plan", Op::Changed, Value::Null).matches(&f));
        assert!(cond("status", Op::ChangedTo, json!("open")).matches(&f));
        assert!(!cond("priority", Op::Changed, Value::Null).matches(&f));
        assert!(cond("hours_since_status", Op::GreaterThan, json!(2)).matches(&f));
        assert!(cond("hours_since_created", Op::Is, json!(4)).matches(&f));
        assert!(cond("assignee_id", Op::Absent, Value::Null).matches(&f));
        assert!(cond("team_id", Op::Is, json!(2)).matches(&f));
        assert!(cond("hour", Op::LessThan, json!(12)).matches(&f));
        assert!(cond("business_hours", Op::Is, json!(true)).matches(&f));
    }

    #[test]
    fn bad_conditions_are_named() {
        assert!(cond("colour", Op::Is, json!("red")).check("conditions[0]").is_err());
        assert!(cond("status", Op::Is, Value::Null).check("conditions[0]").is_err());
        assert!(cond("hour", Op::LessThan, json!("nine")).check("conditions[0]").is_err());
        assert!(cond("field.plan", Op::Present, Value::Null).check("c").is_ok());
    }
}
