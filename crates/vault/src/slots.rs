//! Key slot management: list a vault's slots, add a keychain or passphrase
//! slot, change the passphrase, remove a slot. Each slot wraps the same data
//! key, so none of this re-encrypts a secret; every change happens in one
//! transaction and a vault is never left without a slot.

use opsdeck_core::audit::AuditScope;
use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::keys::{self, Key};
use serde::Serialize;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::envelope::wrap_data_key;
use crate::vaults::random_id;
use crate::{VaultError, Vaults};

/// One key slot (no key material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct SlotInfo {
    /// The slot's id, for `vault slot rm`.
    pub id: String,
    /// `keychain` or `passphrase`.
    pub kind: String,
    /// When it was made.
    #[ts(type = "number")]
    pub created_at_unix_ms: i64,
}

/// The shortest passphrase a new passphrase slot or export bundle accepts.
pub use opsdeck_core::keys::MIN_PASSPHRASE_CHARS;

/// Refuses a new passphrase (`what`: "the new passphrase", "the bundle
/// passphrase") shorter than [`MIN_PASSPHRASE_CHARS`].
pub(crate) fn check_new_passphrase(what: &str, passphrase: &str) -> Result<(), VaultError> {
    Ok(keys::check_new_passphrase(what, passphrase)?)
}

