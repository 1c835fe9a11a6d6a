//! `/feedback`: the feedback inbox (filter by kind, rating, comment, team,
//! review and period; CSAT, NPS and CES of what is shown) and one answer's
//! page (review with a note, open a follow-up ticket, reply on the
//! ticket). `/insights`: topics with their daily volume, spikes, CSAT,
//! quotes and the customers affected, root causes of bad ratings, found
//! topics to keep, and the exports.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use domain::survey::Feedback;
use insight::topics::TopicDef;
use serde::Deserialize;

use super::charts::{daily_bars, share_bars};
use super::parts::form_errors;
use super::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};
use crate::AppState;
use crate::api::feedback::FeedbackQuery;
use crate::error::ApiError;
use crate::extract::Caller;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/feedback", get(inbox))
        .route("/feedback/{id}", get(answer))
        .route("/feedback/{id}/review", post(review))
        .route("/feedback/{id}/follow-up", post(follow_up))
        .route("/feedback/{id}/share", post(share))
        .route("/insights", get(insights).post(keep_topic))
}

const DAY: i64 = 86_400_000;

#[derive(Deserialize, Default)]
struct InboxQuery {
    kind: Option<String>,
    rating: Option<String>,
    with_comment: Option<String>,
    team_id: Option<String>,
    reviewed: Option<String>,
    days: Option<String>,
    after: Option<i64>,
}

fn some(s: &Option<String>) -> Option<String> {
    s.clone().filter(|v| !v.is_empty())
}

fn percent(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "–".into())
}

/// An answer's score as people read it: good/bad, or the number and its rating.
pub(crate) fn score_text(f: &Feedback) -> String {
    match (f.kind, f.scale) {
        (domain::survey::SurveyKind::Csat, domain::survey::CsatScale::GoodBad) => {
            if f.score == 1 {
                "good".into()
            } else {
                "bad".into()
            }
        }
        // NPS answers are named as NPS counts them.
        (domain::survey::SurveyKind::Nps, _) => {
            let group = match f.rating {
                domain::survey::Rating::Good => "promoter",
                domain::survey::Rating::Neutral => "passive",
                domain::survey::Rating::Bad => "detractor",
            };
            format!("{} ({group})", f.score)
        }
        _ => format!("{} ({})", f.score, f.rating),
    }
}

