//! Customer surveys: CSAT after a solved ticket, NPS on a schedule, CES
//! after resolution. An invitation is sent once; its answer links carry a
//! signed, expiring token, and answering again updates the answer.

pub mod pulse;
mod settings;
mod token;

use serde::{Deserialize, Serialize};

pub use settings::{SurveySettings, render};
pub use token::{TokenError, sign, verify};

use crate::str_enum::str_enum;
use crate::{Channel, CustomerId, DomainError, FeedbackId, Millis, SurveyInvitationId, TeamId, TicketId, Tier, UserId};

/// The longest comment stored; a longer one is refused, not cut.
pub const MAX_COMMENT: usize = 5_000;

str_enum!(
    /// `csat`: "how would you rate the support you received?" after a solved
    /// ticket. `nps`: "how likely are you to recommend us?" 0–10, a
    /// relationship survey. `ces`: "the company made it easy to handle my
    /// issue", 1–7.
    SurveyKind { Csat = "csat", Nps = "nps", Ces = "ces" }
);

str_enum!(
    /// How CSAT is asked: good or bad (scores 1 and 0), or 1 to 5 stars.
    CsatScale { GoodBad = "good_bad", Five = "five" }
);

str_enum!(
    /// What an answer says, for filtering and the CSAT ratio. CSAT: good
    /// (good, or 4–5 of 5), else bad. NPS: promoter (9–10) good, detractor
    /// (0–6) bad, passive neutral. CES: 5–7 good, 1–3 bad, 4 neutral.
    Rating { Good = "good", Neutral = "neutral", Bad = "bad" }
);

impl SurveyKind {
    /// The scores allowed, lowest and highest.
    pub fn range(self, scale: CsatScale) -> (i64, i64) {
        match (self, scale) {
            (SurveyKind::Csat, CsatScale::GoodBad) => (0, 1),
            (SurveyKind::Csat, CsatScale::Five) => (1, 5),
            (SurveyKind::Nps, _) => (0, 10),
            (SurveyKind::Ces, _) => (1, 7),
        }
    }

    /// The score checked against its range.
    pub fn check_score(self, scale: CsatScale, score: i64) -> Result<i64, DomainError> {
        let (lo, hi) = self.range(scale);
        if (lo..=hi).contains(&score) {
            Ok(score)
        } else {
            Err(DomainError::new("score", format!("must be from {lo} to {hi}")))
        }
    }

    pub fn rating(self, scale: CsatScale, score: i64) -> Rating {
        match (self, scale) {
            (SurveyKind::Csat, CsatScale::GoodBad) => {
                if score >= 1 {
                    Rating::Good
                } else {
                    Rating::Bad
                }
            }
            (SurveyKind::Csat, CsatScale::Five) => {
                if score >= 4 {
                    Rating::Good
                } else {
                    Rating::Bad
                }
            }
            (SurveyKind::Nps, _) => match score {
                9.. => Rating::Good,
                7..=8 => Rating::Neutral,
                _ => Rating::Bad,
            },
            (SurveyKind::Ces, _) => match score {
                5.. => Rating::Good,
                4 => Rating::Neutral,
                _ => Rating::Bad,
            },
        }
    }

    /// The question the answer page asks.
    pub fn question(self) -> &'static str {
        match self {
            SurveyKind::Csat => "How would you rate the support you received?",
            SurveyKind::Nps => "How likely are you to recommend us to a friend or colleague?",
            SurveyKind::Ces => "The company made it easy for me to handle my issue.",
        }
    }

    /// The label of each score on the answer page, lowest first.
    pub fn choices(self, scale: CsatScale) -> Vec<(i64, String)> {
        let (lo, hi) = self.range(scale);
        (lo..=hi)
            .map(|s| {
                let label = match (self, scale, s) {
                    (SurveyKind::Csat, CsatScale::GoodBad, 1) => "Good, I'm satisfied".to_string(),
                    (SurveyKind::Csat, CsatScale::GoodBad, _) => "Bad, I'm unsatisfied".to_string(),
                    (SurveyKind::Ces, _, 1) => "1 · strongly disagree".to_string(),
                    (SurveyKind::Ces, _, 7) => "7 · strongly agree".to_string(),
                    _ => s.to_string(),
                };
                (s, label)
            })
            .collect()
    }
}

/// One survey sent to a customer: about a ticket (CSAT, CES) or about the
/// relationship (NPS, no ticket).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SurveyInvitation {
    pub id: SurveyInvitationId,
    pub kind: SurveyKind,
    pub scale: CsatScale,
    pub ticket_id: Option<TicketId>,
    pub customer_id: CustomerId,
    /// How it reached the customer: email, chat or web (the portal).
    pub channel: Channel,
    pub sent_at: Millis,
    pub expires_at: Millis,
    pub answered_at: Option<Millis>,
}

