// Generated from the catalogue of operations by `make bindings`; do not edit.

//! One Tauri command per catalogue operation, each running the
//! operation as the app's user.

use opsdeck::catalogue::Operation;
use tauri::State;

use super::run_operation;
use crate::{AppState, CommandError};

/// The names of these commands.
pub const NAMES: &[&str] = &include!("operation_names.in");

/// The invoke handler for these commands.
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        vault_list,
        secret_list,
        secret_show,
        secret_versions,
        secret_reveal,
        secret_set,
        secret_edit,
        secret_import,
        secret_rollback,
        secret_remove,
        audit_log,
        audit_verify,
        api_token_list,
        job_list,
        job_runs,
        job_run_now,
        status,
        notify_targets,
        cert_list,
        config_projects,
        config_history,
        trace_search,
    ]
}

/// `vault.list`: The vaults (a token sees those it reaches), with their key slots and how many secrets each holds.
#[tauri::command]
pub async fn vault_list(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::vaults::VaultList as Operation>::Input,
) -> Result<<opsdeck::catalogue::vaults::VaultList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::vaults::VaultList>(&state, input).await
}

/// `secret.list`: Metadata of every secret in a vault (name, type, version, tags, rotation and expiry); never values.
#[tauri::command]
pub async fn secret_list(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::vaults::SecretList as Operation>::Input,
) -> Result<<opsdeck::catalogue::vaults::SecretList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::vaults::SecretList>(&state, input).await
}

/// `secret.show`: Metadata of one secret; never its value.
#[tauri::command]
pub async fn secret_show(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::vaults::SecretShow as Operation>::Input,
) -> Result<<opsdeck::catalogue::vaults::SecretShow as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::vaults::SecretShow>(&state, input).await
}

/// `secret.versions`: The versions of one secret, newest first: when and by whom each was made.
#[tauri::command]
pub async fn secret_versions(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::vaults::SecretVersions as Operation>::Input,
) -> Result<<opsdeck::catalogue::vaults::SecretVersions as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::vaults::SecretVersions>(&state, input).await
}

/// `secret.reveal`: Reveals a secret's value (the current version unless one is named); audited before the value is returned.
#[tauri::command]
pub async fn secret_reveal(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::vaults::SecretReveal as Operation>::Input,
) -> Result<<opsdeck::catalogue::vaults::SecretReveal as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::vaults::SecretReveal>(&state, input).await
}

/// `secret.set`: Stores a new version of a secret (making it if new): a given value or one from the type's generator; the value is never returned.
#[tauri::command]
pub async fn secret_set(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::secret_changes::SecretSet as Operation>::Input,
) -> Result<<opsdeck::catalogue::secret_changes::SecretSet as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::secret_changes::SecretSet>(&state, input).await
}

/// `secret.edit`: Changes a secret's tags, note, rotation policy, rotation check or expiry without a new version.
#[tauri::command]
pub async fn secret_edit(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::secret_changes::SecretEdit as Operation>::Input,
) -> Result<<opsdeck::catalogue::secret_changes::SecretEdit as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::secret_changes::SecretEdit>(&state, input).await
}

/// `secret.import`: Imports secrets from .env or JSON text, all or nothing: each named secret gets a new version in one transaction.
#[tauri::command]
pub async fn secret_import(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::secret_changes::SecretImport as Operation>::Input,
) -> Result<<opsdeck::catalogue::secret_changes::SecretImport as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::secret_changes::SecretImport>(&state, input).await
}

/// `secret.rollback`: Makes an older version's value current again, as a new version (history is never rewritten).
#[tauri::command]
pub async fn secret_rollback(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::secret_changes::SecretRollback as Operation>::Input,
) -> Result<<opsdeck::catalogue::secret_changes::SecretRollback as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::secret_changes::SecretRollback>(&state, input).await
}

/// `secret.remove`: Deletes a secret with every version (vault admins only; audited).
#[tauri::command]
pub async fn secret_remove(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::secret_changes::SecretRemove as Operation>::Input,
) -> Result<<opsdeck::catalogue::secret_changes::SecretRemove as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::secret_changes::SecretRemove>(&state, input).await
}

