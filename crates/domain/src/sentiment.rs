//! The sentiment of a text: a score from −1 (most negative) to 1 (most
//! positive) and its label. The analyser is a trait so a better model can
//! replace the lexicon one (`insight::sentiment::Vader`).

use serde::{Deserialize, Serialize};

use crate::str_enum::str_enum;

str_enum!(
    /// VADER's usual cut-offs: compound ≤ −0.05 negative, ≥ 0.05 positive.
    SentimentLabel { Negative = "negative", Neutral = "neutral", Positive = "positive" }
);

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sentiment {
    /// −1 to 1.
    pub score: f64,
    pub label: SentimentLabel,
}

impl Sentiment {
    pub fn of_score(score: f64) -> Self {
        let score = score.clamp(-1.0, 1.0);
        let label = if score <= -0.05 {
            SentimentLabel::Negative
        } else if score >= 0.05 {
            SentimentLabel::Positive
        } else {
            SentimentLabel::Neutral
        };
        Self { score, label }
    }
}

/// Scores texts; pure and cheap enough to run on every inbound message.
pub trait SentimentAnalyser: Send + Sync {
    fn analyse(&self, text: &str) -> Sentiment;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_cut_offs() {
        assert_eq!(Sentiment::of_score(-0.05).label, SentimentLabel::Negative);
        assert_eq!(Sentiment::of_score(0.049).label, SentimentLabel::Neutral);
        assert_eq!(Sentiment::of_score(0.05).label, SentimentLabel::Positive);
        assert_eq!(Sentiment::of_score(3.0).score, 1.0);
    }
}
