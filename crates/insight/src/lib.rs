//! Analysis that reads stored facts and computes, never stores: sentiment
//! of what customers write, its topics, their trends and spikes, what pulls
//! CSAT down, and (growing) the department's KPIs. Pure, so
//! every figure can be tested exactly.

pub mod feedback;
pub mod kpi;
pub mod root_causes;
pub mod sentiment;
pub mod staffing;
pub mod topics;
pub mod trends;
