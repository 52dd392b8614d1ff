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
        vault_create,
        vault_access,
        vault_member_set,
        vault_member_remove,
        vault_change_passphrase,
        secret_list,
        secret_show,
        secret_versions,
        secret_reveal,
        secret_set,
        secret_edit,
        secret_import,
        secret_rollback,
        secret_remove,
        secret_rotate,
        secret_due,
        audit_log,
        audit_verify,
        api_token_list,
        job_list,
        job_runs,
        job_run_now,
        job_set_paused,
        job_remove,
        status,
        notify_targets,
        notify_deliveries,
        notify_test,
        notify_add,
        connection_list,
        cert_list,
        cert_show,
        cert_summary,
        cert_import,
        cert_import_file,
        cert_probe,
        cert_issue,
        cert_renew,
        cert_revoke,
        cert_remove,
        cert_configure,
        config_projects,
        config_history,
        config_explain,
        config_validate,
        config_summary,
        config_create_project,
        config_layers,
        config_compare,
        config_rollback,
        config_preview_promotion,
        config_promote,
        config_requests,
        config_approve,
        config_reject,
        config_reload_hook,
        config_set_reload_hook,
        config_set_approval_envs,
        config_schema,
        config_set_schema,
        config_check_draft,
        config_save,
        config_links,
        config_link,
        config_unlink,
        config_link_conflict,
        config_resolve_link,
        trace_search,
        trace_show,
        telemetry_services,
        telemetry_service_map,
        telemetry_summary,
        log_search,
        trace_compare,
        trace_slow,
        telemetry_receivers,
        telemetry_demo,
        metric_series,
        metric_query,
        metric_query_range,
        metric_target_list,
        metric_target_set,
        metric_target_remove,
        metric_retention,
        metric_retention_set,
        metric_label_values,
        dashboard_list,
        dashboard_get,
        dashboard_save,
        dashboard_import,
        dashboard_history,
        dashboard_remove,
        metric_render,
        metric_source_list,
        metric_source_set,
        metric_source_remove,
        alert_list,
        alert_history,
        alert_acknowledge,
        alert_rule_list,
        alert_rule_set,
        alert_rules_import,
        alert_rule_remove,
        alert_silence_list,
        alert_silence,
        alert_silence_expire,
        scan_run,
        scan_baseline_update,
        scan_install_hook,
        scan_targets,
        scan_target_save,
        scan_target_remove,
        scan_target_run,
        scan_findings,
        scan_finding_mark,
    ]
}

/// `vault.list`: The vaults (a token sees those it reaches), with their key slots and how many secrets each holds.
#[tauri::command]
pub async fn vault_list(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::operations::VaultList as Operation>::Input,
) -> Result<<opsdeck::vaults::operations::VaultList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::operations::VaultList>(&state, input).await
}

/// `vault.create`: Makes a vault with its own data key (in the OS keychain unless no_keychain); its maker becomes its admin.
#[tauri::command]
pub async fn vault_create(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::member_operations::VaultCreate as Operation>::Input,
) -> Result<<opsdeck::vaults::member_operations::VaultCreate as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::member_operations::VaultCreate>(&state, input).await
}

/// `vault.access`: The caller's role in a vault, and (for members) its members and key slots.
#[tauri::command]
pub async fn vault_access(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::member_operations::VaultAccessOperation as Operation>::Input,
) -> Result<<opsdeck::vaults::member_operations::VaultAccessOperation as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::member_operations::VaultAccessOperation>(&state, input).await
}

/// `vault.member_set`: Gives a person a role in a vault (viewer, operator or admin); a vault keeps at least one admin.
#[tauri::command]
pub async fn vault_member_set(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::member_operations::VaultMemberSet as Operation>::Input,
) -> Result<<opsdeck::vaults::member_operations::VaultMemberSet as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::member_operations::VaultMemberSet>(&state, input).await
}

/// `vault.member_remove`: Takes a person out of a vault (not its last admin).
#[tauri::command]
pub async fn vault_member_remove(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::member_operations::VaultMemberRemove as Operation>::Input,
) -> Result<<opsdeck::vaults::member_operations::VaultMemberRemove as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::member_operations::VaultMemberRemove>(&state, input).await
}

/// `vault.change_passphrase`: Changes the passphrase that opens a vault (vault admins only); the old one stops working at once.
#[tauri::command]
pub async fn vault_change_passphrase(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::member_operations::VaultChangePassphrase as Operation>::Input,
) -> Result<<opsdeck::vaults::member_operations::VaultChangePassphrase as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::member_operations::VaultChangePassphrase>(&state, input).await
}

/// `secret.list`: Metadata of every secret in a vault (name, type, version, tags, rotation and expiry); never values.
#[tauri::command]
pub async fn secret_list(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::operations::SecretList as Operation>::Input,
) -> Result<<opsdeck::vaults::operations::SecretList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::operations::SecretList>(&state, input).await
}

/// `secret.show`: Metadata of one secret; never its value.
#[tauri::command]
pub async fn secret_show(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::operations::SecretShow as Operation>::Input,
) -> Result<<opsdeck::vaults::operations::SecretShow as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::operations::SecretShow>(&state, input).await
}

/// `secret.versions`: The versions of one secret, newest first: when and by whom each was made.
#[tauri::command]
pub async fn secret_versions(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::operations::SecretVersions as Operation>::Input,
) -> Result<<opsdeck::vaults::operations::SecretVersions as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::operations::SecretVersions>(&state, input).await
}

/// `secret.reveal`: Reveals a secret's value (the current version unless one is named); audited before the value is returned.
#[tauri::command]
pub async fn secret_reveal(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::operations::SecretReveal as Operation>::Input,
) -> Result<<opsdeck::vaults::operations::SecretReveal as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::operations::SecretReveal>(&state, input).await
}

/// `secret.set`: Stores a new version of a secret (making it if new): a given value or one from the type's generator; the value is never returned.
#[tauri::command]
pub async fn secret_set(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::secret_operations::SecretSet as Operation>::Input,
) -> Result<<opsdeck::vaults::secret_operations::SecretSet as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::secret_operations::SecretSet>(&state, input).await
}

/// `secret.edit`: Changes a secret's tags, note, rotation policy, rotation check or expiry without a new version.
#[tauri::command]
pub async fn secret_edit(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::secret_operations::SecretEdit as Operation>::Input,
) -> Result<<opsdeck::vaults::secret_operations::SecretEdit as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::secret_operations::SecretEdit>(&state, input).await
}

