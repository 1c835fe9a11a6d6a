//! The demo department's voice of the customer: CSAT answers on solved
//! tickets that depend on how long the customer waited (and sour on the
//! planted export problem), CES beside some of them, NPS from a sample of
//! customers, named topics, and the agents' pulse survey.

use domain::event::{Actor, EventKind, NewEvent};
use domain::survey::pulse::{Pulse, PulseAnswer};
use domain::survey::{CsatScale, Feedback, Rating, SurveyInvitation, SurveyKind};
use domain::{
    Channel, CustomerId, FeedbackId, Millis, PulseId, Status, SurveyInvitationId, TeamId, TicketId, Tier, UserId,
};
use insight::topics::TopicDef;
use store::Store;

use simulation::random::Draw as Rng64;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// What a survey is about: a stored ticket as it ended, when the survey
/// went out, and the simulated customer's answer, if any.
pub struct Solved {
    pub id: TicketId,
    pub status: Status,
    pub customer: CustomerId,
    pub agent: Option<UserId>,
    pub team: Option<TeamId>,
    pub channel: Channel,
    /// About the planted export trouble.
    pub export: bool,
    pub survey_sent_at: Millis,
    pub answer: Option<simulation::Answer>,
}

const GOOD: [&str; 8] = [
    "Quick and friendly, thank you!",
    "Solved in minutes, great service.",
    "Very helpful, thanks a lot.",
    "Patient and clear explanation, much appreciated.",
    "Great support as always.",
    "Fast answer and it works now.",
    "",
    "",
];
const BAD: [&str; 6] = [
    "Took days to get an answer.",
    "Nobody understood my problem.",
    "I had to explain everything twice.",
    "Still broken, very disappointed.",
    "The answer did not help at all.",
    "",
];
const EXPORT_BAD: [&str; 4] = [
    "The CSV export is still broken and it is costing us hours every week.",
    "Export fails again. This is really frustrating.",
    "We cannot get our data out, terrible.",
    "Still no working export, awful experience.",
];
const NPS_COMMENTS: [&str; 5] = [
    "Love the product, support could be faster.",
    "Reliable and easy to use.",
    "Too many bugs lately.",
    "Great team, great tool.",
    "",
];

/// Answers, NPS, topics and a pulse; how many survey answers were stored.
pub async fn seed_voice(
    store: &dyn Store,
    rng: &mut Rng64,
    now: Millis,
    solved: &[Solved],
    customers: &[CustomerId],
    agents: &[UserId],
    tiers: &std::collections::HashMap<CustomerId, Tier>,
) -> Result<usize, String> {
    let err = |e: store::StoreError| e.to_string();
    let settings = serde_json::json!({ "ces_enabled": true, "nps_enabled": true, "csat_delay_minutes": 60 });
    store.set_setting(jobs::survey::SETTINGS_KEY, &settings).await.map_err(err)?;
    let topics = [
        ("Export", &["export", "csv"][..], Some("export")),
        ("Invoices and charges", &["invoice", "charged", "refund", "vat"][..], None),
        ("Sign-in", &["password", "login", "two-factor"][..], None),
        ("Performance", &["slow", "error 500", "429"][..], None),
    ]
    .map(|(name, terms, tag)| TopicDef {
        name: name.into(),
        terms: terms.iter().map(|t| t.to_string()).collect(),
        tag: tag.map(String::from),
    });
    let v = serde_json::to_value(&topics).map_err(|e| e.to_string())?;
    store.set_setting(jobs::insights::TOPICS_KEY, &v).await.map_err(err)?;

    let mut answers = 0;
    let mut batch = Vec::with_capacity(solved.len());
    for t in solved {
        let Some(a) = t.answer else {
            // Most customers never answer: the survey stays sent.
            let inv = invitation(SurveyKind::Csat, Some(t.id), t.customer, t.channel, t.survey_sent_at);
            batch.push(store::ImportedAnswer {
                invitation: inv,
                sent_event: Some(sent_event(t.survey_sent_at, SurveyKind::Csat)),
                feedback: None,
                answer_event: None,
            });
            continue;
        };
        let comment = if a.good {
            *rng.pick(&GOOD)
        } else if t.export {
            *rng.pick(&EXPORT_BAD)
        } else {
            *rng.pick(&BAD)
        };
        let tier = tiers.get(&t.customer).copied().unwrap_or(Tier::Standard);
        let inv = invitation(SurveyKind::Csat, Some(t.id), t.customer, t.channel, a.sent_at);
        batch.push(store::ImportedAnswer {
            feedback: Some(feedback(inv.clone(), i64::from(a.good), comment, a.reason, t, tier, a.answered_at)),
            invitation: inv,
            sent_event: Some(sent_event(a.sent_at, SurveyKind::Csat)),
            answer_event: Some(answer_event(a.answered_at, t.customer)),
        });
        if let Some(score) = a.ces.filter(|_| t.status == Status::Closed) {
            let ces = invitation(SurveyKind::Ces, Some(t.id), t.customer, t.channel, a.answered_at);
            batch.push(store::ImportedAnswer {
                feedback: Some(feedback(ces.clone(), score, "", None, t, tier, a.answered_at)),
                invitation: ces,
                sent_event: None,
                answer_event: None,
            });
        }
    }
    // NPS: a sample of customers over the last two months.
    for c in customers {
        if !rng.chance(0.4) {
            continue;
        }
        let sent = now - rng.between(1, 60) * DAY;
        let inv = invitation(SurveyKind::Nps, None, *c, Channel::Email, sent);
        let answered_at = sent + rng.between(1, 48) * HOUR;
        if !rng.chance(0.55) || answered_at >= now {
            let unanswered =
                store::ImportedAnswer { invitation: inv, sent_event: None, feedback: None, answer_event: None };
            batch.push(unanswered);
            continue;
        }
        let score = *rng.pick(&[10, 10, 9, 9, 9, 8, 8, 7, 7, 6, 5, 3, 10, 9]);
        let f = Feedback {
            id: FeedbackId(0),
            invitation_id: inv.id,
            kind: SurveyKind::Nps,
            scale: CsatScale::GoodBad,
            score,
            rating: SurveyKind::Nps.rating(CsatScale::GoodBad, score),
            reason: None,
            comment: Some(rng.pick(&NPS_COMMENTS).to_string()).filter(|c| !c.is_empty()),
            sentiment: None,
            ticket_id: None,
            customer_id: *c,
            agent_id: None,
            team_id: None,
            channel: Some(Channel::Email),
            tier: tiers.get(c).copied().unwrap_or(Tier::Standard),
            answered_at,
            updated_at: answered_at,
            reviewed_at: None,
            reviewed_by: None,
            review_note: None,
        };
        batch.push(store::ImportedAnswer {
            feedback: Some(with_sentiment(f)),
            invitation: inv,
            sent_event: None,
            answer_event: None,
        });
    }
    // Stored in the order they were given, as a live department stores
    // them: the newest answers are the last (the feedback feed and the
    // cockpit's latest answers list by arrival).
    batch.sort_by_key(|a| a.feedback.as_ref().map_or(a.invitation.sent_at, |f| f.answered_at));
    while !batch.is_empty() {
        let rest = batch.split_off(batch.len().min(1_000));
        answers += store.import_answers(std::mem::replace(&mut batch, rest)).await.map_err(err)?;
    }
    // The agents' pulse, open for another week.
    if let Some(by) = agents.first() {
        let pulse = Pulse {
            id: PulseId(0),
            name: "Team pulse".into(),
            questions: vec!["I have the tools I need to help customers".into(), "My workload is manageable".into()],
            opened_at: now - 3 * DAY,
            closes_at: now + 4 * DAY,
            created_by: *by,
        };
        let id = store.create_pulse(pulse).await.map_err(err)?;
        for a in agents.iter().skip(1).take(8) {
            let answer = PulseAnswer {
                enps: *rng.pick(&[10, 9, 9, 8, 7, 6, 9, 10, 4]),
                scores: vec![rng.between(3, 5), rng.between(2, 4)],
                comment: None,
                team_id: None,
            };
            store.answer_pulse(id, *a, answer).await.map_err(err)?;
        }
    }
    Ok(answers)
}

