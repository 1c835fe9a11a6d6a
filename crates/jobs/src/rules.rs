//! Applying the service rules to a ticket after a person changed it (one
//! job per ticket version). On creation: routing rules pick the team, an
//! active major incident's matching rule links the ticket, the priority
//! matrix sets the priority; then the triggers run; then the team's mode
//! picks an agent; then VIP and sensitive-topic escalations. All field
//! changes are one write by the system, whose own changes do not run the
//! rules again: that, and one firing per rule per run, keeps rules from
//! looping across jobs.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use domain::event::NewEvent;
use domain::lifecycle::{self, TicketPatch};
use domain::routing::{self, Candidate, NewTicketFacts};
use domain::rules::incident::MajorIncident;
use domain::rules::priority::PriorityInputs;
use domain::rules::{
    Effect, EscalationSource, EscalationTier, PriorityMatrix, RuleContext, RuleKind, RunOutcome, ServiceRule,
};
use domain::sentiment::{SentimentAnalyser, SentimentLabel};
use domain::{
    Actor, AuthorKind, BusinessClock, Channel, EventKind, FieldId, Job, Millis, NewJob, Status, Ticket, TicketId,
    TicketType, UserId, Visibility,
};
use serde_json::{Value, json};
use store::{NewMessage, Store, StoreError, TicketChange, TicketWrite};

use crate::notices::{self, escalate, notice};
use crate::{Handler, JobError};

pub const RULES_TICKET: &str = "rules.ticket";
pub const WEBHOOK_POST: &str = "rules.webhook";

/// The facts an event kind changes, for `changed` conditions.
fn fact_of(kind: EventKind) -> Option<&'static str> {
    Some(match kind {
        EventKind::StatusChanged => "status",
        EventKind::PriorityChanged => "priority",
        EventKind::TypeChanged => "type",
        EventKind::Assigned => "assignee_id",
        EventKind::TeamChanged => "team_id",
        EventKind::TagsChanged => "tags",
        EventKind::FieldChanged => "field.*",
        EventKind::MessageAdded => "message",
        EventKind::SubjectChanged => "subject",
        EventKind::RequesterChanged => "requester_id",
        EventKind::OrganizationChanged => "organization_id",
        _ => return None,
    })
}

/// The rules job for a change, unless the system made it (its own changes
/// do not run the rules again) or it changed no fact rules read.
pub fn run_for(change: &TicketChange, now: Millis) -> Option<NewJob> {
    if change.actor.is_none_or(|a| a.kind == AuthorKind::System) {
        return None;
    }
    let created = change.kinds.contains(&EventKind::Created);
    let changed: Vec<&str> = change.kinds.iter().filter_map(|k| fact_of(*k)).collect();
    if !created && changed.is_empty() {
        return None;
    }
    let payload = json!({ "ticket_id": change.ticket_id.0, "created": created, "changed": changed });
    Some(NewJob::new(RULES_TICKET, payload, now, now).key(format!("rules:{}:v{}", change.ticket_id, change.version)))
}

/// What the rules read besides the ticket, loaded once per run.
pub struct Loaded {
    pub triggers: Vec<ServiceRule>,
    pub routing: Vec<routing::RoutingRule>,
    pub incidents: Vec<MajorIncident>,
    pub matrix: PriorityMatrix,
    pub field_keys: HashMap<FieldId, String>,
    pub calendar: Option<BusinessClock>,
    pub time_zone: jiff::tz::TimeZone,
}

impl Loaded {
    pub async fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let settings = store.instance_settings().await?;
        let calendar = store.calendars().await?.into_iter().next().and_then(|c| BusinessClock::new(&c).ok());
        Ok(Self {
            triggers: store.service_rules(RuleKind::Trigger).await?,
            routing: store.routing_rules().await?,
            incidents: store.major_incidents(true).await?,
            matrix: store
                .setting("priority_matrix")
                .await?
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default(),
            field_keys: store.fields().await?.into_iter().map(|f| (f.id, f.key)).collect(),
            calendar,
            time_zone: jiff::tz::TimeZone::get(&settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC),
        })
    }
}

/// Local hour and weekday (`mon` …) of `now` in the zone.
pub fn local(tz: &jiff::tz::TimeZone, now: Millis) -> (i64, String) {
    match jiff::Timestamp::from_millisecond(now) {
        Ok(ts) => {
            let z = ts.to_zoned(tz.clone());
            let day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                [usize::try_from(z.weekday().to_monday_zero_offset()).unwrap_or(0)];
            (i64::from(z.hour()), day.to_string())
        }
        Err(_) => (0, "mon".into()),
    }
}

