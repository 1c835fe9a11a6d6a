//! Major incidents: a problem ticket that gathers the incidents of many
//! customers, a rule that links new tickets to it while it is active, and
//! surge detection that tells managers when a tag arrives far faster than
//! usual.

use serde::{Deserialize, Serialize};

use crate::{DomainError, Millis, Ticket, TicketId};

/// Which new tickets join an active problem by themselves: any of the
/// words in the subject or first message, or any of the tags.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentMatch {
    pub words: Vec<String>,
    pub tags: Vec<String>,
}

/// A problem ticket and whether it is a major incident now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MajorIncident {
    pub problem_id: TicketId,
    pub title: String,
    /// Active: agents see a banner and new tickets may be linked by `matching`.
    pub active: bool,
    pub matching: IncidentMatch,
    pub linked: i64,
    pub created_at: Millis,
}

impl IncidentMatch {
    pub fn check(&self) -> Result<(), DomainError> {
        if self.words.iter().chain(&self.tags).any(|w| w.trim().is_empty()) {
            return Err(DomainError::new("matching", "words and tags must not be empty"));
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.tags.is_empty()
    }

    pub fn matches(&self, t: &Ticket, message: &str) -> bool {
        if self.tags.iter().any(|tag| t.tags.iter().any(|x| x.eq_ignore_ascii_case(tag))) {
            return true;
        }
        let words = super::phrase::Words::of(&format!("{} {}", t.subject, message));
        self.words.iter().any(|w| words.has(w))
    }
}

/// A surge: `recent` tickets in the last window against a usual rate of
/// `baseline` per window (the mean over the earlier windows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Surge {
    pub tag: String,
    pub recent: i64,
    pub baseline: f64,
    pub ratio: f64,
}

/// Surge settings: the multiple of the usual rate, and the fewest tickets
/// in the window that can count as a surge (so 2 instead of 0 is not one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SurgeRules {
    pub multiple: f64,
    pub min_tickets: i64,
    /// Length of one window, in minutes; the baseline spans `baseline_windows` earlier ones.
    pub window_minutes: i64,
    pub baseline_windows: i64,
}

impl Default for SurgeRules {
    fn default() -> Self {
        Self { multiple: 3.0, min_tickets: 5, window_minutes: 60, baseline_windows: 168 }
    }
}

impl SurgeRules {
    pub fn check(&self) -> Result<(), DomainError> {
        if !(self.multiple >= 1.0 && self.min_tickets >= 1 && self.window_minutes >= 5 && self.baseline_windows >= 1) {
            return Err(DomainError::new(
                "surge",
                "multiple ≥ 1, min_tickets ≥ 1, window_minutes ≥ 5, baseline_windows ≥ 1",
            ));
        }
        Ok(())
    }

    /// Whether `recent` tickets in the window, against `earlier` tickets in
    /// the baseline windows before it, is a surge. An empty baseline counts
    /// as a rate of one ticket per baseline span, so a brand-new tag needs
    /// `min_tickets` and `multiple` times that.
    pub fn surge(&self, tag: &str, recent: i64, earlier: i64) -> Option<Surge> {
        let baseline = (earlier as f64 / self.baseline_windows as f64).max(1.0 / self.baseline_windows as f64);
        let ratio = recent as f64 / baseline;
        (recent >= self.min_tickets && ratio >= self.multiple).then(|| Surge {
            tag: tag.to_string(),
            recent,
            baseline,
            ratio: (ratio * 10.0).round() / 10.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surges_need_both_the_multiple_and_the_minimum() {
        let r = SurgeRules::default();
        // Usually 2 an hour (336 in a week); 12 in the last hour: 6×.
        let s = r.surge("export", 12, 336).unwrap();
        assert_eq!(s.ratio, 6.0);
        assert!(r.surge("export", 5, 336).is_none(), "2.5× is under the multiple");
        assert!(r.surge("rare", 4, 0).is_none(), "under the minimum");
        assert!(r.surge("new", 5, 0).is_some());
    }

    #[test]
    fn incidents_match_by_tag_or_words() {
        let t = crate::rules::condition::tests::ticket();
        let m = IncidentMatch { words: vec!["is down".into()], tags: vec![] };
        assert!(m.matches(&t, ""));
        let m = IncidentMatch { words: vec![], tags: vec!["EXPORT".into()] };
        assert!(m.matches(&t, ""));
        let m = IncidentMatch { words: vec!["login".into()], tags: vec!["sso".into()] };
        assert!(!m.matches(&t, "cannot export"));
    }
}
