//! CSAT, NPS and CES of a set of answers, from how many answers gave each
//! score (storage counts them; this computes). Definitions: docs/METRICS.md.

pub use domain::survey::ScoreCount;
use domain::survey::{CsatScale, Rating, SurveyKind};
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CsatSummary {
    pub answers: i64,
    pub good: i64,
    pub bad: i64,
    /// good ÷ (good + bad), 0–1; none without answers.
    pub csat: Option<f64>,
    /// Mean of the 1–5 answers; none without any.
    pub mean_of_five: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NpsSummary {
    pub answers: i64,
    pub promoters: i64,
    pub passives: i64,
    pub detractors: i64,
    /// % promoters − % detractors, −100 to 100.
    pub nps: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CesSummary {
    pub answers: i64,
    /// Mean score, 1–7.
    pub ces: Option<f64>,
    /// Share answering 5–7, 0–1.
    pub agreeing: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FeedbackSummary {
    pub csat: CsatSummary,
    pub nps: NpsSummary,
    pub ces: CesSummary,
}

pub fn summarise(counts: &[ScoreCount]) -> FeedbackSummary {
    let mut s = FeedbackSummary::default();
    let (mut five_sum, mut five_n, mut ces_sum) = (0, 0, 0);
    for c in counts.iter().filter(|c| c.count > 0) {
        let rating = c.kind.rating(c.scale, c.score);
        match c.kind {
            SurveyKind::Csat => {
                s.csat.answers += c.count;
                match rating {
                    Rating::Good => s.csat.good += c.count,
                    _ => s.csat.bad += c.count,
                }
                if c.scale == CsatScale::Five {
                    five_sum += c.score * c.count;
                    five_n += c.count;
                }
            }
            SurveyKind::Nps => {
                s.nps.answers += c.count;
                match rating {
                    Rating::Good => s.nps.promoters += c.count,
                    Rating::Neutral => s.nps.passives += c.count,
                    Rating::Bad => s.nps.detractors += c.count,
                }
            }
            SurveyKind::Ces => {
                s.ces.answers += c.count;
                ces_sum += c.score * c.count;
                if rating == Rating::Good {
                    s.ces.agreeing = Some(s.ces.agreeing.unwrap_or(0.0) + c.count as f64);
                }
            }
        }
    }
    let ratio = |a: i64, b: i64| (b > 0).then(|| a as f64 / b as f64);
    s.csat.csat = ratio(s.csat.good, s.csat.answers);
    s.csat.mean_of_five = ratio(five_sum, five_n);
    s.nps.nps = ratio(s.nps.promoters - s.nps.detractors, s.nps.answers).map(|r| r * 100.0);
    s.ces.ces = ratio(ces_sum, s.ces.answers);
    s.ces.agreeing = (s.ces.answers > 0).then(|| s.ces.agreeing.unwrap_or(0.0) / s.ces.answers as f64);
    s
}

/// eNPS of a pulse survey's 0–10 answers, or `None` below `min_group`
/// answers (anonymity: a small group's answers could be told apart).
pub fn enps(scores: &[i64], min_group: usize) -> Option<f64> {
    if scores.len() < min_group {
        return None;
    }
    let promoters = scores.iter().filter(|s| **s >= 9).count() as f64;
    let detractors = scores.iter().filter(|s| **s <= 6).count() as f64;
    Some((promoters - detractors) / scores.len() as f64 * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(kind: SurveyKind, scale: CsatScale, score: i64, count: i64) -> ScoreCount {
        ScoreCount { kind, scale, score, count }
    }

    #[test]
    fn the_worked_examples_of_metrics_md() {
        // CSAT: 20 good, 5 bad → 80%.
        let s =
            summarise(&[c(SurveyKind::Csat, CsatScale::GoodBad, 1, 20), c(SurveyKind::Csat, CsatScale::GoodBad, 0, 5)]);
        assert_eq!(s.csat.csat, Some(0.8));
        assert_eq!(s.csat.mean_of_five, None);
        // NPS: 25 promoters, 15 passives, 10 detractors of 50 → 30.
        let s = summarise(&[
            c(SurveyKind::Nps, CsatScale::GoodBad, 10, 20),
            c(SurveyKind::Nps, CsatScale::GoodBad, 9, 5),
            c(SurveyKind::Nps, CsatScale::GoodBad, 8, 15),
            c(SurveyKind::Nps, CsatScale::GoodBad, 3, 10),
        ]);
        assert_eq!((s.nps.promoters, s.nps.passives, s.nps.detractors), (25, 15, 10));
        assert_eq!(s.nps.nps, Some(30.0));
        // CES: 7, 6, 5, 3, 4 → mean 5, agreeing 60%.
        let ces: Vec<_> = [7, 6, 5, 3, 4].iter().map(|s| c(SurveyKind::Ces, CsatScale::GoodBad, *s, 1)).collect();
        let s = summarise(&ces);
        assert_eq!(s.ces.ces, Some(5.0));
        assert_eq!(s.ces.agreeing, Some(0.6));
        // 1–5 CSAT: 5, 4, 2 → 2 of 3 good, mean 11 / 3.
        let s = summarise(&[
            c(SurveyKind::Csat, CsatScale::Five, 5, 1),
            c(SurveyKind::Csat, CsatScale::Five, 4, 1),
            c(SurveyKind::Csat, CsatScale::Five, 2, 1),
        ]);
        assert_eq!((s.csat.good, s.csat.bad), (2, 1));
        assert_eq!(s.csat.mean_of_five, Some(11.0 / 3.0));
        assert_eq!(summarise(&[]), FeedbackSummary::default());
    }

    #[test]
    fn enps_needs_five_answers() {
        assert_eq!(enps(&[10, 10, 9, 3], 5), None);
        assert_eq!(enps(&[10, 10, 9, 7, 3], 5), Some(40.0));
    }
}

/// A pulse survey's results, shown only for groups of at least `MIN_GROUP`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PulseResults {
    pub answers: usize,
    /// Whether there are enough answers to show anything.
    pub shown: bool,
    pub enps: Option<f64>,
    /// The mean of each statement, 1–5, in order.
    pub statement_means: Vec<f64>,
    pub comments: Vec<String>,
    /// Teams with enough answers of their own.
    pub teams: Vec<TeamPulse>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TeamPulse {
    pub team_id: domain::TeamId,
    pub answers: usize,
    pub enps: Option<f64>,
}

pub fn pulse_results(questions: usize, answers: &[domain::survey::pulse::PulseAnswer]) -> PulseResults {
    use domain::survey::pulse::MIN_GROUP;
    let n = answers.len();
    if n < MIN_GROUP {
        return PulseResults { answers: n, ..Default::default() };
    }
    let scores: Vec<i64> = answers.iter().map(|a| a.enps).collect();
    let statement_means =
        (0..questions).map(|q| answers.iter().filter_map(|a| a.scores.get(q)).sum::<i64>() as f64 / n as f64).collect();
    let mut comments: Vec<String> = answers.iter().filter_map(|a| a.comment.clone()).collect();
    comments.sort();
    let mut by_team: std::collections::BTreeMap<domain::TeamId, Vec<i64>> = Default::default();
    for a in answers {
        if let Some(t) = a.team_id {
            by_team.entry(t).or_default().push(a.enps);
        }
    }
    let teams = by_team
        .into_iter()
        .filter(|(_, v)| v.len() >= MIN_GROUP)
        .map(|(team_id, v)| TeamPulse { team_id, answers: v.len(), enps: enps(&v, MIN_GROUP) })
        .collect();
    PulseResults { answers: n, shown: true, enps: enps(&scores, MIN_GROUP), statement_means, comments, teams }
}

#[cfg(test)]
mod pulse_tests {
    use domain::survey::pulse::PulseAnswer;

    use super::*;

    fn a(enps: i64, team: i64) -> PulseAnswer {
        PulseAnswer { enps, scores: vec![4, 2], comment: None, team_id: Some(domain::TeamId(team)) }
    }

    #[test]
    fn results_hide_small_groups() {
        let four: Vec<_> = (0..4).map(|_| a(10, 1)).collect();
        let r = pulse_results(2, &four);
        assert!(!r.shown && r.enps.is_none() && r.statement_means.is_empty());
        assert_eq!(r.answers, 4);
        // Six answers: 3 promoters, 1 passive, 2 detractors → eNPS (3 − 2) ÷ 6 = 16.7.
        let six = vec![a(10, 1), a(9, 1), a(9, 1), a(8, 1), a(3, 1), a(6, 2)];
        let r = pulse_results(2, &six);
        assert!(r.shown);
        assert!((r.enps.unwrap() - 100.0 / 6.0).abs() < 1e-9);
        assert_eq!(r.statement_means, [4.0, 2.0]);
        assert_eq!(r.teams.len(), 1, "team 2 has one answer: not shown");
        assert_eq!(r.teams[0].answers, 5);
    }
}
