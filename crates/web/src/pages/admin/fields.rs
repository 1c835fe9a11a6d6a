//! `/admin/fields`: the custom fields every ticket can carry.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use domain::policy::Action;
use domain::{CustomFieldDef, DomainError, FieldKind};

use crate::AppState;
use crate::api::fields::{CreateField, UpdateField, create_field, update_field};
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, IdempotencyHeader};
use crate::pages::parts::{form_errors, words};
use crate::pages::{Cell, Field, Form, FormData, Notice, Page, PageError, Section, Shell, Staff, Table, see_other};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/fields", get(list).post(create)).route("/admin/fields/{id}", get(edit).post(save))
}

fn options(form: &FormData) -> Vec<String> {
    form.text("options").split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_string).collect()
}

async fn list_page(
    state: &AppState,
    caller: &Caller,
    errors: &[DomainError],
    notice: Option<String>,
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageFields).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let rows = state
        .store
        .fields()
        .await?
        .iter()
        .map(|f| {
            vec![
                Cell::link(&f.label, format!("/admin/fields/{}", f.id)),
                Cell::text(&f.key),
                Cell::text(f.kind.as_str()),
                Cell::text(f.options.join(", ")),
                Cell::text(match (f.active, f.required) {
                    (false, _) => "off",
                    (true, true) => "required",
                    (true, false) => "optional",
                }),
            ]
        })
        .collect();
    let kinds: Vec<&str> = FieldKind::ALL.iter().map(|k| k.as_str()).collect();
    let form = Form::new(
        "new-field",
        "/admin/fields",
        "Create field",
        vec![
            Field::required("label", "Label", ""),
            Field::required("key", "Key", "").hint("For the API: lower-case letters, digits and _, e.g. order_number."),
            Field::select("kind", "Kind", "text", words(&kinds)),
            Field::text("options", "Choices", "").hint("For a dropdown, separated by commas."),
            Field::check("required", "Required", false),
        ],
    )
    .with_errors(errors);
    let sections = vec![
        Section::Table {
            title: None,
            table: Table {
                head: vec!["Label", "Key", "Kind", "Choices", "State"],
                rows,
                empty: "No custom fields yet.",
                next: None,
            },
        },
        Section::Form { title: Some("New field".into()), form },
    ];
    Page::new(shell, "Custom fields", sections).notice(notice).after_form(errors)
}

async fn list(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    list_page(&state, &caller, &[], n.notice).await
}

async fn create(State(state): State<AppState>, Staff(caller): Staff, form: FormData) -> Result<Response, PageError> {
    let kind = match FieldKind::parse("kind", &form.text("kind")) {
        Ok(k) => k,
        Err(e) => return list_page(&state, &caller, &[e], None).await,
    };
    let value = CreateField {
        key: form.text("key"),
        label: form.text("label"),
        kind,
        options: options(&form),
        required: form.ticked("required"),
    };
    match create_field(
        State(state.clone()),
        caller.clone(),
        IdempotencyHeader(None),
        ApiJson { value, raw: Bytes::new() },
    )
    .await
    {
        Ok(_) => Ok(see_other("/admin/fields", Some("The field was created."))),
        Err(e) => {
            let errors = form_errors(e)?;
            list_page(&state, &caller, &errors, None).await
        }
    }
}

async fn edit_page(
    state: &AppState,
    caller: &Caller,
    f: CustomFieldDef,
    errors: &[DomainError],
) -> Result<Response, PageError> {
    caller.require(state, Action::ManageFields).await?;
    let shell = Shell::new(state, caller, "/admin").await?;
    let form = Form::new(
        "field",
        format!("/admin/fields/{}", f.id),
        "Save",
        vec![
            Field::required("label", "Label", &f.label),
            Field::text("options", "Choices", f.options.join(", ")).hint("For a dropdown, separated by commas."),
            Field::check("required", "Required", f.required),
            Field::check("active", "In use", f.active)
                .hint("A field out of use keeps its values but takes no new ones."),
        ],
    )
    .with_errors(errors);
    let facts = vec![("Key".to_string(), Cell::text(&f.key)), ("Kind".into(), Cell::text(f.kind.as_str()))];
    let sections = vec![
        Section::Facts { title: None, facts },
        Section::Form { title: None, form },
        Section::Links { title: None, links: vec![Cell::link("All fields", "/admin/fields")] },
    ];
    Page::new(shell, f.label.clone(), sections).after_form(errors)
}

async fn find(state: &AppState, id: i64) -> Result<CustomFieldDef, PageError> {
    Ok(state.store.fields().await?.into_iter().find(|f| f.id.0 == id).ok_or(ApiError::NotFound)?)
}

async fn edit(State(state): State<AppState>, Staff(caller): Staff, Path(id): Path<i64>) -> Result<Response, PageError> {
    let f = find(&state, id).await?;
    edit_page(&state, &caller, f, &[]).await
}

async fn save(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let current = find(&state, id).await?;
    let value = UpdateField {
        label: Some(form.text("label")),
        options: Some(options(&form)),
        required: Some(form.ticked("required")),
        active: Some(form.ticked("active")),
    };
    match update_field(State(state.clone()), caller.clone(), Path(id), ApiJson { value, raw: Bytes::new() }).await {
        Ok(_) => Ok(see_other("/admin/fields", Some("Saved."))),
        Err(e) => {
            let errors = form_errors(e)?;
            edit_page(&state, &caller, current, &errors).await
        }
    }
}
