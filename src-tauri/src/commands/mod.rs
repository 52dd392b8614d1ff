//! Tauri commands, one module per area. Each command takes its arguments,
//! calls one function of the deck and maps the error; nothing else.

pub(crate) mod configs;
pub(crate) mod connections;
pub(crate) mod operations;
pub(crate) mod telemetry;
pub(crate) mod vaults;

use opsdeck::catalogue::Operation;

use crate::{AppState, CommandError};

/// Runs a catalogue operation as the app's user (the generated commands in
/// `operations.rs` are one call of this each).
pub(crate) async fn run_operation<O: Operation>(
    state: &AppState,
    input: O::Input,
) -> Result<O::Output, CommandError> {
    Ok(O::run(state.deck()?, &opsdeck::Caller::local_user("app"), input).await?)
}

/// The invoke handler with every command of the app: the catalogue's
/// (generated in `operations.rs`) and the app's own below. Keep the list
/// below in step with `COMMANDS` in build.rs and `capabilities/default.json`.
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    let operations = operations::handler();
    let own = own_handler();
    move |invoke| {
        if operations::NAMES.contains(&invoke.message.command()) {
            operations(invoke)
        } else {
            own(invoke)
        }
    }
}

fn own_handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        connections::notify_add,
        vaults::unlock,
        vaults::vault_change_passphrase,
        vaults::secret_copy,
        configs::config_schema,
        configs::config_set_schema,
        configs::config_check_draft,
        configs::config_save,
        configs::config_links,
        configs::config_link,
        configs::config_unlink,
        configs::config_link_conflict,
        configs::config_resolve_link,
        telemetry::telemetry_demo,
    ]
}
