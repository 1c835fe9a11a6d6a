//! `/cockpit`: the manager's dashboard. Today's queue, the period's KPIs
//! against the period before and the targets, arrivals against solves,
//! the first-reply spread, backlog age, channel mix, arrivals by weekday
//! and hour, and scorecards per team and agent. Every chart has its table
//! and a CSV download; filters slice everything.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use jobs::cockpit::{CockpitReport, duration_text, handle_text, summary_lines};

use super::charts::{count_bars, daily_pairs, daily_shares, heatmap};
use super::{Cell, Field, Form, Page, PageError, Section, Shell, Staff, Table};
use crate::AppState;
use crate::api::kpis::KpiQuery;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cockpit", get(cockpit))
        .route("/cockpit/report/{cadence}", get(print_report))
        .route("/cockpit/resources", get(resources))
        .route("/cockpit/roi", get(roi))
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn opt(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect()
}

fn value(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn csv_link(q: &KpiQuery, table: &str) -> Cell {
    let mut qs = q.to_query_string();
    if !qs.is_empty() {
        qs.push('&');
    }
    Cell::link(format!("CSV: {table}"), format!("/api/v1/kpis.csv?{qs}table={table}"))
}

fn filters(
    q: &KpiQuery,
    directory: &crate::cache::Directory,
    organizations: &[domain::Organization],
    topic_names: &[String],
) -> Form {
    let mut orgs = vec![(String::new(), "All organizations".to_string())];
    orgs.extend(organizations.iter().map(|o| (o.id.0.to_string(), o.name.clone())));
    let mut topics = vec![(String::new(), "All topics".to_string())];
    topics.extend(topic_names.iter().map(|t| (t.clone(), t.clone())));
    let mut teams = vec![(String::new(), "All teams".to_string())];
    teams.extend(directory.teams.iter().map(|t| (t.id.0.to_string(), t.name.clone())));
    let mut agents = vec![(String::new(), "All agents".to_string())];
    agents.extend(
        directory
            .users
            .iter()
            .filter(|u| u.role != domain::Role::Admin || u.active)
            .map(|u| (u.id.0.to_string(), u.name.clone())),
    );
    Form::new(
        "slice",
        "/cockpit",
        "Show",
        vec![
            Field::select(
                "days",
                "Period",
                q.days.clone().unwrap_or_else(|| "30".into()),
                opt(&[
                    ("1", "Today"),
                    ("7", "Last 7 days"),
                    ("30", "Last 30 days"),
                    ("90", "Last 90 days"),
                    ("365", "Last year"),
                ]),
            ),
            Field::typed("from", "From", "date", value(&q.from)),
            Field::typed("to", "To", "date", value(&q.to)),
            Field::select("team_id", "Team", value(&q.team_id), teams),
            Field::select("agent_id", "Agent", value(&q.agent_id), agents),
            Field::select("organization_id", "Organization", value(&q.organization_id), orgs),
            Field::select(
                "channel",
                "Channel",
                value(&q.channel),
                opt(&[
                    ("", "All channels"),
                    ("email", "Email"),
                    ("web", "Web"),
                    ("chat", "Chat"),
                    ("phone", "Phone"),
                    ("api", "API"),
                    ("social", "Social"),
                ]),
            ),
            Field::select(
                "priority",
                "Priority",
                value(&q.priority),
                opt(&[
                    ("", "All priorities"),
                    ("low", "Low"),
                    ("normal", "Normal"),
                    ("high", "High"),
                    ("urgent", "Urgent"),
                ]),
            ),
            Field::text("tag", "Tag", value(&q.tag)),
            Field::select(
                "tier",
                "Customer tier",
                value(&q.tier),
                opt(&[("", "All tiers"), ("standard", "Standard"), ("priority", "Priority"), ("vip", "VIP")]),
            ),
            Field::select("topic", "Topic", value(&q.topic), topics),
        ],
    )
    .get()
}

fn sections(r: &CockpitReport, q: &KpiQuery, names: &dyn Fn(bool, Option<i64>) -> String) -> Vec<Section> {
    let mut out = Vec::new();
    let today = r.days.last();
    out.push(Section::Facts {
        title: Some("Now".into()),
        facts: vec![
            ("Backlog".into(), Cell::text(r.backlog.total.to_string())),
            (
                "Of which".into(),
                Cell::text(
                    r.backlog
                        .by_status
                        .iter()
                        .map(|b| format!("{} {}", b.count, b.label.replace('_', " ")))
                        .collect::<Vec<_>>()
                        .join(" · "),
                ),
            ),
            (
                "Oldest unsolved".into(),
                Cell::text(r.backlog.oldest.map(|o| duration_text(o as f64)).unwrap_or_else(|| "–".into())),
            ),
            (
                "Today".into(),
                Cell::text(today.map(|d| format!("{} arrived, {} solved", d.created, d.solved)).unwrap_or_default()),
            ),
            ("SLA".into(), Cell::text(format!("{} at risk, {} breached", r.now.sla_at_risk, r.now.sla_breached))),
            (
                "This hour".into(),
                Cell::text(format!("{} arrived, {} solved", r.now.arrived_this_hour, r.now.solved_this_hour)),
            ),
            ("Agents online".into(), Cell::text(r.now.agents_online.to_string())),
        ],
    });
    if !r.alerts.is_empty() {
        out.push(Section::Links {
            title: Some("Alerts".into()),
            links: r.alerts.iter().map(|a| Cell::text(&a.text).class("error")).collect(),
        });
    }
    if !r.targets.is_empty() {
        out.push(Section::Table {
            title: Some("Targets".into()),
            table: Table::of(
                vec!["KPI", "Target", "Now", "Status"],
                r.targets
                    .iter()
                    .map(|t| {
                        let rag = t.rag.map(|g| g.as_str()).unwrap_or("none");
                        vec![
                            Cell::text(target_label(t.target.kpi)),
                            Cell::text(format!(
                                "{}{}",
                                if t.target.kpi.lower_is_better() { "≤ " } else { "≥ " },
                                t.target.target
                            )),
                            Cell::text(
                                t.actual
                                    .map(|a| match t.target.kpi {
                                        // Tickets are counted whole; large times need no tenths.
                                        domain::kpi::TargetKpi::Backlog => format!("{a:.0}"),
                                        _ if a.abs() >= 100.0 => format!("{a:.0}"),
                                        _ => format!("{a:.1}"),
                                    })
                                    .unwrap_or_else(|| "–".into()),
                            ),
                            Cell::text(rag).class(format!("rag-{rag}")),
                        ]
                    })
                    .collect(),
            ),
        });
    }
    out.push(Section::Table {
        title: Some(format!(
            "{} to {} against {} to {} ({}){}",
            r.from,
            r.to,
            r.previous_from,
            r.previous_to,
            r.time_zone,
            if r.exact { "" } else { "; medians and percentiles from the rollup's buckets, within 5%" }
        )),
        table: Table::of(
            vec!["KPI", "This period", "Period before", "Change"],
            summary_lines(r)
                .into_iter()
                .map(|l| {
                    let (change, class) = match &l.change {
                        Some(c) if !c.direction().is_empty() => (c.label(), format!("change-{}", c.direction())),
                        Some(c) => (c.label(), String::new()),
                        None => (String::new(), String::new()),
                    };
                    vec![Cell::text(l.name), Cell::text(l.now), Cell::text(l.before), Cell::text(change).class(class)]
                })
                .collect(),
        ),
    });
    out.push(Section::Links {
        title: None,
        links: vec![
            csv_link(q, "summary"),
            Cell::link("All tables (Excel)", {
                let qs = q.to_query_string();
                if qs.is_empty() { "/api/v1/kpis.xlsx".to_string() } else { format!("/api/v1/kpis.xlsx?{qs}") }
            }),
            Cell::link("Weekly report (print)", "/cockpit/report/weekly"),
            Cell::link("Monthly report (print)", "/cockpit/report/monthly"),
            Cell::link("Resource request", "/cockpit/resources"),
            Cell::link("ROI and churn", "/cockpit/roi"),
            Cell::link("Targets, costs and staffing", "/admin/kpis"),
        ],
    });
    let created: Vec<i64> = r.days.iter().map(|d| d.created).collect();
    let solved: Vec<i64> = r.days.iter().map(|d| d.solved).collect();
    out.push(Section::Chart {
        title: Some("Arrived (coloured) and solved (grey) per day".into()),
        chart: daily_pairs(&created, &solved, "Tickets arrived and solved per day"),
        table: Table::of(
            vec!["Day", "Arrived", "Solved", "First reply, median"],
            r.days
                .iter()
                .map(|d| {
                    vec![
                        Cell::text(&d.date),
                        Cell::text(d.created.to_string()),
                        Cell::text(d.solved.to_string()),
                        Cell::text(d.first_reply_median.map(duration_text).unwrap_or_else(|| "–".into())),
                    ]
                })
                .collect(),
        ),
    });
    out.push(Section::Links { title: None, links: vec![csv_link(q, "days")] });
    if r.days.iter().any(|d| d.sla.of > 0) {
        let pct = |x: Option<f64>| x.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "–".into());
        out.push(Section::Chart {
            title: Some("SLA attained per day (all targets)".into()),
            chart: daily_shares(&r.days.iter().map(|d| d.sla.rate).collect::<Vec<_>>(), "SLA attained per day"),
            table: Table::of(
                vec!["Day", "Met", "Breached", "Attained"],
                r.days
                    .iter()
                    .filter(|d| d.sla.of > 0)
                    .map(|d| {
                        vec![
                            Cell::text(&d.date),
                            Cell::text(d.sla.yes.to_string()),
                            Cell::text((d.sla.of - d.sla.yes).to_string()),
                            Cell::text(pct(d.sla.rate)),
                        ]
                    })
                    .collect(),
            ),
        });
    }
    let buckets = |b: &[jobs::cockpit::Bucket]| b.iter().map(|b| (b.label.clone(), b.count)).collect::<Vec<_>>();
    let bucket_table = |head: Vec<&'static str>, b: &[jobs::cockpit::Bucket]| {
        Table::of(head, b.iter().map(|b| vec![Cell::text(&b.label), Cell::text(b.count.to_string())]).collect())
    };
    out.push(Section::Chart {
        title: Some("First reply times".into()),
        chart: count_bars(&buckets(&r.first_reply_histogram), "First reply times by bucket"),
        table: bucket_table(vec!["First reply", "Tickets"], &r.first_reply_histogram),
    });
    out.push(Section::Chart {
        title: Some("Backlog by age".into()),
        chart: count_bars(&buckets(&r.backlog.by_age), "Unsolved tickets by age"),
        table: bucket_table(vec!["Age", "Tickets"], &r.backlog.by_age),
    });
    out.push(Section::Chart {
        title: Some("Channel mix".into()),
        chart: count_bars(&buckets(&r.channels), "Tickets arrived per channel"),
        table: bucket_table(vec!["Channel", "Tickets"], &r.channels),
    });
    out.push(Section::Chart {
        title: Some("Arrivals by weekday and hour".into()),
        chart: heatmap(&r.arrivals, &WEEKDAYS, "Tickets arrived by weekday and hour"),
        table: Table::of(
            vec!["Weekday", "Busiest hour", "Arrivals that hour", "Arrivals that day"],
            WEEKDAYS
                .iter()
                .zip(&r.arrivals)
                .map(|(d, hours)| {
                    let (h, n) =
                        hours.iter().enumerate().max_by_key(|(_, n)| **n).map(|(h, n)| (h, *n)).unwrap_or((0, 0));
                    vec![
                        Cell::text(*d),
                        Cell::text(format!("{h:02}:00")),
                        Cell::text(n.to_string()),
                        Cell::text(hours.iter().sum::<i64>().to_string()),
                    ]
                })
                .collect(),
        ),
    });
    out.push(Section::Table {
        title: Some("Handle time by channel".into()),
        table: Table {
            head: vec!["Channel", "Handled contacts", "Handle time", "AHT"],
            rows: r
                .handle_by_channel
                .iter()
                .map(|c| {
                    vec![
                        Cell::text(c.channel.as_str()),
                        Cell::text(c.handle.contacts.to_string()),
                        Cell::text(duration_text(c.handle.handle_ms as f64)),
                        Cell::text(c.handle.aht_ms.map(handle_text).unwrap_or_else(|| "–".into())),
                    ]
                })
                .collect(),
            empty: "No handle time logged in this period.",
            next: None,
        },
    });
    if let Some(w) = &r.workload {
        let pct = |x: Option<f64>| x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "–".into());
        out.push(Section::Facts {
            title: Some("Time online".into()),
            facts: vec![
                ("Time online".into(), Cell::text(format!("{:.1} h", w.online_ms as f64 / 3_600_000.0))),
                ("Logged handle time".into(), Cell::text(format!("{:.1} h", w.handle_ms as f64 / 3_600_000.0))),
                ("Occupancy".into(), Cell::text(pct(w.occupancy))),
                (
                    "Solved per online hour".into(),
                    Cell::text(w.solved_per_online_hour.map(|x| format!("{x:.2}")).unwrap_or_else(|| "–".into())),
                ),
            ],
        });
    }
    out.push(Section::Links {
        title: None,
        links: vec![
            csv_link(q, "handle"),
            csv_link(q, "first_reply"),
            csv_link(q, "backlog"),
            csv_link(q, "channels"),
            csv_link(q, "arrivals"),
        ],
    });
    for (title, cards, agents) in [("Teams", &r.teams, false), ("Agents", &r.agents, true)] {
        let rows = cards
            .iter()
            .map(|c| {
                let med = c.first_reply.as_ref().map(|d| duration_text(d.median)).unwrap_or_else(|| "–".into());
                let p90 = c.first_reply.as_ref().map(|d| duration_text(d.p90 as f64)).unwrap_or_else(|| "–".into());
                let pct = |x: Option<f64>| x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "–".into());
                let key = if agents { "agent_id" } else { "team_id" };
                let name = names(agents, c.id);
                vec![
                    match c.id {
                        Some(id) => Cell::link(
                            name,
                            format!("/cockpit?{key}={id}&days={}", q.days.clone().unwrap_or_else(|| "30".into())),
                        ),
                        None => Cell::text(name),
                    },
                    Cell::text(c.solved.to_string()),
                    Cell::text(c.replies.to_string()),
                    Cell::text(med),
                    Cell::text(p90),
                    Cell::text(pct(c.one_touch.rate)),
                    Cell::text(pct(c.reopen_rate.rate)),
                    Cell::text(pct(c.sla_first_reply.rate)),
                    Cell::text(pct(c.csat)),
                    Cell::text(c.handle.aht_ms.map(handle_text).unwrap_or_else(|| "–".into())),
                    Cell::text(pct(c.workload.as_ref().and_then(|w| w.occupancy))),
                    Cell::text(
                        c.workload
                            .as_ref()
                            .and_then(|w| w.solved_per_online_hour)
                            .map(|x| format!("{x:.2}"))
                            .unwrap_or_else(|| "–".into()),
                    ),
                ]
            })
            .collect();
        out.push(Section::Table {
            title: Some(title.into()),
            table: Table {
                head: vec![
                    "Name",
                    "Solved",
                    "Replies",
                    "First reply, median",
                    "p90",
                    "One-touch",
                    "Reopened",
                    "SLA first reply",
                    "CSAT",
                    "AHT",
                    "Occupancy",
                    "Solved / online h",
                ],
                rows,
                empty: "Nothing in this period.",
                next: None,
            },
        });
        out.push(Section::Links { title: None, links: vec![csv_link(q, if agents { "agents" } else { "teams" })] });
    }
    let tz = jiff::tz::TimeZone::get(&r.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let when = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    out.push(Section::Table {
        title: Some("Latest answers".into()),
        table: Table {
            head: vec!["Answered", "Survey", "Rating", "Comment"],
            rows: r
                .feedback
                .iter()
                .map(|f| {
                    vec![
                        Cell::link(when(f.answered_at), format!("/feedback/{}", f.id.0)),
                        Cell::text(f.kind.as_str().to_uppercase()),
                        Cell::text(super::feedback::score_text(f)).class(format!("rating {}", f.rating)),
                        Cell::text(f.comment.clone().unwrap_or_default()),
                    ]
                })
                .collect(),
            empty: "No survey answers in this period.",
            next: None,
        },
    });
    out
}

