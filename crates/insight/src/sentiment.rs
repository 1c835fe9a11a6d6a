//! VADER (Hutto and Gilbert, 2014): a lexicon of rated words with rules for
//! negation, boosters ("very"), "but", capitals and exclamation marks. It
//! needs no training and scores a message in microseconds; the crate used
//! matches the reference Python package exactly.

use domain::sentiment::{Sentiment, SentimentAnalyser};
use vader_parity::SentimentIntensityAnalyzer;

/// Builds the lexicon once (about 11,000 entries); share one per process.
pub struct Vader {
    analyzer: SentimentIntensityAnalyzer,
}

impl Vader {
    pub fn new() -> Self {
        Self { analyzer: SentimentIntensityAnalyzer::new() }
    }
}

impl Default for Vader {
    fn default() -> Self {
        Self::new()
    }
}

impl SentimentAnalyser for Vader {
    fn analyse(&self, text: &str) -> Sentiment {
        // Long mails are mostly quoted history and signatures; the first
        // part says how the customer feels now and bounds the cost.
        let head: String = text.chars().take(2_000).collect();
        Sentiment::of_score(self.analyzer.polarity_scores(&head).compound)
    }
}

/// The shared analyser.
pub fn vader() -> &'static Vader {
    static VADER: std::sync::OnceLock<Vader> = std::sync::OnceLock::new();
    VADER.get_or_init(Vader::new)
}
