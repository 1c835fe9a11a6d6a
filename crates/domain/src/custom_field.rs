//! Admin-defined ticket fields, validated on every write.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::str_enum::str_enum;
use crate::{DomainError, FieldId, Millis};

str_enum!(FieldKind { Text = "text", Number = "number", Dropdown = "dropdown", Checkbox = "checkbox", Date = "date" });

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomFieldDef {
    pub id: FieldId,
    /// Stable machine name, e.g. `order_number`.
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    /// Allowed values of a dropdown.
    pub options: Vec<String>,
    pub required: bool,
    pub active: bool,
    pub created_at: Millis,
}

impl CustomFieldDef {
    /// Checks a value against the definition and returns it in canonical
    /// form. `null` clears the field.
    pub fn validate(&self, value: &Value) -> Result<Value, DomainError> {
        let field = format!("custom_fields.{}", self.key);
        let wrong = |what: &str| DomainError::new(&field, format!("{} expects {what}", self.label));
        if value.is_null() {
            return if self.required { Err(DomainError::new(&field, "is required")) } else { Ok(Value::Null) };
        }
        match self.kind {
            FieldKind::Text => match value.as_str() {
                Some(s) if s.chars().count() <= 10_000 => Ok(Value::String(s.to_string())),
                Some(_) => Err(wrong("text of at most 10,000 characters")),
                None => Err(wrong("text")),
            },
            FieldKind::Number => match value.as_f64() {
                Some(n) if n.is_finite() => Ok(value.clone()),
                _ => Err(wrong("a number")),
            },
            FieldKind::Checkbox => value.as_bool().map(Value::Bool).ok_or_else(|| wrong("true or false")),
            FieldKind::Dropdown => match value.as_str() {
                Some(s) if self.options.iter().any(|o| o == s) => Ok(Value::String(s.to_string())),
                _ => Err(wrong(&format!("one of: {}", self.options.join(", ")))),
            },
            FieldKind::Date => match value.as_str().map(|s| s.parse::<jiff::civil::Date>()) {
                Some(Ok(d)) => Ok(Value::String(d.to_string())),
                _ => Err(wrong("a date as YYYY-MM-DD")),
            },
        }
    }
}

/// A field key is a short identifier: lower-case letters, digits and `_`.
pub fn parse_key(raw: &str) -> Result<String, DomainError> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && raw.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if ok {
        Ok(raw.to_string())
    } else {
        Err(DomainError::new("key", "use lower-case letters, digits and _, starting with a letter (at most 64)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(kind: FieldKind) -> CustomFieldDef {
        CustomFieldDef {
            id: FieldId(1),
            key: "k".into(),
            label: "K".into(),
            kind,
            options: vec!["a".into(), "b".into()],
            required: false,
            active: true,
            created_at: 0,
        }
    }

    #[test]
    fn each_kind_accepts_its_type_only() {
        assert_eq!(def(FieldKind::Text).validate(&json!("x")).unwrap(), json!("x"));
        assert!(def(FieldKind::Text).validate(&json!(1)).is_err());
        assert!(def(FieldKind::Number).validate(&json!("1")).is_err());
        assert_eq!(def(FieldKind::Number).validate(&json!(2.5)).unwrap(), json!(2.5));
        assert!(def(FieldKind::Checkbox).validate(&json!("yes")).is_err());
        assert!(def(FieldKind::Dropdown).validate(&json!("c")).is_err());
        assert_eq!(def(FieldKind::Dropdown).validate(&json!("b")).unwrap(), json!("b"));
        assert!(def(FieldKind::Date).validate(&json!("2026-02-30")).is_err());
        assert_eq!(def(FieldKind::Date).validate(&json!("2026-02-28")).unwrap(), json!("2026-02-28"));
        let mut required = def(FieldKind::Text);
        required.required = true;
        assert!(required.validate(&Value::Null).is_err());
    }
}