/// `secret.import`: Imports secrets from .env or JSON text, all or nothing: each named secret gets a new version in one transaction.
#[tauri::command]
pub async fn secret_import(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::secret_operations::SecretImport as Operation>::Input,
) -> Result<<opsdeck::vaults::secret_operations::SecretImport as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::secret_operations::SecretImport>(&state, input).await
}

/// `secret.rollback`: Makes an older version's value current again, as a new version (history is never rewritten).
#[tauri::command]
pub async fn secret_rollback(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::secret_operations::SecretRollback as Operation>::Input,
) -> Result<<opsdeck::vaults::secret_operations::SecretRollback as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::secret_operations::SecretRollback>(&state, input).await
}

/// `secret.remove`: Deletes a secret with every version (vault admins only; audited).
#[tauri::command]
pub async fn secret_remove(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::secret_operations::SecretRemove as Operation>::Input,
) -> Result<<opsdeck::vaults::secret_operations::SecretRemove as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::secret_operations::SecretRemove>(&state, input).await
}

/// `secret.rotate`: Rotates a secret now with its type's generator; with a verification command the new value is kept only if the command accepts it, otherwise the old one stays current.
#[tauri::command]
pub async fn secret_rotate(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::secret_operations::SecretRotate as Operation>::Input,
) -> Result<<opsdeck::vaults::secret_operations::SecretRotate as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::secret_operations::SecretRotate>(&state, input).await
}

/// `secret.due`: Secrets whose rotation is due or that expire within a number of days, soonest first, across the vaults the caller reaches.
#[tauri::command]
pub async fn secret_due(
    state: State<'_, AppState>,
    input: <opsdeck::vaults::operations::SecretsDue as Operation>::Input,
) -> Result<<opsdeck::vaults::operations::SecretsDue as Operation>::Output, CommandError> {
    run_operation::<opsdeck::vaults::operations::SecretsDue>(&state, input).await
}

/// `audit.log`: Recorded actions, newest first, filtered by actor, action prefix, target, time or paging.
#[tauri::command]
pub async fn audit_log(
    state: State<'_, AppState>,
    input: <opsdeck::audit::operations::AuditLog as Operation>::Input,
) -> Result<<opsdeck::audit::operations::AuditLog as Operation>::Output, CommandError> {
    run_operation::<opsdeck::audit::operations::AuditLog>(&state, input).await
}

/// `audit.verify`: Checks that no audit entry was edited, deleted, inserted or reordered; an intact chain records the check.
#[tauri::command]
pub async fn audit_verify(
    state: State<'_, AppState>,
    input: <opsdeck::audit::operations::AuditVerify as Operation>::Input,
) -> Result<<opsdeck::audit::operations::AuditVerify as Operation>::Output, CommandError> {
    run_operation::<opsdeck::audit::operations::AuditVerify>(&state, input).await
}

/// `api.token_list`: The API tokens: names, rights, makers, expiry, last use; never their values.
#[tauri::command]
pub async fn api_token_list(
    state: State<'_, AppState>,
    input: <opsdeck::tokens::operations::TokenList as Operation>::Input,
) -> Result<<opsdeck::tokens::operations::TokenList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::tokens::operations::TokenList>(&state, input).await
}

/// `job.list`: Every scheduled job (built-in checks, rotations, renewals, command jobs) with its schedule and latest run.
#[tauri::command]
pub async fn job_list(
    state: State<'_, AppState>,
    input: <opsdeck::jobs::operations::JobList as Operation>::Input,
) -> Result<<opsdeck::jobs::operations::JobList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::jobs::operations::JobList>(&state, input).await
}

/// `job.runs`: The latest runs of one job, newest first: when, where, outcome and message.
#[tauri::command]
pub async fn job_runs(
    state: State<'_, AppState>,
    input: <opsdeck::jobs::operations::JobRuns as Operation>::Input,
) -> Result<<opsdeck::jobs::operations::JobRuns as Operation>::Output, CommandError> {
    run_operation::<opsdeck::jobs::operations::JobRuns>(&state, input).await
}

/// `job.run_now`: Makes a job due now (the app or `opsdeck serve` runs it next); a job acting on a vault needs its operator role.
#[tauri::command]
pub async fn job_run_now(
    state: State<'_, AppState>,
    input: <opsdeck::jobs::operations::JobRunNow as Operation>::Input,
) -> Result<<opsdeck::jobs::operations::JobRunNow as Operation>::Output, CommandError> {
    run_operation::<opsdeck::jobs::operations::JobRunNow>(&state, input).await
}

/// `job.set_paused`: Pauses a job (it stays listed and runs no more) or resumes it; a job acting on a vault needs its operator role.
#[tauri::command]
pub async fn job_set_paused(
    state: State<'_, AppState>,
    input: <opsdeck::jobs::operations::JobSetPaused as Operation>::Input,
) -> Result<<opsdeck::jobs::operations::JobSetPaused as Operation>::Output, CommandError> {
    run_operation::<opsdeck::jobs::operations::JobSetPaused>(&state, input).await
}

/// `job.remove`: Deletes a job and its run history (a command job, a rotation or renewal schedule); built-in jobs cannot be removed, only paused. A job acting on a vault needs its operator role.
#[tauri::command]
pub async fn job_remove(
    state: State<'_, AppState>,
    input: <opsdeck::jobs::operations::JobRemove as Operation>::Input,
) -> Result<<opsdeck::jobs::operations::JobRemove as Operation>::Output, CommandError> {
    run_operation::<opsdeck::jobs::operations::JobRemove>(&state, input).await
}

/// `status`: Where this deck keeps its data, which store it uses and its version.
#[tauri::command]
pub async fn status(
    state: State<'_, AppState>,
    input: <opsdeck::status::operations::Status as Operation>::Input,
) -> Result<<opsdeck::status::operations::Status as Operation>::Output, CommandError> {
    run_operation::<opsdeck::status::operations::Status>(&state, input).await
}

/// `notify.targets`: The webhook targets signed events are sent to (names and URLs; never their secrets).
#[tauri::command]
pub async fn notify_targets(
    state: State<'_, AppState>,
    input: <opsdeck::notify::operations::NotifyTargets as Operation>::Input,
) -> Result<<opsdeck::notify::operations::NotifyTargets as Operation>::Output, CommandError> {
    run_operation::<opsdeck::notify::operations::NotifyTargets>(&state, input).await
}

