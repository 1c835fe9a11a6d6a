//! Bottlenecks a manager should hear about before the customers do: the
//! backlog growing faster than it is solved, one team's backlog per agent
//! far above the others', an agent holding far more open tickets than
//! their teammates, more tickets at risk of breaching their SLA than the
//! day before held. Thresholds: docs/METRICS.md.

use serde::Serialize;

/// What the checks read.
#[derive(Debug, Clone, Default)]
pub struct Load {
    /// (arrived, solved) per day, oldest first, today last.
    pub days: Vec<(i64, i64)>,
    /// Per team: id, name, unsolved tickets, active members.
    pub teams: Vec<(i64, String, i64, i64)>,
    /// Per agent: id, name, team, open tickets assigned.
    pub agents: Vec<(i64, String, Option<i64>, i64)>,
    /// Unsolved tickets at risk of breaching an SLA target: the hourly
    /// counts of the last 24 hours, oldest first, and the count now last.
    pub sla_at_risk: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Bottleneck {
    /// `backlog_growing`, `team_overloaded`, `agent_overloaded` or `sla_risk_rising`.
    pub kind: String,
    /// What it is about: `department`, `team:<id>` or `agent:<id>`.
    pub subject: String,
    pub text: String,
}

/// 2 as "2", 2.5 as "2.5".
fn number(x: f64) -> String {
    if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.1}") }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// The bottlenecks in `load`.
pub fn bottlenecks(load: &Load) -> Vec<Bottleneck> {
    let mut out = Vec::new();
    // Backlog growing: the last 7 full days (today is not over).
    let full: Vec<(i64, i64)> = load.days.iter().rev().skip(1).take(7).copied().collect();
    if full.len() == 7 {
        let (arrived, solved): (i64, i64) = full.iter().fold((0, 0), |a, d| (a.0 + d.0, a.1 + d.1));
        let growing_days = full.iter().filter(|d| d.0 > d.1).count();
        let excess = arrived - solved;
        if growing_days >= 5 && excess >= 5 && excess as f64 >= 0.1 * solved.max(1) as f64 {
            out.push(Bottleneck {
                kind: "backlog_growing".into(),
                subject: "department".into(),
                text: format!(
                    "The backlog is growing: {arrived} tickets arrived and {solved} were solved in the last 7 days (+{excess}); more arrived than were solved on {growing_days} of them"
                ),
            });
        }
    }
    // A team's backlog per agent against the other teams'.
    let per_agent: Vec<(i64, &str, f64)> =
        load.teams.iter().filter(|t| t.3 > 0).map(|t| (t.0, t.1.as_str(), t.2 as f64 / t.3 as f64)).collect();
    for (id, name, load_per) in &per_agent {
        let others = median(per_agent.iter().filter(|o| o.0 != *id).map(|o| o.2).collect());
        if let Some(others) = others
            && *load_per >= 2.0 * others.max(1.0)
            && *load_per - others >= 5.0
        {
            out.push(Bottleneck {
                kind: "team_overloaded".into(),
                subject: format!("team:{id}"),
                text: format!(
                    "{name} has {load_per:.1} unsolved tickets per agent, {:.1}× the other teams ({others:.1})",
                    load_per / others.max(1.0)
                ),
            });
        }
    }
    // An agent's open tickets against their team's median.
    for (id, name, team, open) in &load.agents {
        let mates = median(load.agents.iter().filter(|a| a.2 == *team && a.0 != *id).map(|a| a.3 as f64).collect());
        if let Some(mates) = mates
            && *open as f64 >= 2.0 * mates.max(1.0)
            && *open >= 10
        {
            out.push(Bottleneck {
                kind: "agent_overloaded".into(),
                subject: format!("agent:{id}"),
                text: format!(
                    "{name} has {open} open tickets, {:.1}× the team's median ({})",
                    *open as f64 / mates.max(1.0),
                    number(mates)
                ),
            });
        }
    }
    // SLA at risk now against the day's usual count.
    if let Some((now, earlier)) = load.sla_at_risk.split_last()
        && earlier.len() >= 6
        && let Some(usual) = median(earlier.iter().map(|n| *n as f64).collect())
        && *now >= 5
        && *now as f64 >= 2.0 * usual.max(1.0)
    {
        out.push(Bottleneck {
            kind: "sla_risk_rising".into(),
            subject: "department".into(),
            text: format!(
                "SLA at risk is rising: {now} unsolved tickets are near or past an SLA target, against a usual {} over the last day",
                number(usual)
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growing_backlog_overloaded_team_and_agent_are_found() {
        // Six of seven days with more arrivals than solves, +10 in all; today ignored.
        let days = vec![(10, 12), (12, 10), (12, 10), (12, 10), (12, 10), (12, 10), (12, 10), (50, 0)];
        let load = Load {
            days,
            teams: vec![(1, "Billing".into(), 60, 4), (2, "Tech".into(), 20, 4), (3, "Sales".into(), 12, 3)],
            agents: vec![
                (7, "Lena".into(), Some(1), 30),
                (8, "Tom".into(), Some(1), 12),
                (9, "Ana".into(), Some(1), 14),
            ],
            sla_at_risk: vec![],
        };
        let found = bottlenecks(&load);
        let kinds: Vec<&str> = found.iter().map(|b| b.kind.as_str()).collect();
        assert_eq!(kinds, vec!["backlog_growing", "team_overloaded", "agent_overloaded"], "{found:?}");
        assert!(
            found[0].text.contains("82 tickets arrived and 72 were solved") && found[0].text.contains("(+10)"),
            "{}",
            found[0].text
        );
        assert_eq!(found[1].text, "Billing has 15.0 unsolved tickets per agent, 3.3× the other teams (4.5)");
        assert_eq!(found[2].text, "Lena has 30 open tickets, 2.3× the team's median (13)");
    }

    #[test]
    fn a_steady_department_raises_nothing() {
        let load = Load {
            days: vec![(10, 10); 8],
            teams: vec![(1, "Billing".into(), 12, 4), (2, "Tech".into(), 10, 4)],
            agents: vec![(7, "Lena".into(), Some(1), 9), (8, "Tom".into(), Some(1), 4)],
            sla_at_risk: vec![3, 4, 4, 5, 3, 4, 7],
        };
        assert!(bottlenecks(&load).is_empty(), "7 at risk is under twice the usual 4");
    }

    #[test]
    fn sla_at_risk_rising_against_the_days_median() {
        // Hourly counts 2, 3, 3, 4, 2, 3 (median 3), now 6: twice the usual.
        let load = |now: i64, earlier: &[i64]| Load {
            sla_at_risk: earlier.iter().copied().chain([now]).collect(),
            ..Load::default()
        };
        let found = bottlenecks(&load(6, &[2, 3, 3, 4, 2, 3]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].text,
            "SLA at risk is rising: 6 unsolved tickets are near or past an SLA target, against a usual 3 over the last day"
        );
        assert!(bottlenecks(&load(5, &[2, 3, 3, 4, 2, 3])).is_empty(), "under twice");
        assert!(bottlenecks(&load(4, &[0, 0, 0, 0, 0, 0])).is_empty(), "fewer than 5 is no alarm");
        assert!(bottlenecks(&load(40, &[2, 3, 3, 4, 2])).is_empty(), "too little history to judge");
    }
}
