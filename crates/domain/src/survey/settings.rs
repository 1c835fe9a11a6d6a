//! What a manager sets about surveys: which are sent, when, how often a
//! customer may be asked, and the invitation's words.

use minijinja::context;
use serde::{Deserialize, Serialize};

use super::CsatScale;
use crate::macros::{MacroContext, environment};
use crate::{Channel, DomainError, Millis};

const DAY: Millis = 86_400_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SurveySettings {
    /// CSAT after a ticket is solved.
    pub csat_enabled: bool,
    pub csat_scale: CsatScale,
    /// Minutes after solving before the survey goes out (a reopened
    /// ticket is not asked).
    pub csat_delay_minutes: i64,
    /// Channels whose tickets are asked.
    pub csat_channels: Vec<Channel>,
    /// CES asked on the same answer page, after the CSAT answer.
    pub ces_enabled: bool,
    /// Reason codes offered with a bad CSAT answer.
    pub reasons: Vec<String>,
    /// NPS to a sample of customers on a schedule.
    pub nps_enabled: bool,
    /// Share of eligible customers asked each run, in percent.
    pub nps_sample_percent: i64,
    /// A customer is asked NPS at most once in this many days.
    pub nps_interval_days: i64,
    /// A customer gets at most one survey of any kind in this many days.
    pub min_days_between_surveys: i64,
    /// Answer links work this many days.
    pub link_valid_days: i64,
    pub csat_subject: String,
    pub csat_body: String,
    pub nps_subject: String,
    pub nps_body: String,
}

impl Default for SurveySettings {
    fn default() -> Self {
        Self {
            csat_enabled: true,
            csat_scale: CsatScale::GoodBad,
            csat_delay_minutes: 60,
            csat_channels: vec![Channel::Email, Channel::Web, Channel::Chat, Channel::Api],
            ces_enabled: false,
            reasons: ["slow", "not_resolved", "unhelpful", "rude", "other"].map(String::from).to_vec(),
            nps_enabled: false,
            nps_sample_percent: 10,
            nps_interval_days: 90,
            min_days_between_surveys: 0,
            link_valid_days: 28,
            csat_subject: "How did we do? [#{{ ticket.number }}]".into(),
            csat_body: "Hello {{ customer.first_name }},\n\nyour request \"{{ ticket.subject }}\" was solved. \
                        How would you rate the support you received?\n\n{{ survey.choices }}\n\n\
                        Thank you for helping us improve."
                .into(),
            nps_subject: "A quick question".into(),
            nps_body: "Hello {{ customer.first_name }},\n\nhow likely are you to recommend us to a friend or \
                       colleague? Answer with one click:\n\n{{ survey.link }}\n\nThank you."
                .into(),
        }
    }
}

impl SurveySettings {
    /// Checks every field, naming the ones that are wrong.
    pub fn parse(self) -> Result<Self, Vec<DomainError>> {
        let mut errors = Vec::new();
        let mut range = |field: &str, v: i64, lo: i64, hi: i64| {
            if !(lo..=hi).contains(&v) {
                errors.push(DomainError::new(field, format!("must be from {lo} to {hi}")));
            }
        };
        range("csat_delay_minutes", self.csat_delay_minutes, 0, 30 * 24 * 60);
        range("nps_sample_percent", self.nps_sample_percent, 1, 100);
        range("nps_interval_days", self.nps_interval_days, 1, 3650);
        range("min_days_between_surveys", self.min_days_between_surveys, 0, 3650);
        range("link_valid_days", self.link_valid_days, 1, 365);
        for (field, t) in [
            ("csat_subject", &self.csat_subject),
            ("csat_body", &self.csat_body),
            ("nps_subject", &self.nps_subject),
            ("nps_body", &self.nps_body),
        ] {
            if t.trim().is_empty() {
                errors.push(DomainError::new(field, "must not be empty"));
            } else if let Err(e) = environment().template_from_str(t) {
                errors.push(DomainError::new(field, format!("placeholder error: {e}")));
            }
        }
        if self.reasons.iter().any(|r| r.trim().is_empty() || r.len() > 60) {
            errors.push(DomainError::new("reasons", "each reason must be 1 to 60 characters"));
        }
        if errors.is_empty() { Ok(self) } else { Err(errors) }
    }

    pub fn link_valid_ms(&self) -> Millis {
        self.link_valid_days * DAY
    }

    /// The earliest time a customer last surveyed at `last` may be asked again.
    pub fn next_allowed(&self, last: Millis, nps: bool) -> Millis {
        let days =
            if nps { self.nps_interval_days.max(self.min_days_between_surveys) } else { self.min_days_between_surveys };
        last + days * DAY
    }
}

/// An invitation's subject or body with its placeholders filled:
/// the macro placeholders, and `survey.link` (the answer page) and
/// `survey.choices` (one line per score with its one-click link).
pub fn render(template: &str, ctx: &MacroContext<'_>, link: &str, choices: &str) -> Result<String, DomainError> {
    let env = environment();
    let t = env.template_from_str(template).map_err(|e| DomainError::new("template", e.to_string()))?;
    t.render(context! { survey => context! { link => link, choices => choices }, ..ctx.values() })
        .map_err(|e| DomainError::new("template", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_bad_values_are_named() {
        assert!(SurveySettings::default().parse().is_ok());
        let bad = SurveySettings {
            csat_delay_minutes: -1,
            link_valid_days: 0,
            csat_body: "{{ survey.link ".into(),
            ..SurveySettings::default()
        };
        let fields: Vec<String> = bad.parse().err().unwrap_or_default().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["csat_delay_minutes", "link_valid_days", "csat_body"]);
    }

    #[test]
    fn templates_fill_in() {
        let ctx = MacroContext {
            ticket_number: 7,
            ticket_subject: "Export fails",
            customer_name: "Ann Lee",
            customer_email: "ann@example.com",
            agent_name: "Bo",
            agent_email: "",
        };
        let s = SurveySettings::default();
        let body = render(&s.csat_body, &ctx, "https://x/s/t", "Good: https://x/s/t?score=1").unwrap_or_default();
        assert!(body.starts_with("Hello Ann,"), "{body}");
        assert!(body.contains("\"Export fails\""));
        assert!(body.contains("Good: https://x/s/t?score=1"));
        assert_eq!(render(&s.csat_subject, &ctx, "", "").unwrap_or_default(), "How did we do? [#7]");
    }

    #[test]
    fn frequency_caps() {
        let s = SurveySettings { min_days_between_surveys: 7, nps_interval_days: 90, ..SurveySettings::default() };
        assert_eq!(s.next_allowed(0, false), 7 * DAY);
        assert_eq!(s.next_allowed(0, true), 90 * DAY);
    }
}
