//! Topics in what customers write: words and two-word phrases, stemmed
//! (Snowball English) so "exports", "exporting" and "export" are one term,
//! ranked by tf-idf against all the texts of the period, then grouped:
//! terms that mostly occur in the same texts are one topic. A manager
//! names and merges topics and maps them to tags (`TopicDef`); a text is
//! in a defined topic when it has one of its terms or the ticket its tag.

use std::collections::{BTreeMap, HashMap, HashSet};

use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};

/// Words too common in support mail to say what it is about.
const STOP: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "both",
    "but",
    "by",
    "can",
    "cannot",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "don",
    "down",
    "each",
    "few",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "hello",
    "her",
    "here",
    "hi",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "let",
    "like",
    "me",
    "more",
    "most",
    "my",
    "need",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "own",
    "please",
    "same",
    "she",
    "should",
    "so",
    "some",
    "still",
    "such",
    "than",
    "thank",
    "thanks",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "very",
    "want",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "re",
    "fw",
    "fwd",
    "dear",
    "regards",
    "best",
    "team",
    "support",
    "issue",
    "problem",
    "help",
    "hey",
    "ve",
    "ll",
    "isn",
    "doesn",
    "didn",
    "won",
    "wasn",
    "aren",
    "can't",
    "im",
    "ive",
    "one",
    "two",
    "yes",
    "ok",
    "okay",
    "since",
    "today",
    "yesterday",
    "day",
    "days",
    "week",
    "again",
    "anyone",
    "someone",
    "something",
    "anything",
    "every",
    "ever",
    "much",
    "many",
    "really",
    "going",
    "way",
];

/// A term: a stem or two stems joined by a space, with the words most
/// often seen for it.
pub struct Analyser {
    stemmer: Stemmer,
    stop: HashSet<&'static str>,
}

impl Default for Analyser {
    fn default() -> Self {
        Self { stemmer: Stemmer::create(Algorithm::English), stop: STOP.iter().copied().collect() }
    }
}

impl Analyser {
    /// The text's terms (each once), and the surface form each came from.
    pub fn terms(&self, text: &str) -> Vec<(String, String)> {
        // Phrases do not cross punctuation: "failing; exporting" is no phrase.
        let words = text.split(['.', ',', ';', ':', '!', '?', '\n', '(', ')']).flat_map(|part| {
            part.split(|c: char| !c.is_alphanumeric() && c != '\'')
                .map(|w| w.trim_matches('\'').to_lowercase())
                .filter(|w| w.chars().count() >= 3 && !w.chars().all(|c| c.is_ascii_digit()))
                .map(Some)
                .chain([None])
        });
        let mut out: Vec<(String, String)> = Vec::new();
        let mut seen = HashSet::new();
        let mut previous: Option<(String, String)> = None;
        for w in words {
            let Some(w) = w else {
                previous = None;
                continue;
            };
            if self.stop.contains(w.as_str()) {
                previous = None;
                continue;
            }
            let stem = self.stemmer.stem(&w).into_owned();
            if seen.insert(stem.clone()) {
                out.push((stem.clone(), w.clone()));
            }
            if let Some((ps, pw)) = previous.take() {
                let phrase = format!("{ps} {stem}");
                if ps != stem && seen.insert(phrase.clone()) {
                    out.push((phrase, format!("{pw} {w}")));
                }
            }
            previous = Some((stem, w));
        }
        out
    }

    /// A manager's term ("exports", "log in") in the analyser's stems.
    pub fn stem_term(&self, term: &str) -> String {
        self.terms(term).into_iter().map(|(s, _)| s).max_by_key(|s| s.matches(' ').count()).unwrap_or_default()
    }
}

/// A topic found in the texts.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FoundTopic {
    /// The words most often seen for its leading term ("export feature").
    pub label: String,
    /// Its terms, strongest first, as stems.
    pub terms: Vec<String>,
    /// Indexes of the texts in it.
    pub texts: Vec<usize>,
    /// The summed tf-idf weight of its leading term.
    pub score: f64,
}

/// Finds up to `max` topics in the texts. A term counts once per text;
/// a term in fewer than `min_texts` texts, or in more than half of them,
/// says nothing about a topic. Terms are weighed by df × idf (the tf-idf
/// summed over the texts, each term once per text) and grouped when at
/// least 60% of the weaker term's texts also have the stronger one.
pub fn find_topics(analyser: &Analyser, texts: &[&str], max: usize, min_texts: usize) -> Vec<FoundTopic> {
    let terms: Vec<Vec<(String, String)>> = texts.iter().map(|t| analyser.terms(t)).collect();
    find_topics_in(&terms, max, min_texts)
}

