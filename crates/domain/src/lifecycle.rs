//! How a ticket moves through its life: field changes, messages, merges and
//! follow-ups. Each function takes the current state and the time, returns
//! the new state and the events that record the change, and does no I/O.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::event::NewEvent;
use crate::{
    Actor, AuthorKind, Channel, CustomerId, DomainError, EventKind, FieldId, Millis, OrganizationId, Priority, Status,
    TeamId, Ticket, TicketId, TicketType, UserId, Visibility,
};

impl Status {
    /// Whether a ticket in this status may be set to `to`. Closed is final;
    /// only a solved ticket closes; nothing returns to `new`.
    pub fn can_move_to(self, to: Status) -> bool {
        if self == to {
            return true;
        }
        match (self, to) {
            (Status::Closed, _) => false,
            (_, Status::New) => false,
            (from, Status::Closed) => from == Status::Solved,
            _ => true,
        }
    }
}

/// What a new ticket starts with (already parsed at the edge).
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub subject: String,
    pub status: Option<Status>,
    pub priority: Priority,
    pub ticket_type: TicketType,
    pub channel: Channel,
    pub requester_id: CustomerId,
    pub organization_id: Option<OrganizationId>,
    pub assignee_id: Option<UserId>,
    pub team_id: Option<TeamId>,
    pub tags: Vec<String>,
    pub custom_fields: BTreeMap<FieldId, Value>,
    pub problem_id: Option<TicketId>,
    pub follow_up_of: Option<TicketId>,
}

/// Builds a ticket (id 0 until storage numbers it) and its `created` event.
/// A ticket created already assigned starts `open`, otherwise `new`.
pub fn open_ticket(input: NewTicket, actor: Actor, now: Millis) -> Result<(Ticket, Vec<NewEvent>), DomainError> {
    let status = match input.status {
        Some(Status::Closed) => {
            return Err(DomainError::new("status", "a new ticket cannot be closed"));
        }
        Some(s) => s,
        None if input.assignee_id.is_some() => Status::Open,
        None => Status::New,
    };
    let ticket = Ticket {
        id: TicketId(0),
        subject: input.subject,
        status,
        priority: input.priority,
        ticket_type: input.ticket_type,
        channel: input.channel,
        requester_id: input.requester_id,
        organization_id: input.organization_id,
        assignee_id: input.assignee_id,
        team_id: input.team_id,
        tags: input.tags,
        custom_fields: input.custom_fields,
        problem_id: input.problem_id,
        merged_into: None,
        follow_up_of: input.follow_up_of,
        created_at: now,
        updated_at: now,
        solved_at: (status == Status::Solved).then_some(now),
        version: 1,
    };
    let mut created = NewEvent::new(now, actor, EventKind::Created);
    created.to = json!({
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "type": ticket.ticket_type,
        "channel": ticket.channel,
        "requester_id": ticket.requester_id,
        "organization_id": ticket.organization_id,
        "assignee_id": ticket.assignee_id,
        "team_id": ticket.team_id,
        "tags": ticket.tags,
        "custom_fields": ticket.custom_fields,
    });
    let mut events = vec![created];
    if let Some(original) = ticket.follow_up_of {
        events.push(NewEvent::change(now, actor, EventKind::FollowUpOf, "follow_up_of", Value::Null, json!(original)));
    }
    if let Some(problem) = ticket.problem_id {
        events.push(NewEvent::change(
            now,
            actor,
            EventKind::LinkedToProblem,
            "problem_id",
            Value::Null,
            json!(problem),
        ));
    }
    Ok((ticket, events))
}

/// A change of fields. `None` leaves a field as it is; for optional fields
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketPatch {
    pub subject: Option<String>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub ticket_type: Option<TicketType>,
    pub requester_id: Option<CustomerId>,
    pub organization_id: Option<Option<OrganizationId>>,
    pub assignee_id: Option<Option<UserId>>,
    pub team_id: Option<Option<TeamId>>,
    /// Replaces the whole tag list.
    pub tags: Option<Vec<String>>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    /// Validated values by field, keyed also by the field's key for events.
    pub custom_fields: Vec<(FieldId, String, Value)>,
    pub problem_id: Option<Option<TicketId>>,
}

fn closed_is_final() -> DomainError {
    DomainError::new("status", "the ticket is closed, and closed is final; a new message opens a follow-up ticket")
}