/// `audit.log`: Recorded actions, newest first, filtered by actor, action prefix, target, time or paging.
#[tauri::command]
pub async fn audit_log(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::audit::AuditLog as Operation>::Input,
) -> Result<<opsdeck::catalogue::audit::AuditLog as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::audit::AuditLog>(&state, input).await
}

/// `audit.verify`: Checks that no audit entry was edited, deleted, inserted or reordered; an intact chain records the check.
#[tauri::command]
pub async fn audit_verify(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::audit::AuditVerify as Operation>::Input,
) -> Result<<opsdeck::catalogue::audit::AuditVerify as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::audit::AuditVerify>(&state, input).await
}

/// `api.token_list`: The API tokens: names, rights, makers, expiry, last use; never their values.
#[tauri::command]
pub async fn api_token_list(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::tokens::TokenList as Operation>::Input,
) -> Result<<opsdeck::catalogue::tokens::TokenList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::tokens::TokenList>(&state, input).await
}

/// `job.list`: Every scheduled job (built-in checks, rotations, renewals, command jobs) with its schedule and latest run.
#[tauri::command]
pub async fn job_list(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::jobs::JobList as Operation>::Input,
) -> Result<<opsdeck::catalogue::jobs::JobList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::jobs::JobList>(&state, input).await
}

/// `job.runs`: The latest runs of one job, newest first: when, where, outcome and message.
#[tauri::command]
pub async fn job_runs(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::jobs::JobRuns as Operation>::Input,
) -> Result<<opsdeck::catalogue::jobs::JobRuns as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::jobs::JobRuns>(&state, input).await
}

/// `job.run_now`: Makes a job due now (the app or `opsdeck serve` runs it next); a job acting on a vault needs its operator role.
#[tauri::command]
pub async fn job_run_now(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::jobs::JobRunNow as Operation>::Input,
) -> Result<<opsdeck::catalogue::jobs::JobRunNow as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::jobs::JobRunNow>(&state, input).await
}

/// `status`: Where this deck keeps its data, which store it uses and its version.
#[tauri::command]
pub async fn status(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::areas::Status as Operation>::Input,
) -> Result<<opsdeck::catalogue::areas::Status as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::areas::Status>(&state, input).await
}

/// `notify.targets`: The webhook targets signed events are sent to (names and URLs; never their secrets).
#[tauri::command]
pub async fn notify_targets(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::areas::NotifyTargets as Operation>::Input,
) -> Result<<opsdeck::catalogue::areas::NotifyTargets as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::areas::NotifyTargets>(&state, input).await
}

/// `cert.list`: The certificate inventory: subjects, names, issuers, days left, chain status, where each lives, renewal.
#[tauri::command]
pub async fn cert_list(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::areas::CertList as Operation>::Input,
) -> Result<<opsdeck::catalogue::areas::CertList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::areas::CertList>(&state, input).await
}

/// `config.projects`: Every config project with its environments, whether it has a schema, and which promotions need approval.
#[tauri::command]
pub async fn config_projects(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::areas::ConfigProjects as Operation>::Input,
) -> Result<<opsdeck::catalogue::areas::ConfigProjects as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::areas::ConfigProjects>(&state, input).await
}

/// `config.history`: The versions of one environment's layers, newest first: who changed what, why, and how the service was signalled.
#[tauri::command]
pub async fn config_history(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::areas::ConfigHistory as Operation>::Input,
) -> Result<<opsdeck::catalogue::areas::ConfigHistory as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::areas::ConfigHistory>(&state, input).await
}

/// `trace.search`: Finds received traces by service, operation, errors, duration, time and a span attribute; newest first.
#[tauri::command]
pub async fn trace_search(
    state: State<'_, AppState>,
    input: <opsdeck::catalogue::areas::TraceSearchOperation as Operation>::Input,
) -> Result<<opsdeck::catalogue::areas::TraceSearchOperation as Operation>::Output, CommandError> {
    run_operation::<opsdeck::catalogue::areas::TraceSearchOperation>(&state, input).await
}
