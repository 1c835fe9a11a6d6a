//! `/admin/calendars`: business hours for SLA policies: a time zone, the
//! opening hours a line a day (`monday-friday 09:00-17:00`) and holidays
//! (`2026-12-25 Christmas Day`). Managers and admins.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use domain::policy::Action;
use domain::{Calendar, CalendarId, DomainError, Holiday, OpenHours};

use crate::AppState;
use crate::api::calendars::{CalendarInput, create_calendar, replace_calendar};
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller};
use crate::pages::parts::form_errors;
use crate::pages::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/calendars", get(list).post(create)).route("/admin/calendars/{id}", get(edit).post(save))
}

const DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// `monday-friday 09:00-12:00, 13:00-17:00` lines into opening hours.
pub(crate) fn parse_hours(text: &str) -> Result<Vec<OpenHours>, DomainError> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let bad = || DomainError::new("hours", format!("'{line}' is not like 'monday-friday 09:00-17:00'"));
        let (days, times) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
        let day = |d: &str| DAYS.iter().position(|x| x.starts_with(&d.trim().to_lowercase()) && d.trim().len() >= 3);
        let range: Vec<usize> = match days.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a).ok_or_else(bad)?, day(b).ok_or_else(bad)?);
                if a > b {
                    return Err(bad());
                }
                (a..=b).collect()
            }
            None => days.split(',').map(|d| day(d).ok_or_else(bad)).collect::<Result<_, _>>()?,
        };
        for stretch in times.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (from, to) = stretch.split_once('-').ok_or_else(bad)?;
            for d in &range {
                out.push(OpenHours { day: DAYS[*d].into(), from: from.trim().into(), to: to.trim().into() });
            }
        }
    }
    Ok(out)
}

fn hours_text(hours: &[OpenHours]) -> String {
    hours.iter().map(|h| format!("{} {}-{}", h.day, h.from, h.to)).collect::<Vec<_>>().join("\n")
}

pub(crate) fn parse_holidays(text: &str) -> Vec<Holiday> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((date, name)) => Holiday { date: date.into(), name: name.trim().into() },
            None => Holiday { date: l.into(), name: String::new() },
        })
        .collect()
}

fn calendar_form(id: &str, action: String, submit: &str, c: &CalendarInput, hours: &str) -> Form {
    Form::new(
        id,
        action,
        submit,
        vec![
            Field::required("name", "Name", &c.name),
            Field::required("time_zone", "Time zone", &c.time_zone).hint("IANA, e.g. Europe/Berlin"),
            Field::area("hours", "Opening hours", hours, 5)
                .hint("A line per day or days: monday-friday 09:00-12:00, 13:00-17:00"),
            Field::area(
                "holidays",
                "Holidays",
                c.holidays.iter().map(|h| format!("{} {}", h.date, h.name)).collect::<Vec<_>>().join("\n"),
                4,
            )
            .hint("A line each: 2026-12-25 Christmas Day"),
        ],
    )
}

fn input(form: &FormData) -> Result<CalendarInput, DomainError> {
    Ok(CalendarInput {
        name: form.text("name"),
        time_zone: form.text("time_zone"),
        hours: parse_hours(form.get("hours").unwrap_or_default())?,
        holidays: parse_holidays(form.get("holidays").unwrap_or_default()),
    })
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    draft: (CalendarInput, String),
    errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageServiceRules).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let rows = state
        .store
        .calendars()
        .await?
        .iter()
        .map(|c| {
            vec![
                Cell::link(&c.name, format!("/admin/calendars/{}", c.id)),
                Cell::text(&c.time_zone),
                Cell::text(c.hours.len().to_string()),
                Cell::text(c.holidays.len().to_string()),
            ]
        })
        .collect();
    let form = calendar_form("new-calendar", "/admin/calendars".into(), "Create calendar", &draft.0, &draft.1)
        .with_errors(errors);
    let sections = vec![
        Section::Table {
            title: None,
            table: Table {
                head: vec!["Calendar", "Time zone", "Opening stretches", "Holidays"],
                rows,
                empty: "No calendars yet: SLAs count around the clock.",
                next: None,
            },
        },
        Section::Form { title: Some("New calendar".into()), form },
    ];
    Page::new(shell, "Business hours", sections).notice(notice).after_form(errors)
}

