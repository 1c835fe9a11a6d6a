//! The headline KPIs as every report shows them: this period, the one
//! before, and how far each moved, better or worse (docs/METRICS.md
//! "Compared with the period before").

use insight::kpi::{Distribution, Rate};

use super::{CockpitReport, duration_text, handle_text};

/// Which way a KPI is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Better {
    Higher,
    Lower,
    /// Neither way is better by itself (volumes, handle time).
    Neither,
}

/// How far a KPI moved against the period before.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// `+12%` for counts and times (relative), `−1.4 pts` for rates and
    /// NPS (percentage points), `+0.2` for CES.
    pub text: String,
    /// Better or worse; none when neither way is better or nothing moved.
    pub better: Option<bool>,
}

impl Change {
    /// The verdict as a word: `better`, `worse`, or empty.
    pub fn direction(&self) -> &'static str {
        match self.better {
            Some(true) => "better",
            Some(false) => "worse",
            None => "",
        }
    }

    /// The change with its verdict in words: `+12% (worse)`.
    pub fn label(&self) -> String {
        match self.direction() {
            "" => self.text.clone(),
            word => format!("{} ({word})", self.text),
        }
    }
}

/// One headline KPI.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryLine {
    pub name: String,
    pub now: String,
    pub before: String,
    /// None when either period has no value, or (relative) the one before is 0.
    pub change: Option<Change>,
}

/// `+3`, `−3`, `0` with one decimal when `decimals` is 1.
fn signed(v: f64, decimals: usize, unit: &str) -> String {
    let magnitude = format!("{:.*}", decimals, v.abs());
    let zero = magnitude.chars().all(|c| c == '0' || c == '.');
    match (zero, v > 0.0) {
        (true, _) => format!("0{unit}"),
        (false, true) => format!("+{magnitude}{unit}"),
        (false, false) => format!("−{magnitude}{unit}"),
    }
}

fn verdict(moved: f64, better: Better) -> Option<bool> {
    match better {
        _ if moved == 0.0 => None,
        Better::Higher => Some(moved > 0.0),
        Better::Lower => Some(moved < 0.0),
        Better::Neither => None,
    }
}

/// The relative change, rounded to a whole percent.
fn relative(now: Option<f64>, before: Option<f64>, better: Better) -> Option<Change> {
    let (a, b) = (now?, before?);
    if b == 0.0 {
        return None;
    }
    let percent = ((a - b) / b.abs() * 100.0).round();
    Some(Change { text: signed(percent, 0, "%"), better: verdict(percent, better) })
}

/// The difference, × `scale`, rounded to one decimal.
fn difference(now: Option<f64>, before: Option<f64>, scale: f64, unit: &str, better: Better) -> Option<Change> {
    let moved = (((now? - before?) * scale) * 10.0).round() / 10.0;
    Some(Change { text: signed(moved, 1, unit), better: verdict(moved, better) })
}

fn share_text(r: &Rate) -> String {
    r.rate.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_else(|| "–".into())
}

fn median(d: &Distribution) -> f64 {
    d.median
}

fn p90(d: &Distribution) -> f64 {
    d.p90 as f64
}

