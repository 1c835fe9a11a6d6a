//! The conversation as one timeline: messages, and the changes between
//! them told in words ("Lena assigned it to Bo", "status: open → pending").

use domain::{AuthorKind, EventKind, Message, TicketEvent, Visibility};
use serde_json::Value;

use crate::pages::Shell;
use crate::pages::names::Names;

pub(crate) struct MessageItem {
    pub id: i64,
    pub visibility: &'static str,
    pub author: String,
    pub label: &'static str,
    pub at: String,
    pub at_iso: String,
    pub text: String,
    /// The message came by email: its original can be downloaded.
    pub email: bool,
    /// It has HTML worth showing as sent (in a sandboxed frame).
    pub html: bool,
    /// (id, name, is an image)
    pub files: Vec<(i64, String, bool)>,
}

pub(crate) struct EventItem {
    pub at: String,
    pub at_iso: String,
    pub text: String,
}

pub(crate) enum Item {
    Message(MessageItem),
    Event(EventItem),
}

/// A JSON value as a person reads it: text without quotes, null as "none".
fn plain(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::String(s) => s.replace('_', " "),
        Value::Array(items) if items.is_empty() => "none".into(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn describe(e: &TicketEvent, names: &Names, customer: &str) -> Option<String> {
    let who = match (e.actor.kind, e.actor.id) {
        (AuthorKind::Staff, Some(id)) => names.user(Some(id)),
        (AuthorKind::Customer, _) => customer.to_string(),
        _ => "Switchboard".into(),
    };
    let field = e.field.clone().unwrap_or_else(|| e.kind.as_str().replace('_', " "));
    Some(match e.kind {
        // Shown as the messages themselves.
        EventKind::MessageAdded => return None,
        EventKind::Created => format!("{who} opened the ticket"),
        EventKind::Assigned => match e.to.as_i64() {
            Some(id) if e.actor.id == Some(id) && e.actor.kind == AuthorKind::Staff => format!("{who} took the ticket"),
            Some(id) => format!("{who} assigned it to {}", names.user(Some(id))),
            None => format!("{who} unassigned it"),
        },
        EventKind::TeamChanged => match e.to.as_i64() {
            Some(id) => format!("{who} moved it to {}", names.team(Some(id))),
            None => format!("{who} took it out of its team"),
        },
        EventKind::TagsChanged => {
            let (before, after) = (strings(&e.from), strings(&e.to));
            let added: Vec<String> = after.iter().filter(|t| !before.contains(t)).map(|t| format!("+{t}")).collect();
            let removed: Vec<String> = before.iter().filter(|t| !after.contains(t)).map(|t| format!("−{t}")).collect();
            format!("{who} changed the tags: {}", [added, removed].concat().join(" "))
        }
        EventKind::Merged => format!("{who} merged it into #{}", plain(&e.to)),
        EventKind::MergedFrom => format!("{who} merged #{} into this ticket", plain(&e.from)),
        EventKind::FollowUpCreated => format!("follow-up #{} opened", plain(&e.to)),
        EventKind::FollowUpOf => format!("follows up #{}", plain(&e.to)),
        EventKind::EmailSent => format!("mail sent to {}", plain(&e.to["to"])),
        EventKind::EmailFailed => format!("mail to {} failed: {}", plain(&e.to["to"]), plain(&e.to["error"])),
        EventKind::EmailBounced => "a reply bounced".into(),
        EventKind::SlaTargetApplied if e.to["policy_id"].is_null() => "no SLA policy applies any more".into(),
        EventKind::SlaTargetApplied => format!("SLA policy {} applies", plain(&e.to["policy_id"])),
        EventKind::SlaWarning => format!("SLA warning: {} is due soon", field.replace('_', " ")),
        EventKind::SlaBreached => format!("SLA breached: {}", field.replace('_', " ")),
        EventKind::SlaFulfilled if e.to["met"] == true => format!("SLA met: {}", field.replace('_', " ")),
        EventKind::SlaFulfilled => format!("{} done, after its SLA was breached", field.replace('_', " ")),
        EventKind::RulesFired => format!("rules applied: {}", plain(&e.to["names"])),
        EventKind::RuleLoopStopped => {
            format!("rules stopped: {} fought over {}", plain(&e.to["names"]), plain(&e.to["fact"]))
        }
        EventKind::PriorityAssessed => format!(
            "priority assessed as {} (urgency {} × impact {})",
            plain(&e.to["priority"]),
            plain(&e.to["urgency"]),
            plain(&e.to["impact"])
        ),
        EventKind::Escalated => {
            format!("{who} escalated it to the {}: {}", plain(&e.to["tier"]), plain(&e.to["reason"]))
        }
        EventKind::EscalationResolved => format!("{who} resolved the escalation: {}", plain(&e.to["outcome"])),
        EventKind::ApprovalRequested => format!(
            "{who} asked to grant a {} of {} {} ({})",
            plain(&e.to["kind"]),
            plain(&e.to["amount"]),
            plain(&e.to["currency"]),
            plain(&e.to["state"])
        ),
        EventKind::ApprovalDecided => {
            format!("{who} {} the {}: {}", plain(&e.to["state"]), plain(&e.to["kind"]), plain(&e.to["reason"]))
        }
        EventKind::ApprovalEscalated => format!("approval request went to {}", plain(&e.to["approver"])),
        EventKind::TimeLogged => {
            let ms = e.to["ms"].as_i64().unwrap_or(0);
            let minutes = jobs::cockpit::handle_text(ms.abs() as f64);
            let verb = if ms < 0 { "took back" } else { "logged" };
            let whose = e.to["agent_id"]
                .as_i64()
                .filter(|a| e.actor.id != Some(*a))
                .map(|a| format!(" for {}", names.user(Some(a))));
            format!("{who} {verb} {minutes} of work{}", whose.unwrap_or_default())
        }
        EventKind::MajorIncidentChanged if e.to["active"] == true => "marked as a major incident".into(),
        EventKind::MajorIncidentChanged => "no longer a major incident".into(),
        _ if !e.from.is_null() || !e.to.is_null() => {
            format!("{who} changed {field}: {} → {}", plain(&e.from), plain(&e.to))
        }
        _ => format!("{who}: {field}"),
    })
}

/// Messages and changes in time order (a change before the message it
/// came with).
pub(crate) fn timeline(shell: &Shell, messages: &[Message], events: &[TicketEvent], names: &Names) -> Vec<Item> {
    let requester = |id: Option<i64>| id.map(|c| names.customer(c)).unwrap_or_default();
    let mut items: Vec<(i64, u8, Item)> = Vec::with_capacity(messages.len() + events.len());
    for e in events {
        let who = requester(e.actor.id.filter(|_| e.actor.kind == AuthorKind::Customer));
        if let Some(text) = describe(e, names, if who.is_empty() { "the customer" } else { &who }) {
            let at = shell.when(e.at);
            items.push((e.at, 0, Item::Event(EventItem { at: at.text, at_iso: at.iso, text })));
        }
    }
    for m in messages {
        let at = shell.when(m.created_at);
        let author = match (m.author_kind, m.author_id) {
            (AuthorKind::Staff, id) => names.user(id),
            (AuthorKind::Customer, id) => requester(id),
            _ => "Switchboard".into(),
        };
        let label = match (m.visibility, m.author_kind) {
            (Visibility::Internal, _) => "internal note",
            (_, AuthorKind::Customer) => "customer",
            (_, AuthorKind::System) => "automatic",
            _ => "reply",
        };
        let email = m.metadata.get("email").is_some();
        items.push((
            m.created_at,
            1,
            Item::Message(MessageItem {
                id: m.id.0,
                visibility: m.visibility.as_str(),
                author,
                label,
                at: at.text,
                at_iso: at.iso,
                text: m.body_text.clone(),
                email,
                html: email && !m.body_html.trim().is_empty(),
                files: m
                    .attachments
                    .iter()
                    .map(|a| (a.id.0, a.file_name.clone(), a.content_type.starts_with("image/")))
                    .collect(),
            }),
        ));
    }
    items.sort_by_key(|(at, rank, _)| (*at, *rank));
    items.into_iter().map(|(_, _, item)| item).collect()
}