/// `find_topics` over texts already split into terms (`Analyser::terms`).
pub fn find_topics_in(texts: &[Vec<(String, String)>], max: usize, min_texts: usize) -> Vec<FoundTopic> {
    let n = texts.len();
    if n == 0 {
        return vec![];
    }
    let mut docs: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut forms: HashMap<&str, BTreeMap<&str, usize>> = HashMap::new();
    for (i, t) in texts.iter().enumerate() {
        for (term, form) in t {
            docs.entry(term).or_default().push(i);
            *forms.entry(term).or_default().entry(form).or_default() += 1;
        }
    }
    let mut ranked: Vec<(&str, f64)> = docs
        .iter()
        .filter(|(_, d)| d.len() >= min_texts.max(1) && d.len() * 2 <= n.max(2))
        .map(|(term, d)| {
            let df = d.len() as f64;
            // Phrases say more than their words: weigh them up a little.
            let phrase = if term.contains(' ') { 1.5 } else { 1.0 };
            (*term, df * ((n as f64 + 1.0) / df).ln() * phrase)
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut topics: Vec<(FoundTopic, HashSet<usize>)> = Vec::new();
    for (term, score) in ranked {
        let room = topics.len() < max;
        let set: HashSet<usize> = docs.get(term).into_iter().flatten().copied().collect();
        let home = topics.iter_mut().find(|(_, texts)| {
            let shared = set.intersection(texts).count();
            shared * 10 >= set.len().min(texts.len()) * 6
        });
        match home {
            Some((topic, texts)) => {
                topic.terms.push(term.to_string());
                texts.extend(set);
            }
            None if room => {
                let label = forms
                    .get(term)
                    .and_then(|f| f.iter().max_by_key(|(form, count)| (**count, std::cmp::Reverse(**form))))
                    .map(|(form, _)| form.to_string())
                    .unwrap_or_else(|| term.to_string());
                topics.push((FoundTopic { label, terms: vec![term.to_string()], texts: vec![], score }, set));
            }
            None => {}
        }
    }
    topics
        .into_iter()
        .map(|(mut t, texts)| {
            t.texts = texts.into_iter().collect();
            t.texts.sort_unstable();
            t
        })
        .collect()
}

/// A topic as the manager keeps it: a name, the words that put a text in
/// it, and the tag that does the same (and that it maps to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TopicDef {
    pub name: String,
    pub terms: Vec<String>,
    #[serde(default)]
    pub tag: Option<String>,
}

impl TopicDef {
    /// Whether a text (with its ticket's tags) is in the topic.
    pub fn matches(&self, analyser: &Analyser, text_terms: &HashSet<String>, tags: &[String]) -> bool {
        self.matches_stems(&self.stems(analyser), text_terms, tags)
    }

    /// Its words as the analyser's terms (stem once, match many texts).
    pub fn stems(&self, analyser: &Analyser) -> Vec<String> {
        self.terms.iter().map(|t| analyser.stem_term(t)).filter(|t| !t.is_empty()).collect()
    }

    pub fn matches_stems(&self, stems: &[String], text_terms: &HashSet<String>, tags: &[String]) -> bool {
        self.tag.as_ref().is_some_and(|t| tags.contains(t)) || stems.iter().any(|s| text_terms.contains(s))
    }
}

/// Merges topics into the first one's name: their terms joined, the
/// first tag kept.
pub fn merge(topics: &[TopicDef], name: &str) -> TopicDef {
    let mut terms: Vec<String> = Vec::new();
    for t in topics {
        for term in &t.terms {
            if !terms.contains(term) {
                terms.push(term.clone());
            }
        }
    }
    TopicDef { name: name.to_string(), terms, tag: topics.iter().find_map(|t| t.tag.clone()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_stemmed_without_stop_words() {
        let a = Analyser::default();
        let terms: Vec<String> =
            a.terms("The exports are failing; exporting CSV fails again!").into_iter().map(|t| t.0).collect();
        assert_eq!(terms, ["export", "fail", "csv", "export csv", "csv fail"]);
        assert_eq!(a.stem_term("Exports"), "export");
        assert_eq!(a.stem_term("password reset"), "password reset");
    }

    #[test]
    fn topics_group_what_is_said_together() {
        let texts = [
            "CSV export fails with a timeout",
            "The export to CSV is broken",
            "Export button does nothing, CSV empty",
            "Cannot reset my password",
            "Password reset email never arrives",
            "Reset password link expired",
            "Invoice shows the wrong VAT",
            "Wrong amount on invoice",
            "Where is my invoice for March",
            "Love the new dashboard",
        ];
        let a = Analyser::default();
        let topics = find_topics(&a, &texts, 5, 2);
        let labels: Vec<&str> = topics.iter().map(|t| t.label.as_str()).collect();
        assert!(labels.len() >= 3, "{labels:?}");
        let find = |word: &str| topics.iter().find(|t| t.terms.iter().any(|x| x == word)).unwrap();
        assert_eq!(find("export").texts, [0, 1, 2]);
        assert_eq!(find("csv").label, find("export").label, "csv and export are one topic");
        assert_eq!(find("password").texts, [3, 4, 5]);
        assert_eq!(find("invoic").texts, [6, 7, 8]);
        assert!(topics.iter().all(|t| !t.texts.contains(&9) || t.texts.len() > 1));
    }

    #[test]
    fn defined_topics_match_terms_or_tags_and_merge() {
        let a = Analyser::default();
        let export = TopicDef { name: "Export".into(), terms: vec!["exports".into()], tag: Some("export".into()) };
        let csv = TopicDef { name: "CSV".into(), terms: vec!["csv".into()], tag: None };
        let terms: HashSet<String> = a.terms("exporting is slow").into_iter().map(|t| t.0).collect();
        assert!(export.matches(&a, &terms, &[]));
        assert!(!csv.matches(&a, &terms, &[]));
        assert!(export.matches(&a, &HashSet::new(), &["export".into()]));
        let merged = merge(&[export, csv], "Export");
        assert_eq!(merged.terms, ["exports", "csv"]);
        assert_eq!(merged.tag.as_deref(), Some("export"));
    }
}
