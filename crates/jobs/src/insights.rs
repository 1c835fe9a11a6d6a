//! Customer insights of a period: the topics of ticket subjects and survey
//! comments (the manager's, or found ones), each with its daily volume,
//! CSAT, quotes, affected customers and their value, and a spike when its
//! volume ends well above its seasonal baseline; and the root causes of bad
//! ratings. Read from storage, computed by `insight`; the page, the API,
//! the export, the spike alert and the weekly digest all use it.

use std::collections::{HashMap, HashSet};

use domain::Millis;
use domain::survey::{Feedback, FeedbackFilter, Rating, SurveyKind};
use insight::feedback::FeedbackSummary;
use insight::root_causes::{Cause, Rated};
use insight::topics::{Analyser, TopicDef, find_topics_in};
use insight::trends::{Spike, SpikeRules, spike};
use serde::Serialize;
use store::{PageRequest, Store, StoreError, TicketSubject};

/// Where the manager's topics are kept (`Store::setting`).
pub const TOPICS_KEY: &str = "topics";
const DAY: Millis = 86_400_000;
/// Most tickets and answers read for one report.
const MAX_TICKETS: u32 = 200_000;
const MAX_FEEDBACK: usize = 50_000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TopicReport {
    pub name: String,
    /// Whether the manager defined it (else it was found in the texts).
    pub defined: bool,
    pub terms: Vec<String>,
    pub tag: Option<String>,
    pub tickets: usize,
    /// Tickets per local day of the period, oldest first.
    pub daily: Vec<i64>,
    pub csat: Option<f64>,
    /// CSAT per 7 days of the period, oldest first (by the ticket's day;
    /// the last may be shorter); none for a week without answers.
    pub csat_weekly: Vec<Option<f64>>,
    pub csat_answers: usize,
    /// Up to three things customers said, the most negative first.
    pub quotes: Vec<String>,
    pub customers: usize,
    /// The affected customers' value per year, in cents.
    pub customer_value_cents: i64,
    pub spike: Option<SpikeReport>,
    /// Tickets tagged or worded as feature requests.
    pub feature_requests: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpikeReport {
    /// The local date the spike began, `2026-12-01`.
    pub since: String,
    /// Its weekday, `Tuesday`.
    pub since_weekday: String,
    #[serde(flatten)]
    pub spike: Spike,
    /// The sentence an alert says.
    pub text: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InsightReport {
    pub from: Millis,
    pub to: Millis,
    pub days: usize,
    pub tickets: usize,
    pub summary: FeedbackSummary,
    pub topics: Vec<TopicReport>,
    /// Topics found in the texts, for the manager to name and keep.
    pub suggested: Vec<TopicReport>,
    pub causes: Vec<Cause>,
}

/// The manager's topics (none until some are saved).
pub async fn topic_defs(store: &dyn Store) -> Result<Vec<TopicDef>, StoreError> {
    Ok(store.setting(TOPICS_KEY).await?.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default())
}

async fn time_zone(store: &dyn Store) -> jiff::tz::TimeZone {
    let name = store.instance_settings().await.map(|s| s.time_zone).unwrap_or_else(|_| "UTC".into());
    jiff::tz::TimeZone::get(&name).unwrap_or(jiff::tz::TimeZone::UTC)
}

fn local_date(ms: Millis, tz: &jiff::tz::TimeZone) -> Option<jiff::civil::Date> {
    jiff::Timestamp::from_millisecond(ms).ok().map(|t| t.to_zoned(tz.clone()).date())
}

/// Sentences that ask for something new.
fn is_feature_request(text: &str, tags: &[String]) -> bool {
    let t = text.to_lowercase();
    tags.iter().any(|g| g == "feature-request" || g == "feature_request")
        || ["feature request", "would be great if", "would love", "please add", "it would be nice", "wish you"]
            .iter()
            .any(|p| t.contains(p))
}

/// The report of the `days` local days up to `now` (today included).
pub async fn report(store: &dyn Store, now: Millis, days: usize) -> Result<InsightReport, StoreError> {
    let days = days.clamp(7, 366);
    let tz = time_zone(store).await;
    let today = local_date(now, &tz).ok_or(StoreError::Corrupt("time out of range".into()))?;
    let first = today.checked_sub(jiff::Span::new().days(days as i64 - 1)).unwrap_or(today);
    let from = first.to_zoned(tz.clone()).map(|z| z.timestamp().as_millisecond()).unwrap_or(now - days as i64 * DAY);
    let tickets = store.ticket_subjects(from, now + 1, MAX_TICKETS).await?;
    let feedback = feedback_since(store, from).await?;
    let summary = insight::feedback::summarise(
        &store.score_counts(&FeedbackFilter { from: Some(from), ..Default::default() }).await?,
    );

    // Each ticket's text: its subject and what its customer wrote in surveys.
    let mut comments: HashMap<i64, Vec<&Feedback>> = HashMap::new();
    for f in &feedback {
        if let Some(t) = f.ticket_id {
            comments.entry(t.0).or_default().push(f);
        }
    }
    let texts: Vec<String> = tickets
        .iter()
        .map(|t| {
            let mut s = t.subject.clone();
            for f in comments.get(&t.id.0).into_iter().flatten() {
                if let Some(c) = &f.comment {
                    s.push_str(". ");
                    s.push_str(c);
                }
            }
            s
        })
        .collect();
    let analyser = Analyser::default();
    let tokenized: Vec<Vec<(String, String)>> = texts.iter().map(|t| analyser.terms(t)).collect();
    let terms: Vec<HashSet<String>> = tokenized.iter().map(|t| t.iter().map(|x| x.0.clone()).collect()).collect();
    let day_of: Vec<Option<usize>> = tickets
        .iter()
        .map(|t| local_date(t.created_at, &tz).and_then(|d| first.until(d).ok()).map(|s| s.get_days() as usize))
        .collect();
    let ctx = Context {
        tickets: &tickets,
        texts: &texts,
        comments: &comments,
        day_of: &day_of,
        days,
        first,
        rules: SpikeRules::default(),
    };

    let defs = topic_defs(store).await?;
    let topics: Vec<(TopicReport, Vec<usize>)> = defs
        .iter()
        .map(|d| {
            let stems = d.stems(&analyser);
            let members: Vec<usize> =
                (0..tickets.len()).filter(|i| d.matches_stems(&stems, &terms[*i], &tickets[*i].tags)).collect();
            (ctx.topic(d.name.clone(), true, d.terms.clone(), d.tag.clone(), &members), members)
        })
        .collect();
    let min_texts = (tickets.len() / 200).max(3);
    let suggested: Vec<(TopicReport, Vec<usize>)> = find_topics_in(&tokenized, 12, min_texts)
        .into_iter()
        .map(|f| {
            let terms = f.terms.iter().take(6).cloned().collect();
            (ctx.topic(f.label.clone(), false, terms, None, &f.texts), f.texts)
        })
        .collect();

    // Root causes: each CSAT answer with its reason, the ticket's tags and topics.
    let shown = if topics.is_empty() { &suggested } else { &topics };
    let index: HashMap<i64, usize> = tickets.iter().enumerate().map(|(i, t)| (t.id.0, i)).collect();
    let mut topic_of: HashMap<usize, Vec<&str>> = HashMap::new();
    for (t, members) in shown {
        for i in members {
            topic_of.entry(*i).or_default().push(&t.name);
        }
    }
    let rated: Vec<Rated> = feedback
        .iter()
        .filter(|f| f.kind == SurveyKind::Csat)
        .map(|f| {
            let mut attributes: Vec<String> = f.reason.iter().map(|r| format!("reason:{r}")).collect();
            if let Some(i) = f.ticket_id.and_then(|t| index.get(&t.0)) {
                attributes.extend(tickets[*i].tags.iter().map(|g| format!("tag:{g}")));
                attributes.extend(topic_of.get(i).into_iter().flatten().map(|n| format!("topic:{n}")));
            }
            Rated { good: f.rating == Rating::Good, attributes }
        })
        .collect();
    let causes = insight::root_causes::rank(&rated, 3).into_iter().take(15).collect();
    let by_volume = |mut v: Vec<(TopicReport, Vec<usize>)>| {
        v.sort_by(|a, b| b.0.tickets.cmp(&a.0.tickets).then_with(|| a.0.name.cmp(&b.0.name)));
        v.into_iter().map(|(t, _)| t).collect::<Vec<_>>()
    };
    Ok(InsightReport {
        from,
        to: now,
        days,
        tickets: tickets.len(),
        summary,
        topics: by_volume(topics),
        suggested: by_volume(suggested),
        causes,
    })
}

async fn feedback_since(store: &dyn Store, from: Millis) -> Result<Vec<Feedback>, StoreError> {
    let filter = FeedbackFilter { from: Some(from), ..Default::default() };
    let mut out = Vec::new();
    let mut after = None;
    while out.len() < MAX_FEEDBACK {
        let page = store.feedback_list(&filter, PageRequest { after, limit: 1000 }).await?;
        out.extend(page.items);
        match page.next {
            Some(c) => after = Some(c.id),
            None => break,
        }
    }
    Ok(out)
}

struct Context<'a> {
    tickets: &'a [TicketSubject],
    texts: &'a [String],
    comments: &'a HashMap<i64, Vec<&'a Feedback>>,
    day_of: &'a [Option<usize>],
    days: usize,
    first: jiff::civil::Date,
    rules: SpikeRules,
}

impl Context<'_> {
    fn topic(
        &self,
        name: String,
        defined: bool,
        terms: Vec<String>,
        tag: Option<String>,
        members: &[usize],
    ) -> TopicReport {
        let mut daily = vec![0_i64; self.days];
        let mut customers: HashMap<i64, i64> = HashMap::new();
        let (mut good, mut answers, mut feature_requests) = (0, 0, 0);
        // Good and all CSAT answers per 7 days of the period, by the ticket's day.
        let mut weekly = vec![(0_i64, 0_i64); self.days.div_ceil(7)];
        let mut quotes: Vec<(f64, String)> = Vec::new();
        for &i in members {
            let t = &self.tickets[i];
            let day = self.day_of[i].filter(|d| *d < self.days);
            if let Some(d) = day {
                daily[d] += 1;
            }
            customers.insert(t.requester_id.0, t.customer_value_cents.unwrap_or(0));
            if is_feature_request(&self.texts[i], &t.tags) {
                feature_requests += 1;
            }
            for f in self.comments.get(&t.id.0).into_iter().flatten() {
                if f.kind == SurveyKind::Csat {
                    answers += 1;
                    let is_good = f.rating == Rating::Good;
                    if is_good {
                        good += 1;
                    }
                    if let Some(w) = day.map(|d| d / 7) {
                        weekly[w].0 += i64::from(is_good);
                        weekly[w].1 += 1;
                    }
                }
                if let Some(c) = &f.comment {
                    quotes.push((f.sentiment.unwrap_or(0.0), c.clone()));
                }
            }
        }
        quotes.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut quotes: Vec<String> = quotes.into_iter().map(|q| q.1).take(3).collect();
        if quotes.is_empty() {
            quotes = members.iter().rev().take(3).map(|i| self.tickets[*i].subject.clone()).collect();
        }
        let csat = (answers > 0).then(|| good as f64 / answers as f64);
        let counts: Vec<f64> = daily.iter().map(|c| *c as f64).collect();
        let spike = spike(&counts, &self.rules).map(|s| {
            let since = self.first.checked_add(jiff::Span::new().days(s.start as i64)).unwrap_or(self.first);
            let weekday = format!("{:?}", since.weekday());
            let mut text = format!(
                "A spike in tickets about {name} since {weekday}, {:.1}\u{d7} usual ({} against {:.0} expected)",
                s.ratio, s.observed, s.expected
            );
            if let Some(c) = csat {
                text.push_str(&format!(", CSAT {:.0}%", c * 100.0));
            }
            SpikeReport { since: since.to_string(), since_weekday: weekday, spike: s, text }
        });
        TopicReport {
            name,
            defined,
            terms,
            tag,
            tickets: members.len(),
            daily,
            csat,
            csat_weekly: weekly.iter().map(|(g, n)| (*n > 0).then(|| *g as f64 / *n as f64)).collect(),
            csat_answers: answers,
            quotes,
            customers: customers.len(),
            customer_value_cents: customers.values().sum(),
            spike,
            feature_requests,
        }
    }
}
