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

impl Distribution {
    /// From the rollup's buckets (`domain::kpi::cells::bucket`: lower bound,
    /// count) and the exact sum: count and mean are exact; median, p90, min
    /// and max are the middle of the bucket holding that rank, within its
    /// width (at most 8.4% of the value, 5% from ten minutes on).
    pub fn of_buckets(buckets: &[(i64, i64)], sum: i64) -> Option<Distribution> {
        let mut sorted: Vec<(i64, i64)> = buckets.iter().copied().filter(|(_, n)| *n > 0).collect();
        sorted.sort_unstable();
        let n: i64 = sorted.iter().map(|(_, c)| c).sum();
        if n == 0 {
            return None;
        }
        // The value of the k-th smallest (1-based).
        let at = |k: i64| -> i64 {
            let mut seen = 0;
            for (lower, c) in &sorted {
                seen += c;
                if seen >= k {
                    return lower + domain::kpi::cells::bucket(*lower).1 / 2;
                }
            }
            sorted.last().map(|(l, _)| *l).unwrap_or(0)
        };
        let median = if n % 2 == 1 { at(n / 2 + 1) as f64 } else { (at(n / 2) as f64 + at(n / 2 + 1) as f64) / 2.0 };
        Some(Distribution {
            count: n,
            mean: sum as f64 / n as f64,
            median,
            p90: at((9 * n + 9) / 10),
            min: at(1),
            max: at(n),
        })
    }
}

/// `histogram` of bucketed values: (lower bound, count) pairs.
pub fn histogram_of_buckets(buckets: &[(i64, i64)], edges: &[i64]) -> Vec<i64> {
    let mut counts = vec![0; edges.len()];
    for (v, n) in buckets {
        let i = edges.iter().rposition(|e| v >= e).unwrap_or(0);
        if let Some(c) = counts.get_mut(i) {
            *c += n;
        }
    }
    counts
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