/// Applies a patch. Returns the new state (version + 1) and one event per
/// field that really changed; an empty event list means nothing changed.
pub fn apply_patch(
    current: &Ticket,
    patch: &TicketPatch,
    actor: Actor,
    now: Millis,
) -> Result<(Ticket, Vec<NewEvent>), DomainError> {
    if current.status == Status::Closed {
        return Err(closed_is_final());
    }
    let mut next = current.clone();
    let mut events = Vec::new();
    let mut record = |kind: EventKind, field: &str, from: Value, to: Value| {
        if from != to {
            events.push(NewEvent::change(now, actor, kind, field, from, to));
        }
    };

    if let Some(subject) = &patch.subject {
        record(EventKind::SubjectChanged, "subject", json!(next.subject), json!(subject));
        next.subject = subject.clone();
    }
    if let Some(to) = patch.status {
        if !next.status.can_move_to(to) {
            return Err(DomainError::new("status", format!("a ticket cannot go from {} to {to}", next.status)));
        }
        record(EventKind::StatusChanged, "status", json!(next.status), json!(to));
        if to == Status::Solved && next.status != Status::Solved {
            next.solved_at = Some(now);
        }
        if to.is_unsolved() {
            next.solved_at = None;
        }
        next.status = to;
    }
    if let Some(p) = patch.priority {
        record(EventKind::PriorityChanged, "priority", json!(next.priority), json!(p));
        next.priority = p;
    }
    if let Some(t) = patch.ticket_type {
        if t != TicketType::Incident && next.problem_id.is_some() && patch.problem_id.is_none() {
            return Err(DomainError::new(
                "type",
                "an incident linked to a problem must stay an incident; unlink it first",
            ));
        }
        record(EventKind::TypeChanged, "type", json!(next.ticket_type), json!(t));
        next.ticket_type = t;
    }
    if let Some(r) = patch.requester_id {
        record(EventKind::RequesterChanged, "requester_id", json!(next.requester_id), json!(r));
        next.requester_id = r;
    }
    if let Some(o) = patch.organization_id {
        record(EventKind::OrganizationChanged, "organization_id", json!(next.organization_id), json!(o));
        next.organization_id = o;
    }
    if let Some(a) = patch.assignee_id {
        record(EventKind::Assigned, "assignee_id", json!(next.assignee_id), json!(a));
        next.assignee_id = a;
        // Assigning a new ticket is taking it on.
        if a.is_some() && next.status == Status::New && patch.status.is_none() {
            record(EventKind::StatusChanged, "status", json!(Status::New), json!(Status::Open));
            next.status = Status::Open;
        }
    }
    if let Some(t) = patch.team_id {
        record(EventKind::TeamChanged, "team_id", json!(next.team_id), json!(t));
        next.team_id = t;
    }
    if patch.tags.is_some() || !patch.add_tags.is_empty() || !patch.remove_tags.is_empty() {
        let mut tags = patch.tags.clone().unwrap_or_else(|| next.tags.clone());
        tags.extend(patch.add_tags.iter().cloned());
        tags.retain(|t| !patch.remove_tags.contains(t));
        let tags = crate::ticket::parse_tags(&tags)?;
        record(EventKind::TagsChanged, "tags", json!(next.tags), json!(tags));
        next.tags = tags;
    }
    for (id, key, value) in &patch.custom_fields {
        let before = next.custom_fields.get(id).cloned().unwrap_or(Value::Null);
        record(EventKind::FieldChanged, key, before, value.clone());
        if value.is_null() {
            next.custom_fields.remove(id);
        } else {
            next.custom_fields.insert(*id, value.clone());
        }
    }
    if let Some(p) = patch.problem_id {
        if let Some(problem) = p {
            if problem == next.id {
                return Err(DomainError::new("problem_id", "a ticket cannot be its own problem"));
            }
            if next.ticket_type != TicketType::Incident {
                return Err(DomainError::new("problem_id", "only an incident can be linked to a problem"));
            }
        }
        record(EventKind::LinkedToProblem, "problem_id", json!(next.problem_id), json!(p));
        next.problem_id = p;
    }

    if !events.is_empty() {
        next.updated_at = now;
        next.version += 1;
    }
    Ok((next, events))
}

/// A ticket's new state and the events that record how it got there.
pub type Changed = (Ticket, Vec<NewEvent>);

