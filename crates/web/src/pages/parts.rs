//! The pieces most workspace pages are made of: forms that come back with
//! each field's message, tables, lists of facts; and reading a posted form
//! (repeated keys included).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use domain::DomainError;

use super::PageError;
use crate::error::ApiError;

/// A form as posted (`application/x-www-form-urlencoded`), keys in order,
/// repeated keys kept (checkbox lists, selected rows).
#[derive(Debug, Default, Clone)]
pub(crate) struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().trim().to_string()
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// A checkbox: present means ticked.
    pub fn ticked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// An optional number: empty is `None`, anything else must parse.
    pub fn number(&self, name: &str) -> Result<Option<i64>, DomainError> {
        match self.text(name).as_str() {
            "" => Ok(None),
            s => s.parse().map(Some).map_err(|_| DomainError::new(name, format!("'{s}' is not a number"))),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body =
            Bytes::from_request(req, state).await.map_err(|e| PageError::Api(ApiError::bad_request(e.body_text())))?;
        Ok(FormData(form_urlencoded::parse(&body).into_owned().collect()))
    }
}

/// A link or plain text in a table or list.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cell {
    pub text: String,
    pub href: Option<String>,
    /// A style: `status open`, `muted` …
    pub class: String,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: text.into(), href: None, class: String::new() }
    }

    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Self {
        Self { text: text.into(), href: Some(href.into()), class: String::new() }
    }

    pub fn class(mut self, class: impl Into<String>) -> Self {
        self.class = class.into();
        self
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    pub head: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    /// Shown when there are no rows.
    pub empty: &'static str,
    /// A link to the next page.
    pub next: Option<String>,
}

