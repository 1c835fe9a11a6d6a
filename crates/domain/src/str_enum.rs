//! Enums that travel as lower-case words (in JSON, SQL and search terms).

macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// Parses the lower-case word; the error lists the words allowed.
            pub fn parse(field: &str, raw: &str) -> Result<Self, $crate::DomainError> {
                let lower = raw.trim().to_ascii_lowercase();
                match lower.as_str() {
                    $($text => Ok($name::$variant),)*
                    _ => Err($crate::DomainError::new(
                        field,
                        format!("'{}' is not one of: {}", raw, [$($text),*].join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use str_enum;