fn invitation(
    kind: SurveyKind,
    ticket: Option<TicketId>,
    customer: CustomerId,
    channel: Channel,
    sent: Millis,
) -> SurveyInvitation {
    SurveyInvitation {
        id: SurveyInvitationId(0),
        kind,
        scale: CsatScale::GoodBad,
        ticket_id: ticket,
        customer_id: customer,
        channel,
        sent_at: sent,
        expires_at: sent + 28 * DAY,
        answered_at: None,
    }
}

fn sent_event(at: Millis, kind: SurveyKind) -> NewEvent {
    NewEvent::change(
        at,
        Actor::system(),
        EventKind::SurveySent,
        "survey",
        serde_json::Value::Null,
        serde_json::json!({ "kind": kind }),
    )
}

fn answer_event(at: Millis, customer: CustomerId) -> NewEvent {
    let actor = Actor { kind: domain::AuthorKind::Customer, id: Some(customer.0) };
    NewEvent::new(at, actor, EventKind::SatisfactionReceived)
}

fn with_sentiment(mut f: Feedback) -> Feedback {
    use domain::sentiment::SentimentAnalyser;
    f.sentiment = f.comment.as_deref().map(|c| insight::sentiment::vader().analyse(c).score);
    f
}

fn feedback(
    inv: SurveyInvitation,
    score: i64,
    comment: &str,
    reason: Option<&str>,
    t: &Solved,
    tier: Tier,
    at: Millis,
) -> Feedback {
    let scale = if inv.kind == SurveyKind::Ces { CsatScale::GoodBad } else { inv.scale };
    with_sentiment(Feedback {
        id: FeedbackId(0),
        invitation_id: inv.id,
        kind: inv.kind,
        scale,
        score,
        rating: if inv.kind == SurveyKind::Csat && score == 1 { Rating::Good } else { inv.kind.rating(scale, score) },
        reason: reason.map(String::from),
        comment: Some(comment.to_string()).filter(|c| !c.is_empty()),
        sentiment: None,
        ticket_id: Some(t.id),
        customer_id: t.customer,
        agent_id: t.agent,
        team_id: t.team,
        channel: Some(t.channel),
        tier,
        answered_at: at,
        updated_at: at,
        reviewed_at: None,
        reviewed_by: None,
        review_note: None,
    })
}
