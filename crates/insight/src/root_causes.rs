//! Root causes of bad ratings: the reason codes, topics and tags that
//! answers share, ranked by how much they pull CSAT down. An attribute's
//! pull is the CSAT of the answers without it minus the CSAT of all
//! answers: what CSAT would gain if what it stands for stopped happening.

use std::collections::BTreeMap;

use serde::Serialize;

/// One CSAT answer and what it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Rated {
    pub good: bool,
    /// `reason:slow`, `topic:Export`, `tag:billing` …
    pub attributes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Cause {
    pub attribute: String,
    pub answers: usize,
    pub bad: usize,
    /// CSAT of the answers with it, 0–1.
    pub csat: f64,
    /// CSAT without them minus CSAT of all, in points (0–100).
    pub pull_points: f64,
}

/// Attributes of at least `min_answers` answers with at least one bad one,
/// biggest pull first.
pub fn rank(answers: &[Rated], min_answers: usize) -> Vec<Cause> {
    let total = answers.len();
    if total == 0 {
        return vec![];
    }
    let good_all = answers.iter().filter(|a| a.good).count();
    let mut by: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for a in answers {
        let mut seen: Vec<&str> = a.attributes.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for attr in seen {
            let e = by.entry(attr).or_default();
            e.0 += 1;
            if a.good {
                e.1 += 1;
            }
        }
    }
    let csat_all = good_all as f64 / total as f64;
    let mut causes: Vec<Cause> = by
        .into_iter()
        .filter(|(_, (n, good))| *n >= min_answers.max(1) && good < n)
        .map(|(attr, (n, good))| {
            let rest = total - n;
            let csat_rest = if rest == 0 { 1.0 } else { (good_all - good) as f64 / rest as f64 };
            Cause {
                attribute: attr.to_string(),
                answers: n,
                bad: n - good,
                csat: good as f64 / n as f64,
                pull_points: (csat_rest - csat_all) * 100.0,
            }
        })
        .collect();
    causes.sort_by(|a, b| b.pull_points.total_cmp(&a.pull_points).then_with(|| a.attribute.cmp(&b.attribute)));
    causes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(good: bool, attrs: &[&str]) -> Rated {
        Rated { good, attributes: attrs.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn causes_rank_by_their_pull_on_csat() {
        // 10 answers, 6 good: CSAT 60%. Export: 4 answers, 1 good. Without
        // them 5 of 6 are good (83.3%): a pull of 23.3 points. Billing: 2
        // answers, 1 good; without them 5 of 8 (62.5%): 2.5 points.
        let mut answers = vec![
            r(false, &["topic:Export", "reason:slow"]),
            r(false, &["topic:Export", "reason:slow"]),
            r(false, &["topic:Export"]),
            r(true, &["topic:Export"]),
            r(false, &["tag:billing"]),
            r(true, &["tag:billing"]),
        ];
        answers.extend((0..4).map(|_| r(true, &[])));
        let causes = rank(&answers, 2);
        let names: Vec<&str> = causes.iter().map(|c| c.attribute.as_str()).collect();
        assert_eq!(names, ["topic:Export", "reason:slow", "tag:billing"]);
        assert!((causes[0].pull_points - 23.333).abs() < 0.01, "{causes:?}");
        assert_eq!((causes[0].answers, causes[0].bad), (4, 3));
        assert!((causes[2].pull_points - 2.5).abs() < 1e-9);
        assert!(rank(&[], 1).is_empty());
    }
}
