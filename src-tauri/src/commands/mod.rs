//! Tauri commands, one module per area. Each command takes its arguments,
//! calls one function of the deck and maps the error; nothing else.

mod activity;
mod certs;
pub(crate) mod configs;
pub(crate) mod connections;
mod jobs;
mod overview;
pub(crate) mod vaults;

/// The invoke handler with every command of the app. Keep the list in step
/// with `COMMANDS` in build.rs and the capability files.
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        overview::deck_status,
        activity::audit_entries,
        activity::audit_verify,
        jobs::jobs_list,
        jobs::job_runs,
        jobs::job_run_now,
        jobs::job_set_paused,
        connections::connections_list,
        connections::notify_targets,
        connections::notify_deliveries,
        connections::notify_test,
        connections::notify_add,
        vaults::vault_list,
        vaults::vault_init,
        vaults::unlock,
        vaults::secret_list,
        vaults::secret_set,
        vaults::secret_reveal,
        vaults::secret_history,
        vaults::vault_access,
        vaults::vault_member_set,
        vaults::vault_member_remove,
        vaults::vault_change_passphrase,
        vaults::secret_edit,
        vaults::secret_copy,
        vaults::secret_rotate,
        vaults::secret_rollback,
        vaults::secret_remove,
        vaults::secrets_due,
        vaults::secret_import,
        certs::cert_list,
        certs::cert_show,
        certs::cert_summary,
        certs::cert_import_paths,
        certs::cert_import_file,
        certs::cert_probe,
        certs::cert_issue,
        certs::cert_renew,
        certs::cert_revoke,
        certs::cert_remove,
        certs::cert_configure,
        configs::config_projects,
        configs::config_create_project,
        configs::config_schema,
        configs::config_set_schema,
        configs::config_layers,
        configs::config_check_draft,
        configs::config_save,
        configs::config_explain,
        configs::config_validate,
        configs::config_history,
        configs::config_compare,
        configs::config_rollback,
        configs::config_preview_promotion,
        configs::config_promote,
        configs::config_reload_hook,
        configs::config_set_reload_hook,
        configs::config_set_approval_envs,
        configs::config_requests,
        configs::config_approve,
        configs::config_reject,
        configs::config_links,
        configs::config_link,
        configs::config_unlink,
        configs::config_summary,
    ]
}
