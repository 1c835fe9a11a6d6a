use serde::{Deserialize, Serialize};

use crate::DomainError;

/// An email address, trimmed and lower-cased so that uniqueness is
/// case-insensitive everywhere (`Ann@Example.com` is `ann@example.com`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim().to_lowercase();
        let invalid = |why: &str| DomainError::new("email", format!("'{}' is not an email address: {why}", raw.trim()));
        if s.len() > 254 {
            return Err(invalid("longer than 254 characters"));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(invalid("no @"));
        };
        if local.is_empty() || local.len() > 64 {
            return Err(invalid("the part before @ is empty or too long"));
        }
        if domain.is_empty() || !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(invalid("the domain needs a dot, as in example.com"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',') {
            return Err(invalid("contains spaces or characters not allowed"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_space() {
        let e = EmailAddress::parse("  Ann@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ann@example.com");
        assert_eq!(e.domain(), "example.com");
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "ann", "@x.com", "ann@", "ann@localhost", "a b@x.com", "ann@x.com."] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
