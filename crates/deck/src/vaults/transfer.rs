//! Moving secrets in and out of vaults: `.env` and JSON files in (read by
//! the vault crate's `import` module), and passphrase-sealed export bundles
//! out and back in. An import is one
//! transaction: a file with one bad entry stores nothing, and says which
//! line or key was wrong.

use serde::Serialize;
use ts_rs::TS;
use zeroize::Zeroizing;

use opsdeck_core::clock::now_unix_ms;
use opsdeck_vault::bundle::{open_bundle, seal_bundle, Bundle, BundleSecret};
use opsdeck_vault::{MetadataChange, Role, SecretType, SecretWrite, VaultError};

use super::Vaults;
use crate::{Caller, DeckError, Outcome};

/// What an import stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct ImportReport {
    /// The vault written to.
    pub vault: String,
    /// The secrets that got a new version, by name.
    pub imported: Vec<String>,
}

fn invalid(message: String) -> DeckError {
    VaultError::Invalid(message).into()
}

pub use opsdeck_vault::import::{parse_dotenv, parse_json_secrets};

impl Vaults<'_> {
    /// Stores each `(name, value)` as a new version in `vault`, all or none (operators and admins).
    pub async fn secret_import(
        self,
        caller: &Caller,
        vault: &str,
        entries: Vec<(String, Zeroizing<String>)>,
        secret_type: SecretType,
        source: &str,
    ) -> Result<ImportReport, DeckError> {
        let writes: Vec<SecretWrite> = entries
            .into_iter()
            .map(|(name, value)| SecretWrite {
                name,
                secret_type,
                value,
                metadata: MetadataChange::default(),
            })
            .collect();
        self.import_writes(caller, vault, writes, source).await
    }

    async fn import_writes(
        self,
        caller: &Caller,
        vault: &str,
        writes: Vec<SecretWrite>,
        source: &str,
    ) -> Result<ImportReport, DeckError> {
        self.deck.require(caller, vault, Role::Operator, "secret.import", vault, "importing secrets").await?;
        let audit = self
            .deck
            .audit
            .scope(caller, "secret.import", vault, serde_json::json!({ "source": source }))
            .await?;
        let infos = self.deck.vaults.set_many(vault, &writes, &audit).await?;
        self.deck.audit.announce(&audit).await;
        let imported: Vec<String> = infos.iter().map(|info| info.name.clone()).collect();
        for name in &imported {
            self.sync_rotation_job(vault, name).await?;
        }
        Ok(ImportReport { vault: vault.to_owned(), imported })
    }

    /// Seals the current value and metadata of every secret in `vault` into a
    /// bundle under `passphrase` (admins only; audited as an export of every value).
    pub async fn export(self, caller: &Caller, vault: &str, passphrase: &str) -> Result<Vec<u8>, DeckError> {
        self.deck.require(caller, vault, Role::Admin, "vault.export", vault, "exporting").await?;
        let mut secrets = Vec::new();
        for info in self.deck.vaults.secrets(Some(vault)).await? {
            let value = self.deck.vaults.get(vault, &info.name, None).await?;
            secrets.push(BundleSecret {
                name: info.name,
                secret_type: info.secret_type.as_str().to_owned(),
                tags: info.tags,
                note: info.note,
                rotate_every_days: info.rotate_every_days,
                expires_at: info.expires_at,
                value: value.value,
            });
        }
        let names: Vec<&str> = secrets.iter().map(|secret| secret.name.as_str()).collect();
        let details = serde_json::json!({ "secrets": names });
        // Recorded before the sealed values leave, as every reveal is.
        self.deck.audit(caller, "vault.export", vault, Outcome::Ok, details).await?;
        let bundle = Bundle { vault: vault.to_owned(), exported_at_unix_ms: now_unix_ms(), secrets };
        Ok(seal_bundle(&bundle, passphrase)?)
    }

    /// Opens a bundle with `passphrase` and stores its secrets in `vault`
    /// (default: the vault it came from), all or none.
    pub async fn import_bundle(
        self,
        caller: &Caller,
        vault: Option<&str>,
        bytes: &[u8],
        passphrase: &str,
    ) -> Result<ImportReport, DeckError> {
        let bundle = open_bundle(bytes, passphrase)?;
        let vault = vault.unwrap_or(&bundle.vault).to_owned();
        let writes = bundle.secrets.iter().map(BundleSecret::to_write).collect::<Result<Vec<_>, _>>()?;
        if writes.is_empty() {
            return Err(invalid("the bundle holds no secrets".into()));
        }
        self.import_writes(caller, &vault, writes, "bundle").await
    }
}