async fn inbox(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(q): Query<InboxQuery>,
) -> Result<Response, PageError> {
    caller.require(&state, domain::Action::UseWorkspace).await?;
    let shell = Shell::new(&state, &caller, "/feedback").await?;
    let days: i64 = some(&q.days).and_then(|d| d.parse().ok()).unwrap_or(30).clamp(1, 366);
    let api = FeedbackQuery {
        kind: some(&q.kind),
        rating: some(&q.rating),
        with_comment: Some(q.with_comment.as_deref() == Some("on")),
        team_id: some(&q.team_id).and_then(|t| t.parse().ok()),
        reviewed: match q.reviewed.as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
        from: Some(state.now() - days * DAY),
        ..Default::default()
    };
    let filter = api.filter()?;
    let page = state.store.feedback_list(&filter, store::PageRequest { after: q.after, limit: 50 }).await?;
    let summary = crate::api::feedback::summary(&state, &filter).await?;
    let directory = state.directory().await?;
    let name = |u: Option<domain::UserId>| {
        u.and_then(|u| directory.users.iter().find(|x| x.id == u)).map(|u| u.name.clone()).unwrap_or_default()
    };
    let team = |t: Option<domain::TeamId>| {
        t.and_then(|t| directory.teams.iter().find(|x| x.id == t)).map(|t| t.name.clone()).unwrap_or_default()
    };
    let opt = |pairs: &[(&str, &str)]| pairs.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect::<Vec<_>>();
    let mut teams = vec![(String::new(), "Any team".to_string())];
    teams.extend(directory.teams.iter().map(|t| (t.id.0.to_string(), t.name.clone())));
    let filters = Form::new(
        "filter",
        "/feedback",
        "Show",
        vec![
            Field::select(
                "kind",
                "Survey",
                some(&q.kind).unwrap_or_default(),
                opt(&[("", "Any"), ("csat", "CSAT"), ("nps", "NPS"), ("ces", "CES")]),
            ),
            Field::select(
                "rating",
                "Rating",
                some(&q.rating).unwrap_or_default(),
                opt(&[("", "Any"), ("bad", "Bad only"), ("neutral", "Neutral"), ("good", "Good")]),
            ),
            Field::check("with_comment", "With a comment", q.with_comment.as_deref() == Some("on")),
            Field::select("team_id", "Team", some(&q.team_id).unwrap_or_default(), teams),
            Field::select(
                "reviewed",
                "Reviewed",
                q.reviewed.clone().unwrap_or_default(),
                opt(&[("", "Either"), ("no", "Not yet"), ("yes", "Reviewed")]),
            ),
            Field::select(
                "days",
                "Period",
                days.to_string(),
                opt(&[("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days"), ("365", "Last year")]),
            ),
        ],
    )
    .get();
    let s = &summary.summary;
    let facts = vec![
        ("CSAT".to_string(), Cell::text(format!("{} of {} answers", percent(s.csat.csat), s.csat.answers))),
        (
            "NPS".to_string(),
            Cell::text(s.nps.nps.map(|n| format!("{n:.0} of {} answers", s.nps.answers)).unwrap_or_else(|| "–".into())),
        ),
        (
            "CES".to_string(),
            Cell::text(
                s.ces
                    .ces
                    .map(|c| format!("{c:.1} of 7, {} agreeing", percent(s.ces.agreeing)))
                    .unwrap_or_else(|| "–".into()),
            ),
        ),
        ("CSAT response rate".to_string(), Cell::text(percent(summary.csat_responses.rate()))),
    ];
    let rows = page
        .items
        .iter()
        .map(|f| {
            vec![
                Cell::link(shell.when(f.answered_at).text, format!("/feedback/{}", f.id)),
                Cell::text(f.kind.as_str().to_uppercase()),
                Cell::text(score_text(f)).class(format!("rating {}", f.rating)),
                Cell::text(f.reason.clone().unwrap_or_default().replace('_', " ")),
                Cell::text(f.comment.clone().unwrap_or_default()),
                match f.ticket_id {
                    Some(t) => Cell::link(format!("#{t}"), format!("/tickets/{t}")),
                    None => Cell::text(""),
                },
                Cell::text(name(f.agent_id)),
                Cell::text(team(f.team_id)),
                Cell::text(if f.reviewed_at.is_some() { "yes" } else { "" }),
            ]
        })
        .collect();
    let next = page.next.map(|c| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("kind", &q.kind),
            ("rating", &q.rating),
            ("with_comment", &q.with_comment),
            ("team_id", &q.team_id),
            ("reviewed", &q.reviewed),
        ] {
            if let Some(v) = some(v) {
                pairs.push((k, v));
            }
        }
        pairs.push(("days", days.to_string()));
        pairs.push(("after", c.id.to_string()));
        format!("/feedback?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
    });
    let sections = vec![
        Section::Form { title: None, form: filters },
        Section::Facts { title: Some("Of these answers".into()), facts },
        Section::Table {
            title: Some("Answers".into()),
            table: Table {
                head: vec!["Answered", "Survey", "Rating", "Reason", "Comment", "Ticket", "Agent", "Team", "Reviewed"],
                rows,
                empty: "No answers match.",
                next,
            },
        },
    ];
    Page::new(shell, "Feedback", sections).respond(axum::http::StatusCode::OK)
}

