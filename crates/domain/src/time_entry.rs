//! Time spent handling a ticket: what an agent logs (a call's or chat's
//! length, the minutes an email took) or what an integration sends (a
//! call's talk, hold and wrap-up). Each entry is a `time_logged` event, so
//! handle time, AHT and occupancy derive from events like every other KPI
//! (docs/METRICS.md, "Handle time and occupancy").

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::event::NewEvent;
use crate::str_enum::str_enum;
use crate::{Actor, DomainError, EventKind, Millis, TicketEvent, UserId};

/// The longest one entry may be, either way (a correction is negative).
pub const MAX_ENTRY_MS: i64 = 24 * 3_600_000;

str_enum!(
    /// Who measured the time: the agent, or an integration (telephony, chat).
    TimeSource { Agent = "agent", Integration = "integration" }
);

/// One logged stretch of work on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimeEntry {
    /// Whose work it was.
    pub agent_id: UserId,
    /// Milliseconds of work; negative corrects an earlier entry.
    pub ms: i64,
    pub source: TimeSource,
    pub note: String,
    /// When it was logged.
    pub at: Millis,
    /// Who logged it.
    pub by: Actor,
}

impl TimeEntry {
    /// The entries a ticket's events record, in order.
    pub fn of_events(events: &[TicketEvent]) -> Vec<TimeEntry> {
        events
            .iter()
            .filter(|e| e.kind == EventKind::TimeLogged)
            .filter_map(|e| Self::of_event(e.at, e.actor, &e.to))
            .collect()
    }

    /// The entry a `time_logged` event's `to` holds.
    pub fn of_event(at: Millis, by: Actor, to: &Value) -> Option<TimeEntry> {
        Some(TimeEntry {
            agent_id: UserId(to.get("agent_id")?.as_i64()?),
            ms: to.get("ms")?.as_i64()?,
            source: to.get("source").and_then(Value::as_str).and_then(|s| TimeSource::parse("source", s).ok())?,
            note: to.get("note").and_then(Value::as_str).unwrap_or_default().to_string(),
            at,
            by,
        })
    }

    /// Field messages for an entry that cannot be kept: no time, more than
    /// a day, or a correction that takes the agent's time on the ticket
    /// (with `earlier` entries) below zero.
    pub fn check(&self, earlier: &[TimeEntry]) -> Vec<DomainError> {
        let mut errors = Vec::new();
        if self.ms == 0 {
            errors.push(DomainError::new("seconds", "must not be 0"));
        } else if self.ms.abs() > MAX_ENTRY_MS {
            errors.push(DomainError::new("seconds", "one entry is at most 24 hours (86400 seconds)"));
        } else if self.ms < 0 {
            let before: i64 = earlier.iter().filter(|e| e.agent_id == self.agent_id).map(|e| e.ms).sum();
            if before + self.ms < 0 {
                errors.push(DomainError::new(
                    "seconds",
                    format!(
                        "a correction of {} s is more than the {} s logged for this agent",
                        -self.ms / 1000,
                        before / 1000
                    ),
                ));
            }
        }
        if self.note.chars().count() > 500 {
            errors.push(DomainError::new("note", "at most 500 characters"));
        }
        errors
    }

    pub fn event(&self) -> NewEvent {
        NewEvent::change(
            self.at,
            self.by,
            EventKind::TimeLogged,
            "handle_time",
            Value::Null,
            json!({ "agent_id": self.agent_id.0, "ms": self.ms, "source": self.source, "note": self.note }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuthorKind, TicketId};

    fn entry(agent: i64, ms: i64) -> TimeEntry {
        TimeEntry {
            agent_id: UserId(agent),
            ms,
            source: TimeSource::Agent,
            note: String::new(),
            at: 1_000,
            by: Actor { kind: AuthorKind::Staff, id: Some(agent) },
        }
    }

    #[test]
    fn entries_round_trip_through_their_events() {
        let e = TimeEntry { source: TimeSource::Integration, note: "call 4711".into(), ..entry(3, 420_000) };
        let n = e.event();
        let stored = TicketEvent {
            id: crate::EventId(1),
            ticket_id: TicketId(9),
            seq: 4,
            at: n.at,
            actor: n.actor,
            kind: n.kind,
            field: n.field,
            from: n.from,
            to: n.to,
        };
        assert_eq!(TimeEntry::of_events(&[stored]), vec![e]);
    }

    #[test]
    fn corrections_may_not_take_an_agents_time_below_zero() {
        let earlier = [entry(3, 600_000), entry(4, 60_000)];
        assert!(entry(3, -600_000).check(&earlier).is_empty());
        assert_eq!(entry(3, -601_000).check(&earlier).len(), 1);
        assert_eq!(entry(4, -120_000).check(&earlier)[0].field, "seconds");
        assert_eq!(entry(3, 0).check(&[])[0].message, "must not be 0");
        assert_eq!(entry(3, MAX_ENTRY_MS + 1).check(&[]).len(), 1);
        assert!(entry(3, MAX_ENTRY_MS).check(&[]).is_empty());
    }
}
