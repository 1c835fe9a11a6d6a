//! The department's KPIs, derived from ticket events: each ticket's events
//! become measured rows (`measures`), storage keeps those rows up to date
//! as events arrive, and a slice's KPIs aggregate them (`summary`).
//! Definitions with worked examples: docs/METRICS.md.

pub mod bottlenecks;
pub mod distribution;
pub mod measures;
pub mod summary;
pub mod workload;

pub use distribution::{Distribution, histogram, histogram_of_buckets};
pub use measures::{Measure, MeasureRow, TicketFacts, measure};
pub use summary::{CellFigures, Rate, TicketKpis, TimeKpi};

#[cfg(test)]
mod tests;
