//! A simulated ticket's history told through the domain's lifecycle rules:
//! the ticket, its events and its messages, ready to import.

use std::collections::BTreeMap;

use domain::lifecycle::{self, MessageOutcome, NewTicket, TicketPatch};
use domain::{Actor, AuthorKind, Channel, Status, Ticket, TicketType, Visibility};
use store::{NewMessage, TicketCreate};

use crate::department::Department;
use crate::engine::{Script, StepKind};

const FIRST_REPLIES: [&str; 3] = [
    "Thanks for reaching out. Could you send us a few more details?",
    "Thank you, I am looking into this. Which browser and account are you using?",
    "Thanks for the report. Could you tell us when it started?",
];
const SOLVING_REPLIES: [&str; 3] = [
    "Thank you, this is fixed now. Let us know if anything else comes up.",
    "All done: the change is live on your account.",
    "We have applied a fix; it should work again now.",
];
const CUSTOMER_FOLLOW_UPS: [&str; 3] =
    ["Here are the details you asked for.", "Thanks, attached are the screenshots.", "It started yesterday morning."];
const NOTES: [&str; 2] =
    ["Checked the account; looks like a known issue.", "Asked engineering, waiting for their answer."];

/// A cheap, stable choice by ticket number, so texts vary without a generator.
fn nth<'a>(items: &'a [&'a str], n: usize, salt: usize) -> &'a str {
    items[(n.wrapping_mul(2_654_435_761).wrapping_add(salt)) % items.len()]
}

fn message(actor: Actor, visibility: Visibility, channel: Channel, text: &str, at: i64) -> NewMessage {
    NewMessage {
        visibility,
        author_kind: actor.kind,
        author_id: actor.id,
        channel,
        body_text: text.to_string(),
        body_html: format!("<p>{}</p>", text.replace('&', "&amp;").replace('<', "&lt;")),
        metadata: serde_json::json!({}),
        attachment_ids: vec![],
        created_at: at,
        email: None,
    }
}

struct Story {
    ticket: Ticket,
    create: TicketCreate,
}

impl Story {
    fn patch(&mut self, p: TicketPatch, actor: Actor, at: i64) -> Result<(), String> {
        let (t, e) = lifecycle::apply_patch(&self.ticket, &p, actor, at).map_err(|e| e.to_string())?;
        self.ticket = t;
        self.create.events.extend(e);
        Ok(())
    }

    fn status(&mut self, status: Status, actor: Actor, at: i64) -> Result<(), String> {
        self.patch(TicketPatch { status: Some(status), ..Default::default() }, actor, at)
    }

    fn say(&mut self, actor: Actor, visibility: Visibility, text: &str, at: i64) -> Result<(), String> {
        match lifecycle::add_message(&self.ticket, visibility, actor, at).map_err(|e| e.to_string())? {
            MessageOutcome::Added { ticket, events } => {
                self.ticket = ticket;
                self.create.events.extend(events);
                self.create.messages.push(message(actor, visibility, self.ticket.channel, text, at));
                Ok(())
            }
            MessageOutcome::FollowUp => Err("the simulation never writes on closed tickets".into()),
        }
    }
}

/// The ticket, events and messages of script number `n` (its arrival order).
pub fn tell(d: &Department, n: usize, script: &Script) -> Result<TicketCreate, String> {
    let a = &script.arrival;
    let team = &d.teams[a.team];
    let topic = &team.topics[a.topic];
    let subjects: Vec<&str> = topic.subjects.iter().map(String::as_str).collect();
    let subject = if subjects.is_empty() { topic.name.as_str() } else { nth(&subjects, n, 0) };
    let customer = d.customers.get(a.customer).ok_or("a simulated customer out of range")?;
    let customer_actor = Actor { kind: AuthorKind::Customer, id: Some(customer.id.0) };
    let mut custom_fields = BTreeMap::new();
    if let Some((field, options)) = &d.product
        && !options.is_empty()
    {
        custom_fields.insert(*field, serde_json::json!(options[(customer.id.0 as usize) % options.len()]));
    }
    let lower = subject.to_lowercase();
    let (ticket, events) = lifecycle::open_ticket(
        NewTicket {
            subject: subject.to_string(),
            status: None,
            priority: a.priority,
            ticket_type: if ["error", "fails", "broken", "slow"].iter().any(|w| lower.contains(w)) {
                TicketType::Incident
            } else {
                TicketType::Question
            },
            channel: a.channel,
            requester_id: customer.id,
            organization_id: customer.organization,
            assignee_id: None,
            team_id: Some(team.id),
            tags: topic.tag.iter().cloned().collect(),
            custom_fields,
            problem_id: None,
            follow_up_of: None,
        },
        customer_actor,
        a.at,
    )
    .map_err(|e| e.to_string())?;
    let first = message(customer_actor, Visibility::Public, a.channel, &format!("Hello, {lower}. Can you help?"), a.at);
    let mut story = Story {
        ticket: ticket.clone(),
        create: TicketCreate { ticket, events, messages: vec![first], new_requester: None },
    };
    let system = Actor::system();
    let staff = |agent: usize| Actor { kind: AuthorKind::Staff, id: d.agents.get(agent).map(|a| a.id.0) };
    let mut replies = 0;
    for step in &script.steps {
        match step.kind {
            StepKind::Assign { agent } => {
                let id = d.agents.get(agent).map(|a| a.id);
                story.patch(TicketPatch { assignee_id: Some(id), ..Default::default() }, system, step.at)?;
            }
            StepKind::Note { agent } => {
                story.say(staff(agent), Visibility::Internal, nth(&NOTES, n, replies), step.at)?;
            }
            StepKind::Greet { agent } => {
                story.say(staff(agent), Visibility::Public, "Hi, thanks for waiting. Let me have a look.", step.at)?;
            }
            StepKind::Reply { agent, solve } => {
                let text = if solve { nth(&SOLVING_REPLIES, n, replies) } else { nth(&FIRST_REPLIES, n, replies) };
                story.say(staff(agent), Visibility::Public, text, step.at)?;
                story.status(if solve { Status::Solved } else { Status::Pending }, staff(agent), step.at)?;
                replies += 1;
            }
            StepKind::Work { agent, ms } => {
                // Calls and chats are timed by the telephony and chat
                // integrations; written work the agent logs.
                let live = matches!(a.channel, Channel::Phone | Channel::Chat);
                let entry = domain::TimeEntry {
                    agent_id: d.agents.get(agent).map(|a| a.id).ok_or("a simulated agent out of range")?,
                    ms,
                    source: if live { domain::TimeSource::Integration } else { domain::TimeSource::Agent },
                    note: String::new(),
                    at: step.at,
                    by: if live { system } else { staff(agent) },
                };
                story.create.events.push(entry.event());
            }
            StepKind::CustomerReply => {
                let text = if story.ticket.status == Status::Solved {
                    "Sorry, it is happening again."
                } else {
                    nth(&CUSTOMER_FOLLOW_UPS, n, replies)
                };
                story.say(customer_actor, Visibility::Public, text, step.at)?;
            }
            StepKind::AutoSolve => story.status(Status::Solved, system, step.at)?,
            StepKind::Close => story.status(Status::Closed, system, step.at)?,
        }
    }
    story.create.ticket = story.ticket;
    Ok(story.create)
}