/// An answer, stored with what it is about so it can be sliced by agent,
/// team, channel and tier as they were when the ticket was solved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Feedback {
    pub id: FeedbackId,
    pub invitation_id: SurveyInvitationId,
    pub kind: SurveyKind,
    pub scale: CsatScale,
    pub score: i64,
    pub rating: Rating,
    /// A reason code chosen from the settings' list (bad CSAT answers).
    pub reason: Option<String>,
    pub comment: Option<String>,
    /// VADER compound score of the comment, −1 to 1.
    pub sentiment: Option<f64>,
    pub ticket_id: Option<TicketId>,
    pub customer_id: CustomerId,
    pub agent_id: Option<UserId>,
    pub team_id: Option<TeamId>,
    pub channel: Option<Channel>,
    pub tier: Tier,
    pub answered_at: Millis,
    pub updated_at: Millis,
    pub reviewed_at: Option<Millis>,
    pub reviewed_by: Option<UserId>,
    pub review_note: Option<String>,
}

/// An answer as given on the answer page or through the API, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub score: i64,
    pub reason: Option<String>,
    pub comment: Option<String>,
}

impl Answer {
    /// Checks the score's range, the reason against the allowed codes and
    /// the comment's length; every error, each naming its field.
    pub fn parse(
        kind: SurveyKind,
        scale: CsatScale,
        score: i64,
        reason: Option<&str>,
        comment: Option<&str>,
        reasons: &[String],
    ) -> Result<Self, Vec<DomainError>> {
        let mut errors = Vec::new();
        if let Err(e) = kind.check_score(scale, score) {
            errors.push(e);
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
        if let Some(r) = &reason
            && !reasons.iter().any(|a| a == r)
        {
            errors.push(DomainError::new("reason", format!("'{r}' is not one of: {}", reasons.join(", "))));
        }
        let comment = comment.map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
        if let Some(c) = &comment
            && c.chars().count() > MAX_COMMENT
        {
            errors.push(DomainError::new("comment", format!("is longer than {MAX_COMMENT} characters")));
        }
        if errors.is_empty() { Ok(Self { score, reason, comment }) } else { Err(errors) }
    }
}

/// Which answers a feedback list holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedbackFilter {
    pub kind: Option<SurveyKind>,
    pub rating: Option<Rating>,
    pub with_comment: bool,
    pub team_id: Option<TeamId>,
    pub agent_id: Option<UserId>,
    pub reviewed: Option<bool>,
    /// Answered in `[from, to)`.
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    pub ticket_id: Option<TicketId>,
    pub customer_id: Option<CustomerId>,
    /// The ticket's channel and the customer's tier as the answer recorded them.
    pub channel: Option<crate::Channel>,
    pub tier: Option<crate::Tier>,
    /// Answers about tickets with this priority, organization or tag now
    /// (as the KPI rollup's facts hold them), for the cockpit's slices.
    pub priority: Option<crate::Priority>,
    pub organization_id: Option<i64>,
    pub tag: Option<String>,
}

/// How many answers of a kind and scale gave a score (what CSAT, NPS and
/// CES are computed from).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreCount {
    pub kind: SurveyKind,
    pub scale: CsatScale,
    pub score: i64,
    pub count: i64,
}

/// Invitations sent and answered in a period, for response rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResponseCount {
    pub sent: i64,
    pub answered: i64,
}

impl ResponseCount {
    /// Answered ÷ sent, or `None` when nothing was sent.
    pub fn rate(self) -> Option<f64> {
        (self.sent > 0).then(|| self.answered as f64 / self.sent as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_ratings() {
        let five = CsatScale::Five;
        assert!(SurveyKind::Csat.check_score(five, 0).is_err());
        assert_eq!(SurveyKind::Csat.check_score(five, 5), Ok(5));
        assert!(SurveyKind::Csat.check_score(CsatScale::GoodBad, 2).is_err());
        assert!(SurveyKind::Nps.check_score(five, 11).is_err());
        assert!(SurveyKind::Ces.check_score(five, 0).is_err());
        assert_eq!(SurveyKind::Csat.rating(five, 4), Rating::Good);
        assert_eq!(SurveyKind::Csat.rating(five, 3), Rating::Bad);
        assert_eq!(SurveyKind::Csat.rating(CsatScale::GoodBad, 0), Rating::Bad);
        assert_eq!(SurveyKind::Nps.rating(five, 9), Rating::Good);
        assert_eq!(SurveyKind::Nps.rating(five, 8), Rating::Neutral);
        assert_eq!(SurveyKind::Nps.rating(five, 6), Rating::Bad);
        assert_eq!(SurveyKind::Ces.rating(five, 4), Rating::Neutral);
        assert_eq!(SurveyKind::Ces.rating(five, 3), Rating::Bad);
    }

    #[test]
    fn answers_are_checked() {
        let reasons = vec!["slow".to_string(), "unresolved".to_string()];
        let ok = Answer::parse(SurveyKind::Csat, CsatScale::Five, 2, Some("slow"), Some("  too slow "), &reasons);
        assert_eq!(ok, Ok(Answer { score: 2, reason: Some("slow".into()), comment: Some("too slow".into()) }));
        let long = "x".repeat(MAX_COMMENT + 1);
        let errors = Answer::parse(SurveyKind::Csat, CsatScale::Five, 9, Some("rude"), Some(&long), &reasons)
            .err()
            .unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["score", "reason", "comment"]);
    }

    #[test]
    fn response_rate() {
        assert_eq!(ResponseCount { sent: 0, answered: 0 }.rate(), None);
        assert_eq!(ResponseCount { sent: 4, answered: 1 }.rate(), Some(0.25));
    }
}