/// A target's KPI as the manager reads it, with its unit.
pub(crate) fn target_label(kpi: domain::kpi::TargetKpi) -> &'static str {
    use domain::kpi::TargetKpi as K;
    match kpi {
        K::FirstReplyMedianMinutes => "First reply, median (minutes)",
        K::FirstReplyP90Minutes => "First reply, 90th percentile (minutes)",
        K::FullResolutionMedianHours => "Full resolution, median (hours)",
        K::OneTouchPercent => "One-touch resolution (%)",
        K::ReopenPercent => "Reopen rate (%)",
        K::SlaFirstReplyPercent => "SLA first reply attained (%)",
        K::SlaResolutionPercent => "SLA resolution attained (%)",
        K::CsatPercent => "CSAT (%)",
        K::Nps => "NPS",
        K::Backlog => "Backlog (tickets)",
    }
}

async fn cockpit(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(q): Query<KpiQuery>,
) -> Result<Response, PageError> {
    let shell = Shell::new(&state, &caller, "/cockpit").await?;
    let r = crate::api::kpis::report(&state, &caller, &q).await?;
    let directory = state.directory().await?;
    let names = |agent: bool, id: Option<i64>| match (agent, id) {
        (_, None) => "Unassigned".to_string(),
        (true, Some(id)) => directory
            .users
            .iter()
            .find(|u| u.id.0 == id)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| format!("agent {id}")),
        (false, Some(id)) => directory
            .teams
            .iter()
            .find(|t| t.id.0 == id)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| format!("team {id}")),
    };
    // Topics slice by their tag, so only those with one are offered.
    let topics: Vec<String> = jobs::insights::topic_defs(state.store.as_ref())
        .await
        .map_err(crate::error::ApiError::from)?
        .into_iter()
        .filter(|t| t.tag.is_some())
        .map(|t| t.name)
        .collect();
    // The organizations to pick from, by name (the first thousand; the
    // API takes any `organization_id`).
    let mut organizations = state
        .store
        .organizations(store::PageRequest { after: None, limit: 1000 })
        .await
        .map_err(crate::error::ApiError::from)?
        .items;
    organizations.sort_by(|a, b| a.name.cmp(&b.name));
    let form = filters(&q, &directory, &organizations, &topics);
    let mut all = vec![Section::Form { title: None, form }];
    all.extend(sections(&r, &q, &names));
    Page::new(shell, "Cockpit", all).respond(axum::http::StatusCode::OK)
}

