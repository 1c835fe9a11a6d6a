//! Survey invitations, answers, unsubscribes and message sentiment.

use async_trait::async_trait;
use domain::event::NewEvent;
use domain::sentiment::{Sentiment, SentimentLabel};
use domain::survey::pulse::{Pulse, PulseAnswer};
use domain::survey::{
    CsatScale, Feedback, FeedbackFilter, Rating, ResponseCount, ScoreCount, SurveyInvitation, SurveyKind,
};
use domain::{
    Channel, CustomerId, FeedbackId, MessageId, Millis, PulseId, SurveyInvitationId, TeamId, TicketId, Tier, UserId,
};

use super::{Params, SqlStore, page_by_id, returned_id};
use crate::rows::word;
use crate::{FeedbackStore, ImportedAnswer, Page, PageRequest, Result, SqlRow, StoreError, TicketSubject, Transaction};

const INVITATION_COLS: &str = "id, kind, scale, ticket_id, customer_id, channel, sent_at, expires_at, answered_at";

fn invitation(r: &SqlRow) -> Result<SurveyInvitation> {
    Ok(SurveyInvitation {
        id: SurveyInvitationId(r.int(0)?),
        kind: word(SurveyKind::parse("kind", &r.text(1)?))?,
        scale: word(CsatScale::parse("scale", &r.text(2)?))?,
        ticket_id: r.opt_int(3)?.map(TicketId),
        customer_id: CustomerId(r.int(4)?),
        channel: word(Channel::parse("channel", &r.text(5)?))?,
        sent_at: r.int(6)?,
        expires_at: r.int(7)?,
        answered_at: r.opt_int(8)?,
    })
}

const FEEDBACK_COLS: &str = "id, invitation_id, kind, scale, score, rating, reason, comment, sentiment, ticket_id, \
    customer_id, agent_id, team_id, channel, tier, answered_at, updated_at, reviewed_at, reviewed_by, review_note";

fn feedback(r: &SqlRow) -> Result<Feedback> {
    Ok(Feedback {
        id: FeedbackId(r.int(0)?),
        invitation_id: SurveyInvitationId(r.int(1)?),
        kind: word(SurveyKind::parse("kind", &r.text(2)?))?,
        scale: word(CsatScale::parse("scale", &r.text(3)?))?,
        score: r.int(4)?,
        rating: word(Rating::parse("rating", &r.text(5)?))?,
        reason: r.opt_text(6)?,
        comment: r.opt_text(7)?,
        sentiment: r.opt_real(8)?,
        ticket_id: r.opt_int(9)?.map(TicketId),
        customer_id: CustomerId(r.int(10)?),
        agent_id: r.opt_int(11)?.map(UserId),
        team_id: r.opt_int(12)?.map(TeamId),
        channel: r.opt_text(13)?.map(|c| word(Channel::parse("channel", &c))).transpose()?,
        tier: word(Tier::parse("tier", &r.text(14)?))?,
        answered_at: r.int(15)?,
        updated_at: r.int(16)?,
        reviewed_at: r.opt_int(17)?,
        reviewed_by: r.opt_int(18)?.map(UserId),
        review_note: r.opt_text(19)?,
    })
}

fn conditions(f: &FeedbackFilter, p: &mut Params) -> Vec<String> {
    let mut c = Vec::new();
    if let Some(k) = f.kind {
        c.push(format!("kind = {}", p.push(k.as_str())));
    }
    if let Some(r) = f.rating {
        c.push(format!("rating = {}", p.push(r.as_str())));
    }
    if f.with_comment {
        c.push("comment IS NOT NULL".into());
    }
    if let Some(t) = f.team_id {
        c.push(format!("team_id = {}", p.push(t.0)));
    }
    if let Some(a) = f.agent_id {
        c.push(format!("agent_id = {}", p.push(a.0)));
    }
    match f.reviewed {
        Some(true) => c.push("reviewed_at IS NOT NULL".into()),
        Some(false) => c.push("reviewed_at IS NULL".into()),
        None => {}
    }
    if let Some(from) = f.from {
        c.push(format!("answered_at >= {}", p.push(from)));
    }
    if let Some(to) = f.to {
        c.push(format!("answered_at < {}", p.push(to)));
    }
    if let Some(t) = f.ticket_id {
        c.push(format!("ticket_id = {}", p.push(t.0)));
    }
    if let Some(cu) = f.customer_id {
        c.push(format!("customer_id = {}", p.push(cu.0)));
    }
    if let Some(ch) = f.channel {
        c.push(format!("channel = {}", p.push(ch.as_str())));
    }
    if let Some(t) = f.tier {
        c.push(format!("tier = {}", p.push(t.as_str())));
    }
    let mut facts = Vec::new();
    if let Some(pr) = f.priority {
        facts.push(format!("k.priority = {}", p.push(pr.as_str())));
    }
    if let Some(o) = f.organization_id {
        facts.push(format!("k.organization_id = {}", p.push(o)));
    }
    if let Some(tag) = &f.tag {
        // Tags are stored as a JSON array of plain words.
        let quoted = serde_json::to_string(tag).unwrap_or_default();
        facts.push(format!("k.tags LIKE {}", p.push(format!("%{quoted}%"))));
    }
    if !facts.is_empty() {
        // Per answer, not a list of every matching ticket: the answers of a
        // period are far fewer than the tickets of a priority.
        c.push(format!(
            "EXISTS (SELECT 1 FROM kpi_tickets k WHERE k.ticket_id = feedback.ticket_id AND {})",
            facts.join(" AND ")
        ));
    }
    c
}

