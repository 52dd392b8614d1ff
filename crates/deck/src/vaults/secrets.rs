//! Vaults and secrets as users reach them: every action passes the caller's
//! role check first and is recorded in the audit trail. A value is returned
//! only after its reveal is recorded; when the audit trail cannot be
//! written, nothing is revealed.

use opsdeck_vault::{
    split_reference, MetadataChange, Role, SecretInfo, SecretType, SecretValue, VaultInfo, VersionInfo,
};
use zeroize::Zeroizing;

use super::Vaults;
use crate::definitions::ROTATION_POLICY;
use crate::{Caller, Deck, DeckError, Outcome};

/// What a rotation policy's seal covers.
pub(crate) fn rotation_policy_content(info: &SecretInfo) -> serde_json::Value {
    serde_json::json!({ "every_days": info.rotate_every_days, "verify": info.rotate_verify })
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
}

impl Vaults<'_> {
    /// Makes a vault (keychain slot unless `no_keychain`, passphrase slot when
    /// one was given); the caller becomes its first admin.
    pub async fn init(self, caller: &Caller, name: &str, no_keychain: bool) -> Result<VaultInfo, DeckError> {
        let audit = self.deck.audit.scope(caller, "vault.init", name, serde_json::json!({})).await?;
        let vault = self.deck.vaults.init(name, no_keychain, &audit).await?;
        self.deck.audit.announce(&audit).await;
        Ok(vault)
    }

    /// Every vault.
    pub async fn list(self) -> Result<Vec<VaultInfo>, DeckError> {
        Ok(self.deck.vaults.list().await?)
    }

    /// Stores a new version of `VAULT/NAME`, with metadata changes (operators and admins).
    pub async fn secret_set(
        self,
        caller: &Caller,
        reference: &str,
        secret_type: SecretType,
        value: &[u8],
        metadata: &MetadataChange,
    ) -> Result<SecretInfo, DeckError> {
        let (vault, name) = split_reference(reference)?;
        self.deck.require(caller, vault, Role::Operator, "secret.set", reference, "setting a value").await?;
        self.require_admin_for_commands(caller, vault, reference, metadata).await?;
        let details = serde_json::json!({
            "type": secret_type.as_str(), "rotate_every_days": metadata.rotate_every_days,
            "rotate_verify": metadata.rotate_verify,
        });
        let audit = self.deck.audit.scope(caller, "secret.set", reference, details).await?;
        let info = self.deck.vaults.set(vault, name, secret_type, value, metadata, &audit).await?;
        self.deck.audit.announce(&audit).await;
        self.sync_rotation_job(vault, name).await?;
        self.seal_rotation_policy(caller, metadata, &info).await?;
        Ok(info)
    }

    /// Changes a secret's tags, note, rotation policy or expiry (operators and admins).
    pub async fn secret_edit(
        self,
        caller: &Caller,
        reference: &str,
        change: &MetadataChange,
    ) -> Result<SecretInfo, DeckError> {
        let (vault, name) = split_reference(reference)?;
        self.deck
            .require(caller, vault, Role::Operator, "secret.edit", reference, "editing metadata")
            .await?;
        self.require_admin_for_commands(caller, vault, reference, change).await?;
        if change.is_empty() {
            return Err(opsdeck_vault::VaultError::Invalid(
                "nothing to change: give tags, a note, a rotation policy, a rotation check or an expiry"
                    .into(),
            )
            .into());
        }
        let details = serde_json::json!({
            "tags": change.tags, "rotate_every_days": change.rotate_every_days, "expires_at": change.expires_at,
            "rotate_verify": change.rotate_verify,
        });
        let audit = self.deck.audit.scope(caller, "secret.edit", reference, details).await?;
        let info = self.deck.vaults.set_metadata(vault, name, change, &audit).await?;
        self.deck.audit.announce(&audit).await;
        self.sync_rotation_job(vault, name).await?;
        self.seal_rotation_policy(caller, change, &info).await?;
        Ok(info)
    }

    /// Reveals a version of `VAULT/NAME` (operators and admins), after recording the reveal.
    pub async fn secret_get(
        self,
        caller: &Caller,
        reference: &str,
        version: Option<i64>,
    ) -> Result<SecretValue, DeckError> {
        let (vault, name) = split_reference(reference)?;
        self.deck
            .require(caller, vault, Role::Operator, "secret.reveal", reference, "revealing a value")
            .await?;
        self.deck.require_reveal_grant(caller, reference).await?;
        match self.deck.vaults.get(vault, name, version).await {
            Ok(value) => {
                // Written before the value leaves: no audit entry, no value.
                self.deck
                    .audit(
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
                    self.deck.audit(caller, "secret.reveal", reference, Outcome::Failed, details).await?;
                }
                Err(error.into())
            }
        }
    }

    /// A verification command runs on whichever machine rotates: setting
    /// one takes the vault's admin role (and is audited with its text).
    async fn require_admin_for_commands(
        self,
        caller: &Caller,
        vault: &str,
        reference: &str,
        change: &MetadataChange,
    ) -> Result<(), DeckError> {
        if matches!(&change.rotate_verify, Some(Some(_))) {
            self.deck
                .require(
                    caller,
                    vault,
                    Role::Admin,
                    "secret.rotate_verify",
                    reference,
                    "setting a verification command",
                )
                .await?;
        }
        Ok(())
    }

    /// Seals `info`'s rotation policy (how often, and the verification
    /// command) when `change` touched it: the scheduled rotation runs it
    /// only as sealed, with the rights of whoever set it.
    async fn seal_rotation_policy(
        self,
        caller: &Caller,
        change: &MetadataChange,
        info: &SecretInfo,
    ) -> Result<(), DeckError> {
        if change.rotate_every_days.is_none() && change.rotate_verify.is_none() {
            return Ok(());
        }
        let reference = format!("{}/{}", info.vault, info.name);
        if info.rotate_every_days.is_none() && info.rotate_verify.is_none() {
            return self.deck.unseal_definition(caller, ROTATION_POLICY, &reference).await;
        }
        let content = rotation_policy_content(info);
        let seal = self.deck.seal_definition(caller, ROTATION_POLICY, &reference, &content, false).await?;
        // A verification command runs on a machine: the host that set it rotates.
        let job = super::rotate::rotation_job_name(&reference);
        let host = info.rotate_verify.is_some().then_some(seal.host.as_str());
        opsdeck_core::scheduler::Scheduler::pin_to_host(&self.deck.store, &job, host).await?;
        Ok(())
    }

    /// Secrets' metadata (of one vault, or of every vault the caller is a member of); no values.
    pub async fn secret_list(
        self,
        caller: &Caller,
        vault: Option<&str>,
    ) -> Result<Vec<SecretInfo>, DeckError> {
        if let Some(vault) = vault {
            self.deck
                .require(caller, vault, Role::Viewer, "secret.list", vault, "listing its secrets")
                .await?;
            return Ok(self.deck.vaults.secrets(Some(vault)).await?);
        }
        let mut visible = Vec::new();
        for vault in self.deck.vaults.list().await? {
            if self.role(caller, &vault.name).await?.is_some() {
                visible.push(vault.name);
            }
        }
        let secrets = self.deck.vaults.secrets(None).await?;
        Ok(secrets.into_iter().filter(|secret| visible.contains(&secret.vault)).collect())
    }

    /// One secret's metadata.
    pub async fn secret_info(self, caller: &Caller, reference: &str) -> Result<SecretInfo, DeckError> {
        let (vault, name) = split_reference(reference)?;
        self.deck.require(caller, vault, Role::Viewer, "secret.info", reference, "reading metadata").await?;
        Ok(self.deck.vaults.info(vault, name).await?)
    }

    /// Every version of `VAULT/NAME`, newest first.
    pub async fn secret_history(
        self,
        caller: &Caller,
        reference: &str,
    ) -> Result<Vec<VersionInfo>, DeckError> {
        let (vault, name) = split_reference(reference)?;
        self.deck
            .require(caller, vault, Role::Viewer, "secret.history", reference, "reading history")
            .await?;
        Ok(self.deck.vaults.history(vault, name).await?)
    }

    /// Makes version `to` current again, as a new version (operators and admins).
    pub async fn secret_rollback(
        self,
        caller: &Caller,
        reference: &str,
        to: i64,
    ) -> Result<SecretInfo, DeckError> {
        let (vault, name) = split_reference(reference)?;
        self.deck
            .require(caller, vault, Role::Operator, "secret.rollback", reference, "rolling back")
            .await?;
        let audit = self
            .deck
            .audit
            .scope(caller, "secret.rollback", reference, serde_json::json!({ "to": to }))
            .await?;
        let info = self.deck.vaults.rollback(vault, name, to, &audit).await?;
        self.deck.audit.announce(&audit).await;
        self.sync_rotation_job(vault, name).await?;
        Ok(info)
    }

    /// Deletes `VAULT/NAME` with every version (admins only).
    pub async fn secret_remove(self, caller: &Caller, reference: &str) -> Result<(), DeckError> {
        let (vault, name) = split_reference(reference)?;
        self.deck
            .require(caller, vault, Role::Admin, "secret.remove", reference, "removing a secret")
            .await?;
        let audit = self.deck.audit.scope(caller, "secret.remove", reference, serde_json::json!({})).await?;
        self.deck.vaults.remove(vault, name, &audit).await?;
        self.deck.audit.announce(&audit).await;
        self.deck.unseal_definition(caller, ROTATION_POLICY, reference).await?;
        self.sync_rotation_job(vault, name).await?;
        Ok(())
    }
}
