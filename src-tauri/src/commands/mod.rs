//! Tauri commands. Every catalogue operation is a generated command
//! (`operations.rs`); the app's own commands (`vaults.rs`) are the two that
//! only mean something in a desktop session: unlocking this session with a
//! passphrase, and copying a value to this desktop's clipboard.

pub(crate) mod operations;
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
    tauri::generate_handler![vaults::unlock, vaults::secret_copy,]
}
