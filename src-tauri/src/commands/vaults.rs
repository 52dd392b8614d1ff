//! Commands of the Vaults page. Values reach the UI only through
//! `secret_reveal`; `secret_copy` puts a value on the clipboard from Rust and
//! clears it again, so a copied value never passes through the web view.

use std::time::Duration;

use opsdeck::{Caller, MemberInfo, Role, RotationReport, SlotInfo, VaultInfo};
use serde::Serialize;
use tauri::State;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::clipboard::SecretClipboard;
use crate::{AppState, CommandError};

/// How long a copied value stays on the clipboard.
pub const CLIPBOARD_CLEAR_AFTER: Duration = Duration::from_secs(30);

fn caller() -> Caller {
    Caller::local_user("app")
}

/// Makes a vault.
#[tauri::command]
pub async fn vault_init(
    state: State<'_, AppState>,
    name: String,
    no_keychain: bool,
) -> Result<VaultInfo, CommandError> {
    Ok(state.deck()?.vault_init(&caller(), &name, no_keychain).await?)
}

/// Uses a passphrase for the deck's keys and vaults for the rest of this session.
#[tauri::command]
pub async fn unlock(state: State<'_, AppState>, passphrase: String) -> Result<(), CommandError> {
    Ok(state.deck()?.unlock_with_passphrase(Zeroizing::new(passphrase)).await?)
}

/// Who may do what in a vault, as its settings panel shows it.
#[derive(Debug, Serialize, TS)]
pub struct VaultAccess {
    /// The user of this app.
    pub me: String,
    /// Their role (`null`: not a member).
    pub role: Option<Role>,
    /// The members.
    pub members: Vec<MemberInfo>,
    /// The key slots.
    pub slots: Vec<SlotInfo>,
}

/// The vault's members and key slots, and the caller's role.
#[tauri::command]
pub async fn vault_access(state: State<'_, AppState>, vault: String) -> Result<VaultAccess, CommandError> {
    let deck = state.deck()?;
    let caller = caller();
    let role = deck.vault_role(&caller, &vault).await?;
    let (members, slots) = if role.is_some() {
        (deck.vault_members(&caller, &vault).await?, deck.vault_slots(&caller, &vault).await?)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(VaultAccess { me: caller.user().unwrap_or_default().to_owned(), role, members, slots })
}

/// Gives a user a role in a vault (admins only).
#[tauri::command]
pub async fn vault_member_set(
    state: State<'_, AppState>,
    vault: String,
    member: String,
    role: String,
) -> Result<MemberInfo, CommandError> {
    let role = Role::parse(&role).map_err(opsdeck::DeckError::from)?;
    Ok(state.deck()?.vault_member_set(&caller(), &vault, &member, role).await?)
}

/// Takes a user out of a vault (admins only).
#[tauri::command]
pub async fn vault_member_remove(
    state: State<'_, AppState>,
    vault: String,
    member: String,
) -> Result<(), CommandError> {
    Ok(state.deck()?.vault_member_remove(&caller(), &vault, &member).await?)
}

/// Changes a vault's passphrase (admins only).
#[tauri::command]
pub async fn vault_change_passphrase(
    state: State<'_, AppState>,
    vault: String,
    passphrase: String,
) -> Result<SlotInfo, CommandError> {
    Ok(state.deck()?.vault_change_passphrase(&caller(), &vault, Zeroizing::new(passphrase)).await?)
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
    let revealed = state.deck()?.secret_get(&caller(), &reference, version).await?;
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

/// Rotates a secret, keeping the new value only when `verify` (if given) exits 0.
#[tauri::command]
pub async fn secret_rotate(
    state: State<'_, AppState>,
    reference: String,
    verify: Option<String>,
) -> Result<RotationReport, CommandError> {
    let verify = verify.filter(|command| !command.trim().is_empty());
    Ok(state.deck()?.secret_rotate(&caller(), &reference, verify.as_deref()).await?)
}