/// The headline KPIs of a report, in the order every report shows them.
pub fn summary_lines(r: &CockpitReport) -> Vec<SummaryLine> {
    use Better::{Higher, Lower, Neither};
    let (k, p) = (&r.kpis, &r.previous);
    let (s, ps) = (&r.satisfaction, &r.previous_satisfaction);
    let pct = |x: Option<f64>| x.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "–".into());
    let num = |x: Option<f64>| x.map(|v| format!("{v:.1}")).unwrap_or_else(|| "–".into());
    let line = |name: &str, now: String, before: String, change: Option<Change>| SummaryLine {
        name: name.to_string(),
        now,
        before,
        change,
    };
    let count = |name: &str, a: i64, b: i64| {
        line(name, a.to_string(), b.to_string(), relative(Some(a as f64), Some(b as f64), Neither))
    };
    let time = |name: &str, a: &Option<Distribution>, b: &Option<Distribution>, of: fn(&Distribution) -> f64| {
        let (a, b) = (a.as_ref().map(of), b.as_ref().map(of));
        let text = |v: Option<f64>| v.map(duration_text).unwrap_or_else(|| "–".into());
        line(name, text(a), text(b), relative(a, b, Lower))
    };
    let share = |name: &str, a: &Rate, b: &Rate, better: Better| {
        line(name, share_text(a), share_text(b), difference(a.rate, b.rate, 100.0, " pts", better))
    };
    let handle = |d: &Option<Distribution>| d.as_ref().map(|d| d.mean);
    vec![
        count("Tickets created", k.created, p.created),
        count("Tickets solved", k.solved, p.solved),
        time("First reply, median", &k.first_reply.calendar, &p.first_reply.calendar, median),
        time("First reply, 90th percentile", &k.first_reply.calendar, &p.first_reply.calendar, p90),
        time("First reply, median in business hours", &k.first_reply.business, &p.first_reply.business, median),
        time("Next reply, median", &k.next_reply.calendar, &p.next_reply.calendar, median),
        time("Full resolution, median", &k.full_resolution.calendar, &p.full_resolution.calendar, median),
        time("Full resolution, 90th percentile", &k.full_resolution.calendar, &p.full_resolution.calendar, p90),
        time("Requester wait, median", &k.requester_wait.calendar, &p.requester_wait.calendar, median),
        share("One-touch resolution", &k.one_touch, &p.one_touch, Higher),
        share("No further contact", &k.no_further_contact, &p.no_further_contact, Higher),
        share("Reopen rate", &k.reopen_rate, &p.reopen_rate, Lower),
        line(
            "Average handle time (AHT)",
            handle(&k.handle_time.calendar).map(handle_text).unwrap_or_else(|| "–".into()),
            handle(&p.handle_time.calendar).map(handle_text).unwrap_or_else(|| "–".into()),
            relative(handle(&k.handle_time.calendar), handle(&p.handle_time.calendar), Neither),
        ),
        share("SLA first reply attained", &k.sla_first_reply, &p.sla_first_reply, Higher),
        share("SLA next reply attained", &k.sla_next_reply, &p.sla_next_reply, Higher),
        share("SLA resolution attained", &k.sla_resolution, &p.sla_resolution, Higher),
        line("CSAT", pct(s.csat.csat), pct(ps.csat.csat), difference(s.csat.csat, ps.csat.csat, 100.0, " pts", Higher)),
        line("NPS", num(s.nps.nps), num(ps.nps.nps), difference(s.nps.nps, ps.nps.nps, 1.0, " pts", Higher)),
        line("CES", num(s.ces.ces), num(ps.ces.ces), difference(s.ces.ces, ps.ces.ces, 1.0, "", Higher)),
        line(
            "eNPS (agents' latest pulse)",
            r.enps.as_ref().map(|e| format!("{:.0} ({} answers)", e.enps, e.answers)).unwrap_or_else(|| "–".into()),
            "–".into(),
            None,
        ),
        line("Backlog now", r.backlog.total.to_string(), "–".into(), None),
        line(
            "Cost per ticket",
            r.cost_per_ticket_cents.map(|c| format!("{:.2}", c as f64 / 100.0)).unwrap_or_else(|| "–".into()),
            "–".into(),
            None,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_say_how_far_and_which_way() {
        // Times: relative, lower is better; 60 → 75 minutes is 25% worse.
        let c = relative(Some(75.0), Some(60.0), Better::Lower).unwrap();
        assert_eq!((c.text.as_str(), c.better, c.label().as_str()), ("+25%", Some(false), "+25% (worse)"));
        assert_eq!(relative(Some(45.0), Some(60.0), Better::Lower).unwrap().label(), "−25% (better)");
        // Volumes have no better way; nothing to compare with 0 or with none.
        assert_eq!(relative(Some(110.0), Some(100.0), Better::Neither).unwrap().label(), "+10%");
        assert_eq!(relative(Some(3.0), Some(0.0), Better::Neither), None);
        assert_eq!(relative(None, Some(1.0), Better::Lower), None);
        // Rates in percentage points: 85.6% → 88.8% is 3.2 points better.
        let c = difference(Some(0.888), Some(0.856), 100.0, " pts", Better::Higher).unwrap();
        assert_eq!(c.label(), "+3.2 pts (better)");
        assert_eq!(
            difference(Some(0.05), Some(0.062), 100.0, " pts", Better::Lower).unwrap().label(),
            "−1.2 pts (better)"
        );
        // Unmoved at the shown precision: no verdict, no sign.
        let c = difference(Some(0.9991), Some(0.9990), 100.0, " pts", Better::Higher).unwrap();
        assert_eq!((c.text.as_str(), c.better), ("0 pts", None));
        assert_eq!(relative(Some(100.2), Some(100.0), Better::Lower).unwrap().label(), "0%");
    }
}
