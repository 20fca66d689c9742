//! The audit log of official actions: who did what, in which commune. Every service
//! that changes something on someone's behalf writes one event through `audit`.

use tungnha_client_core::CommuneId;

use crate::records::AuditEvent;
use crate::service::ServiceError;
use crate::store::Store;

/// Who the audit log names for the admin commands run from the command line.
pub const CLI: &str = "admin-cli";

/// Every action the audit log records; each has a label in every language of the web
/// (a test holds them together).
pub const ACTIONS: &[&str] = &[
    "province_add",
    "commune_add",
    "commune_attach",
    "communes_import",
    "hamlets_import",
    "households_import",
    "user_add",
    "users_import",
    "assign",
    "unassign",
    "team_add",
    "team_rename",
    "team_dissolve",
    "team_member_add",
    "team_member_remove",
    "team_hamlet_add",
    "team_hamlet_remove",
    "teams_import",
    "target",
    "password_reset",
    "deactivate",
    "reactivate",
    "catalogue",
    "visits_from",
    "enrol_code",
    "export",
    "revoke",
    "revoke_lost",
    "households_confirmed",
    "households_retired",
    "household_merged",
    "api_token_issue",
    "api_token_revoke",
    "filing",
    "filing_import",
    "counter_add",
    "household_erase",
    "household_export",
    "retention",
    "hamlet_rollover",
    "campaign_open",
    "campaign_close",
];

/// Appends to the audit log: `by` did `action` (one of `ACTIONS`), in `commune` when
/// it concerns one.
pub fn audit(
    store: &dyn Store,
    by: &str,
    commune: Option<&CommuneId>,
    action: &str,
    detail: String,
) -> Result<(), ServiceError> {
    debug_assert!(ACTIONS.contains(&action), "audit action {action} is not in ACTIONS");
    store.audit(&AuditEvent {
        at: crate::now_ms(),
        by: by.into(),
        commune: commune.cloned(),
        action: action.into(),
        detail,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_action_has_a_label_in_every_language() {
        for lang in [tungnha_web::Lang::Vi, tungnha_web::Lang::En] {
            let labels = lang.texts().audit_actions;
            for action in super::ACTIONS {
                assert!(labels.iter().any(|(code, _)| code == action), "{action} has no label in {lang:?}");
            }
        }
    }
}
