//! Why a service call failed, and how core and store errors become one.

use crate::store::StoreError;
use aduan_core::case::DecideError;

/// Why a service call failed; each maps to one HTTP status and one NATS failure kind.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServiceError {
    /// 401: missing or bad credentials (HTTP adds `WWW-Authenticate`).
    #[error("{0}")]
    Unauthenticated(String),
    /// 404: unknown id, or a read outside the caller's scope.
    #[error("{0}")]
    NotFound(String),
    /// 403: outside role or scope.
    #[error("{0}")]
    Forbidden(String),
    /// 403: the role may act on cases in its reach, but this one is not dispatched yet; NATS: an
    /// ordering failure, since the verify that dispatches it may still be on its way.
    #[error("{0}")]
    OutOfReach(String),
    /// 409: not allowed in this state.
    #[error("{detail}")]
    Conflict {
        /// What.
        detail: String,
        /// Actions allowed now.
        allowed: Vec<String>,
    },
    /// 409: the same idempotency key with a different body.
    #[error("idempotency key reused")]
    IdempotencyReused,
    /// 422: a field.
    #[error("{field}: {detail}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        detail: String,
    },
    /// 503: another writer changed the case while the command was deciding, and it kept doing so
    /// through every retry (retry later; NATS: transient).
    #[error("the case changed concurrently; retry")]
    LostRace,
    /// 503: the database cannot take the command now (retry later).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            ServiceError::Unauthenticated(_) => 401,
            ServiceError::NotFound(_) => 404,
            ServiceError::Forbidden(_) | ServiceError::OutOfReach(_) => 403,
            ServiceError::Conflict { .. } | ServiceError::IdempotencyReused => 409,
            ServiceError::Invalid { .. } => 422,
            ServiceError::LostRace | ServiceError::Unavailable(_) => 503,
            ServiceError::Internal(_) => 500,
        }
    }

    /// A 422 naming `field`, `detail` saying what is wrong with it.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        ServiceError::Invalid { field: field.into(), detail: detail.into() }
    }
}

impl From<StoreError> for ServiceError {
    /// A database that is away or full becomes a 503 saying so in our words: the database's own
    /// message (which may name tables, files or settings) goes to the log, not to the caller.
    fn from(e: StoreError) -> Self {
        let detail = match &e {
            StoreError::DiskFull(_) => "the database is out of disk space and refuses writes; retry later",
            StoreError::Unavailable(_) => "the database is unavailable; retry later",
            _ => return ServiceError::Internal(e.to_string()),
        };
        tracing::warn!(error = %e, "database cannot take the request");
        ServiceError::Unavailable(detail.to_owned())
    }
}

impl From<DecideError> for ServiceError {
    fn from(e: DecideError) -> Self {
        match e {
            DecideError::NotAllowed { ref allowed, .. } => {
                ServiceError::Conflict { detail: e.to_string(), allowed: allowed.clone() }
            }
            DecideError::Forbidden(m) => ServiceError::Forbidden(m),
            DecideError::OutOfReach(m) => ServiceError::OutOfReach(m),
            DecideError::Invalid { field, message } => ServiceError::Invalid { field, detail: message },
            DecideError::Policy(p) => ServiceError::Invalid {
                field: "agency".into(),
                detail: format!("no agency given and the routing policy failed: {p}"),
            },
        }
    }
}