/// `notify.deliveries`: The latest webhook deliveries, newest first: event, target, status, attempts and the last error.
#[tauri::command]
pub async fn notify_deliveries(
    state: State<'_, AppState>,
    input: <opsdeck::notify::operations::NotifyDeliveries as Operation>::Input,
) -> Result<<opsdeck::notify::operations::NotifyDeliveries as Operation>::Output, CommandError> {
    run_operation::<opsdeck::notify::operations::NotifyDeliveries>(&state, input).await
}

/// `notify.test`: Sends a signed test event to one webhook target now and returns the delivery: status, attempts, last error.
#[tauri::command]
pub async fn notify_test(
    state: State<'_, AppState>,
    input: <opsdeck::notify::operations::NotifyTest as Operation>::Input,
) -> Result<<opsdeck::notify::operations::NotifyTest as Operation>::Output, CommandError> {
    run_operation::<opsdeck::notify::operations::NotifyTest>(&state, input).await
}

/// `notify.add`: Adds (or replaces) a webhook target and returns its new signing secret, once; events are signed with it and retried until delivered.
#[tauri::command]
pub async fn notify_add(
    state: State<'_, AppState>,
    input: <opsdeck::notify::operations::NotifyAdd as Operation>::Input,
) -> Result<<opsdeck::notify::operations::NotifyAdd as Operation>::Output, CommandError> {
    run_operation::<opsdeck::notify::operations::NotifyAdd>(&state, input).await
}

/// `connection.list`: The outside endpoints this process has called (ACME, webhooks, OpenBao, …): circuit breaker state and recent outcomes.
#[tauri::command]
pub async fn connection_list(
    state: State<'_, AppState>,
    input: <opsdeck::notify::operations::ConnectionList as Operation>::Input,
) -> Result<<opsdeck::notify::operations::ConnectionList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::notify::operations::ConnectionList>(&state, input).await
}

/// `cert.list`: The certificate inventory, soonest expiry first: subjects, names, issuers, days left, chain status, where each lives, renewal; optionally only those expiring within some days, from one source or in one state.
#[tauri::command]
pub async fn cert_list(
    state: State<'_, AppState>,
    input: <opsdeck::certs::operations::CertList as Operation>::Input,
) -> Result<<opsdeck::certs::operations::CertList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::certs::operations::CertList>(&state, input).await
}

/// `cert.show`: One certificate in detail: its chain, where it lives, how it is renewed and deployed, and its history.
#[tauri::command]
pub async fn cert_show(
    state: State<'_, AppState>,
    input: <opsdeck::certs::operations::CertShow as Operation>::Input,
) -> Result<<opsdeck::certs::operations::CertShow as Operation>::Output, CommandError> {
    run_operation::<opsdeck::certs::operations::CertShow>(&state, input).await
}

/// `cert.summary`: Readiness of the certificates: how many there are, expiring soon, expired, with broken chains or failed renewals.
#[tauri::command]
pub async fn cert_summary(
    state: State<'_, AppState>,
    input: <opsdeck::certs::operations::CertSummaryOperation as Operation>::Input,
) -> Result<<opsdeck::certs::operations::CertSummaryOperation as Operation>::Output, CommandError> {
    run_operation::<opsdeck::certs::operations::CertSummaryOperation>(&state, input).await
}

/// `cert.import`: Adds the certificates found in files and directories on the OpsDeck machine to the inventory (keys and requests beside them are passed over); reports files it could not read.
#[tauri::command]
pub async fn cert_import(
    state: State<'_, AppState>,
    input: <opsdeck::certs::change_operations::CertImport as Operation>::Input,
) -> Result<<opsdeck::certs::change_operations::CertImport as Operation>::Output, CommandError> {
    run_operation::<opsdeck::certs::change_operations::CertImport>(&state, input).await
}

/// `cert.import_file`: Adds the certificates of one file's contents (PEM or DER, sent with the request) to the inventory.
#[tauri::command]
pub async fn cert_import_file(
    state: State<'_, AppState>,
    input: <opsdeck::certs::change_operations::CertImportFile as Operation>::Input,
) -> Result<<opsdeck::certs::change_operations::CertImportFile as Operation>::Output, CommandError> {
    run_operation::<opsdeck::certs::change_operations::CertImportFile>(&state, input).await
}

/// `cert.probe`: Connects to a TLS endpoint, records the chain it serves in the inventory and checks it (trusted, expired, wrong names).
#[tauri::command]
pub async fn cert_probe(
    state: State<'_, AppState>,
    input: <opsdeck::certs::change_operations::CertProbe as Operation>::Input,
) -> Result<<opsdeck::certs::change_operations::CertProbe as Operation>::Output, CommandError> {
    run_operation::<opsdeck::certs::change_operations::CertProbe>(&state, input).await
}

/// `cert.issue`: Issues a certificate through ACME (HTTP-01 or DNS-01), seals its key in a vault, deploys it and schedules its renewal; takes as long as the CA does.
#[tauri::command]
pub async fn cert_issue(
    state: State<'_, AppState>,
    input: <opsdeck::certs::change_operations::CertIssue as Operation>::Input,
) -> Result<<opsdeck::certs::change_operations::CertIssue as Operation>::Output, CommandError> {
    run_operation::<opsdeck::certs::change_operations::CertIssue>(&state, input).await
}

/// `cert.renew`: Renews a certificate issued here now (or retries a failed issuance), then deploys it.
#[tauri::command]
pub async fn cert_renew(
    state: State<'_, AppState>,
    input: <opsdeck::certs::change_operations::CertRenew as Operation>::Input,
) -> Result<<opsdeck::certs::change_operations::CertRenew as Operation>::Output, CommandError> {
    run_operation::<opsdeck::certs::change_operations::CertRenew>(&state, input).await
}

/// `cert.revoke`: Asks the CA to revoke a certificate issued here and stops renewing it; cannot be undone.
#[tauri::command]
pub async fn cert_revoke(
    state: State<'_, AppState>,
    input: <opsdeck::certs::change_operations::CertRevoke as Operation>::Input,
) -> Result<<opsdeck::certs::change_operations::CertRevoke as Operation>::Output, CommandError> {
    run_operation::<opsdeck::certs::change_operations::CertRevoke>(&state, input).await
}

/// `cert.remove`: Forgets a certificate and stops its renewal; its key stays in the vault and nothing is revoked.
#[tauri::command]
pub async fn cert_remove(
    state: State<'_, AppState>,
    input: <opsdeck::certs::change_operations::CertRemove as Operation>::Input,
) -> Result<<opsdeck::certs::change_operations::CertRemove as Operation>::Output, CommandError> {
    run_operation::<opsdeck::certs::change_operations::CertRemove>(&state, input).await
}

