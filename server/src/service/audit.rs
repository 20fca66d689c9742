//! The audit log of official actions: who did what, in which commune. Every service
//! that changes something on someone's behalf writes one event through `audit`.

use tungnha_client_core::CommuneId;

use crate::records::AuditEvent;
use crate::service::ServiceError;
use crate::store::Store;

/// Who the audit log names for the admin commands run from the command line.
pub const CLI: &str = "admin-cli";

/// Appends to the audit log: `by` did `action`, in `commune` when it concerns one.
pub fn audit(
    store: &dyn Store,
    by: &str,
    commune: Option<&CommuneId>,
    action: &str,
    detail: String,
) -> Result<(), ServiceError> {
    store.audit(&AuditEvent {
        at: crate::now_ms(),
        by: by.into(),
        commune: commune.cloned(),
        action: action.into(),
        detail,
    })?;
    Ok(())
}
