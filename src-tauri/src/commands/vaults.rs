//! Commands of the Vaults page. Values reach the UI only through `secret_reveal`.

use opsdeck::{Caller, SecretInfo, SecretType, VaultInfo, VersionInfo};
use serde::Serialize;
use tauri::State;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::{AppState, CommandError};

/// Every vault.
#[tauri::command]
pub async fn vault_list(state: State<'_, AppState>) -> Result<Vec<VaultInfo>, CommandError> {
    Ok(state.deck()?.vault_list().await?)
}

/// Makes a vault.
#[tauri::command]
pub async fn vault_init(
    state: State<'_, AppState>,
    name: String,
    no_keychain: bool,
) -> Result<VaultInfo, CommandError> {
    Ok(state.deck()?.vault_init(&Caller::local_user("app"), &name, no_keychain).await?)
}

/// Uses a passphrase for the deck's keys and vaults for the rest of this session.
#[tauri::command]
pub async fn unlock(state: State<'_, AppState>, passphrase: String) -> Result<(), CommandError> {
    Ok(state.deck()?.unlock_with_passphrase(Zeroizing::new(passphrase)).await?)
}

/// Secrets' metadata (no values).
#[tauri::command]
pub async fn secret_list(
    state: State<'_, AppState>,
    vault: Option<String>,
) -> Result<Vec<SecretInfo>, CommandError> {
    Ok(state.deck()?.secret_list(vault.as_deref()).await?)
}

/// Stores a new version; with `generate`, a random value of `length` characters.
#[tauri::command]
pub async fn secret_set(
    state: State<'_, AppState>,
    reference: String,
    secret_type: String,
    value: Option<String>,
    generate_length: Option<usize>,
) -> Result<SecretInfo, CommandError> {
    let deck = state.deck()?;
    let secret_type = SecretType::parse(&secret_type).map_err(opsdeck::DeckError::from)?;
    let value = match (value, generate_length) {
        (_, Some(length)) => opsdeck::generate_value(length)?,
        (Some(value), None) => Zeroizing::new(value),
        (None, None) => {
            return Err(CommandError {
                code: "invalid_input".into(),
                message: "give a value or ask for a generated one".into(),
            })
        }
    };
    Ok(deck.secret_set(&Caller::local_user("app"), &reference, secret_type, value.as_bytes()).await?)
}

/// A revealed value for the UI (shown, then hidden again by the page).
#[derive(Debug, Serialize, TS)]
pub struct Revealed {
    /// The version revealed.
    #[ts(type = "number")]
    pub version: i64,
    /// The value.
    pub value: String,
}

/// Reveals a secret's value: the one explicit way a value reaches the UI; audited.
#[tauri::command]
pub async fn secret_reveal(
    state: State<'_, AppState>,
    reference: String,
    version: Option<i64>,
) -> Result<Revealed, CommandError> {
    let revealed = state.deck()?.secret_get(&Caller::local_user("app"), &reference, version).await?;
    Ok(Revealed { version: revealed.version, value: revealed.value.to_string() })
}

/// A secret's versions, newest first.
#[tauri::command]
pub async fn secret_history(
    state: State<'_, AppState>,
    reference: String,
) -> Result<Vec<VersionInfo>, CommandError> {
    Ok(state.deck()?.secret_history(&reference).await?)
}
