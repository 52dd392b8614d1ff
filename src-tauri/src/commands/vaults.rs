//! Commands of the Vaults page. Values reach the UI only through
//! `secret_reveal`; `secret_copy` puts a value on the clipboard from Rust and
//! clears it again, so a copied value never passes through the web view.

use std::time::Duration;

use opsdeck::Caller;
use tauri::State;
use zeroize::Zeroizing;

use crate::clipboard::SecretClipboard;
use crate::{AppState, CommandError};

/// How long a copied value stays on the clipboard.
pub const CLIPBOARD_CLEAR_AFTER: Duration = Duration::from_secs(30);

fn caller() -> Caller {
    Caller::local_user("app")
}

/// Uses a passphrase for the deck's keys and vaults for the rest of this session.
#[tauri::command]
pub async fn unlock(state: State<'_, AppState>, passphrase: String) -> Result<(), CommandError> {
    Ok(state.deck()?.unlock_with_passphrase(Zeroizing::new(passphrase)).await?)
}

/// Copies a secret's value to the clipboard (audited as a reveal), concealed
/// from clipboard managers' history, and clears the clipboard after 30
/// seconds unless something else was copied since. Returns the seconds until
/// it is cleared.
#[tauri::command]
pub async fn secret_copy<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
    version: Option<i64>,
) -> Result<u64, CommandError> {
    use tauri::Manager;
    let revealed = state.deck()?.vaults().secret_get(&caller(), &reference, version).await?;
    let value = revealed.value.clone();
    app.state::<SecretClipboard>().copy_secret(&value).map_err(|error| CommandError {
        code: "clipboard".into(),
        message: format!("could not put the value on the clipboard: {error}"),
    })?;
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(CLIPBOARD_CLEAR_AFTER).await;
        if let Err(error) = app.state::<SecretClipboard>().clear_if_still(&value) {
            tracing::warn!(%error, "could not clear the clipboard after copying a secret");
        }
    });
    Ok(CLIPBOARD_CLEAR_AFTER.as_secs())
}
