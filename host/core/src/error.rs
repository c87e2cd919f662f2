//! The one error type jobs fail with; the daemon maps each variant to one gRPC status.

/// Why a job was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Bad input, naming where: `scalars[1][37]`, `bases[5]`, `coset`.
    #[error("{field}: {reason}")]
    InvalidArgument { field: String, reason: String },
    #[error("{0}")]
    NotFound(String),
    /// Queues or memory are full; try again later.
    #[error("{0}")]
    ResourceExhausted(String),
    /// No registered backend runs this job.
    #[error("no backend runs {0}")]
    Unsupported(String),
    /// A backend failed while running a job it had accepted.
    #[error("backend {backend}: {reason}")]
    Backend { backend: String, reason: String },
    /// A deadline passed, or a client stream sent nothing for too long; says which.
    #[error("deadline exceeded: {0}")]
    DeadlineExceeded(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    PermissionDenied(String),
    /// Stored data failed its check (a base set whose content no longer matches its handle).
    #[error("{0}")]
    DataLoss(String),
    /// The request conflicts with one still in progress (a resumable upload sent on two
    /// streams at once); retry once that one ends.
    #[error("{0}")]
    Aborted(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl JobError {
    pub fn invalid(field: impl Into<String>, reason: impl ToString) -> Self {
        JobError::InvalidArgument {
            field: field.into(),
            reason: reason.to_string(),
        }
    }
}
