//! The agents' pulse survey: eNPS ("how likely are you to recommend
//! working here?" 0–10) and a few statements answered 1–5, anonymous.
//! Results are only ever shown for groups of `MIN_GROUP` answers or more.

use serde::{Deserialize, Serialize};

use crate::{DomainError, Millis, PulseId, TeamId, UserId};

/// The smallest group whose results are shown.
pub const MIN_GROUP: usize = 5;
pub const ENPS_QUESTION: &str = "How likely are you to recommend working here to a friend?";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pulse {
    pub id: PulseId,
    pub name: String,
    /// Statements answered from 1 (strongly disagree) to 5 (strongly agree).
    pub questions: Vec<String>,
    pub opened_at: Millis,
    pub closes_at: Millis,
    pub created_by: UserId,
}

impl Pulse {
    pub fn is_open(&self, now: Millis) -> bool {
        (self.opened_at..self.closes_at).contains(&now)
    }
}

/// One agent's answer, without who gave it (the team only, for team
/// results of at least `MIN_GROUP`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PulseAnswer {
    pub enps: i64,
    pub scores: Vec<i64>,
    pub comment: Option<String>,
    pub team_id: Option<TeamId>,
}

impl PulseAnswer {
    /// Checks the answer against the pulse's questions.
    pub fn parse(
        pulse: &Pulse,
        enps: i64,
        scores: Vec<i64>,
        comment: Option<String>,
        team_id: Option<TeamId>,
    ) -> Result<Self, Vec<DomainError>> {
        let mut errors = Vec::new();
        if !(0..=10).contains(&enps) {
            errors.push(DomainError::new("enps", "must be from 0 to 10"));
        }
        if scores.len() != pulse.questions.len() {
            errors.push(DomainError::new("scores", format!("answer each of the {} statements", pulse.questions.len())));
        } else if scores.iter().any(|s| !(1..=5).contains(s)) {
            errors.push(DomainError::new("scores", "each must be from 1 to 5"));
        }
        let comment = comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        if comment.as_ref().is_some_and(|c| c.chars().count() > super::MAX_COMMENT) {
            errors.push(DomainError::new("comment", format!("is longer than {} characters", super::MAX_COMMENT)));
        }
        if errors.is_empty() { Ok(Self { enps, scores, comment, team_id }) } else { Err(errors) }
    }
}

/// A pulse as a manager creates it, checked.
pub fn parse_pulse(
    name: &str,
    questions: &[String],
    opened_at: Millis,
    days: i64,
) -> Result<(String, Vec<String>, Millis), Vec<DomainError>> {
    let mut errors = Vec::new();
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 120 {
        errors.push(DomainError::new("name", "must be 1 to 120 characters"));
    }
    let questions: Vec<String> = questions.iter().map(|q| q.trim().to_string()).filter(|q| !q.is_empty()).collect();
    if questions.len() > 10 || questions.iter().any(|q| q.chars().count() > 300) {
        errors.push(DomainError::new("questions", "at most 10 statements of at most 300 characters"));
    }
    if !(1..=90).contains(&days) {
        errors.push(DomainError::new("days", "must be from 1 to 90"));
    }
    if errors.is_empty() { Ok((name, questions, opened_at + days * 86_400_000)) } else { Err(errors) }
}
