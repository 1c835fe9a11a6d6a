//! Triggers and automations: ordered rules with conditions and actions.
//! A trigger runs when a ticket is created or changed by a person; an
//! automation when its time conditions hold (checked on a schedule).
//!
//! One run goes like Zendesk's: rules are checked in order; when one fires
//! its field actions change the ticket and checking starts again from the
//! first rule, with each rule firing at most once per run, so a run always
//! ends. A rule that would set a fact back to a value an earlier rule of
//! the same run moved it from is a loop: the run stops there and says so.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::condition::{Condition, RuleContext, all_and_any};
use crate::lifecycle::TicketPatch;
use crate::str_enum::str_enum;
use crate::{DomainError, FieldId, Millis, Priority, ServiceRuleId, Status, TeamId, Ticket, TicketType, UserId};

str_enum!(RuleKind { Trigger = "trigger", Automation = "automation" });
str_enum!(
    /// When a trigger runs.
    RunOn { Create = "create", Update = "update", Both = "both" }
);
str_enum!(
    RuleActionKind {
        SetStatus = "set_status",
        SetPriority = "set_priority",
        SetType = "set_type",
        SetTeam = "set_team",
        Assign = "assign",
        AddTags = "add_tags",
        RemoveTags = "remove_tags",
        SetField = "set_field",
        AddNote = "add_note",
        Notify = "notify",
        EmailRequester = "email_requester",
        Webhook = "webhook",
        Escalate = "escalate",
    }
);

/// Most rules of one kind an installation keeps.
pub const RULES_MAX: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RuleAction {
    pub action: RuleActionKind,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceRule {
    pub id: ServiceRuleId,
    pub kind: RuleKind,
    pub name: String,
    /// Rules run in ascending position.
    pub position: i64,
    pub active: bool,
    /// For triggers: on creation, on updates, or both.
    pub run_on: RunOn,
    /// Every one of these must hold …
    pub all: Vec<Condition>,
    /// … and one of these, when any are given.
    pub any: Vec<Condition>,
    pub actions: Vec<RuleAction>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// What a fired rule asks for beyond field changes; the jobs crate does it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// In-app notice to `assignee`, `team` (its members) or listed user ids.
    Notify {
        rule: ServiceRuleId,
        to: Value,
        text: String,
    },
    /// A public reply emailed to the requester (placeholders filled).
    EmailRequester {
        rule: ServiceRuleId,
        body: String,
    },
    Note {
        rule: ServiceRuleId,
        body: String,
    },
    Webhook {
        rule: ServiceRuleId,
        url: String,
    },
    Escalate {
        rule: ServiceRuleId,
        reason: String,
    },
}

/// A loop the run stopped: the fact, and the rules that fought over it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopStop {
    pub fact: String,
    pub rules: Vec<ServiceRuleId>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunOutcome {
    /// The field changes of every fired rule together.
    pub patch: TicketPatch,
    pub fired: Vec<ServiceRuleId>,
    pub effects: Vec<Effect>,
    pub stopped: Option<LoopStop>,
}

impl RunOutcome {
    pub fn is_empty(&self) -> bool {
        self.fired.is_empty() && self.stopped.is_none()
    }
}

fn text_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).or_else(|| v.as_str()).unwrap_or_default().to_string()
}

fn tags_of(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_lowercase).collect(),
        Value::String(s) => s.split([',', ' ']).filter(|t| !t.is_empty()).map(str::to_lowercase).collect(),
        _ => vec![],
    }
}