/// `cert.configure`: Changes a certificate's deploy hook (files written, command run after each issuance) and/or when it renews; the renewal job moves at once.
#[tauri::command]
pub async fn cert_configure(
    state: State<'_, AppState>,
    input: <opsdeck::certs::change_operations::CertConfigure as Operation>::Input,
) -> Result<<opsdeck::certs::change_operations::CertConfigure as Operation>::Output, CommandError> {
    run_operation::<opsdeck::certs::change_operations::CertConfigure>(&state, input).await
}

/// `config.projects`: Every config project with its environments, whether it has a schema, and which promotions need approval.
#[tauri::command]
pub async fn config_projects(
    state: State<'_, AppState>,
    input: <opsdeck::configs::operations::ConfigProjects as Operation>::Input,
) -> Result<<opsdeck::configs::operations::ConfigProjects as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::operations::ConfigProjects>(&state, input).await
}

/// `config.history`: The versions of one environment's layers, newest first: who changed what, why, and how the service was signalled.
#[tauri::command]
pub async fn config_history(
    state: State<'_, AppState>,
    input: <opsdeck::configs::operations::ConfigHistory as Operation>::Input,
) -> Result<<opsdeck::configs::operations::ConfigHistory as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::operations::ConfigHistory>(&state, input).await
}

/// `config.explain`: The effective config of one environment, every key with its value and provenance (which layer set it, and which it overrode); secret references are not resolved.
#[tauri::command]
pub async fn config_explain(
    state: State<'_, AppState>,
    input: <opsdeck::configs::operations::ConfigExplain as Operation>::Input,
) -> Result<<opsdeck::configs::operations::ConfigExplain as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::operations::ConfigExplain>(&state, input).await
}

/// `config.validate`: Checks one environment's effective config against the project's JSON Schema and lists every violation with its key.
#[tauri::command]
pub async fn config_validate(
    state: State<'_, AppState>,
    input: <opsdeck::configs::operations::ConfigValidate as Operation>::Input,
) -> Result<<opsdeck::configs::operations::ConfigValidate as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::operations::ConfigValidate>(&state, input).await
}

/// `config.summary`: Readiness of the configs: projects, environments, schema violations, pending promotion requests and link conflicts.
#[tauri::command]
pub async fn config_summary(
    state: State<'_, AppState>,
    input: <opsdeck::configs::operations::ConfigSummaryOperation as Operation>::Input,
) -> Result<<opsdeck::configs::operations::ConfigSummaryOperation as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::operations::ConfigSummaryOperation>(&state, input).await
}

/// `config.create_project`: Makes a config project (dev, staging and prod environments); its maker becomes its first admin.
#[tauri::command]
pub async fn config_create_project(
    state: State<'_, AppState>,
    input: <opsdeck::configs::change_operations::ConfigCreateProject as Operation>::Input,
) -> Result<<opsdeck::configs::change_operations::ConfigCreateProject as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::change_operations::ConfigCreateProject>(&state, input).await
}

/// `config.layers`: The layers of one environment (defaults, committed, local, …) with their text, format and version.
#[tauri::command]
pub async fn config_layers(
    state: State<'_, AppState>,
    input: <opsdeck::configs::change_operations::ConfigLayers as Operation>::Input,
) -> Result<<opsdeck::configs::change_operations::ConfigLayers as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::change_operations::ConfigLayers>(&state, input).await
}

/// `config.compare`: Compares two versions of an environment: the keys added, removed and changed, and each changed layer's text.
#[tauri::command]
pub async fn config_compare(
    state: State<'_, AppState>,
    input: <opsdeck::configs::change_operations::ConfigCompare as Operation>::Input,
) -> Result<<opsdeck::configs::change_operations::ConfigCompare as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::change_operations::ConfigCompare>(&state, input).await
}

/// `config.rollback`: Makes an older version of an environment current again, as new versions (history is kept), and signals the service.
#[tauri::command]
pub async fn config_rollback(
    state: State<'_, AppState>,
    input: <opsdeck::configs::change_operations::ConfigRollback as Operation>::Input,
) -> Result<<opsdeck::configs::change_operations::ConfigRollback as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::change_operations::ConfigRollback>(&state, input).await
}

/// `config.preview_promotion`: What promoting one environment's committed layer to another would change, and whether the result meets the schema.
#[tauri::command]
pub async fn config_preview_promotion(
    state: State<'_, AppState>,
    input: <opsdeck::configs::change_operations::ConfigPreviewPromotion as Operation>::Input,
) -> Result<<opsdeck::configs::change_operations::ConfigPreviewPromotion as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::change_operations::ConfigPreviewPromotion>(&state, input).await
}

/// `config.promote`: Promotes one environment's committed layer to another; where the target needs approval this makes a request for another person instead.
#[tauri::command]
pub async fn config_promote(
    state: State<'_, AppState>,
    input: <opsdeck::configs::change_operations::ConfigPromote as Operation>::Input,
) -> Result<<opsdeck::configs::change_operations::ConfigPromote as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::change_operations::ConfigPromote>(&state, input).await
}

/// `config.requests`: A project's promotion requests, newest first: pending ones wait for a second person.
#[tauri::command]
pub async fn config_requests(
    state: State<'_, AppState>,
    input: <opsdeck::configs::change_operations::ConfigRequests as Operation>::Input,
) -> Result<<opsdeck::configs::change_operations::ConfigRequests as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::change_operations::ConfigRequests>(&state, input).await
}

/// `config.approve`: Approves a pending promotion request (not one's own) and applies it, if the source has not changed since.
#[tauri::command]
pub async fn config_approve(
    state: State<'_, AppState>,
    input: <opsdeck::configs::change_operations::ConfigApprove as Operation>::Input,
) -> Result<<opsdeck::configs::change_operations::ConfigApprove as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::change_operations::ConfigApprove>(&state, input).await
}

/// `config.reject`: Turns down a pending promotion request, with a reason.
#[tauri::command]
pub async fn config_reject(
    state: State<'_, AppState>,
    input: <opsdeck::configs::change_operations::ConfigReject as Operation>::Input,
) -> Result<<opsdeck::configs::change_operations::ConfigReject as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::change_operations::ConfigReject>(&state, input).await
}

/// `config.reload_hook`: How an environment's service is signalled after each change: a command on this machine and/or a webhook.
#[tauri::command]
pub async fn config_reload_hook(
    state: State<'_, AppState>,
    input: <opsdeck::configs::change_operations::ConfigReloadHook as Operation>::Input,
) -> Result<<opsdeck::configs::change_operations::ConfigReloadHook as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::change_operations::ConfigReloadHook>(&state, input).await
}

