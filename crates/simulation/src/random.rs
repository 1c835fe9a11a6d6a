//! The draws the simulation makes, from one seeded generator.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub struct Draw(StdRng);

impl Draw {
    pub fn seeded(seed: u64) -> Draw {
        Draw(StdRng::seed_from_u64(seed))
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.0.random_range(0..items.len())]
    }
    /// An index drawn with the given weights (all ≥ 0, not all 0).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.0.random_range(0.0..total.max(f64::MIN_POSITIVE));
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.0.random_bool(p.clamp(0.0, 1.0))
    }
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        self.0.random_range(lo..=hi)
    }
    pub fn unit(&mut self) -> f64 {
        self.0.random_range(0.0..1.0)
    }
    /// An exponential duration with this median: mostly short, some long,
    /// as customers' reply delays are.
    pub fn skewed(&mut self, median: i64) -> i64 {
        let u: f64 = self.0.random_range(0.0001..1.0);
        ((-u.ln()) * median as f64 / std::f64::consts::LN_2) as i64
    }
    /// A log-normal duration with this median and spread (σ of the log),
    /// as handle times are: a floor, a bulk, a long tail.
    pub fn log_normal(&mut self, median: i64, sigma: f64) -> i64 {
        // Box–Muller from two uniforms.
        let (u1, u2): (f64, f64) = (self.0.random_range(1e-12..1.0), self.0.random_range(0.0..1.0));
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        (median as f64 * (sigma * z).exp()) as i64
    }
}