/// Checks a rule's name, conditions and actions, naming what is wrong.
/// `known_fields` are the custom field keys.
pub fn check_rule(rule: &ServiceRule, known_fields: &HashMap<String, FieldId>) -> Result<(), Vec<DomainError>> {
    let mut errors = Vec::new();
    if rule.name.trim().is_empty() || rule.name.chars().count() > 200 {
        errors.push(DomainError::new("name", "must be 1 to 200 characters"));
    }
    if rule.all.len() + rule.any.len() > 50 {
        errors.push(DomainError::new("all", "at most 50 conditions"));
    }
    if rule.kind == RuleKind::Automation
        && rule.all.iter().chain(&rule.any).all(|c| !c.field.starts_with("hours_since"))
    {
        errors.push(DomainError::new("all", "an automation needs a time condition (hours_since_…)"));
    }
    for (i, c) in rule.all.iter().enumerate() {
        if let Err(e) = c.check(&format!("all[{i}]")) {
            errors.push(e);
        }
    }
    for (i, c) in rule.any.iter().enumerate() {
        if let Err(e) = c.check(&format!("any[{i}]")) {
            errors.push(e);
        }
    }
    if rule.actions.is_empty() {
        errors.push(DomainError::new("actions", "a rule needs at least one action"));
    }
    for (i, a) in rule.actions.iter().enumerate() {
        let at = format!("actions[{i}]");
        let word = a.value.as_str().unwrap_or_default();
        let bad = match a.action {
            RuleActionKind::SetStatus => Status::parse(&at, word).err(),
            RuleActionKind::SetPriority => Priority::parse(&at, word).err(),
            RuleActionKind::SetType => TicketType::parse(&at, word).err(),
            RuleActionKind::SetTeam | RuleActionKind::Assign => (!a.value.is_i64() && !a.value.is_null())
                .then(|| DomainError::new(&at, "needs a user or team id, or null")),
            RuleActionKind::AddTags | RuleActionKind::RemoveTags => {
                tags_of(&a.value).is_empty().then(|| DomainError::new(&at, "needs tags"))
            }
            RuleActionKind::SetField => match a.value.get("key").and_then(Value::as_str) {
                Some(k) if known_fields.contains_key(k) => None,
                _ => Some(DomainError::new(&at, "needs {\"key\": <custom field key>, \"value\": …}")),
            },
            RuleActionKind::AddNote | RuleActionKind::EmailRequester => {
                let body = text_of(&a.value, "body");
                match crate::macros::parse_macro_body(&body) {
                    Ok(_) if !body.trim().is_empty() => None,
                    Ok(_) => Some(DomainError::new(&at, "needs a body")),
                    Err(e) => Some(DomainError::new(&at, e.message)),
                }
            }
            RuleActionKind::Notify => text_of(&a.value, "text")
                .trim()
                .is_empty()
                .then(|| DomainError::new(&at, "needs {\"to\": \"assignee\"|\"team\"|[ids], \"text\": …}")),
            RuleActionKind::Webhook => {
                let url = text_of(&a.value, "url");
                (!(url.starts_with("http://") || url.starts_with("https://")))
                    .then(|| DomainError::new(&at, "needs an http(s) url"))
            }
            RuleActionKind::Escalate => {
                text_of(&a.value, "reason").trim().is_empty().then(|| DomainError::new(&at, "needs a reason"))
            }
        };
        if let Some(e) = bad {
            errors.push(e);
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Values a fact had during one run, to tell a loop.
#[derive(Default)]
struct History(HashMap<String, Vec<Value>>);

impl History {
    /// Records that `rule` moves `fact` from `from` to `to`; a loop when
    /// `to` is a value the fact already had in this run.
    fn moves(&mut self, fact: &str, from: Value, to: &Value) -> bool {
        let seen = self.0.entry(fact.to_string()).or_default();
        if seen.is_empty() {
            seen.push(from);
        }
        let looped = seen.len() > 1 && seen[..seen.len() - 1].contains(to);
        seen.push(to.clone());
        looped
    }
}

struct Run<'a> {
    ticket: Ticket,
    patch: TicketPatch,
    changed: BTreeSet<String>,
    history: History,
    setters: HashMap<String, ServiceRuleId>,
    known_fields: &'a HashMap<String, FieldId>,
}

impl Run<'_> {
    /// Applies one field action; `Err(fact)` when it would loop.
    fn apply(&mut self, rule: ServiceRuleId, a: &RuleAction) -> Result<(), String> {
        let word = a.value.as_str().unwrap_or_default();
        let set = |run: &mut Self, fact: &str, from: Value, to: Value| -> Result<bool, String> {
            if from == to {
                return Ok(false);
            }
            if run.history.moves(fact, from, &to) {
                return Err(fact.to_string());
            }
            run.setters.insert(fact.to_string(), rule);
            run.changed.insert(fact.to_string());
            Ok(true)
        };
        match a.action {
            RuleActionKind::SetStatus => {
                if let Ok(s) = Status::parse("status", word)
                    && set(self, "status", self.ticket.status.as_str().into(), s.as_str().into())?
                {
                    self.ticket.status = s;
                    self.patch.status = Some(s);
                }
            }
            RuleActionKind::SetPriority => {
                if let Ok(p) = Priority::parse("priority", word)
                    && set(self, "priority", self.ticket.priority.as_str().into(), p.as_str().into())?
                {
                    self.ticket.priority = p;
                    self.patch.priority = Some(p);
                }
            }
            RuleActionKind::SetType => {
                if let Ok(t) = TicketType::parse("type", word)
                    && set(self, "type", self.ticket.ticket_type.as_str().into(), t.as_str().into())?
                {
                    self.ticket.ticket_type = t;
                    self.patch.ticket_type = Some(t);
                }
            }
            RuleActionKind::SetTeam => {
                let to = a.value.as_i64().map(TeamId);
                if set(self, "team_id", self.ticket.team_id.map(|t| t.0).into(), to.map(|t| t.0).into())? {
                    self.ticket.team_id = to;
                    self.patch.team_id = Some(to);
                }
            }
            RuleActionKind::Assign => {
                let to = a.value.as_i64().map(UserId);
                if set(self, "assignee_id", self.ticket.assignee_id.map(|u| u.0).into(), to.map(|u| u.0).into())? {
                    self.ticket.assignee_id = to;
                    self.patch.assignee_id = Some(to);
                }
            }
            RuleActionKind::AddTags | RuleActionKind::RemoveTags => {
                let add = a.action == RuleActionKind::AddTags;
                for tag in tags_of(&a.value) {
                    let has = self.ticket.tags.contains(&tag);
                    if set(self, &format!("tags:{tag}"), has.into(), add.into())? {
                        if add {
                            self.ticket.tags.push(tag);
                        } else {
                            self.ticket.tags.retain(|t| *t != tag);
                        }
                        self.changed.insert("tags".into());
                    }
                }
                self.patch.tags = Some(self.ticket.tags.clone());
            }
            RuleActionKind::SetField => {
                let key = a.value.get("key").and_then(Value::as_str).unwrap_or_default();
                let to = a.value.get("value").cloned().unwrap_or(Value::Null);
                if let Some(id) = self.known_fields.get(key).copied() {
                    let from = self.ticket.custom_fields.get(&id).cloned().unwrap_or(Value::Null);
                    if set(self, &format!("field.{key}"), from, to.clone())? {
                        self.ticket.custom_fields.insert(id, to.clone());
                        self.patch.custom_fields.retain(|(f, _, _)| *f != id);
                        self.patch.custom_fields.push((id, key.to_string(), to));
                        self.changed.insert("field.*".into());
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn effect(rule: ServiceRuleId, a: &RuleAction) -> Option<Effect> {
    Some(match a.action {
        RuleActionKind::Notify => Effect::Notify {
            rule,
            to: a.value.get("to").cloned().unwrap_or_else(|| "assignee".into()),
            text: text_of(&a.value, "text"),
        },
        RuleActionKind::EmailRequester => Effect::EmailRequester { rule, body: text_of(&a.value, "body") },
        RuleActionKind::AddNote => Effect::Note { rule, body: text_of(&a.value, "body") },
        RuleActionKind::Webhook => Effect::Webhook { rule, url: text_of(&a.value, "url") },
        RuleActionKind::Escalate => Effect::Escalate { rule, reason: text_of(&a.value, "reason") },
        _ => return None,
    })
}

/// Runs the rules of `kind` on a ticket (see the module text). For
/// triggers `ctx.created` picks those that run on creation or on updates.
pub fn run_rules(
    rules: &[ServiceRule],
    kind: RuleKind,
    ticket: &Ticket,
    changed: &BTreeSet<String>,
    ctx: &RuleContext,
    known_fields: &HashMap<String, FieldId>,
) -> RunOutcome {
    let mut eligible: Vec<&ServiceRule> = rules
        .iter()
        .filter(|r| r.active && r.kind == kind)
        .filter(|r| {
            kind == RuleKind::Automation || r.run_on == RunOn::Both || (r.run_on == RunOn::Create) == ctx.created
        })
        .collect();
    eligible.sort_by_key(|r| (r.position, r.id));
    let mut run = Run {
        ticket: ticket.clone(),
        patch: TicketPatch::default(),
        changed: changed.clone(),
        history: History::default(),
        setters: HashMap::new(),
        known_fields,
    };
    let mut out = RunOutcome::default();
    'cycle: loop {
        for rule in &eligible {
            if out.fired.contains(&rule.id) {
                continue;
            }
            if !all_and_any(&rule.all, &rule.any, &ctx.facts(&run.ticket, &run.changed)) {
                continue;
            }
            out.fired.push(rule.id);
            for a in &rule.actions {
                if let Err(fact) = run.apply(rule.id, a) {
                    let mut rules: Vec<ServiceRuleId> = run.setters.get(&fact).copied().into_iter().collect();
                    rules.push(rule.id);
                    out.stopped = Some(LoopStop { fact, rules });
                    break 'cycle;
                }
                if let Some(e) = effect(rule.id, a) {
                    out.effects.push(e);
                }
            }
            continue 'cycle;
        }
        break;
    }
    out.patch = run.patch;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tier;
    use crate::rules::condition::Op;
    use serde_json::json;

    fn ctx(created: bool) -> RuleContext {
        RuleContext {
            tier: Tier::Standard,
            message: "the export is down".into(),
            sentiment: None,
            created,
            hour: 10,
            weekday: "mon".into(),
            business_hours: true,
            status_since: 0,
            field_keys: HashMap::new(),
            now: 0,
        }
    }

    fn rule(id: i64, all: Vec<Condition>, actions: Vec<RuleAction>) -> ServiceRule {
        ServiceRule {
            id: ServiceRuleId(id),
            kind: RuleKind::Trigger,
            name: format!("rule {id}"),
            position: id,
            active: true,
            run_on: RunOn::Both,
            all,
            any: vec![],
            actions,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn c(field: &str, op: Op, value: Value) -> Condition {
        Condition { field: field.into(), op, value }
    }

    fn act(action: RuleActionKind, value: Value) -> RuleAction {
        RuleAction { action, value }
    }

    #[test]
    fn rules_chain_and_each_fires_once() {
        let t = crate::rules::condition::tests::ticket();
        let rules = vec![
            // Runs second: sees the priority the first rule set.
            rule(1, vec![c("priority", Op::Is, json!("urgent"))], vec![act(RuleActionKind::AddTags, json!(["hot"]))]),
            rule(
                2,
                vec![c("message", Op::Contains, json!("down"))],
                vec![
                    act(RuleActionKind::SetPriority, json!("urgent")),
                    act(RuleActionKind::Notify, json!({"to": "team", "text": "outage?"})),
                ],
            ),
        ];
        let out = run_rules(&rules, RuleKind::Trigger, &t, &BTreeSet::new(), &ctx(true), &HashMap::new());
        assert_eq!(out.fired, vec![ServiceRuleId(2), ServiceRuleId(1)]);
        assert_eq!(out.patch.priority, Some(Priority::Urgent));
        assert!(out.patch.tags.as_ref().unwrap().contains(&"hot".to_string()));
        assert_eq!(out.effects.len(), 1);
        assert!(out.stopped.is_none());
    }

    #[test]
    fn a_loop_between_triggers_is_stopped_and_named() {
        let t = crate::rules::condition::tests::ticket();
        // 1 tags billing tickets "vip"; 2 untags "vip" ones: they fight
        // over the tag, which would go back to how it was.
        let rules = vec![
            rule(1, vec![c("tags", Op::Is, json!("billing"))], vec![act(RuleActionKind::AddTags, json!("vip"))]),
            rule(2, vec![c("tags", Op::Is, json!("vip"))], vec![act(RuleActionKind::RemoveTags, json!("vip"))]),
        ];
        let out = run_rules(&rules, RuleKind::Trigger, &t, &BTreeSet::new(), &ctx(false), &HashMap::new());
        let stop = out.stopped.expect("loop detected");
        assert_eq!(stop.fact, "tags:vip");
        assert_eq!(stop.rules, vec![ServiceRuleId(1), ServiceRuleId(2)]);
        assert_eq!(out.fired, vec![ServiceRuleId(1), ServiceRuleId(2)]);
    }

    #[test]
    fn run_on_creation_or_update_only() {
        let t = crate::rules::condition::tests::ticket();
        let mut r = rule(1, vec![], vec![act(RuleActionKind::SetStatus, json!("pending"))]);
        r.run_on = RunOn::Create;
        let rules = [r];
        assert!(run_rules(&rules, RuleKind::Trigger, &t, &BTreeSet::new(), &ctx(false), &HashMap::new()).is_empty());
        let out = run_rules(&rules, RuleKind::Trigger, &t, &BTreeSet::new(), &ctx(true), &HashMap::new());
        assert_eq!(out.patch.status, Some(Status::Pending));
        assert!(run_rules(&rules, RuleKind::Automation, &t, &BTreeSet::new(), &ctx(true), &HashMap::new()).is_empty());
    }

    #[test]
    fn checks_name_what_is_wrong() {
        let mut r = rule(1, vec![c("nope", Op::Is, json!(1))], vec![act(RuleActionKind::SetStatus, json!("later"))]);
        let errs = check_rule(&r, &HashMap::new()).unwrap_err();
        assert_eq!(errs.len(), 2);
        r.kind = RuleKind::Automation;
        r.all = vec![c("status", Op::Is, json!("pending"))];
        r.actions = vec![act(RuleActionKind::SetStatus, json!("solved"))];
        assert_eq!(check_rule(&r, &HashMap::new()).unwrap_err()[0].field, "all");
    }
}
