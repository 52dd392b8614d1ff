//! Builds the Tauri context. The app's commands are listed here so that each
//! one needs an explicit `allow-…` in a capability file (without this list
//! every command would be allowed).

/// Every `#[tauri::command]` of the app; keep in step with `commands::handler`.
const COMMANDS: &[&str] = &[
    "deck_status",
    "audit_entries",
    "audit_verify",
    "jobs_list",
    "job_runs",
    "job_run_now",
    "job_set_paused",
    "connections_list",
    "notify_targets",
    "notify_deliveries",
    "notify_test",
    "notify_add",
    "vault_list",
    "vault_init",
    "unlock",
    "secret_list",
    "secret_set",
    "secret_reveal",
    "secret_history",
    "vault_access",
    "vault_member_set",
    "vault_member_remove",
    "vault_change_passphrase",
    "secret_edit",
    "secret_copy",
    "secret_rotate",
    "secret_rollback",
    "secret_remove",
    "secrets_due",
    "secret_import",
    "cert_list",
    "cert_show",
    "cert_summary",
    "cert_import_paths",
    "cert_import_file",
    "cert_probe",
    "cert_issue",
    "cert_renew",
    "cert_revoke",
    "cert_remove",
    "cert_configure",
    "config_projects",
    "config_create_project",
    "config_schema",
    "config_set_schema",
    "config_layers",
    "config_check_draft",
    "config_save",
    "config_explain",
    "config_validate",
    "config_history",
    "config_compare",
    "config_rollback",
    "config_preview_promotion",
    "config_promote",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to build the Tauri context");
}