impl Vaults {
    /// The vault's key slots, oldest first.
    pub async fn slots(&self, vault: &str) -> Result<Vec<SlotInfo>, VaultError> {
        let vault_id = self.vault_id(vault).await?;
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT id, kind, created_at_unix_ms FROM vault_slots WHERE vault_id = $1 ORDER BY created_at_unix_ms, id",
        )
        .bind(&vault_id)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, kind, created_at_unix_ms)| SlotInfo { id, kind, created_at_unix_ms })
            .collect())
    }

    /// Adds a slot whose key lives in the OS keychain (one per vault).
    pub async fn add_keychain_slot(
        &self,
        vault: &str,
        audit: &AuditScope<'_>,
    ) -> Result<SlotInfo, VaultError> {
        let vault_id = self.vault_id(vault).await?;
        if self.slots(vault).await?.iter().any(|slot| slot.kind == "keychain") {
            return Err(VaultError::Invalid(format!("vault `{vault}` already has a keychain slot")));
        }
        let data_key = self.unlock(vault, &vault_id).await?;
        let slot_id = random_id("slot")?;
        let slot_key = keys::random_key()?;
        let store_id = self.store.store_id().await?;
        keys::keychain_put(store_id, format!("vault/{vault_id}/{slot_id}"), slot_key.clone()).await.map_err(
            |reason| {
                VaultError::Invalid(format!(
                    "no OS keychain is reachable ({reason}); the vault keeps its passphrase slot"
                ))
            },
        )?;
        let wrapped = wrap_data_key(&slot_key, &vault_id, &slot_id, &data_key)?;
        self.insert_slot(&vault_id, &slot_id, "keychain", None, None, &wrapped, None, audit).await
    }

    /// Adds a slot opened by `passphrase` (Argon2id with the default parameters).
    pub async fn add_passphrase_slot(
        &self,
        vault: &str,
        passphrase: &Zeroizing<String>,
        audit: &AuditScope<'_>,
    ) -> Result<SlotInfo, VaultError> {
        self.put_passphrase_slot(vault, passphrase, false, audit).await
    }

    /// Replaces the vault's passphrase slots by one opened by `passphrase`;
    /// the vault must be unlockable now (keychain or the current passphrase).
    pub async fn change_passphrase(
        &self,
        vault: &str,
        passphrase: &Zeroizing<String>,
        audit: &AuditScope<'_>,
    ) -> Result<SlotInfo, VaultError> {
        self.put_passphrase_slot(vault, passphrase, true, audit).await
    }

    async fn put_passphrase_slot(
        &self,
        vault: &str,
        passphrase: &Zeroizing<String>,
        replace: bool,
        audit: &AuditScope<'_>,
    ) -> Result<SlotInfo, VaultError> {
        check_new_passphrase("the new passphrase", passphrase)?;
        let vault_id = self.vault_id(vault).await?;
        let data_key: Key = self.unlock(vault, &vault_id).await?;
        let slot_id = random_id("slot")?;
        let mut salt = [0_u8; 16];
        getrandom::fill(&mut salt).map_err(|error| VaultError::Random(error.to_string()))?;
        let params = keys::default_kdf_params();
        let slot_key = keys::derive_from_passphrase(passphrase, &salt, &params)?;
        let wrapped = wrap_data_key(&slot_key, &vault_id, &slot_id, &data_key)?;
        let replaced = if replace { Some("passphrase") } else { None };
        self.insert_slot(
            &vault_id,
            &slot_id,
            "passphrase",
            Some(&salt),
            Some(&params),
            &wrapped,
            replaced,
            audit,
        )
        .await
    }

    /// Inserts a slot; with `replace_kind`, deletes that kind's other slots in
    /// the same transaction (so a crash leaves the old slot or the new one).
    #[allow(clippy::too_many_arguments)]
    async fn insert_slot(
        &self,
        vault_id: &str,
        slot_id: &str,
        kind: &str,
        salt: Option<&[u8]>,
        params: Option<&str>,
        wrapped: &[u8],
        replace_kind: Option<&str>,
        audit: &AuditScope<'_>,
    ) -> Result<SlotInfo, VaultError> {
        let now = now_unix_ms();
        let mut transaction = self.store.begin_write().await?;
        if let Some(replace_kind) = replace_kind {
            sqlx::query("DELETE FROM vault_slots WHERE vault_id = $1 AND kind = $2")
                .bind(vault_id)
                .bind(replace_kind)
                .execute(&mut *transaction)
                .await?;
        }
        sqlx::query(
            "INSERT INTO vault_slots (id, vault_id, kind, kdf_salt, kdf_params, wrapped_key, created_at_unix_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(slot_id)
        .bind(vault_id)
        .bind(kind)
        .bind(salt.map(<[u8]>::to_vec))
        .bind(params)
        .bind(wrapped.to_vec())
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        audit.append(&mut transaction, serde_json::json!({ "slot": slot_id, "kind": kind })).await?;
        transaction.commit().await?;
        Ok(SlotInfo { id: slot_id.to_owned(), kind: kind.to_owned(), created_at_unix_ms: now })
    }

    /// Removes a slot. Refuses to remove the last one, and the caller must be
    /// able to open the vault now, so a slot is only removed by someone who
    /// holds a way in.
    pub async fn remove_slot(
        &self,
        vault: &str,
        slot_id: &str,
        audit: &AuditScope<'_>,
    ) -> Result<(), VaultError> {
        let vault_id = self.vault_id(vault).await?;
        let slots = self.slots(vault).await?;
        let Some(slot) = slots.iter().find(|slot| slot.id == slot_id) else {
            return Err(VaultError::Invalid(format!(
                "vault `{vault}` has no slot `{slot_id}`; `opsdeck vault slots {vault}` lists them"
            )));
        };
        if slots.len() == 1 {
            return Err(VaultError::Invalid(format!(
                "`{slot_id}` is the last key slot of vault `{vault}`; add another slot before removing it"
            )));
        }
        // Proves the vault opens now; the slot being removed may be the one that did.
        self.unlock(vault, &vault_id).await?;
        let mut transaction = self.store.begin_write().await?;
        sqlx::query("DELETE FROM vault_slots WHERE vault_id = $1 AND id = $2")
            .bind(&vault_id)
            .bind(slot_id)
            .execute(&mut *transaction)
            .await?;
        audit.append(&mut transaction, serde_json::json!({ "slot": slot_id, "kind": slot.kind })).await?;
        transaction.commit().await?;
        if slot.kind == "keychain" {
            let store_id = self.store.store_id().await?;
            // The slot row is gone, so the key opens nothing any more; a keychain that
            // cannot be reached now only leaves an unused item behind, which is said.
            if let Err(reason) = keys::keychain_delete(store_id, format!("vault/{vault_id}/{slot_id}")).await
            {
                tracing::warn!(vault, slot_id, %reason, "the keychain item of a removed slot could not be deleted");
            }
        }
        Ok(())
    }
}