/// The rule context of a ticket at `now`.
pub async fn context(
    store: &dyn Store,
    loaded: &Loaded,
    t: &Ticket,
    message: String,
    sentiment: Option<SentimentLabel>,
    created: bool,
    now: Millis,
) -> Result<RuleContext, StoreError> {
    let (hour, weekday) = local(&loaded.time_zone, now);
    let status_since =
        if loaded.triggers.iter().any(|r| r.all.iter().chain(&r.any).any(|c| c.field == "hours_since_status")) {
            status_since(store, t).await?
        } else {
            t.updated_at
        };
    Ok(RuleContext {
        tier: crate::sla::tier_of(store, t).await?,
        message,
        sentiment,
        created,
        hour,
        weekday,
        business_hours: loaded.calendar.as_ref().is_none_or(|c| c.is_open(now)),
        status_since,
        field_keys: loaded.field_keys.clone(),
        now,
    })
}

/// When the ticket's status last changed (its creation if never).
pub async fn status_since(store: &dyn Store, t: &Ticket) -> Result<Millis, StoreError> {
    let events = store.events(t.id).await?;
    Ok(events.iter().rev().find(|e| e.kind == EventKind::StatusChanged).map_or(t.created_at, |e| e.at))
}

/// The text of the newest message (the one this change added) and, when a
/// customer wrote it, its sentiment, scored and stored here.
/// A ticket's opening message counts as the customer's words even when an
/// agent typed it (a call logged).
async fn newest_message(
    store: &dyn Store,
    id: TicketId,
    created: bool,
) -> Result<(String, Option<domain::sentiment::Sentiment>), StoreError> {
    let Some(m) = store.messages(id, true).await?.pop() else { return Ok((String::new(), None)) };
    if !created && m.author_kind != AuthorKind::Customer {
        return Ok((m.body_text, None));
    }
    let sentiment = insight::sentiment::vader().analyse(&m.body_text);
    store.save_message_sentiment(m.id, id, sentiment).await?;
    Ok((m.body_text, Some(sentiment)))
}

fn merge(into: &mut TicketPatch, p: TicketPatch) {
    macro_rules! take {
        ($($f:ident),*) => {$( if p.$f.is_some() { into.$f = p.$f; } )*};
    }
    take!(
        subject,
        status,
        priority,
        ticket_type,
        requester_id,
        organization_id,
        assignee_id,
        team_id,
        tags,
        problem_id
    );
    for (id, key, v) in p.custom_fields {
        into.custom_fields.retain(|(f, _, _)| *f != id);
        into.custom_fields.push((id, key, v));
    }
}

/// Everything one run decided, before it is written.
#[derive(Default)]
pub struct Decision {
    pub patch: TicketPatch,
    pub events: Vec<NewEvent>,
    pub effects: Vec<Effect>,
    pub round_robin: Option<(domain::TeamId, Option<UserId>, UserId)>,
    pub priority: Option<domain::rules::PriorityOutcome>,
    pub escalations: Vec<(EscalationSource, String)>,
}

/// The team's agent for a ticket, if its mode picks one now.
pub async fn pick_agent(
    store: &dyn Store,
    t: &Ticket,
    locale: Option<&str>,
    now: Millis,
) -> Result<Option<(domain::TeamId, Option<UserId>, UserId, bool)>, StoreError> {
    let Some(team_id) = t.team_id else { return Ok(None) };
    let Some(team) = store.team(team_id).await? else { return Ok(None) };
    let (settings, last) = store.team_routing(team_id).await?;
    if settings.mode == routing::AssignMode::Manual || team.member_ids.is_empty() {
        return Ok(None);
    }
    let statuses: HashMap<UserId, domain::AgentStatus> =
        store.agent_statuses().await?.into_iter().map(|(u, s, _)| (u, s)).collect();
    let profiles: HashMap<UserId, routing::AgentProfile> =
        store.agent_profiles(&team.member_ids).await?.into_iter().collect();
    let mut loads: HashMap<UserId, HashMap<Channel, i64>> = HashMap::new();
    for (u, ch, n) in store.agent_loads(&team.member_ids).await? {
        loads.entry(u).or_default().insert(ch, n);
    }
    let candidates: Vec<Candidate> = team
        .member_ids
        .iter()
        .map(|u| Candidate {
            user: *u,
            status: statuses.get(u).copied().unwrap_or(domain::AgentStatus::Offline),
            profile: profiles.get(u).cloned().unwrap_or_default(),
            load: loads.remove(u).unwrap_or_default(),
        })
        .collect();
    let known: BTreeSet<&String> = candidates.iter().flat_map(|c| &c.profile.skills).collect();
    let needs = routing::Needs {
        channel: Some(t.channel),
        skills: t.tags.iter().filter(|tag| known.contains(tag)).cloned().collect(),
        language: locale.map(|l| l.split(['-', '_']).next().unwrap_or(l).to_ascii_lowercase()),
    };
    let rr = settings.mode == routing::AssignMode::RoundRobin;
    Ok(routing::choose_agent(settings.mode, &settings, &candidates, &needs, last, now).map(|u| (team_id, last, u, rr)))
}

