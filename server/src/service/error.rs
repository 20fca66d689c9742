//! The services' one error type. Each variant is what a caller must tell apart; the
//! HTTP layer maps each to a status and a stable `code` once (`http::error`), and the
//! web to a page in the viewer's language. Causes are kept, never flattened to text:
//! a storage failure stays a `StoreError`, a bad field names the field.

use crate::service::imports::RowError;
use crate::store::StoreError;

/// The field of a form or command a validation error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A commune's or hamlet's code.
    Code,
    /// A person's, commune's or hamlet's name, or a catalogue label.
    Name,
    /// A username.
    Username,
    /// A password.
    Password,
    /// The commune named.
    Commune,
    /// The province named.
    Province,
    /// The hamlet named.
    Hamlet,
    /// The team named.
    Team,
    /// The person named.
    User,
    /// A hamlet's target of households.
    Target,
    /// A day (YYYY-MM-DD).
    Day,
    /// A month (YYYY-MM).
    Month,
    /// A count of administrative dossiers.
    Dossiers,
    /// A duration (24h, 7d).
    Duration,
    /// A catalogue of topics and account kinds.
    Catalogue,
    /// An imported file.
    File,
    /// The reason given for an action (an erasure).
    Reason,
    /// The household named.
    Household,
    /// A campaign (đợt): which one, or that one is open already.
    Campaign,
}

impl Field {
    /// The field's name as forms and the JSON API spell it.
    pub fn name(self) -> &'static str {
        match self {
            Field::Code => "code",
            Field::Name => "name",
            Field::Username => "username",
            Field::Password => "password",
            Field::Commune => "commune",
            Field::Campaign => "campaign",
            Field::Province => "province",
            Field::Hamlet => "hamlet",
            Field::Team => "team",
            Field::User => "user",
            Field::Target => "target",
            Field::Day => "day",
            Field::Month => "month",
            Field::Dossiers => "dossiers",
            Field::Duration => "duration",
            Field::Catalogue => "catalogue",
            Field::File => "file",
            Field::Reason => "reason",
            Field::Household => "household",
        }
    }
}

/// One field that is not acceptable, and why (in English, for the command line, logs
/// and the JSON API; pages say it in the viewer's language by the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Invalid {
    /// The field.
    pub field: Field,
    /// Why.
    pub reason: String,
}

/// A validation error on `field`.
pub fn invalid(field: Field, reason: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(Invalid { field, reason: reason.into() })
}

/// What a service call can answer instead of doing what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request body or a parameter is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// A field is not acceptable; nothing was changed.
    #[error(transparent)]
    Invalid(Invalid),
    /// A CSV file has bad rows; nothing was imported.
    #[error("nothing was imported; fix these rows and try again:\n{}", .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Import(Vec<RowError>),
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
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
    /// Something else broke inside.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            // A day's allowance of households is a rule of the field, not a fault.
            StoreError::TooManyListed { .. } => {
                ServiceError::RuleViolation { rule: "too_many_households", message: e.to_string() }
            }
            e => ServiceError::Store(e),
        }
    }
}

impl ServiceError {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::BadRequest(_) => "bad_request",
            ServiceError::Invalid(_) => "invalid",
            ServiceError::Import(_) => "import",
            ServiceError::BadEnvelope(_) => "bad_envelope",
            ServiceError::Unauthenticated => "unauthenticated",
            ServiceError::Revoked => "revoked",
            ServiceError::BadEnrolCode => "bad_enrol_code",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::ForeignActor(_) => "foreign_actor",
            ServiceError::NotAssigned(_) => "not_assigned",
            ServiceError::RuleViolation { .. } => "rule_violation",
            ServiceError::TooLarge => "payload_too_large",
            ServiceError::TooManyAttempts => "too_many_attempts",
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Store(StoreError::InUse(_)) => "data_dir_in_use",
            ServiceError::Store(_) | ServiceError::Internal(_) => "internal",
        }
    }

    /// Whether the server, not the request, is at fault.
    pub fn is_internal(&self) -> bool {
        matches!(self, ServiceError::Store(_) | ServiceError::Internal(_))
    }
}