/// The weekly or monthly report as a page of its own, ready to print (or
/// save as PDF from the browser): the same content as the email.
async fn print_report(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    caller.require(&state, domain::Action::ViewReports).await?;
    let cadence = crate::api::reports::cadence(&raw)?;
    let r =
        jobs::report::build(state.store.as_ref(), state.now(), cadence).await.map_err(crate::error::ApiError::from)?;
    let directory = state.directory().await?;
    let teams = directory.teams.iter().map(|t| (t.id.0, t.name.clone())).collect();
    let (_, body) = jobs::report::render(&r, cadence, &teams);
    let title = jobs::report::title(&r, cadence);
    let escaped = title.replace('&', "&amp;").replace('<', "&lt;");
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escaped}</title>\
         <style>@page {{ size: A4; margin: 18mm; }} body {{ margin: 24px; font-family: sans-serif; }} @media print {{ .no-print {{ display: none; }} }}</style>\
         </head><body><p class=\"no-print\"><a href=\"/cockpit\">Back to the cockpit</a> · use your browser's Print to print or save as PDF</p>{body}</body></html>"
    );
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (axum::http::header::CONTENT_SECURITY_POLICY, PRINT_CSP),
        ],
        html,
    )
        .into_response())
}

/// The print page is the mailed report, whose styles are inline (mail
/// readers take no stylesheets): inline styles allowed, no script at all.
const PRINT_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
    script-src 'none'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'; object-src 'none'";

