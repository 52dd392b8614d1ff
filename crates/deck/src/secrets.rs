//! Vaults and secrets as users reach them, with the audit trail around every
//! change and every reveal. A value is returned only after its reveal is
//! recorded; when the audit trail cannot be written, nothing is revealed.

use opsdeck_vault::{split_reference, SecretInfo, SecretType, SecretValue, VaultInfo, VersionInfo};
use zeroize::Zeroizing;

use crate::{Caller, Deck, DeckError, Outcome};

/// Characters of generated values: letters and digits, safe in URLs, shells and configs.
const GENERATED_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A random value of `length` letters and digits (uniform, by rejection sampling).
pub fn generate_value(length: usize) -> Result<Zeroizing<String>, DeckError> {
    if !(8..=4096).contains(&length) {
        return Err(opsdeck_vault::VaultError::Invalid("--length must be between 8 and 4096".into()).into());
    }
    let mut value = Zeroizing::new(String::with_capacity(length));
    let limit = 256 - (256 % GENERATED_ALPHABET.len());
    while value.len() < length {
        let mut bytes = Zeroizing::new([0_u8; 64]);
        getrandom::fill(bytes.as_mut())
            .map_err(|error| opsdeck_core::CoreError::Random(error.to_string()))?;
        for &byte in bytes.iter() {
            if usize::from(byte) < limit && value.len() < length {
                value.push(char::from(GENERATED_ALPHABET[usize::from(byte) % GENERATED_ALPHABET.len()]));
            }
        }
    }
    Ok(value)
}

impl Deck {
    /// Uses `passphrase` for the deck's keys and vaults from now on (the app's
    /// unlock dialog). Checked against the audit key when that is under a
    /// passphrase; a vault's own slots are checked when it is opened.
    pub async fn unlock_with_passphrase(&self, passphrase: Zeroizing<String>) -> Result<(), DeckError> {
        if passphrase.is_empty() {
            return Err(opsdeck_vault::VaultError::Invalid("the passphrase is empty".into()).into());
        }
        let previous = self.keys.snapshot();
        self.keys.set_passphrase(passphrase);
        match self.audit.load_key().await {
            Ok(()) => Ok(()),
            Err(error) => {
                self.keys.restore(previous);
                Err(error)
            }
        }
    }

    /// Makes a vault (keychain slot unless `no_keychain`, passphrase slot when one was given).
    pub async fn vault_init(
        &self,
        caller: &Caller,
        name: &str,
        no_keychain: bool,
    ) -> Result<VaultInfo, DeckError> {
        let vault = self.vaults.init(name, no_keychain).await?;
        self.audit(caller, "vault.init", name, Outcome::Ok, serde_json::json!({ "slots": vault.slots }))
            .await?;
        Ok(vault)
    }

    /// Every vault.
    pub async fn vault_list(&self) -> Result<Vec<VaultInfo>, DeckError> {
        Ok(self.vaults.list().await?)
    }

    /// Stores a new version of `VAULT/NAME`.
    pub async fn secret_set(
        &self,
        caller: &Caller,
        reference: &str,
        secret_type: SecretType,
        value: &[u8],
    ) -> Result<SecretInfo, DeckError> {
        let (vault, name) = split_reference(reference)?;
        let info = self.vaults.set(vault, name, secret_type, value, &caller.actor).await?;
        let details = serde_json::json!({ "version": info.version, "type": info.secret_type });
        self.audit(caller, "secret.set", reference, Outcome::Ok, details).await?;
        Ok(info)
    }

    /// Reveals a version of `VAULT/NAME`, after recording the reveal.
    pub async fn secret_get(
        &self,
        caller: &Caller,
        reference: &str,
        version: Option<i64>,
    ) -> Result<SecretValue, DeckError> {
        let (vault, name) = split_reference(reference)?;
        match self.vaults.get(vault, name, version).await {
            Ok(value) => {
                // Written before the value leaves: no audit entry, no value.
                self.audit(
                    caller,
                    "secret.reveal",
                    reference,
                    Outcome::Ok,
                    serde_json::json!({ "version": value.version }),
                )
                .await?;
                Ok(value)
            }
            Err(error) => {
                // A value that fails its integrity check is evidence worth keeping. (A wrong
                // passphrase usually cannot unlock the audit key either, so it is only reported.)
                if matches!(error, opsdeck_vault::VaultError::Integrity { .. }) {
                    let details = serde_json::json!({ "error": error.code() });
                    self.audit(caller, "secret.reveal", reference, Outcome::Failed, details).await?;
                }
                Err(error.into())
            }
        }
    }

    /// Secrets' metadata (of one vault, or all); no values.
    pub async fn secret_list(&self, vault: Option<&str>) -> Result<Vec<SecretInfo>, DeckError> {
        Ok(self.vaults.secrets(vault).await?)
    }

    /// Every version of `VAULT/NAME`, newest first.
    pub async fn secret_history(&self, reference: &str) -> Result<Vec<VersionInfo>, DeckError> {
        let (vault, name) = split_reference(reference)?;
        Ok(self.vaults.history(vault, name).await?)
    }

    /// Makes version `to` current again, as a new version.
    pub async fn secret_rollback(
        &self,
        caller: &Caller,
        reference: &str,
        to: i64,
    ) -> Result<SecretInfo, DeckError> {
        let (vault, name) = split_reference(reference)?;
        let info = self.vaults.rollback(vault, name, to, &caller.actor).await?;
        let details = serde_json::json!({ "to": to, "new_version": info.version });
        self.audit(caller, "secret.rollback", reference, Outcome::Ok, details).await?;
        Ok(info)
    }

    /// Deletes `VAULT/NAME` with every version.
    pub async fn secret_remove(&self, caller: &Caller, reference: &str) -> Result<(), DeckError> {
        let (vault, name) = split_reference(reference)?;
        self.vaults.remove(vault, name).await?;
        self.audit(caller, "secret.remove", reference, Outcome::Ok, serde_json::json!({})).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::generate_value;

    #[test]
    fn generated_values_have_the_length_and_alphabet_asked_for() {
        let value = generate_value(40).unwrap();
        assert_eq!(value.len(), 40);
        assert!(value.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(*value, *generate_value(40).unwrap());
        assert!(generate_value(4).is_err());
    }
}