/// Records an invitation within `tx`; `None` when one for the same
/// ticket and kind exists.
async fn insert_invitation(
    tx: &mut dyn Transaction,
    inv: &SurveyInvitation,
    event: Option<NewEvent>,
) -> Result<Option<SurveyInvitationId>> {
    let rows = tx
        .fetch(
            "INSERT INTO survey_invitations (kind, scale, ticket_id, customer_id, channel, sent_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id",
            vec![
                inv.kind.as_str().into(),
                inv.scale.as_str().into(),
                inv.ticket_id.map(|t| t.0).into(),
                inv.customer_id.0.into(),
                inv.channel.as_str().into(),
                inv.sent_at.into(),
                inv.expires_at.into(),
            ],
        )
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let id = returned_id(&rows)?;
    if let (Some(t), Some(e)) = (inv.ticket_id, event) {
        super::mail::append_events(tx, t, &[e]).await?;
    }
    Ok(Some(SurveyInvitationId(id)))
}

/// Records an answer within `tx` (a second answer updates the first).
async fn write_feedback(tx: &mut dyn Transaction, f: &Feedback, event: Option<NewEvent>) -> Result<FeedbackId> {
    // The invitation's row first: two answers at once queue here, and
    // the second updates what the first stored.
    tx.execute(
        "UPDATE survey_invitations SET answered_at = COALESCE(answered_at, $1) WHERE id = $2",
        vec![f.answered_at.into(), f.invitation_id.0.into()],
    )
    .await?;
    let existing = tx.fetch("SELECT id FROM feedback WHERE invitation_id = $1", vec![f.invitation_id.0.into()]).await?;
    let id = if let Some(row) = existing.first() {
        let id = row.int(0)?;
        tx.execute(
            "UPDATE feedback SET score = $1, rating = $2, reason = $3, comment = $4, sentiment = $5, \
                 updated_at = $6 WHERE id = $7",
            vec![
                f.score.into(),
                f.rating.as_str().into(),
                f.reason.clone().into(),
                f.comment.clone().map(crate::storable_text).into(),
                f.sentiment.into(),
                f.updated_at.into(),
                id.into(),
            ],
        )
        .await?;
        id
    } else {
        returned_id(
            &tx.fetch(
                "INSERT INTO feedback (invitation_id, kind, scale, score, rating, reason, comment, sentiment, \
                     ticket_id, customer_id, agent_id, team_id, channel, tier, answered_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
                vec![
                    f.invitation_id.0.into(),
                    f.kind.as_str().into(),
                    f.scale.as_str().into(),
                    f.score.into(),
                    f.rating.as_str().into(),
                    f.reason.clone().into(),
                    f.comment.clone().map(crate::storable_text).into(),
                    f.sentiment.into(),
                    f.ticket_id.map(|t| t.0).into(),
                    f.customer_id.0.into(),
                    f.agent_id.map(|u| u.0).into(),
                    f.team_id.map(|t| t.0).into(),
                    f.channel.map(|c| c.as_str()).into(),
                    f.tier.as_str().into(),
                    f.answered_at.into(),
                    f.updated_at.into(),
                ],
            )
            .await?,
        )?
    };
    if let (Some(t), Some(e)) = (f.ticket_id, event) {
        super::mail::append_events(tx, t, &[e]).await?;
    }
    Ok(FeedbackId(id))
}