/// Checks that `problem` can take incidents.
pub fn check_problem(problem: &Ticket) -> Result<(), DomainError> {
    if problem.ticket_type != TicketType::Problem {
        return Err(DomainError::new("problem_id", format!("#{} is not a problem ticket", problem.id)));
    }
    if problem.status == Status::Closed {
        return Err(DomainError::new("problem_id", format!("#{} is closed", problem.id)));
    }
    Ok(())
}

/// What a new message does to its ticket. Returned once per request and
/// matched at once, so the size difference of the variants does not matter.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum MessageOutcome {
    /// The message belongs on this ticket, which becomes `ticket`.
    Added { ticket: Ticket, events: Vec<NewEvent> },
    /// The ticket is closed: a customer's message opens a follow-up.
    FollowUp,
}

/// Adds a message: a customer's reply reopens a pending or solved ticket, a
/// staff reply takes a new ticket to open, a note changes no status.
pub fn add_message(
    current: &Ticket,
    visibility: Visibility,
    actor: Actor,
    now: Millis,
) -> Result<MessageOutcome, DomainError> {
    if current.status == Status::Closed {
        return match actor.kind {
            AuthorKind::Customer => Ok(MessageOutcome::FollowUp),
            _ => Err(closed_is_final()),
        };
    }
    let mut next = current.clone();
    // Storage records the `message_added` event with the message's id.
    let mut events = Vec::new();
    let reopen_to = match (actor.kind, visibility, current.status) {
        (AuthorKind::Customer, _, Status::Pending | Status::Solved) => Some(Status::Open),
        (AuthorKind::Staff, Visibility::Public, Status::New) => Some(Status::Open),
        _ => None,
    };
    if let Some(to) = reopen_to {
        events.push(NewEvent::change(now, actor, EventKind::StatusChanged, "status", json!(current.status), json!(to)));
        next.status = to;
        next.solved_at = None;
    }
    next.updated_at = now;
    next.version += 1;
    Ok(MessageOutcome::Added { ticket: next, events })
}

/// Merges `source` into `target`: the source is closed with a pointer, the
/// target records where its new messages came from. Storage moves the messages.
pub fn merge(source: &Ticket, target: &Ticket, actor: Actor, now: Millis) -> Result<(Changed, Changed), DomainError> {
    if source.id == target.id {
        return Err(DomainError::new("target_id", "a ticket cannot be merged into itself"));
    }
    if source.status == Status::Closed {
        return Err(DomainError::new("source", format!("#{} is closed and cannot be merged", source.id)));
    }
    if target.status == Status::Closed {
        return Err(DomainError::new("target_id", format!("#{} is closed and cannot take a merge", target.id)));
    }
    let mut s = source.clone();
    s.merged_into = Some(target.id);
    s.status = Status::Closed;
    s.updated_at = now;
    s.version += 1;
    let source_events = vec![
        NewEvent::change(now, actor, EventKind::Merged, "merged_into", Value::Null, json!(target.id)),
        NewEvent::change(now, actor, EventKind::StatusChanged, "status", json!(source.status), json!(Status::Closed)),
    ];
    let mut t = target.clone();
    t.updated_at = now;
    t.version += 1;
    let target_events =
        vec![NewEvent::change(now, actor, EventKind::MergedFrom, "merged_from", Value::Null, json!(source.id))];
    Ok(((s, source_events), (t, target_events)))
}

