//! Service rules beyond SLAs and routing: triggers that act on ticket
//! changes, automations that act on time, the urgency × impact priority
//! matrix, escalations and approvals. All pure: the jobs crate gathers the
//! facts and applies the outcome.

pub mod approval;
pub mod condition;
pub mod escalation;
pub mod incident;
pub mod phrase;
pub mod priority;
pub mod trigger;

pub use approval::{Approval, ApprovalKind, ApprovalLimits, ApprovalState};
pub use condition::RuleContext;
pub use condition::{Condition, Facts, Op};
pub use escalation::{Escalation, EscalationRules, EscalationSource, EscalationState, EscalationTier};
pub use priority::{PriorityMatrix, PriorityOutcome};
pub use trigger::{
    Effect, LoopStop, RuleAction, RuleActionKind, RuleKind, RunOn, RunOutcome, ServiceRule, check_rule, run_rules,
};