/// `config.set_reload_hook`: Sets how an environment's service is signalled after each change (project admins only; the command is sealed and runs on the machine that set it).
#[tauri::command]
pub async fn config_set_reload_hook(
    state: State<'_, AppState>,
    input: <opsdeck::configs::change_operations::ConfigSetReloadHook as Operation>::Input,
) -> Result<<opsdeck::configs::change_operations::ConfigSetReloadHook as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::change_operations::ConfigSetReloadHook>(&state, input).await
}

/// `config.set_approval_envs`: Sets which environments a promotion into needs a second person's approval (project admins only).
#[tauri::command]
pub async fn config_set_approval_envs(
    state: State<'_, AppState>,
    input: <opsdeck::configs::change_operations::ConfigSetApprovalEnvs as Operation>::Input,
) -> Result<<opsdeck::configs::change_operations::ConfigSetApprovalEnvs as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::change_operations::ConfigSetApprovalEnvs>(&state, input).await
}

/// `config.schema`: The JSON Schema every environment of a config project is checked against (none when it has none).
#[tauri::command]
pub async fn config_schema(
    state: State<'_, AppState>,
    input: <opsdeck::configs::editor_operations::ConfigSchema as Operation>::Input,
) -> Result<<opsdeck::configs::editor_operations::ConfigSchema as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::editor_operations::ConfigSchema>(&state, input).await
}

/// `config.set_schema`: Sets a config project's JSON Schema; refused when the schema is broken or a stored environment would break it (each violation named).
#[tauri::command]
pub async fn config_set_schema(
    state: State<'_, AppState>,
    input: <opsdeck::configs::editor_operations::ConfigSetSchema as Operation>::Input,
) -> Result<<opsdeck::configs::editor_operations::ConfigSetSchema as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::editor_operations::ConfigSetSchema>(&state, input).await
}

/// `config.check_draft`: Checks a layer's unsaved text as a save would (syntax with line numbers, the schema on the merged result, references) without storing anything.
#[tauri::command]
pub async fn config_check_draft(
    state: State<'_, AppState>,
    input: <opsdeck::configs::editor_operations::ConfigCheckDraft as Operation>::Input,
) -> Result<<opsdeck::configs::editor_operations::ConfigCheckDraft as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::editor_operations::ConfigCheckDraft>(&state, input).await
}

/// `config.save`: Stores a layer's new text as the next version of its environment (refused, with every problem, when it breaks the syntax, the schema or a reference); runs the reload hook.
#[tauri::command]
pub async fn config_save(
    state: State<'_, AppState>,
    input: <opsdeck::configs::editor_operations::ConfigSave as Operation>::Input,
) -> Result<<opsdeck::configs::editor_operations::ConfigSave as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::editor_operations::ConfigSave>(&state, input).await
}

/// `config.links`: Every config layer linked to a file on the OpsDeck machine, with when it last agreed and any conflict waiting for a choice.
#[tauri::command]
pub async fn config_links(
    state: State<'_, AppState>,
    input: <opsdeck::configs::editor_operations::ConfigLinks as Operation>::Input,
) -> Result<<opsdeck::configs::editor_operations::ConfigLinks as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::editor_operations::ConfigLinks>(&state, input).await
}

/// `config.link`: Links a layer to a file on the OpsDeck machine: the file's text is stored now (checked like any save), edits to the file are stored, stored changes are written back to it.
#[tauri::command]
pub async fn config_link(
    state: State<'_, AppState>,
    input: <opsdeck::configs::editor_operations::ConfigLinkFile as Operation>::Input,
) -> Result<<opsdeck::configs::editor_operations::ConfigLinkFile as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::editor_operations::ConfigLinkFile>(&state, input).await
}

/// `config.unlink`: Stops following a layer's file (the file and the stored versions stay).
#[tauri::command]
pub async fn config_unlink(
    state: State<'_, AppState>,
    input: <opsdeck::configs::editor_operations::ConfigUnlink as Operation>::Input,
) -> Result<<opsdeck::configs::editor_operations::ConfigUnlink as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::editor_operations::ConfigUnlink>(&state, input).await
}

/// `config.link_conflict`: Both texts of a linked layer in conflict (the file's edit and the stored change waiting to be written), and whether the file's text passes the checks.
#[tauri::command]
pub async fn config_link_conflict(
    state: State<'_, AppState>,
    input: <opsdeck::configs::editor_operations::ConfigLinkConflict as Operation>::Input,
) -> Result<<opsdeck::configs::editor_operations::ConfigLinkConflict as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::editor_operations::ConfigLinkConflict>(&state, input).await
}

/// `config.resolve_link`: Ends a linked layer's conflict: store the file's text as a new version, or write the stored text over the file (after copying the file aside).
#[tauri::command]
pub async fn config_resolve_link(
    state: State<'_, AppState>,
    input: <opsdeck::configs::editor_operations::ConfigResolveLink as Operation>::Input,
) -> Result<<opsdeck::configs::editor_operations::ConfigResolveLink as Operation>::Output, CommandError> {
    run_operation::<opsdeck::configs::editor_operations::ConfigResolveLink>(&state, input).await
}

/// `trace.search`: Finds received traces by service, operation, errors, duration, time and a span attribute; newest first.
#[tauri::command]
pub async fn trace_search(
    state: State<'_, AppState>,
    input: <opsdeck::telemetry::operations::TraceSearchOperation as Operation>::Input,
) -> Result<<opsdeck::telemetry::operations::TraceSearchOperation as Operation>::Output, CommandError> {
    run_operation::<opsdeck::telemetry::operations::TraceSearchOperation>(&state, input).await
}

/// `trace.show`: One trace: every span with its attributes and self time, its logs, and the critical path that decided its duration.
#[tauri::command]
pub async fn trace_show(
    state: State<'_, AppState>,
    input: <opsdeck::telemetry::operations::TraceShow as Operation>::Input,
) -> Result<<opsdeck::telemetry::operations::TraceShow as Operation>::Output, CommandError> {
    run_operation::<opsdeck::telemetry::operations::TraceShow>(&state, input).await
}

/// `telemetry.services`: The services that sent spans in a time window, each with its operations.
#[tauri::command]
pub async fn telemetry_services(
    state: State<'_, AppState>,
    input: <opsdeck::telemetry::operations::TelemetryServices as Operation>::Input,
) -> Result<<opsdeck::telemetry::operations::TelemetryServices as Operation>::Output, CommandError> {
    run_operation::<opsdeck::telemetry::operations::TelemetryServices>(&state, input).await
}

