//! `/admin/feedback`: the survey settings, the manager's topics (rename,
//! merge and map to tags by editing them) and the digest's recipients, each
//! as its JSON document, checked as the API checks it; and (admins) the
//! Slack and generic webhooks with their delivery logs.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use domain::DomainError;
use domain::integration::{EVENTS, WebhookInput, WebhookKind};
use domain::policy::Action;
use domain::survey::SurveySettings;
use insight::topics::TopicDef;
use jobs::digest::DigestSettings;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::pages::parts::form_errors;
use crate::pages::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/feedback", get(show))
        .route("/admin/feedback/{key}", post(save))
        .route("/admin/webhooks", post(create_hook))
        .route("/admin/webhooks/{id}", get(hook_page).post(switch_hook))
}

const DOCS: [(&str, &str); 3] = [
    ("surveys", "Surveys: what is sent, when, how often, and the words"),
    ("topics", "Topics: a name, the words that put a ticket in it, and its tag"),
    ("digest", "Weekly digest: who gets it by mail"),
];

async fn page(
    state: &AppState,
    caller: &Caller,
    failed: Option<(&str, String, Vec<DomainError>)>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageFeedback).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let store = state.store.as_ref();
    let pretty = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default();
    let current = [
        pretty(serde_json::to_value(jobs::survey::settings(store).await?).unwrap_or_default()),
        pretty(serde_json::to_value(jobs::insights::topic_defs(store).await?).unwrap_or_default()),
        pretty(serde_json::to_value(jobs::digest::settings(store).await?).unwrap_or_default()),
    ];
    let (mut sections, mut shown) = super::document_forms("/admin/feedback", &DOCS, current.to_vec(), &failed);
    if caller.require(state, Action::ManageSettings).await.is_ok() {
        let hooks = state.store.webhooks().await?;
        sections.push(Section::Table {
            title: Some("Slack and webhooks".into()),
            table: Table {
                head: vec!["Name", "Kind", "Events", "On", "Failures in a row", "Why off"],
                rows: hooks
                    .iter()
                    .map(|h| {
                        vec![
                            Cell::link(&h.name, format!("/admin/webhooks/{}", h.id)),
                            Cell::text(h.kind.as_str()),
                            Cell::text(h.events.join(", ")),
                            Cell::text(if h.active { "yes" } else { "no" }),
                            Cell::text(h.failures_in_a_row.to_string()),
                            Cell::text(h.disabled_reason.clone().unwrap_or_default()),
                        ]
                    })
                    .collect(),
                empty: "No hooks yet.",
                next: None,
            },
        });
        let kinds = vec![
            ("slack".to_string(), "Slack incoming webhook".to_string()),
            ("generic".into(), "Generic (signed JSON)".into()),
        ];
        let events = EVENTS.iter().map(|e| (e.to_string(), e.to_string(), *e == "rating.received")).collect();
        let form = Form::new(
            "hook",
            "/admin/webhooks",
            "Add the hook",
            vec![
                Field::required("name", "Name", ""),
                Field::select("kind", "Kind", "slack", kinds),
                Field::required("url", "URL", ""),
                Field::checks("events", "Events", events),
                Field::check("only_bad_ratings", "Only bad ratings", false),
            ],
        )
        .with_errors(failed.as_ref().filter(|f| f.0 == "hook").map(|f| f.2.as_slice()).unwrap_or_default());
        sections.push(Section::Form { title: Some("Add a hook".into()), form });
    }
    if let Some(("hook", _, errors)) = &failed {
        shown.extend(errors.iter().cloned());
    }
    Page::new(shell, "Feedback, topics, digest and hooks", sections).notice(notice).after_form(&shown)
}

async fn show(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    page(&state, &caller, None, n.notice).await
}

async fn save(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(key): Path<String>,
    form: FormData,
) -> Result<Response, PageError> {
    caller.require(&state, Action::ManageFeedback).await?;
    let raw = form.text("document");
    let Some((key, _)) = DOCS.iter().find(|(k, _)| *k == key) else { return Err(ApiError::NotFound.into()) };
    let result = save_document(&state, &caller, key, &raw).await;
    match result {
        Ok(()) => {
            state.audit(&caller.label(), &format!("{key}.update"), key, true, serde_json::json!({})).await;
            Ok(see_other("/admin/feedback", Some("Saved.")))
        }
        Err(errors) => page(&state, &caller, Some((key, raw, errors)), None).await,
    }
}