async fn answer_page(
    state: &AppState,
    caller: &Caller,
    id: i64,
    errors: &[domain::DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    let shell = Shell::new(state, caller, "/feedback").await?;
    let f = state.store.feedback(domain::FeedbackId(id)).await?.ok_or(ApiError::NotFound)?;
    let customer = state.store.customer(f.customer_id).await?;
    let mut facts = vec![
        ("Survey".to_string(), Cell::text(f.kind.as_str().to_uppercase())),
        ("Rating".to_string(), Cell::text(score_text(&f)).class(format!("rating {}", f.rating))),
        ("Reason".to_string(), Cell::text(f.reason.clone().unwrap_or_default().replace('_', " "))),
        ("Comment".to_string(), Cell::text(f.comment.clone().unwrap_or_default())),
        ("Sentiment".to_string(), Cell::text(f.sentiment.map(|s| format!("{s:.2}")).unwrap_or_default())),
        ("Answered".to_string(), Cell::text(shell.when(f.answered_at).text)),
        (
            "Customer".to_string(),
            Cell::link(
                customer.as_ref().map(|c| format!("{} <{}>", c.name, c.email)).unwrap_or_default(),
                format!("/customers/{}", f.customer_id),
            ),
        ),
        ("Tier".to_string(), Cell::text(f.tier.as_str())),
    ];
    if let Some(t) = f.ticket_id {
        facts.push((
            "Ticket".to_string(),
            Cell::link(format!("#{t} (reply to the customer there)"), format!("/tickets/{t}")),
        ));
    }
    if let Some(note) = &f.review_note {
        let when = f.reviewed_at.map(|r| shell.when(r).text).unwrap_or_default();
        facts.push(("Reviewed".to_string(), Cell::text(format!("{when}: {note}"))));
    }
    let mut sections = vec![Section::Facts { title: None, facts }];
    let directory = state.directory().await?;
    let colleagues = directory
        .users
        .iter()
        .filter(|u| u.active && Some(u.id) != caller.staff_id())
        .map(|u| (u.id.0.to_string(), u.name.clone(), false))
        .collect();
    let share = Form::new(
        "share",
        format!("/feedback/{id}/share"),
        "Share",
        vec![
            Field::checks("user_ids", "Tell", colleagues),
            Field::check("to_hooks", "Post to Slack and the other hooks", false),
            Field::text("note", "Note", ""),
        ],
    )
    .with_errors(errors);
    sections.push(Section::Form { title: Some("Share".into()), form: share });
    if caller.require(state, domain::Action::ManageFeedback).await.is_ok() {
        let review = Form::new(
            "review",
            format!("/feedback/{id}/review"),
            "Mark reviewed",
            vec![Field::area("note", "What was done", f.review_note.clone().unwrap_or_default(), 3)],
        )
        .with_errors(errors);
        sections.push(Section::Form { title: Some("Review".into()), form: review });
        let follow = Form::new("follow-up", format!("/feedback/{id}/follow-up"), "Open a follow-up ticket", vec![]);
        sections.push(Section::Form { title: Some("Follow up".into()), form: follow });
    }
    Page::new(shell, format!("Feedback #{id}"), sections).notice(notice).after_form(errors)
}

async fn answer(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    caller.require(&state, domain::Action::UseWorkspace).await?;
    answer_page(&state, &caller, id, &[], n.notice).await
}

async fn review(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    caller.require(&state, domain::Action::ManageFeedback).await?;
    match crate::api::feedback::review(&state, &caller, id, &form.text("note")).await {
        Ok(_) => Ok(see_other(&format!("/feedback/{id}"), Some("Marked reviewed."))),
        Err(e) => {
            let errors = form_errors(e)?;
            answer_page(&state, &caller, id, &errors, None).await
        }
    }
}

async fn share(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let input = crate::api::feedback::ShareInput {
        user_ids: form.all("user_ids").iter().filter_map(|u| u.parse().ok()).collect(),
        to_hooks: form.ticked("to_hooks"),
        note: Some(form.text("note")),
    };
    match crate::api::feedback::share(&state, &caller, id, &input).await {
        Ok(s) => {
            let notice = format!("Shared with {} colleagues and {} hooks.", s.told, s.hooks);
            Ok(see_other(&format!("/feedback/{id}"), Some(&notice)))
        }
        Err(e) => {
            let errors = form_errors(e)?;
            answer_page(&state, &caller, id, &errors, None).await
        }
    }
}

async fn follow_up(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    caller.require(&state, domain::Action::ManageFeedback).await?;
    let ticket = crate::api::feedback::open_follow_up(&state, &caller, id).await?;
    Ok(see_other(&format!("/tickets/{ticket}"), Some("Follow-up ticket opened.")))
}

#[derive(Deserialize)]
struct Period {
    days: Option<usize>,
}

async fn insights_page(
    state: &AppState,
    caller: &Caller,
    days: Option<usize>,
    errors: &[domain::DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    let shell = Shell::new(state, caller, "/insights").await?;
    let r = crate::api::insights::report(state, days).await?;
    let mut sections = vec![Section::Links {
        title: None,
        links: vec![
            Cell::link("Last 7 days", "/insights?days=7"),
            Cell::link("30 days", "/insights?days=30"),
            Cell::link("90 days", "/insights?days=90"),
            Cell::link("Download CSV", format!("/api/v1/insights.csv?days={}", r.days)),
            Cell::link("Download JSON", format!("/api/v1/insights?days={}", r.days)),
        ],
    }];
    let spikes: Vec<Cell> = r
        .topics
        .iter()
        .chain(r.suggested.iter())
        .filter_map(|t| t.spike.as_ref().map(|s| Cell::text(s.text.clone()).class("error")))
        .collect();
    if !spikes.is_empty() {
        sections.push(Section::Links { title: Some("Spikes".into()), links: spikes });
    }
    let defined = !r.topics.is_empty();
    let shown = if defined { &r.topics } else { &r.suggested };
    let with_csat: Vec<(String, f64)> = shown.iter().filter_map(|t| t.csat.map(|c| (t.name.clone(), c))).collect();
    if !with_csat.is_empty() {
        sections.push(Section::Chart {
            title: Some("CSAT by topic".into()),
            chart: share_bars(&with_csat, "CSAT by topic"),
            table: Table {
                head: vec!["Topic", "CSAT"],
                rows: with_csat.iter().map(|(n, c)| vec![Cell::text(n), Cell::text(percent(Some(*c)))]).collect(),
                empty: "",
                next: None,
            },
        });
    }
    for t in shown.iter().take(12) {
        let first = r.from;
        let rows = t
            .daily
            .iter()
            .enumerate()
            .map(|(i, n)| {
                vec![
                    Cell::text(shell.when(first + i as i64 * DAY).text.chars().take(10).collect::<String>()),
                    Cell::text(n.to_string()),
                ]
            })
            .collect();
        let mut title = format!(
            "{} · {} tickets · CSAT {} · {} customers worth {:.0}/year",
            t.name,
            t.tickets,
            percent(t.csat),
            t.customers,
            t.customer_value_cents as f64 / 100.0
        );
        if t.feature_requests > 0 {
            title.push_str(&format!(" · {} feature requests", t.feature_requests));
        }
        sections.push(Section::Chart {
            title: Some(title),
            chart: daily_bars(
                &t.daily,
                t.spike.as_ref().map(|s| s.spike.start),
                &format!("Tickets per day about {}", t.name),
            ),
            table: Table { head: vec!["Day", "Tickets"], rows, empty: "", next: None },
        });
        if t.csat_weekly.iter().any(Option::is_some) {
            let weeks: Vec<String> = t.csat_weekly.iter().map(|c| percent(*c)).collect();
            let line = format!("CSAT by week, oldest first: {}", weeks.join(" · "));
            sections.push(Section::Links { title: None, links: vec![Cell::text(line)] });
        }
        if !t.quotes.is_empty() {
            sections.push(Section::Links {
                title: None,
                links: t.quotes.iter().map(|q| Cell::text(format!("“{q}”"))).collect(),
            });
        }
    }
    sections.push(Section::Table {
        title: Some("What pulls CSAT down".into()),
        table: Table {
            head: vec!["Reason, topic or tag", "Answers", "Bad", "CSAT", "Pull (points)"],
            rows: r
                .causes
                .iter()
                .map(|c| {
                    vec![
                        Cell::text(c.attribute.replace('_', " ")),
                        Cell::text(c.answers.to_string()),
                        Cell::text(c.bad.to_string()),
                        Cell::text(percent(Some(c.csat))),
                        Cell::text(format!("{:.1}", c.pull_points)),
                    ]
                })
                .collect(),
            empty: "Not enough rated tickets yet.",
            next: None,
        },
    });
    if caller.require(state, domain::Action::ManageFeedback).await.is_ok() && !r.suggested.is_empty() {
        let options =
            r.suggested.iter().map(|t| (t.terms.join(","), format!("{} ({} tickets)", t.name, t.tickets))).collect();
        let form = Form::new(
            "keep",
            "/insights",
            "Keep as a topic",
            vec![
                Field::select("terms", "Found topic", "", options),
                Field::required("name", "Name", ""),
                Field::text("tag", "Tag it stands for (optional)", ""),
            ],
        )
        .with_errors(errors);
        sections.push(Section::Form { title: Some("Name a found topic".into()), form });
    }
    let title = format!("Customer insights · last {} days · {} tickets", r.days, r.tickets);
    Page::new(shell, title, sections).notice(notice).after_form(errors)
}

async fn insights(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(p): Query<Period>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    caller.require(&state, domain::Action::UseWorkspace).await?;
    insights_page(&state, &caller, p.days, &[], n.notice).await
}

/// Keeps a found topic under a name (its words are its terms).
async fn keep_topic(
    State(state): State<AppState>,
    Staff(caller): Staff,
    form: FormData,
) -> Result<Response, PageError> {
    let mut topics = jobs::insights::topic_defs(state.store.as_ref()).await?;
    let terms: Vec<String> =
        form.text("terms").split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
    let tag = Some(form.text("tag")).filter(|t| !t.trim().is_empty());
    topics.push(TopicDef { name: form.text("name"), terms, tag });
    match crate::api::insights::save_topics(&state, &caller, topics).await {
        Ok(_) => Ok(see_other("/insights", Some("Topic kept."))),
        Err(e) => {
            let errors: Vec<domain::DomainError> = form_errors(e)?
                .into_iter()
                .map(|e| {
                    let field = e.field.rsplit('.').next().unwrap_or("name").to_string();
                    domain::DomainError::new(&field, e.message)
                })
                .collect();
            insights_page(&state, &caller, None, &errors, None).await
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::survey::{CsatScale, Feedback, Rating, SurveyKind};
    use domain::{CustomerId, FeedbackId, SurveyInvitationId, Tier};

    fn answer(kind: SurveyKind, score: i64) -> Feedback {
        Feedback {
            id: FeedbackId(1),
            invitation_id: SurveyInvitationId(1),
            kind,
            scale: CsatScale::GoodBad,
            score,
            rating: kind.rating(CsatScale::GoodBad, score),
            reason: None,
            comment: None,
            sentiment: None,
            ticket_id: None,
            customer_id: CustomerId(1),
            agent_id: None,
            team_id: None,
            channel: None,
            tier: Tier::Standard,
            answered_at: 0,
            updated_at: 0,
            reviewed_at: None,
            reviewed_by: None,
            review_note: None,
        }
    }

    #[test]
    fn ratings_read_as_their_survey_counts_them() {
        let text = |kind, score| super::score_text(&answer(kind, score));
        assert_eq!(text(SurveyKind::Csat, 1), "good");
        assert_eq!(text(SurveyKind::Csat, 0), "bad");
        assert_eq!(text(SurveyKind::Nps, 9), "9 (promoter)");
        assert_eq!(text(SurveyKind::Nps, 7), "7 (passive)");
        assert_eq!(text(SurveyKind::Nps, 6), "6 (detractor)");
        assert_eq!(answer(SurveyKind::Ces, 6).rating, Rating::Good);
        assert_eq!(text(SurveyKind::Ces, 6), "6 (good)");
    }
}
