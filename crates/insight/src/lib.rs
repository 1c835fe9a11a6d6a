//! Analysis that reads stored facts and computes, never stores: sentiment
//! of what customers write, and (growing) the department's KPIs. Pure, so
//! every figure can be tested exactly.

pub mod feedback;
pub mod sentiment;