impl Table {
    /// One page of rows with nothing to say when empty (figures, buckets).
    pub fn of(head: Vec<&'static str>, rows: Vec<Vec<Cell>>) -> Self {
        Table { head, rows, empty: "", next: None }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Input {
    Text {
        kind: &'static str,
        value: String,
        required: bool,
    },
    Area {
        value: String,
        rows: u8,
    },
    Select {
        value: String,
        options: Vec<(String, String)>,
    },
    Check {
        checked: bool,
    },
    /// Several values under one name, each ticked or not.
    Checks {
        options: Vec<(String, String, bool)>,
    },
    Hidden {
        value: String,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: String,
    pub label: String,
    pub input: Input,
    pub hint: Option<String>,
    pub error: Option<String>,
}

impl Field {
    fn new(name: &str, label: &str, input: Input) -> Self {
        Self { name: name.into(), label: label.into(), input, hint: None, error: None }
    }

    pub fn text(name: &str, label: &str, value: impl Into<String>) -> Self {
        Self::new(name, label, Input::Text { kind: "text", value: value.into(), required: false })
    }

    pub fn required(name: &str, label: &str, value: impl Into<String>) -> Self {
        Self::new(name, label, Input::Text { kind: "text", value: value.into(), required: true })
    }

    pub fn typed(name: &str, label: &str, kind: &'static str, value: impl Into<String>) -> Self {
        Self::new(name, label, Input::Text { kind, value: value.into(), required: false })
    }

    pub fn area(name: &str, label: &str, value: impl Into<String>, rows: u8) -> Self {
        Self::new(name, label, Input::Area { value: value.into(), rows })
    }

    pub fn select(name: &str, label: &str, value: impl Into<String>, options: Vec<(String, String)>) -> Self {
        Self::new(name, label, Input::Select { value: value.into(), options })
    }

    pub fn check(name: &str, label: &str, checked: bool) -> Self {
        Self::new(name, label, Input::Check { checked })
    }

    pub fn checks(name: &str, label: &str, options: Vec<(String, String, bool)>) -> Self {
        Self::new(name, label, Input::Checks { options })
    }

    pub fn hidden(name: &str, value: impl Into<String>) -> Self {
        Self::new(name, "", Input::Hidden { value: value.into() })
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The input's id: the form's id and the field's name.
    pub fn id(&self, form: &str) -> String {
        format!("{form}-{}", self.name)
    }

    pub fn is_hidden(&self) -> bool {
        matches!(self.input, Input::Hidden { .. })
    }
}

/// Options from words: each value is its own label.
pub(crate) fn words(values: &[&str]) -> Vec<(String, String)> {
    values.iter().map(|v| (v.to_string(), v.replace('_', " "))).collect()
}

#[derive(Debug, Clone)]
pub(crate) struct Form {
    pub id: String,
    pub action: String,
    pub submit: String,
    pub fields: Vec<Field>,
    /// A message for the whole form.
    pub error: Option<String>,
    /// A destructive action (styled apart).
    pub danger: bool,
    /// `get` for a search form; `post` otherwise.
    pub method: &'static str,
}

impl Form {
    pub fn new(id: &str, action: impl Into<String>, submit: &str, fields: Vec<Field>) -> Self {
        Self {
            id: id.into(),
            action: action.into(),
            submit: submit.into(),
            fields,
            error: None,
            danger: false,
            method: "post",
        }
    }

    /// A form that only reads (a search).
    pub fn get(mut self) -> Self {
        self.method = "get";
        self
    }

    pub fn danger(mut self) -> Self {
        self.danger = true;
        self
    }

    /// Puts each message next to its field; messages for fields the form
    /// does not show go on top of the form.
    pub fn with_errors(mut self, errors: &[DomainError]) -> Self {
        let mut rest = Vec::new();
        for e in errors {
            match self.fields.iter_mut().find(|f| f.name == e.field && !f.is_hidden()) {
                Some(f) => f.error = Some(e.message.clone()),
                None => rest.push(format!("{}: {}", e.field.replace('_', " "), e.message)),
            }
        }
        if !rest.is_empty() {
            self.error = Some(rest.join("; "));
        }
        self
    }
}

/// A part of a page.
#[derive(Debug, Clone)]
pub(crate) enum Section {
    Form {
        title: Option<String>,
        form: Form,
    },
    Table {
        title: Option<String>,
        table: Table,
    },
    Facts {
        title: Option<String>,
        facts: Vec<(String, Cell)>,
    },
    /// Something shown once (a new token's secret).
    Secret {
        label: String,
        value: String,
    },
    Links {
        title: Option<String>,
        links: Vec<Cell>,
    },
    /// A chart, with its numbers as a table.
    Chart {
        title: Option<String>,
        chart: super::charts::Svg,
        table: Table,
    },
}

/// What a failed form submission should show: the field messages of a
/// broken rule, a short reason otherwise; other errors are the page's.
pub(crate) fn form_errors(e: ApiError) -> Result<Vec<DomainError>, PageError> {
    match e {
        ApiError::Invalid(errors) => Ok(errors),
        ApiError::Conflict { message, .. } => Ok(vec![DomainError::new("form", message)]),
        ApiError::BadRequest { message, .. } => Ok(vec![DomainError::new("form", message)]),
        ApiError::Forbidden => Ok(vec![DomainError::new("form", "your role does not allow this")]),
        other => Err(other.into()),
    }
}

/// Field messages by field name.
pub(crate) fn by_field(errors: &[DomainError]) -> HashMap<String, String> {
    errors.iter().map(|e| (e.field.clone(), e.message.clone())).collect()
}

/// Where to go back to after a form: a path on this site, never elsewhere.
pub(crate) fn local_path(raw: &str, fallback: &str) -> String {
    if raw.starts_with('/') && !raw.starts_with("//") && !raw.contains('\\') {
        raw.to_string()
    } else {
        fallback.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_go_next_to_their_fields() {
        let form = Form::new("f", "/x", "Save", vec![Field::text("name", "Name", ""), Field::hidden("version", "3")]);
        let form = form.with_errors(&[
            DomainError::new("name", "must not be empty"),
            DomainError::new("version", "stale"),
            DomainError::new("team_id", "team 9 does not exist"),
        ]);
        assert_eq!(form.fields[0].error.as_deref(), Some("must not be empty"));
        assert_eq!(form.error.as_deref(), Some("version: stale; team id: team 9 does not exist"));
    }

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(local_path("/views/mine?cursor=x", "/"), "/views/mine?cursor=x");
        for bad in ["https://evil.test/", "//evil.test", "/\\evil.test", ""] {
            assert_eq!(local_path(bad, "/"), "/", "{bad}");
        }
        let f = FormData(vec![("ids".into(), "1".into()), ("ids".into(), "2".into()), ("n".into(), " x ".into())]);
        assert_eq!(
            (f.all("ids"), f.text("n"), f.ticked("n"), f.ticked("m")),
            (vec!["1", "2"], "x".to_string(), true, false)
        );
        assert!(f.number("n").is_err());
    }
}