/// `telemetry.service_map`: Which service calls which in a time window, with call counts, errors and latency per edge.
#[tauri::command]
pub async fn telemetry_service_map(
    state: State<'_, AppState>,
    input: <opsdeck::telemetry::operations::ServiceMap as Operation>::Input,
) -> Result<<opsdeck::telemetry::operations::ServiceMap as Operation>::Output, CommandError> {
    run_operation::<opsdeck::telemetry::operations::ServiceMap>(&state, input).await
}

/// `telemetry.summary`: Readiness of telemetry: where OTLP is received and the last hour's traces and error traces.
#[tauri::command]
pub async fn telemetry_summary(
    state: State<'_, AppState>,
    input: <opsdeck::telemetry::operations::TelemetrySummaryOperation as Operation>::Input,
) -> Result<<opsdeck::telemetry::operations::TelemetrySummaryOperation as Operation>::Output, CommandError> {
    run_operation::<opsdeck::telemetry::operations::TelemetrySummaryOperation>(&state, input).await
}

/// `log.search`: Finds received log records by service, severity, text in the body, trace and time; newest first.
#[tauri::command]
pub async fn log_search(
    state: State<'_, AppState>,
    input: <opsdeck::telemetry::operations::LogSearchOperation as Operation>::Input,
) -> Result<<opsdeck::telemetry::operations::LogSearchOperation as Operation>::Output, CommandError> {
    run_operation::<opsdeck::telemetry::operations::LogSearchOperation>(&state, input).await
}

/// `trace.compare`: Compares two traces span by span (matched by service and operation): which got slower or faster, which appear in only one.
#[tauri::command]
pub async fn trace_compare(
    state: State<'_, AppState>,
    input: <opsdeck::telemetry::operations::TraceCompare as Operation>::Input,
) -> Result<<opsdeck::telemetry::operations::TraceCompare as Operation>::Output, CommandError> {
    run_operation::<opsdeck::telemetry::operations::TraceCompare>(&state, input).await
}

/// `trace.slow`: Traces slower than a percentile (default p95) of their own operation in a time window, slowest first.
#[tauri::command]
pub async fn trace_slow(
    state: State<'_, AppState>,
    input: <opsdeck::telemetry::operations::TraceSlow as Operation>::Input,
) -> Result<<opsdeck::telemetry::operations::TraceSlow as Operation>::Output, CommandError> {
    run_operation::<opsdeck::telemetry::operations::TraceSlow>(&state, input).await
}

/// `telemetry.receivers`: Where this process receives OTLP (gRPC and HTTP addresses), for pointing an SDK at it.
#[tauri::command]
pub async fn telemetry_receivers(
    state: State<'_, AppState>,
    input: <opsdeck::telemetry::operations::TelemetryReceivers as Operation>::Input,
) -> Result<<opsdeck::telemetry::operations::TelemetryReceivers as Operation>::Output, CommandError> {
    run_operation::<opsdeck::telemetry::operations::TelemetryReceivers>(&state, input).await
}

/// `telemetry.demo`: Sends traces and logs of a simulated shop (five services, some slow, some failing) to this process's own OTLP/HTTP receiver, for a first look at the trace pages.
#[tauri::command]
pub async fn telemetry_demo(
    state: State<'_, AppState>,
    input: <opsdeck::telemetry::operations::TelemetryDemo as Operation>::Input,
) -> Result<<opsdeck::telemetry::operations::TelemetryDemo as Operation>::Output, CommandError> {
    run_operation::<opsdeck::telemetry::operations::TelemetryDemo>(&state, input).await
}

/// `metric.series`: Series matching a PromQL selector (OTLP metrics are stored under the names Prometheus' OTLP receiver gives them), each with its labels and latest value.
#[tauri::command]
pub async fn metric_series(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::operations::SeriesList as Operation>::Input,
) -> Result<<opsdeck::metrics::operations::SeriesList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::operations::SeriesList>(&state, input).await
}

/// `metric.query`: Evaluates a PromQL expression at one instant (now unless given), with Prometheus' semantics: 5-minute lookback, staleness, rate extrapolation, vector matching.
#[tauri::command]
pub async fn metric_query(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::operations::Query as Operation>::Input,
) -> Result<<opsdeck::metrics::operations::Query as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::operations::Query>(&state, input).await
}

/// `metric.query_range`: Evaluates a PromQL expression at every step of a time range (the last hour unless given): what a chart draws.
#[tauri::command]
pub async fn metric_query_range(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::operations::QueryRange as Operation>::Input,
) -> Result<<opsdeck::metrics::operations::QueryRange as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::operations::QueryRange>(&state, input).await
}

/// `metric.target_list`: Prometheus scrape targets: where, how often, and how their last scrape went (up or down, why).
#[tauri::command]
pub async fn metric_target_list(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::operations::TargetList as Operation>::Input,
) -> Result<<opsdeck::metrics::operations::TargetList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::operations::TargetList>(&state, input).await
}

/// `metric.target_set`: Adds or changes a Prometheus scrape target (text format or OpenMetrics): scraped on a fixed grid every interval, with up, scrape_duration_seconds and scrape_samples_scraped, and staleness markers for series that go away.
#[tauri::command]
pub async fn metric_target_set(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::operations::TargetSet as Operation>::Input,
) -> Result<<opsdeck::metrics::operations::TargetSet as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::operations::TargetSet>(&state, input).await
}

/// `metric.target_remove`: Stops scraping a target (its series stay until retention drops them).
#[tauri::command]
pub async fn metric_target_remove(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::operations::TargetRemove as Operation>::Input,
) -> Result<<opsdeck::metrics::operations::TargetRemove as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::operations::TargetRemove>(&state, input).await
}

/// `metric.retention`: How long the series store keeps samples (full resolution, then one per five minutes), its size limit, and how much it holds.
#[tauri::command]
pub async fn metric_retention(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::retention::RetentionGet as Operation>::Input,
) -> Result<<opsdeck::metrics::retention::RetentionGet as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::retention::RetentionGet>(&state, input).await
}

/// `metric.retention_set`: Sets how many days samples stay at full resolution, how many days they are kept at all, and the most bytes kept; applied at once, then every 10 minutes.
#[tauri::command]
pub async fn metric_retention_set(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::retention::RetentionSet as Operation>::Input,
) -> Result<<opsdeck::metrics::retention::RetentionSet as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::retention::RetentionSet>(&state, input).await
}