/// Decides what the rules do to a ticket (nothing written).
pub async fn decide(
    store: &dyn Store,
    loaded: &Loaded,
    current: &Ticket,
    created: bool,
    changed: &BTreeSet<String>,
    now: Millis,
) -> Result<Decision, StoreError> {
    let mut d = Decision::default();
    let (message, sentiment) = if created || changed.contains("message") {
        newest_message(store, current.id, created).await?
    } else {
        (String::new(), None)
    };
    let ctx = context(store, loaded, current, message, sentiment.map(|s| s.label), created, now).await?;
    let mut ticket = current.clone();
    let mut changed = changed.clone();
    let customer = store.customer(current.requester_id).await?;

    if created {
        if ticket.team_id.is_none() {
            let words = domain::search::tokens(&format!("{} {}", ticket.subject, ctx.message));
            let mailbox = store.ticket_mailbox(ticket.id).await?;
            let facts = NewTicketFacts {
                ticket: &ticket,
                words: &words,
                mailbox,
                tier: ctx.tier,
                field_keys: &loaded.field_keys,
            };
            if let Some(team) = routing::route(&loaded.routing, &facts) {
                ticket.team_id = Some(team);
                d.patch.team_id = Some(Some(team));
                changed.insert("team_id".into());
            }
        }
        if ticket.problem_id.is_none()
            && ticket.ticket_type != TicketType::Problem
            && let Some(mi) = loaded.incidents.iter().find(|m| {
                m.problem_id != ticket.id && !m.matching.is_empty() && m.matching.matches(&ticket, &ctx.message)
            })
        {
            ticket.problem_id = Some(mi.problem_id);
            ticket.ticket_type = TicketType::Incident;
            d.patch.problem_id = Some(Some(mi.problem_id));
            d.patch.ticket_type = Some(TicketType::Incident);
        }
        if loaded.matrix.enabled {
            let affected = match ticket.problem_id {
                Some(p) => loaded.incidents.iter().find(|m| m.problem_id == p).map_or(0, |m| m.linked + 1),
                None => 0,
            };
            let text = format!("{} {}", ticket.subject, ctx.message);
            let outcome = loaded.matrix.assess(&PriorityInputs {
                text: &text,
                tier: Some(ctx.tier),
                annual_value_cents: customer.as_ref().and_then(|c| c.annual_value_cents),
                sla_due_in: None,
                affected,
            });
            if outcome.priority != ticket.priority {
                ticket.priority = outcome.priority;
                d.patch.priority = Some(outcome.priority);
                changed.insert("priority".into());
            }
            d.events.push(NewEvent::change(
                now,
                Actor::system(),
                EventKind::PriorityAssessed,
                "priority",
                Value::Null,
                json!({ "priority": outcome.priority, "urgency": outcome.urgency, "impact": outcome.impact,
                        "score": outcome.score, "reasons": outcome.reasons }),
            ));
            d.priority = Some(outcome);
        }
    }

    let run: RunOutcome =
        domain::rules::run_rules(&loaded.triggers, RuleKind::Trigger, &ticket, &changed, &ctx, &key_ids(loaded));
    if !run.fired.is_empty() {
        let names: Vec<&str> = run
            .fired
            .iter()
            .filter_map(|id| loaded.triggers.iter().find(|r| r.id == *id).map(|r| r.name.as_str()))
            .collect();
        d.events.push(NewEvent::change(
            now,
            Actor::system(),
            EventKind::RulesFired,
            "triggers",
            Value::Null,
            json!({ "ids": run.fired, "names": names.join(", ") }),
        ));
    }
    if let Some(stop) = &run.stopped {
        let names: Vec<&str> = stop
            .rules
            .iter()
            .filter_map(|id| loaded.triggers.iter().find(|r| r.id == *id).map(|r| r.name.as_str()))
            .collect();
        tracing::warn!(ticket = %current.id, fact = %stop.fact, rules = ?stop.rules, "trigger loop stopped");
        d.events.push(NewEvent::change(
            now,
            Actor::system(),
            EventKind::RuleLoopStopped,
            "triggers",
            Value::Null,
            json!({ "fact": stop.fact, "ids": stop.rules, "names": names.join(" and ") }),
        ));
    }
    if let Ok((next, _)) = lifecycle::apply_patch(&ticket, &run.patch, Actor::system(), now) {
        ticket = next;
    }
    merge(&mut d.patch, run.patch);
    d.effects = run.effects;

    // Assignment: a new ticket, or one a trigger moved to a team, unassigned.
    let team_moved = d.patch.team_id.is_some();
    if (created || team_moved) && ticket.assignee_id.is_none() && ticket.status.is_unsolved() {
        let locale = customer.as_ref().and_then(|c| c.locale.clone());
        if let Some((team, last, agent, rr)) = pick_agent(store, &ticket, locale.as_deref(), now).await? {
            d.patch.assignee_id = Some(Some(agent));
            if rr {
                d.round_robin = Some((team, last, agent));
            }
        }
    }

    let rules = notices::escalation_rules(store).await?;
    if created && rules.vip_tiers.contains(&ctx.tier) {
        d.escalations.push((EscalationSource::Vip, format!("{} customer", ctx.tier)));
    }
    if created || changed.contains("message") {
        let text = format!("{} {}", if created { current.subject.as_str() } else { "" }, ctx.message);
        if let Some(word) = rules.sensitive_in(&text) {
            d.escalations.push((EscalationSource::SensitiveTopic, format!("sensitive topic: \"{word}\"")));
        }
        if let (Some(s), Some(at)) = (sentiment, rules.negative_sentiment_at)
            && s.score <= at
        {
            d.escalations.push((EscalationSource::NegativeSentiment, format!("negative sentiment ({:.2})", s.score)));
        }
    }
    Ok(d)
}