#[async_trait]
impl FeedbackStore for SqlStore {
    async fn create_invitation(
        &self,
        inv: SurveyInvitation,
        event: Option<NewEvent>,
    ) -> Result<Option<SurveyInvitationId>> {
        let mut tx = self.begin().await?;
        let Some(id) = insert_invitation(tx.as_mut(), &inv, event).await? else { return Ok(None) };
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn invitation(&self, id: SurveyInvitationId) -> Result<Option<SurveyInvitation>> {
        let sql = format!("SELECT {INVITATION_COLS} FROM survey_invitations WHERE id = $1");
        self.fetch_one(&sql, vec![id.0.into()]).await?.as_ref().map(invitation).transpose()
    }

    async fn ticket_invitation(&self, ticket: TicketId, kind: SurveyKind) -> Result<Option<SurveyInvitation>> {
        let sql = format!("SELECT {INVITATION_COLS} FROM survey_invitations WHERE ticket_id = $1 AND kind = $2");
        self.fetch_one(&sql, vec![ticket.0.into(), kind.as_str().into()]).await?.as_ref().map(invitation).transpose()
    }

    async fn last_surveyed(&self, customer: CustomerId, kind: Option<SurveyKind>) -> Result<Option<Millis>> {
        let mut p = Params::default();
        let mut sql = format!("SELECT MAX(sent_at) FROM survey_invitations WHERE customer_id = {}", p.push(customer.0));
        if let Some(k) = kind {
            sql.push_str(&format!(" AND kind = {}", p.push(k.as_str())));
        }
        Ok(self.fetch_one(&sql, p.values).await?.map(|r| r.opt_int(0)).transpose()?.flatten())
    }

    async fn save_feedback(&self, f: Feedback, event: Option<NewEvent>) -> Result<FeedbackId> {
        let mut tx = self.begin().await?;
        let id = write_feedback(tx.as_mut(), &f, event).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn import_answers(&self, answers: Vec<ImportedAnswer>) -> Result<usize> {
        if let Some(writer) = &self.writer {
            // On the writer's own connection: no hand-off between threads per statement.
            return super::writer::ask(writer, |reply| super::writer::Work::Answers { answers, reply }).await;
        }
        let mut tx = self.begin().await?;
        let stored = import_answers_in(tx.as_mut(), answers).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn feedback(&self, id: FeedbackId) -> Result<Option<Feedback>> {
        let sql = format!("SELECT {FEEDBACK_COLS} FROM feedback WHERE id = $1");
        self.fetch_one(&sql, vec![id.0.into()]).await?.as_ref().map(feedback).transpose()
    }

    async fn invitation_feedback(&self, inv: SurveyInvitationId) -> Result<Option<Feedback>> {
        let sql = format!("SELECT {FEEDBACK_COLS} FROM feedback WHERE invitation_id = $1");
        self.fetch_one(&sql, vec![inv.0.into()]).await?.as_ref().map(feedback).transpose()
    }

    async fn feedback_list(&self, filter: &FeedbackFilter, page: PageRequest) -> Result<Page<Feedback>> {
        let limit = page.limit.clamp(1, 1000);
        let mut p = Params::default();
        let mut c = conditions(filter, &mut p);
        if let Some(after) = page.after {
            c.push(format!("id < {}", p.push(after)));
        }
        let where_sql = if c.is_empty() { String::new() } else { format!("WHERE {}", c.join(" AND ")) };
        let sql = format!("SELECT {FEEDBACK_COLS} FROM feedback {where_sql} ORDER BY id DESC LIMIT {}", limit + 1);
        let items = self.fetch(&sql, p.values).await?.iter().map(feedback).collect::<Result<Vec<_>>>()?;
        Ok(page_by_id(items, limit, |f: &Feedback| f.id.0))
    }

    async fn review_feedback(&self, id: FeedbackId, by: UserId, note: &str, at: Millis) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE feedback SET reviewed_at = $1, reviewed_by = $2, review_note = $3 WHERE id = $4",
                vec![at.into(), by.0.into(), crate::storable_text(note.to_string()).into(), id.0.into()],
            )
            .await?;
        Ok(n == 1)
    }

    async fn score_counts(&self, filter: &FeedbackFilter) -> Result<Vec<ScoreCount>> {
        Ok(self.counts_grouped(filter, None).await?.into_iter().map(|(_, c)| c).collect())
    }

    async fn score_counts_by(&self, filter: &FeedbackFilter, by_team: bool) -> Result<Vec<(Option<i64>, ScoreCount)>> {
        self.counts_grouped(filter, Some(if by_team { "team_id" } else { "agent_id" })).await
    }

    async fn response_count(&self, kind: SurveyKind, from: Millis, to: Millis) -> Result<ResponseCount> {
        let row = self
            .fetch_one(
                "SELECT COUNT(*), COUNT(answered_at) FROM survey_invitations \
                 WHERE kind = $1 AND sent_at >= $2 AND sent_at < $3",
                vec![kind.as_str().into(), from.into(), to.into()],
            )
            .await?;
        Ok(match row {
            Some(r) => ResponseCount { sent: r.int(0)?, answered: r.int(1)? },
            None => ResponseCount::default(),
        })
    }

    async fn set_unsubscribed(&self, customer: CustomerId, unsubscribed: bool, at: Millis) -> Result<()> {
        if unsubscribed {
            self.execute(
                "INSERT INTO survey_unsubscribes (customer_id, at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                vec![customer.0.into(), at.into()],
            )
            .await?;
        } else {
            self.execute("DELETE FROM survey_unsubscribes WHERE customer_id = $1", vec![customer.0.into()]).await?;
        }
        Ok(())
    }

    async fn unsubscribed(&self, customer: CustomerId) -> Result<bool> {
        let rows =
            self.fetch("SELECT 1 FROM survey_unsubscribes WHERE customer_id = $1", vec![customer.0.into()]).await?;
        Ok(!rows.is_empty())
    }

    async fn save_message_sentiment(&self, message: MessageId, ticket: TicketId, s: Sentiment) -> Result<()> {
        self.execute(
            "INSERT INTO message_sentiments (message_id, ticket_id, score, label) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (message_id) DO UPDATE SET score = excluded.score, label = excluded.label",
            vec![message.0.into(), ticket.0.into(), s.score.into(), s.label.as_str().into()],
        )
        .await?;
        Ok(())
    }

    async fn message_sentiments(&self, ticket: TicketId) -> Result<Vec<(MessageId, Sentiment)>> {
        let rows = self
            .fetch(
                "SELECT message_id, score, label FROM message_sentiments WHERE ticket_id = $1 ORDER BY message_id",
                vec![ticket.0.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let label = word(SentimentLabel::parse("label", &r.text(2)?))?;
                Ok((MessageId(r.int(0)?), Sentiment { score: r.real(1)?, label }))
            })
            .collect()
    }

    async fn create_pulse(&self, p: Pulse) -> Result<PulseId> {
        self.pulse_create(p).await
    }

    async fn pulse(&self, id: PulseId) -> Result<Option<Pulse>> {
        Ok(self.pulse_list(Some(id)).await?.pop())
    }

    async fn pulses(&self) -> Result<Vec<Pulse>> {
        self.pulse_list(None).await
    }

    async fn answer_pulse(&self, pulse: PulseId, user: UserId, answer: PulseAnswer) -> Result<()> {
        self.pulse_answer(pulse, user, answer).await
    }

    async fn pulse_answers(&self, pulse: PulseId) -> Result<Vec<PulseAnswer>> {
        self.pulse_answer_list(pulse).await
    }

    async fn pulse_answered(&self, pulse: PulseId, user: UserId) -> Result<bool> {
        Ok(self
            .fetch_one(
                "SELECT user_id FROM pulse_responses WHERE pulse_id = $1 AND user_id = $2",
                vec![pulse.0.into(), user.0.into()],
            )
            .await?
            .is_some())
    }

    async fn ticket_subjects(&self, from: Millis, to: Millis, limit: u32) -> Result<Vec<TicketSubject>> {
        let sql = format!(
            "SELECT t.id, t.created_at, t.subject, t.tags, t.requester_id, c.annual_value_cents FROM tickets t \
             LEFT JOIN customers c ON c.id = t.requester_id WHERE t.created_at >= $1 AND t.created_at < $2 \
             AND t.merged_into IS NULL ORDER BY t.created_at, t.id LIMIT {}",
            limit.clamp(1, 1_000_000)
        );
        self.fetch(&sql, vec![from.into(), to.into()])
            .await?
            .iter()
            .map(|r| {
                Ok(TicketSubject {
                    id: TicketId(r.int(0)?),
                    created_at: r.int(1)?,
                    subject: r.text(2)?,
                    tags: serde_json::from_str(&r.text(3)?).unwrap_or_default(),
                    requester_id: CustomerId(r.int(4)?),
                    customer_value_cents: r.opt_int(5)?,
                })
            })
            .collect()
    }
}

fn pulse_row(r: &SqlRow) -> Result<Pulse> {
    Ok(Pulse {
        id: PulseId(r.int(0)?),
        name: r.text(1)?,
        questions: serde_json::from_str(&r.text(2)?).map_err(|e| StoreError::Corrupt(format!("pulse: {e}")))?,
        opened_at: r.int(3)?,
        closes_at: r.int(4)?,
        created_by: UserId(r.int(5)?),
    })
}

impl SqlStore {
    pub(crate) async fn pulse_create(&self, p: Pulse) -> Result<PulseId> {
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO pulse_surveys (name, questions, opened_at, closes_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                vec![
                    p.name.into(),
                    serde_json::to_string(&p.questions).unwrap_or_else(|_| "[]".into()).into(),
                    p.opened_at.into(),
                    p.closes_at.into(),
                    p.created_by.0.into(),
                ],
            )
            .await?;
        let id = returned_id(&rows)?;
        tx.commit().await?;
        Ok(PulseId(id))
    }