/// The follow-up of a closed ticket: same requester, organization, team and
/// assignee, linked back to it.
pub fn follow_up_of(closed: &Ticket, channel: Channel) -> NewTicket {
    NewTicket {
        subject: closed.subject.clone(),
        status: None,
        priority: closed.priority,
        ticket_type: closed.ticket_type,
        channel,
        requester_id: closed.requester_id,
        organization_id: closed.organization_id,
        assignee_id: None,
        team_id: closed.team_id,
        tags: closed.tags.clone(),
        custom_fields: BTreeMap::new(),
        problem_id: None,
        follow_up_of: Some(closed.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff() -> Actor {
        Actor { kind: AuthorKind::Staff, id: Some(7) }
    }
    fn customer() -> Actor {
        Actor { kind: AuthorKind::Customer, id: Some(3) }
    }

    fn ticket(status: Status) -> Ticket {
        let (mut t, _) = open_ticket(
            NewTicket {
                subject: "Refund".into(),
                status: Some(status),
                priority: Priority::Normal,
                ticket_type: TicketType::Question,
                channel: Channel::Email,
                requester_id: CustomerId(3),
                organization_id: None,
                assignee_id: None,
                team_id: None,
                tags: vec![],
                custom_fields: BTreeMap::new(),
                problem_id: None,
                follow_up_of: None,
            },
            staff(),
            1_000,
        )
        .unwrap();
        t.id = TicketId(42);
        t
    }

    #[test]
    fn transitions() {
        use Status::*;
        assert!(New.can_move_to(Open));
        assert!(Open.can_move_to(Pending));
        assert!(Solved.can_move_to(Closed));
        assert!(!Open.can_move_to(Closed));
        assert!(!Open.can_move_to(New));
        for to in Status::ALL {
            assert_eq!(Closed.can_move_to(*to), *to == Closed);
        }
    }

    #[test]
    fn patch_records_before_and_after_once() {
        let t = ticket(Status::Open);
        let patch =
            TicketPatch { priority: Some(Priority::Urgent), status: Some(Status::Solved), ..Default::default() };
        let (next, events) = apply_patch(&t, &patch, staff(), 5_000).unwrap();
        assert_eq!(next.version, t.version + 1);
        assert_eq!(next.solved_at, Some(5_000));
        assert_eq!(events.len(), 2);
        let status = events.iter().find(|e| e.kind == EventKind::StatusChanged).unwrap();
        assert_eq!((status.from.clone(), status.to.clone()), (json!("open"), json!("solved")));
        // Setting the same values again changes nothing and bumps no version.
        let (again, none) = apply_patch(&next, &patch, staff(), 6_000).unwrap();
        assert!(none.is_empty());
        assert_eq!(again.version, next.version);
    }

    #[test]
    fn closed_is_final_and_customer_mail_follows_up() {
        let t = ticket(Status::Solved);
        let (closed, _) =
            apply_patch(&t, &TicketPatch { status: Some(Status::Closed), ..Default::default() }, staff(), 2).unwrap();
        assert!(
            apply_patch(&closed, &TicketPatch { priority: Some(Priority::High), ..Default::default() }, staff(), 3)
                .is_err()
        );
        assert_eq!(add_message(&closed, Visibility::Public, customer(), 4).unwrap(), MessageOutcome::FollowUp);
        assert!(add_message(&closed, Visibility::Public, staff(), 4).is_err());
        let f = follow_up_of(&closed, Channel::Email);
        assert_eq!(f.follow_up_of, Some(closed.id));
        assert_eq!(f.requester_id, closed.requester_id);
    }

    #[test]
    fn customer_reply_reopens_pending_and_solved_only() {
        for (from, reopened) in
            [(Status::Pending, true), (Status::Solved, true), (Status::OnHold, false), (Status::Open, false)]
        {
            let t = ticket(from);
            let MessageOutcome::Added { ticket, events } = add_message(&t, Visibility::Public, customer(), 9).unwrap()
            else {
                unreachable!()
            };
            assert_eq!(ticket.status == Status::Open && from != Status::Open, reopened, "{from}");
            assert_eq!(events.len(), usize::from(reopened));
        }
    }

    #[test]
    fn merge_closes_source_with_pointer() {
        let a = ticket(Status::Open);
        let mut b = ticket(Status::Pending);
        b.id = TicketId(43);
        let ((s, se), (t, te)) = merge(&a, &b, staff(), 10).unwrap();
        assert_eq!(s.status, Status::Closed);
        assert_eq!(s.merged_into, Some(b.id));
        assert_eq!(se[0].kind, EventKind::Merged);
        assert_eq!(te[0].to, json!(42));
        assert_eq!(t.version, b.version + 1);
        assert!(merge(&a, &a, staff(), 10).is_err());
    }

    #[test]
    fn problem_links_only_from_incidents() {
        let t = ticket(Status::Open);
        let link = TicketPatch { problem_id: Some(Some(TicketId(9))), ..Default::default() };
        assert!(apply_patch(&t, &link, staff(), 1).is_err());
        let mut incident = t.clone();
        incident.ticket_type = TicketType::Incident;
        let (linked, ev) = apply_patch(&incident, &link, staff(), 1).unwrap();
        assert_eq!(linked.problem_id, Some(TicketId(9)));
        assert_eq!(ev[0].kind, EventKind::LinkedToProblem);
    }
}