fn key_ids(loaded: &Loaded) -> HashMap<String, FieldId> {
    loaded.field_keys.iter().map(|(id, k)| (k.clone(), *id)).collect()
}

/// Runs the rules on a ticket and writes what they decided (retrying a
/// lost race a few times); the events written.
pub async fn apply(
    store: &dyn Store,
    loaded: &Loaded,
    id: TicketId,
    created: bool,
    changed: &BTreeSet<String>,
    now: Millis,
) -> Result<(), StoreError> {
    for _ in 0..5 {
        let Some(current) = store.ticket(id).await? else { return Ok(()) };
        if current.status == Status::Closed {
            return Ok(());
        }
        let d = decide(store, loaded, &current, created, changed, now).await?;
        // Saved before the events so whoever sees `rules_fired` can read why.
        if let Some(p) = &d.priority {
            store.save_ticket_priority(current.id, p, now).await?;
        }
        let (mut next, mut events) = match lifecycle::apply_patch(&current, &d.patch, Actor::system(), now) {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(ticket = %id, error = %e, "the rules' changes were refused");
                (current.clone(), vec![])
            }
        };
        events.extend(d.events.iter().cloned());
        let messages = messages_of(store, &current, &d.effects, now).await?;
        if events.is_empty() && messages.is_empty() {
            return after_write(store, &current, &d, now).await;
        }
        next.version = current.version + 1;
        next.updated_at = now;
        match store
            .write_ticket(TicketWrite { ticket: next.clone(), expected_version: current.version, events, messages })
            .await
        {
            Ok(()) => return after_write(store, &next, &d, now).await,
            Err(StoreError::VersionConflict) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::VersionConflict)
}

