//! Commands of the Vaults page. Values reach the UI only through
//! `secret_reveal`; `secret_copy` puts a value on the clipboard from Rust and
//! clears it again, so a copied value never passes through the web view.

use std::time::Duration;

use opsdeck::{
    generate_for, Alphabet, Caller, ImportReport, MemberInfo, MetadataChange, Role, RotationReport,
    SecretInfo, SecretType, SlotInfo, StringPolicy, VaultInfo,
};
use serde::{Deserialize, Serialize};
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

fn invalid(message: &str) -> CommandError {
    CommandError { code: "invalid_input".into(), message: message.into() }
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

/// Metadata fields of the add and edit forms.
#[derive(Debug, Default, Deserialize, TS)]
pub struct MetadataInput {
    /// Tags (replacing the old ones).
    pub tags: Vec<String>,
    /// The note.
    pub note: String,
    /// Rotate every this many days (`null`: no policy).
    #[ts(type = "number | null")]
    pub rotate_every_days: Option<i64>,
    /// Checks each scheduled rotation's value (`null` or empty: none).
    pub rotate_verify: Option<String>,
    /// Expiry in Unix milliseconds (`null`: none).
    #[ts(type = "number | null")]
    pub expires_at: Option<i64>,
}

impl From<MetadataInput> for MetadataChange {
    fn from(input: MetadataInput) -> MetadataChange {
        MetadataChange {
            tags: Some(input.tags),
            note: Some(input.note),
            rotate_every_days: Some(input.rotate_every_days),
            rotate_verify: Some(input.rotate_verify.filter(|command| !command.trim().is_empty())),
            expires_at: Some(input.expires_at),
        }
    }
}

/// How the add form asks for a generated value.
#[derive(Debug, Deserialize, TS)]
pub struct GenerateInput {
    /// Characters of a generated string.
    pub length: usize,
    /// `alphanumeric`, `hex`, `base64url` or `symbols`.
    pub alphabet: String,
}

/// What storing a value gives back (an SSH key's public half, to install).
#[derive(Debug, Serialize, TS)]
pub struct SetResult {
    /// The secret after the change.
    pub secret: SecretInfo,
    /// The public key of a generated SSH key.
    pub public_key: Option<String>,
}

/// Stores a new version: a typed value, or one from the type's generator.
#[tauri::command]
pub async fn secret_set(
    state: State<'_, AppState>,
    reference: String,
    secret_type: String,
    value: Option<String>,
    generate: Option<GenerateInput>,
    metadata: MetadataInput,
) -> Result<SetResult, CommandError> {
    let deck = state.deck()?;
    let secret_type = SecretType::parse(&secret_type).map_err(opsdeck::DeckError::from)?;
    let (value, public_key) = match (value, generate) {
        (_, Some(generate)) => {
            let policy =
                StringPolicy { length: generate.length, alphabet: Alphabet::parse(&generate.alphabet)? };
            let generated = generate_for(secret_type, policy, &format!("opsdeck:{reference}"))?;
            (generated.value, generated.public_key)
        }
        (Some(value), None) if !value.is_empty() => (Zeroizing::new(value), None),
        _ => return Err(invalid("type a value or choose Generate")),
    };
    let secret =
        deck.secret_set(&caller(), &reference, secret_type, value.as_bytes(), &metadata.into()).await?;
    Ok(SetResult { secret, public_key })
}

/// Changes a secret's metadata (no new version).
#[tauri::command]
pub async fn secret_edit(
    state: State<'_, AppState>,
    reference: String,
    metadata: MetadataInput,
) -> Result<SecretInfo, CommandError> {
    Ok(state.deck()?.secret_edit(&caller(), &reference, &metadata.into()).await?)
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

/// Makes an older version current again, as a new version.
#[tauri::command]
pub async fn secret_rollback(
    state: State<'_, AppState>,
    reference: String,
    to: i64,
) -> Result<SecretInfo, CommandError> {
    Ok(state.deck()?.secret_rollback(&caller(), &reference, to).await?)
}

/// Deletes a secret with all its versions (admins only).
#[tauri::command]
pub async fn secret_remove(state: State<'_, AppState>, reference: String) -> Result<(), CommandError> {
    Ok(state.deck()?.secret_remove(&caller(), &reference).await?)
}

/// Secrets due for rotation or expiring within `within_days`.
#[tauri::command]
pub async fn secrets_due(
    state: State<'_, AppState>,
    within_days: i64,
) -> Result<Vec<SecretInfo>, CommandError> {
    Ok(state.deck()?.secrets_due(&caller(), within_days).await?)
}

/// Imports pasted `.env` or JSON text into a vault (all or nothing).
#[tauri::command]
pub async fn secret_import(
    state: State<'_, AppState>,
    vault: String,
    text: String,
    format: String,
    secret_type: String,
) -> Result<ImportReport, CommandError> {
    let text = Zeroizing::new(text);
    let secret_type = SecretType::parse(&secret_type).map_err(opsdeck::DeckError::from)?;
    let entries = match format.as_str() {
        "json" => opsdeck::parse_json_secrets(&text)?,
        _ => opsdeck::parse_dotenv(&text)?,
    };
    Ok(state.deck()?.secret_import(&caller(), &vault, entries, secret_type, &format).await?)
}
