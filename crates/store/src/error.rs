/// What storage can report. `Conflict` and `NotFound` are the caller's to
/// handle; `Backend` is an internal failure, logged and never shown.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique value is taken (e.g. an email address).
    #[error("{0} is already taken")]
    Duplicate(String),
    /// The row changed since it was read (optimistic concurrency).
    #[error("the record was changed by someone else")]
    VersionConflict,
    /// An idempotency key was reused for a different request.
    #[error("the idempotency key was used for a different request")]
    IdempotencyMismatch,
    /// A referenced row does not exist.
    #[error("{0} does not exist")]
    MissingReference(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}