    pub(crate) async fn pulse_list(&self, id: Option<PulseId>) -> Result<Vec<Pulse>> {
        let cols = "SELECT id, name, questions, opened_at, closes_at, created_by FROM pulse_surveys";
        let rows = match id {
            Some(id) => self.fetch(&format!("{cols} WHERE id = $1"), vec![id.0.into()]).await?,
            None => self.fetch(&format!("{cols} ORDER BY id DESC"), vec![]).await?,
        };
        rows.iter().map(pulse_row).collect()
    }

    pub(crate) async fn pulse_answer(&self, pulse: PulseId, user: UserId, a: PulseAnswer) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = tx
            .fetch(
                "INSERT INTO pulse_responses (pulse_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING user_id",
                vec![pulse.0.into(), user.0.into()],
            )
            .await?;
        if done.is_empty() {
            return Err(StoreError::Duplicate("answer".into()));
        }
        tx.execute(
            "INSERT INTO pulse_answers (pulse_id, enps, scores, comment, team_id) VALUES ($1, $2, $3, $4, $5)",
            vec![
                pulse.0.into(),
                a.enps.into(),
                serde_json::to_string(&a.scores).unwrap_or_else(|_| "[]".into()).into(),
                a.comment.map(crate::storable_text).into(),
                a.team_id.map(|t| t.0).into(),
            ],
        )
        .await?;
        tx.commit().await
    }