/// Checks and stores one document; the field errors when it is wrong.
async fn save_document(state: &AppState, caller: &Caller, key: &str, raw: &str) -> Result<(), Vec<DomainError>> {
    let bad = |e: serde_json::Error| vec![DomainError::new("document", e.to_string())];
    let (setting, value) = match key {
        "surveys" => {
            let s = serde_json::from_str::<SurveySettings>(raw).map_err(bad)?.parse()?;
            (jobs::survey::SETTINGS_KEY, serde_json::to_value(s).map_err(bad)?)
        }
        "topics" => {
            let topics = serde_json::from_str::<Vec<TopicDef>>(raw).map_err(bad)?;
            return crate::api::insights::save_topics(state, caller, topics).await.map(|_| ()).map_err(|e| match e {
                ApiError::Invalid(errors) => errors,
                _ => vec![DomainError::new("document", "could not be saved; try again")],
            });
        }
        _ => {
            let s = serde_json::from_str::<DigestSettings>(raw).map_err(bad)?.parse()?;
            (jobs::digest::SETTINGS_KEY, serde_json::to_value(s).map_err(bad)?)
        }
    };
    state
        .store
        .set_setting(setting, &value)
        .await
        .map_err(|_| vec![DomainError::new("document", "could not be saved; try again")])
}

async fn create_hook(
    State(state): State<AppState>,
    Staff(caller): Staff,
    form: FormData,
) -> Result<Response, PageError> {
    caller.require(&state, Action::ManageSettings).await?;
    let kind = WebhookKind::parse("kind", &form.text("kind")).map_err(ApiError::from)?;
    let input = WebhookInput {
        name: form.text("name"),
        kind,
        url: form.text("url"),
        events: form.all("events").iter().map(|e| e.to_string()).collect(),
        only_bad_ratings: form.ticked("only_bad_ratings"),
        active: true,
    };
    match crate::api::webhooks::create(&state, &caller, input).await {
        Ok(created) => {
            let notice = if created.webhook.kind == WebhookKind::Generic {
                format!("Hook added. Its signing secret, shown once: {}", created.secret)
            } else {
                "Hook added.".to_string()
            };
            Ok(see_other("/admin/feedback", Some(&notice)))
        }
        Err(e) => {
            let errors = form_errors(e)?;
            page(&state, &caller, Some(("hook", String::new(), errors)), None).await
        }
    }
}

async fn hook_page(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    caller.require(&state, Action::ManageSettings).await?;
    let shell = Shell::new(&state, &caller, "/admin").await?;
    let hook = state.store.webhook(domain::WebhookId(id)).await?.ok_or(ApiError::NotFound)?;
    let log = state.store.deliveries(hook.id, store::PageRequest { after: None, limit: 100 }).await?.items;
    let facts = vec![
        ("Kind".to_string(), Cell::text(hook.kind.as_str())),
        ("URL".to_string(), Cell::text(&hook.url)),
        ("Events".to_string(), Cell::text(hook.events.join(", "))),
        ("On".to_string(), Cell::text(if hook.active { "yes" } else { "no" })),
        ("Why off".to_string(), Cell::text(hook.disabled_reason.clone().unwrap_or_default())),
    ];
    let rows = log
        .iter()
        .map(|d| {
            vec![
                Cell::text(shell.when(d.at).text),
                Cell::text(&d.event),
                Cell::text(d.attempt.to_string()),
                Cell::text(d.status_code.map(|c| c.to_string()).unwrap_or_default()),
                Cell::text(d.error.clone().unwrap_or_default()),
                Cell::text(format!("{} ms", d.duration_ms)),
            ]
        })
        .collect();
    let switch = Form::new(
        "switch",
        format!("/admin/webhooks/{id}"),
        if hook.active { "Switch off" } else { "Switch on again" },
        vec![Field::hidden("active", if hook.active { "false" } else { "true" })],
    );
    let sections = vec![
        Section::Facts { title: None, facts },
        Section::Form { title: None, form: switch },
        Section::Table {
            title: Some("Deliveries".into()),
            table: Table {
                head: vec!["At", "Event", "Attempt", "Status", "Error", "Took"],
                rows,
                empty: "Nothing delivered yet.",
                next: None,
            },
        },
    ];
    Page::new(shell, hook.name.clone(), sections).notice(n.notice).respond(axum::http::StatusCode::OK)
}

async fn switch_hook(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    caller.require(&state, Action::ManageSettings).await?;
    let hook = state.store.webhook(domain::WebhookId(id)).await?.ok_or(ApiError::NotFound)?;
    let active = form.text("active") == "true";
    let next = domain::integration::Webhook { active, updated_at: state.now(), ..hook };
    state.store.update_webhook(&next).await?;
    state
        .audit(
            &caller.label(),
            "webhook.switch",
            &format!("webhook:{id}"),
            true,
            serde_json::json!({ "active": active }),
        )
        .await;
    Ok(see_other(&format!("/admin/webhooks/{id}"), Some(if active { "Switched on." } else { "Switched off." })))
}