async fn list(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let draft = CalendarInput { time_zone: state.instance_settings().await?.time_zone, ..Default::default() };
    list_page(&state, &caller, (draft, "monday-friday 09:00-17:00".into()), &[], n.notice).await
}

async fn create(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    let hours = form.get("hours").unwrap_or_default().to_string();
    let draft = || CalendarInput {
        name: form.text("name"),
        time_zone: form.text("time_zone"),
        hours: vec![],
        holidays: parse_holidays(form.get("holidays").unwrap_or_default()),
    };
    let value = match input(&form) {
        Ok(v) => v,
        Err(e) => return list_page(&state, &caller, (draft(), hours), &[e], None).await,
    };
    match create_calendar(State(state.clone()), caller.clone(), ApiJson { value, raw: Bytes::new() }).await {
        Ok(_) => Ok(see_other("/admin/calendars", Some("The calendar was created."))),
        Err(e) => {
            let errors = form_errors(e)?;
            list_page(&state, &caller, (draft(), hours), &errors, None).await
        }
    }
}

async fn edit_page(
    state: &AppState,
    caller: &Caller,
    c: &Calendar,
    draft: (CalendarInput, String),
    errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageServiceRules).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let form =
        calendar_form("calendar", format!("/admin/calendars/{}", c.id), "Save", &draft.0, &draft.1).with_errors(errors);
    let sections = vec![
        Section::Form { title: None, form },
        Section::Links { title: None, links: vec![Cell::link("All calendars", "/admin/calendars")] },
    ];
    Page::new(shell, c.name.clone(), sections).notice(notice).after_form(errors)
}

async fn edit(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let c = state.store.calendar(CalendarId(id)).await?.ok_or(ApiError::NotFound)?;
    let draft = CalendarInput {
        name: c.name.clone(),
        time_zone: c.time_zone.clone(),
        hours: c.hours.clone(),
        holidays: c.holidays.clone(),
    };
    let hours = hours_text(&c.hours);
    edit_page(&state, &caller, &c, (draft, hours), &[], n.notice).await
}

async fn save(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let c = state.store.calendar(CalendarId(id)).await?.ok_or(ApiError::NotFound)?;
    let hours = form.get("hours").unwrap_or_default().to_string();
    let draft = || CalendarInput {
        name: form.text("name"),
        time_zone: form.text("time_zone"),
        hours: vec![],
        holidays: parse_holidays(form.get("holidays").unwrap_or_default()),
    };
    let value = match input(&form) {
        Ok(v) => v,
        Err(e) => return edit_page(&state, &caller, &c, (draft(), hours), &[e], None).await,
    };
    match replace_calendar(State(state.clone()), caller.clone(), Path(id), ApiJson { value, raw: Bytes::new() }).await {
        Ok(_) => Ok(see_other(&format!("/admin/calendars/{id}"), Some("Saved; open tickets are checked again."))),
        Err(e) => {
            let errors = form_errors(e)?;
            edit_page(&state, &caller, &c, (draft(), hours), &errors, None).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_read_as_people_write_them() {
        let h = parse_hours("monday-friday 09:00-12:00, 13:00-17:00\nsat 10:00-14:00").unwrap();
        assert_eq!(h.len(), 11);
        assert_eq!((h[0].day.as_str(), h[0].from.as_str(), h[0].to.as_str()), ("monday", "09:00", "12:00"));
        assert_eq!((h[5].day.as_str(), h[5].from.as_str(), h[5].to.as_str()), ("monday", "13:00", "17:00"));
        assert_eq!(h[10].day, "saturday");
        assert!(parse_hours("someday 09:00-17:00").is_err());
        assert!(parse_hours("friday-monday 09:00-17:00").is_err());
        assert_eq!(parse_holidays("2026-12-25 Christmas Day\n\n2027-01-01")[1].name, "");
    }
}