/// Notes and emails the fired rules add, with placeholders filled.
pub(crate) async fn messages_of(
    store: &dyn Store,
    t: &Ticket,
    effects: &[Effect],
    now: Millis,
) -> Result<Vec<NewMessage>, StoreError> {
    let mut out = Vec::new();
    for e in effects {
        let (body, public) = match e {
            Effect::Note { body, .. } => (body, false),
            Effect::EmailRequester { body, .. } => (body, true),
            _ => continue,
        };
        let customer = store.customer(t.requester_id).await?;
        let ctx = domain::macros::MacroContext {
            ticket_number: t.id.0,
            ticket_subject: &t.subject,
            customer_name: customer.as_ref().map(|c| c.name.as_str()).unwrap_or_default(),
            customer_email: customer.as_ref().map(|c| c.email.as_str()).unwrap_or_default(),
            agent_name: "",
            agent_email: "",
        };
        let text = domain::macros::render_macro(body, &ctx).unwrap_or_else(|_| body.clone());
        let email =
            if public && t.channel != Channel::Chat { mail::outbound::reply_identity(store, t).await? } else { None };
        out.push(NewMessage {
            visibility: if public { Visibility::Public } else { Visibility::Internal },
            author_kind: AuthorKind::System,
            author_id: None,
            channel: t.channel,
            body_html: String::new(),
            body_text: text,
            metadata: json!({ "rule": true }),
            attachment_ids: vec![],
            created_at: now,
            email,
        });
    }
    Ok(out)
}

/// What follows a written run: round robin moves on, notices, webhooks and
/// escalations (the priority assessment is saved before the write).
pub(crate) async fn after_write(store: &dyn Store, t: &Ticket, d: &Decision, now: Millis) -> Result<(), StoreError> {
    if let Some((team, last, agent)) = d.round_robin {
        // Lost to another node: its ticket took this turn; ours keeps the agent.
        let _ = store.advance_round_robin(team, last, agent).await?;
    }
    let mut notes = Vec::new();
    for e in &d.effects {
        match e {
            Effect::Notify { to, text, .. } => {
                for user in recipients(store, t, to).await? {
                    notes.push(notice(user, "trigger", format!("#{} {}: {text}", t.id, t.subject), t, now));
                }
            }
            Effect::Webhook { rule, url } => {
                let payload = json!({ "event": "trigger", "rule_id": rule, "ticket": t });
                let job = NewJob::new(WEBHOOK_POST, json!({ "url": url, "body": payload }), now, now)
                    .key(format!("webhook:{rule}:{}:v{}", t.id, t.version));
                store.enqueue_job(job).await?;
            }
            Effect::Escalate { reason, .. } => {
                escalate(store, t, EscalationTier::Manager, EscalationSource::Trigger, reason, None, now).await?;
            }
            Effect::Note { .. } | Effect::EmailRequester { .. } => {}
        }
    }
    store.notify(notes).await?;
    for (source, reason) in &d.escalations {
        escalate(store, t, EscalationTier::Manager, *source, reason, None, now).await?;
    }
    Ok(())
}

async fn recipients(store: &dyn Store, t: &Ticket, to: &Value) -> Result<Vec<UserId>, StoreError> {
    Ok(match to {
        Value::String(s) if s == "assignee" => t.assignee_id.into_iter().collect(),
        Value::String(s) if s == "team" => match t.team_id {
            Some(team) => store.team(team).await?.map(|t| t.member_ids).unwrap_or_default(),
            None => vec![],
        },
        Value::String(s) if s == "manager" => notices::managers_of(store, t).await?,
        Value::Array(ids) => ids.iter().filter_map(Value::as_i64).map(UserId).collect(),
        Value::Number(n) => n.as_i64().map(UserId).into_iter().collect(),
        _ => vec![],
    })
}

/// `rules.ticket`: runs the rules on the ticket in the payload.
pub struct RulesTicket {
    pub store: Arc<dyn Store>,
}

#[async_trait]
impl Handler for RulesTicket {
    async fn run(&self, job: &Job, now: Millis) -> Result<(), JobError> {
        let id = job.payload.get("ticket_id").and_then(Value::as_i64).ok_or(JobError::Fail("no ticket_id".into()))?;
        let created = job.payload.get("created").and_then(Value::as_bool).unwrap_or(false);
        let changed: BTreeSet<String> = job
            .payload
            .get("changed")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
            .unwrap_or_default();
        let loaded = Loaded::load(self.store.as_ref()).await?;
        apply(self.store.as_ref(), &loaded, TicketId(id), created, &changed, now).await?;
        Ok(())
    }
}
