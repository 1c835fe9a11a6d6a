//! Custom field values from a request, checked against their definitions.

use std::collections::BTreeMap;

use domain::{CustomFieldDef, DomainError, FieldId};
use serde_json::Value;

/// Resolves fields named by key (or id) and validates each value. Returns
/// (id, key, value) triples; collects every error.
pub(crate) fn resolve(
    defs: &[CustomFieldDef],
    input: &BTreeMap<String, Value>,
) -> Result<Vec<(FieldId, String, Value)>, Vec<DomainError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (name, value) in input {
        let def = defs.iter().find(|d| d.active && (d.key == *name || d.id.0.to_string() == *name));
        match def {
            None => errors.push(DomainError::new(format!("custom_fields.{name}"), "no such custom field")),
            Some(d) => match d.validate(value) {
                Ok(v) => out.push((d.id, d.key.clone(), v)),
                Err(e) => errors.push(e),
            },
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Required fields a new ticket leaves empty.
pub(crate) fn missing_required(defs: &[CustomFieldDef], given: &[(FieldId, String, Value)]) -> Vec<DomainError> {
    defs.iter()
        .filter(|d| d.active && d.required && !given.iter().any(|(id, _, v)| *id == d.id && !v.is_null()))
        .map(|d| DomainError::new(format!("custom_fields.{}", d.key), "is required"))
        .collect()
}
