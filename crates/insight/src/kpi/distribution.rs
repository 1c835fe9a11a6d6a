//! Medians and 90th percentiles, not only means: a few very long waits
//! hide in a mean, and a manager's targets are usually "90% within".

use serde::Serialize;

/// How a set of durations (milliseconds) spreads.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Distribution {
    pub count: i64,
    pub mean: f64,
    /// The middle value; for an even count the mean of the two middle ones.
    pub median: f64,
    /// Nearest rank: the smallest value with at least 90% of values at or below it.
    pub p90: i64,
    pub min: i64,
    pub max: i64,
}

impl Distribution {
    /// `None` for no values. Sorts `values`.
    pub fn of(values: &mut [i64]) -> Option<Distribution> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let n = values.len();
        let sum: i128 = values.iter().map(|v| i128::from(*v)).sum();
        let median =
            if n % 2 == 1 { values[n / 2] as f64 } else { (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0 };
        // Rank ⌈0.9 n⌉, 1-based.
        let rank = (9 * n).div_ceil(10).max(1);
        Some(Distribution {
            count: n as i64,
            mean: sum as f64 / n as f64,
            median,
            p90: values[rank - 1],
            min: values[0],
            max: values[n - 1],
        })
    }
}

/// How many values fall in each bucket; `edges` are the buckets' lower
/// bounds in increasing order (the first bucket also takes anything below).
pub fn histogram(values: &[i64], edges: &[i64]) -> Vec<i64> {
    let mut counts = vec![0; edges.len()];
    for v in values {
        let i = edges.iter().rposition(|e| v >= e).unwrap_or(0);
        if let Some(c) = counts.get_mut(i) {
            *c += 1;
        }
    }
    counts
}