/// `metric.label_values`: The values a label takes (metric names with `__name__`), optionally in series matching a selector: dashboard variables and query completion.
#[tauri::command]
pub async fn metric_label_values(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::dashboards::LabelValues as Operation>::Input,
) -> Result<<opsdeck::metrics::dashboards::LabelValues as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::dashboards::LabelValues>(&state, input).await
}

/// `dashboard.list`: Dashboards: the generated ones (RED per traced service, OpsDeck itself) and the saved ones.
#[tauri::command]
pub async fn dashboard_list(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::dashboards::DashboardList as Operation>::Input,
) -> Result<<opsdeck::metrics::dashboards::DashboardList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::dashboards::DashboardList>(&state, input).await
}

/// `dashboard.get`: One dashboard (its latest version or the one asked for): panels, variables, layout — the JSON to export.
#[tauri::command]
pub async fn dashboard_get(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::dashboards::DashboardGet as Operation>::Input,
) -> Result<<opsdeck::metrics::dashboards::DashboardGet as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::dashboards::DashboardGet>(&state, input).await
}

/// `dashboard.save`: Saves a dashboard as its next version (each panel's query is checked first; every version is kept).
#[tauri::command]
pub async fn dashboard_save(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::dashboards::DashboardSave as Operation>::Input,
) -> Result<<opsdeck::metrics::dashboards::DashboardSave as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::dashboards::DashboardSave>(&state, input).await
}

/// `dashboard.import`: Imports a dashboard from its exported JSON, saved as the next version of its name.
#[tauri::command]
pub async fn dashboard_import(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::dashboards::DashboardImport as Operation>::Input,
) -> Result<<opsdeck::metrics::dashboards::DashboardImport as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::dashboards::DashboardImport>(&state, input).await
}

/// `dashboard.history`: A dashboard's saved versions, newest first (open one with dashboard.get and a version; save it to roll back).
#[tauri::command]
pub async fn dashboard_history(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::dashboards::DashboardHistory as Operation>::Input,
) -> Result<<opsdeck::metrics::dashboards::DashboardHistory as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::dashboards::DashboardHistory>(&state, input).await
}

/// `dashboard.remove`: Removes a saved dashboard with all its versions.
#[tauri::command]
pub async fn dashboard_remove(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::dashboards::DashboardRemove as Operation>::Input,
) -> Result<<opsdeck::metrics::dashboards::DashboardRemove as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::dashboards::DashboardRemove>(&state, input).await
}

/// `metric.render`: Draws a dashboard (its grid of panels) or one PromQL query as a PNG or SVG image, base64, for reports and chat: the same picture from the CLI and the app.
#[tauri::command]
pub async fn metric_render(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::render::Render as Operation>::Input,
) -> Result<<opsdeck::metrics::render::Render as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::render::Render>(&state, input).await
}

/// `metric.source_list`: Remote Prometheus servers that panels and queries can read from (`source`).
#[tauri::command]
pub async fn metric_source_list(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::sources::SourceList as Operation>::Input,
) -> Result<<opsdeck::metrics::sources::SourceList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::sources::SourceList>(&state, input).await
}

/// `metric.source_set`: Adds or changes a remote Prometheus (its query API's URL, a bearer token as a vault reference) that panels and queries can read from instead of this deck's store.
#[tauri::command]
pub async fn metric_source_set(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::sources::SourceSet as Operation>::Input,
) -> Result<<opsdeck::metrics::sources::SourceSet as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::sources::SourceSet>(&state, input).await
}

/// `metric.source_remove`: Removes a remote Prometheus data source.
#[tauri::command]
pub async fn metric_source_remove(
    state: State<'_, AppState>,
    input: <opsdeck::metrics::sources::SourceRemove as Operation>::Input,
) -> Result<<opsdeck::metrics::sources::SourceRemove as Operation>::Output, CommandError> {
    run_operation::<opsdeck::metrics::sources::SourceRemove>(&state, input).await
}

/// `alert.list`: Alerts: firing first, then pending, then recently resolved, by severity; each with its labels, value, filled-in annotations, and what holds its notifications back (a silence, a firing P1).
#[tauri::command]
pub async fn alert_list(
    state: State<'_, AppState>,
    input: <opsdeck::alerts::operations::AlertList as Operation>::Input,
) -> Result<<opsdeck::alerts::operations::AlertList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::alerts::operations::AlertList>(&state, input).await
}

/// `alert.history`: Alert state changes (pending, firing, resolved), newest first.
#[tauri::command]
pub async fn alert_history(
    state: State<'_, AppState>,
    input: <opsdeck::alerts::operations::AlertHistory as Operation>::Input,
) -> Result<<opsdeck::alerts::operations::AlertHistory as Operation>::Output, CommandError> {
    run_operation::<opsdeck::alerts::operations::AlertHistory>(&state, input).await
}

/// `alert.acknowledge`: Acknowledges a firing alert: someone is on it, so it is not notified again while it keeps firing.
#[tauri::command]
pub async fn alert_acknowledge(
    state: State<'_, AppState>,
    input: <opsdeck::alerts::operations::AlertAcknowledge as Operation>::Input,
) -> Result<<opsdeck::alerts::operations::AlertAcknowledge as Operation>::Output, CommandError> {
    run_operation::<opsdeck::alerts::operations::AlertAcknowledge>(&state, input).await
}

/// `alert.rule_list`: Alerting rule groups with their rules, each with its health (ok, or why its last evaluation failed).
#[tauri::command]
pub async fn alert_rule_list(
    state: State<'_, AppState>,
    input: <opsdeck::alerts::operations::RuleList as Operation>::Input,
) -> Result<<opsdeck::alerts::operations::RuleList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::alerts::operations::RuleList>(&state, input).await
}

/// `alert.rule_set`: Adds or changes an alerting rule: a PromQL expression, a `for` duration, a severity P1–P4, labels and templated annotations. Its group is evaluated every interval by the app and `opsdeck serve`; alerts go pending → firing → resolved and are announced through the notification webhooks.
#[tauri::command]
pub async fn alert_rule_set(
    state: State<'_, AppState>,
    input: <opsdeck::alerts::operations::RuleSet as Operation>::Input,
) -> Result<<opsdeck::alerts::operations::RuleSet as Operation>::Output, CommandError> {
    run_operation::<opsdeck::alerts::operations::RuleSet>(&state, input).await
}