/// The resource request: load, SLA trend and the staffing estimate.
async fn resources(State(state): State<AppState>, Staff(caller): Staff) -> Result<Response, PageError> {
    caller.require(&state, domain::Action::ViewReports).await?;
    let shell = Shell::new(&state, &caller, "/cockpit").await?;
    let r = jobs::resources::resource_request(state.store.as_ref(), state.now())
        .await
        .map_err(crate::error::ApiError::from)?;
    let pct = |x: Option<f64>| x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "–".into());
    let weeks = r
        .weeks
        .iter()
        .map(|w| {
            vec![
                Cell::text(shell.when(w.from).text.chars().take(10).collect::<String>()),
                Cell::text(w.created.to_string()),
                Cell::text(w.solved.to_string()),
                Cell::text(pct(w.sla_first_reply.rate)),
                Cell::text(
                    w.first_reply_median_minutes.map(|m| duration_text(m * 60_000.0)).unwrap_or_else(|| "–".into()),
                ),
            ]
        })
        .collect();
    let staffing = r
        .staffing
        .iter()
        .map(|s| {
            let mark = if s.agents == r.working { " (now)" } else { "" };
            vec![
                Cell::text(format!("{}{mark}", s.agents)),
                Cell::text(format!("{:.1}", s.full_time_equivalents)),
                Cell::text(
                    s.mean_wait_minutes.map(|m| format!("{m:.1} min")).unwrap_or_else(|| "cannot keep up".into()),
                ),
                Cell::text(pct(s.within_target)),
                Cell::text(format!("{:.0}%", s.occupancy * 100.0)),
            ]
        })
        .collect();
    let sections = vec![
        Section::Links { title: None, links: vec![Cell::text(&r.summary)] },
        Section::Facts {
            title: Some("Load and assumptions".into()),
            facts: vec![
                ("Backlog now".into(), Cell::text(r.backlog.to_string())),
                ("Agents employed".into(), Cell::text(r.agents.to_string())),
                ("Working at a time".into(), Cell::text(r.working.to_string())),
                ("Tickets per open hour (4 weeks)".into(), Cell::text(format!("{:.2}", r.arrivals_per_hour))),
                ("Work per ticket".into(), Cell::text(format!("{:.0} min", r.handle_minutes))),
                ("First reply target".into(), Cell::text(format!("{:.0} min", r.first_reply_target_minutes))),
                ("Shrinkage".into(), Cell::text(format!("{:.0}%", r.shrinkage * 100.0))),
            ],
        },
        Section::Table {
            title: Some("The last 8 weeks".into()),
            table: Table::of(vec!["Week from", "Arrived", "Solved", "SLA first reply", "First reply, median"], weeks),
        },
        Section::Table {
            title: Some("Agents and the wait for a first reply (Erlang C)".into()),
            table: Table::of(
                vec!["Agents working", "People to employ", "Mean wait", "Within target", "Occupancy"],
                staffing,
            ),
        },
    ];
    Page::new(shell, "Resource request", sections).respond(axum::http::StatusCode::OK)
}

