//! The server's one error type: each variant maps to an HTTP status and a stable,
//! machine-readable `code`, answered as JSON `{code, message}`. Internal details never
//! reach the client; 5xx errors are logged where they are turned into responses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tungnha_client_core::api::ErrorBody;

use crate::db::DbError;

/// An error an API call answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request body or a parameter is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The sync envelope could not be read.
    #[error("the sync message could not be read: {0}")]
    BadEnvelope(String),
    /// No credentials, or unknown ones.
    #[error("sign in or enrol this device first")]
    Unauthenticated,
    /// The device was revoked: it must wipe its data.
    #[error("this device was revoked by your team leader; its local data must be wiped")]
    Revoked,
    /// The enrolment code is unknown, used or expired.
    #[error(
        "this enrolment code is not valid: it may be mistyped, already used or expired; ask your leader for a new one"
    )]
    BadEnrolCode,
    /// Authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// A change was made under an actor that is not this device's.
    #[error("{0}")]
    ForeignActor(String),
    /// The device's user is not assigned to a hamlet it sent changes for.
    #[error("you are no longer assigned to hamlet {0}; ask your team leader")]
    NotAssigned(String),
    /// The merged result breaks a rule.
    #[error("{message}")]
    RuleViolation {
        /// The rule's stable name.
        rule: &'static str,
        /// What happened.
        message: String,
    },
    /// The request body is larger than the server accepts.
    #[error("the request is too large")]
    TooLarge,
    /// Too many attempts of this kind lately; try again later.
    #[error("too many attempts; wait a minute and try again")]
    TooManyAttempts,
    /// Nothing there.
    #[error("{0} not found")]
    NotFound(String),
    /// Something broke inside.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::BadEnvelope(_) => "bad_envelope",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Revoked => "revoked",
            ApiError::BadEnrolCode => "bad_enrol_code",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::ForeignActor(_) => "foreign_actor",
            ApiError::NotAssigned(_) => "not_assigned",
            ApiError::RuleViolation { .. } => "rule_violation",
            ApiError::TooLarge => "payload_too_large",
            ApiError::TooManyAttempts => "too_many_attempts",
            ApiError::NotFound(_) => "not_found",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::BadEnvelope(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated | ApiError::Revoked => StatusCode::UNAUTHORIZED,
            ApiError::BadEnrolCode => StatusCode::FORBIDDEN,
            ApiError::Forbidden(_) | ApiError::ForeignActor(_) | ApiError::NotAssigned(_) => {
                StatusCode::FORBIDDEN
            }
            ApiError::RuleViolation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            // A day's allowance of households is a rule of the field, not a fault.
            DbError::TooManyListed { .. } => {
                ApiError::RuleViolation { rule: "too_many_households", message: e.to_string() }
            }
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        metrics::counter!("tungnha_refusals_total", "code" => self.code()).increment(1);
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "the server could not complete this request; try again later".to_owned()
        } else {
            self.to_string()
        };
        let rule = match &self {
            ApiError::RuleViolation { rule, .. } => Some((*rule).to_owned()),
            _ => None,
        };
        (status, Json(ErrorBody { code: self.code().to_owned(), message, rule })).into_response()
    }
}
