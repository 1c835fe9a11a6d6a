//! Trends over daily counts and spike detection against a seasonal
//! baseline: a day's expected count is the median of the same weekday in
//! the four weeks before (so Mondays are compared with Mondays), or of the
//! fortnight before when there is too little history. A spike is a run of
//! days, ending today, each well above its expected count.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SpikeRules {
    /// Observed ÷ expected at which a day counts as spiking.
    pub ratio: f64,
    /// And at least this many more than expected (no alarm at 3 instead of 1).
    pub min_excess: f64,
    /// How far back a spike may have begun, in days.
    pub window_days: usize,
}

impl Default for SpikeRules {
    fn default() -> Self {
        Self { ratio: 2.0, min_excess: 5.0, window_days: 7 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Spike {
    /// Index of the first spiking day.
    pub start: usize,
    pub days: usize,
    pub observed: f64,
    pub expected: f64,
    /// observed ÷ expected over the spiking days.
    pub ratio: f64,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len().is_multiple_of(2) { (v[m - 1] + v[m]) / 2.0 } else { v[m] })
}

/// The expected count of day `i` from the days before it.
pub fn expected(counts: &[f64], i: usize) -> Option<f64> {
    let same_weekday: Vec<f64> = (1..=4).filter_map(|w| i.checked_sub(7 * w)).map(|j| counts[j]).collect();
    if same_weekday.len() >= 2 {
        return median(same_weekday);
    }
    let from = i.saturating_sub(14);
    if i - from >= 7 { median(counts[from..i].to_vec()) } else { None }
}

/// The spike the series ends in, if it does: the longest run of spiking
/// days ending on the last day (or the day before, when the last, still
/// running, does not spike yet), begun within the window.
pub fn spike(counts: &[f64], rules: &SpikeRules) -> Option<Spike> {
    let last = counts.len().checked_sub(1)?;
    let spiking = |i: usize| {
        expected(counts, i).is_some_and(|e| {
            let floor = e.max(1.0);
            counts[i] >= floor * rules.ratio && counts[i] - e >= rules.min_excess
        })
    };
    // Today is not over: when it does not spike (yet), the run may end yesterday.
    let last = if spiking(last) || last == 0 { last } else { last - 1 };
    let mut start = None;
    for i in (last.saturating_sub(rules.window_days.saturating_sub(1))..=last).rev() {
        if spiking(i) {
            start = Some(i);
        } else {
            break;
        }
    }
    let start = start?;
    // Expected counts from before the spike, so the spike does not raise its own baseline.
    let observed: f64 = counts[start..=last].iter().sum();
    let expected: f64 = (start..=last).filter_map(|i| expected(&counts[..=i], i)).sum();
    let ratio = if expected > 0.0 { observed / expected } else { f64::INFINITY };
    Some(Spike { start, days: last - start + 1, observed, expected, ratio })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eight weeks of weekday traffic (about 40 on weekdays, 10 at weekends)
    /// with fixed noise.
    fn seasonal(days: usize) -> Vec<f64> {
        let mut seed: u64 = 42;
        (0..days)
            .map(|d| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let noise = ((seed >> 33) % 9) as f64 - 4.0;
                let base = if d % 7 >= 5 { 10.0 } else { 40.0 };
                base + noise
            })
            .collect()
    }

    #[test]
    fn a_planted_spike_is_found_with_its_start_and_size() {
        let mut counts = seasonal(56);
        for c in &mut counts[53..] {
            *c *= 3.4;
        }
        let s = spike(&counts, &SpikeRules::default()).unwrap();
        assert_eq!((s.start, s.days), (53, 3));
        assert!((s.ratio - 3.4).abs() < 0.5, "{s:?}");
        // Early in the day today's count is still small: the spike stands from yesterday.
        counts.push(3.0);
        let s = spike(&counts, &SpikeRules::default()).unwrap();
        assert_eq!((s.start, s.days), (53, 3));
    }

    #[test]
    fn ordinary_weeks_and_mondays_raise_no_alarm() {
        let counts = seasonal(56);
        for end in 14..=56 {
            assert_eq!(spike(&counts[..end], &SpikeRules::default()), None, "day {end}");
        }
        // Small numbers: 1 → 4 is 4× but only 3 more.
        let small = [1.0; 30].iter().copied().chain([4.0]).collect::<Vec<_>>();
        assert_eq!(spike(&small, &SpikeRules::default()), None);
        assert_eq!(spike(&[], &SpikeRules::default()), None);
    }
}

#[cfg(test)]
mod demo_series {
    use super::*;

    #[test]
    fn the_demo_export_series_spikes() {
        let c: Vec<f64> =
            [1, 0, 1, 4, 1, 1, 2, 0, 0, 2, 2, 0, 1, 0, 0, 2, 2, 0, 2, 5, 0, 0, 0, 3, 3, 1, 2, 1, 0, 0, 2, 9, 15, 14, 4]
                .iter()
                .map(|v| *v as f64)
                .collect();
        let s = spike(&c, &SpikeRules::default());
        assert_eq!(s.map(|s| (s.start, s.days)), Some((31, 3)), "{s:?}");
    }
}
