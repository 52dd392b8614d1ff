//! Commands of the Activity page: the audit trail.

use opsdeck::{AuditEntry, AuditFilter, Caller, VerifyReport};
use tauri::State;

use crate::{AppState, CommandError};

/// Audit entries matching `filter`, newest first.
#[tauri::command]
pub async fn audit_entries(
    state: State<'_, AppState>,
    filter: AuditFilter,
) -> Result<Vec<AuditEntry>, CommandError> {
    Ok(state.deck()?.audit_entries(&filter).await?)
}

/// Checks the whole audit chain.
#[tauri::command]
pub async fn audit_verify(state: State<'_, AppState>) -> Result<VerifyReport, CommandError> {
    Ok(state.deck()?.audit_verify(&Caller::local_user("app")).await?)
}
