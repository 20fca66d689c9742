//! A commune's audit log, newest first (officials and administrators).

use super::*;

pub(crate) async fn audit(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    viewer
        .run(move |v| {
            let commune = managed_commune(&state, v, &id)?;
            let events: Vec<AuditLine> = state
                .store
                .audit_events_of(&commune.id, AUDIT_SHOWN)?
                .into_iter()
                .map(|e| AuditLine { at: e.at, by: e.by, action: e.action, detail: e.detail })
                .collect();
            Ok(tungnha_web::manage::audit(&v.chrome(), &events).into_response())
        })
        .await
}