    pub(crate) async fn pulse_answer_list(&self, pulse: PulseId) -> Result<Vec<PulseAnswer>> {
        // Ordered by value, not arrival, so the order cannot tell who answered when.
        let rows = self
            .fetch(
                "SELECT enps, scores, comment, team_id FROM pulse_answers WHERE pulse_id = $1 ORDER BY enps, scores, comment",
                vec![pulse.0.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PulseAnswer {
                    enps: r.int(0)?,
                    scores: serde_json::from_str(&r.text(1)?).unwrap_or_default(),
                    comment: r.opt_text(2)?,
                    team_id: r.opt_int(3)?.map(TeamId),
                })
            })
            .collect()
    }
}

impl SqlStore {
    /// Answers counted by kind, scale and score, and by `group` (a column) when given.
    async fn counts_grouped(
        &self,
        filter: &FeedbackFilter,
        group: Option<&str>,
    ) -> Result<Vec<(Option<i64>, ScoreCount)>> {
        let mut p = Params::default();
        let c = conditions(filter, &mut p);
        let where_sql = if c.is_empty() { String::new() } else { format!("WHERE {}", c.join(" AND ")) };
        let (col, by) = match group {
            Some(g) => (g.to_string(), format!("{g}, ")),
            None => ("NULL".to_string(), String::new()),
        };
        let sql = format!(
            "SELECT {col}, kind, scale, score, COUNT(*) FROM feedback {where_sql} GROUP BY {by}kind, scale, score \
             ORDER BY {by}kind, scale, score"
        );
        self.fetch(&sql, p.values)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.opt_int(0)?,
                    ScoreCount {
                        kind: word(SurveyKind::parse("kind", &r.text(1)?))?,
                        scale: word(CsatScale::parse("scale", &r.text(2)?))?,
                        score: r.int(3)?,
                        count: r.int(4)?,
                    },
                ))
            })
            .collect()
    }
}

/// Stores imported answers in `tx`; how many were new.
pub(crate) async fn import_answers_in(tx: &mut dyn Transaction, answers: Vec<ImportedAnswer>) -> Result<usize> {
    let mut stored = 0;
    for a in answers {
        let Some(id) = insert_invitation(tx, &a.invitation, a.sent_event).await? else { continue };
        if let Some(f) = a.feedback {
            write_feedback(tx, &Feedback { invitation_id: id, ..f }, a.answer_event).await?;
            stored += 1;
        }
    }
    Ok(stored)
}