/// `alert.rules_import`: Imports a Prometheus rule file: each group replaces the group of its name; `severity` labels become P1–P4 (critical → P1, warning → P3); recording rules are listed as not imported. A file with any error imports nothing.
#[tauri::command]
pub async fn alert_rules_import(
    state: State<'_, AppState>,
    input: <opsdeck::alerts::operations::RulesImport as Operation>::Input,
) -> Result<<opsdeck::alerts::operations::RulesImport as Operation>::Output, CommandError> {
    run_operation::<opsdeck::alerts::operations::RulesImport>(&state, input).await
}

/// `alert.rule_remove`: Removes an alerting rule and its alerts (its group too, when it was the last).
#[tauri::command]
pub async fn alert_rule_remove(
    state: State<'_, AppState>,
    input: <opsdeck::alerts::operations::RuleRemove as Operation>::Input,
) -> Result<<opsdeck::alerts::operations::RuleRemove as Operation>::Output, CommandError> {
    run_operation::<opsdeck::alerts::operations::RuleRemove>(&state, input).await
}

/// `alert.silence_list`: Silences, newest first, with who made them, why and when they end.
#[tauri::command]
pub async fn alert_silence_list(
    state: State<'_, AppState>,
    input: <opsdeck::alerts::operations::SilenceList as Operation>::Input,
) -> Result<<opsdeck::alerts::operations::SilenceList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::alerts::operations::SilenceList>(&state, input).await
}

/// `alert.silence`: Silences alerts matching a label selector for a while, with a reason: they still show, but are not notified until it ends.
#[tauri::command]
pub async fn alert_silence(
    state: State<'_, AppState>,
    input: <opsdeck::alerts::operations::SilenceAdd as Operation>::Input,
) -> Result<<opsdeck::alerts::operations::SilenceAdd as Operation>::Output, CommandError> {
    run_operation::<opsdeck::alerts::operations::SilenceAdd>(&state, input).await
}

/// `alert.silence_expire`: Ends a silence now: what it held back is notified at the next evaluation.
#[tauri::command]
pub async fn alert_silence_expire(
    state: State<'_, AppState>,
    input: <opsdeck::alerts::operations::SilenceExpire as Operation>::Input,
) -> Result<<opsdeck::alerts::operations::SilenceExpire as Operation>::Output, CommandError> {
    run_operation::<opsdeck::alerts::operations::SilenceExpire>(&state, input).await
}

/// `scan.run`: Scans files and folders of this machine, or a git repository's history, for hardcoded secrets (provider tokens, private keys, passwords in URLs and assignments) and reports each with its place and the secret redacted.
#[tauri::command]
pub async fn scan_run(
    state: State<'_, AppState>,
    input: <opsdeck::scan::ScanRun as Operation>::Input,
) -> Result<<opsdeck::scan::ScanRun as Operation>::Output, CommandError> {
    run_operation::<opsdeck::scan::ScanRun>(&state, input).await
}

/// `scan.baseline_update`: Scans files and folders and writes every finding into the baseline file named, so later scans with that baseline report only new ones.
#[tauri::command]
pub async fn scan_baseline_update(
    state: State<'_, AppState>,
    input: <opsdeck::scan::BaselineUpdate as Operation>::Input,
) -> Result<<opsdeck::scan::BaselineUpdate as Operation>::Output, CommandError> {
    run_operation::<opsdeck::scan::BaselineUpdate>(&state, input).await
}

/// `scan.install_hook`: Writes a git repository's pre-commit hook that scans what is staged and stops a commit that adds a secret.
#[tauri::command]
pub async fn scan_install_hook(
    state: State<'_, AppState>,
    input: <opsdeck::scan::HookInstall as Operation>::Input,
) -> Result<<opsdeck::scan::HookInstall as Operation>::Output, CommandError> {
    run_operation::<opsdeck::scan::HookInstall>(&state, input).await
}

/// `scan.targets`: The folders and repositories remembered for scanning, with their schedule, last scan and open findings.
#[tauri::command]
pub async fn scan_targets(
    state: State<'_, AppState>,
    input: <opsdeck::scan::findings::TargetList as Operation>::Input,
) -> Result<<opsdeck::scan::findings::TargetList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::scan::findings::TargetList>(&state, input).await
}

/// `scan.target_save`: Remembers a folder or repository to scan (files or history, vault values, allowed paths), optionally every few hours.
#[tauri::command]
pub async fn scan_target_save(
    state: State<'_, AppState>,
    input: <opsdeck::scan::findings::TargetSave as Operation>::Input,
) -> Result<<opsdeck::scan::findings::TargetSave as Operation>::Output, CommandError> {
    run_operation::<opsdeck::scan::findings::TargetSave>(&state, input).await
}

/// `scan.target_remove`: Forgets a scan target, its findings and its schedule.
#[tauri::command]
pub async fn scan_target_remove(
    state: State<'_, AppState>,
    input: <opsdeck::scan::findings::TargetRemove as Operation>::Input,
) -> Result<<opsdeck::scan::findings::TargetRemove as Operation>::Output, CommandError> {
    run_operation::<opsdeck::scan::findings::TargetRemove>(&state, input).await
}

/// `scan.target_run`: Scans a remembered target now and records its findings: new ones, fixed ones (no longer seen), and announces new ones to the webhook targets.
#[tauri::command]
pub async fn scan_target_run(
    state: State<'_, AppState>,
    input: <opsdeck::scan::findings::TargetRunNow as Operation>::Input,
) -> Result<<opsdeck::scan::findings::TargetRunNow as Operation>::Output, CommandError> {
    run_operation::<opsdeck::scan::findings::TargetRunNow>(&state, input).await
}

/// `scan.findings`: Findings of the remembered targets' scans with their state (new, confirmed, false positive, fixed), secrets redacted.
#[tauri::command]
pub async fn scan_findings(
    state: State<'_, AppState>,
    input: <opsdeck::scan::findings::FindingList as Operation>::Input,
) -> Result<<opsdeck::scan::findings::FindingList as Operation>::Output, CommandError> {
    run_operation::<opsdeck::scan::findings::FindingList>(&state, input).await
}

/// `scan.finding_mark`: Sets a finding's state: confirmed, false positive (not reported as new again), fixed, or new.
#[tauri::command]
pub async fn scan_finding_mark(
    state: State<'_, AppState>,
    input: <opsdeck::scan::findings::FindingMark as Operation>::Input,
) -> Result<<opsdeck::scan::findings::FindingMark as Operation>::Output, CommandError> {
    run_operation::<opsdeck::scan::findings::FindingMark>(&state, input).await
}