/// ROI and churn: support cost, cost per ticket, churn of the customers
/// who contacted support against those who did not, revenue retained.
async fn roi(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(q): Query<crate::api::reports::RoiQuery>,
) -> Result<Response, PageError> {
    let axum::Json(r) = crate::api::reports::get_roi(State(state.clone()), caller.clone(), Query(q)).await?;
    let shell = Shell::new(&state, &caller, "/cockpit").await?;
    let money = |cents: i64| format!("{:.2}", cents as f64 / 100.0);
    let pct = |x: Option<f64>| x.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "–".into());
    let days = (r.to - r.from) / 86_400_000;
    let group = |name: &str, g: &jobs::roi::CustomerGroup| {
        vec![
            Cell::text(name),
            Cell::text(g.customers.to_string()),
            Cell::text(g.churn.yes.to_string()),
            Cell::text(pct(g.churn.rate)),
            Cell::text(money(g.annual_value_cents)),
        ]
    };
    let sections = vec![
        Section::Links {
            title: None,
            links: [30, 90, 365]
                .iter()
                .map(|d| Cell::link(format!("Last {d} days"), format!("/cockpit/roi?days={d}")))
                .collect(),
        },
        Section::Facts {
            title: Some(format!("The last {days} days")),
            facts: vec![
                ("Support cost".into(), Cell::text(money(r.support_cost_cents))),
                ("Tickets solved".into(), Cell::text(r.solved.to_string())),
                (
                    "Cost per ticket".into(),
                    Cell::text(r.cost_per_ticket_cents.map(money).unwrap_or_else(|| "–".into())),
                ),
                ("Revenue retained".into(), Cell::text(money(r.revenue_retained_cents))),
                ("ROI".into(), Cell::text(r.roi.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_else(|| "–".into()))),
            ],
        },
        Section::Table {
            title: Some("Churn of customers who contacted support and of those who did not".into()),
            table: Table::of(
                vec!["Customers", "At the start", "Churned", "Churn", "Annual value"],
                vec![group("Contacted support", &r.supported), group("Did not", &r.unsupported)],
            ),
        },
    ];
    Page::new(shell, "ROI and churn", sections).respond(axum::http::StatusCode::OK)
}
