//! Moving secrets in and out of vaults: `.env` and JSON files in, and
//! passphrase-sealed export bundles out and back in. An import is one
//! transaction: a file with one bad entry stores nothing, and says which
//! line or key was wrong.

use serde::Serialize;
use ts_rs::TS;
use zeroize::Zeroizing;

use opsdeck_core::clock::now_unix_ms;
use opsdeck_vault::bundle::{open_bundle, seal_bundle, Bundle, BundleSecret};
use opsdeck_vault::{check_name, MetadataChange, Role, SecretType, SecretWrite, VaultError};

use crate::{Caller, Deck, DeckError, Outcome};

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

/// Reads a `.env` file of secrets to import: the vault crate's `.env`
/// reader (the one `opsdeck run --env-file` uses too), then each name
/// checked as a secret name, and at least one entry.
pub fn parse_dotenv(text: &str) -> Result<Vec<(String, Zeroizing<String>)>, DeckError> {
    let entries = opsdeck_vault::dotenv::parse_dotenv(text)?;
    if entries.is_empty() {
        return Err(invalid("the file has no NAME=value lines".into()));
    }
    entries
        .into_iter()
        .map(|entry| {
            check_name("secret", &entry.name)
                .map_err(|error| invalid(format!("line {}: {error}", entry.line)))?;
            Ok((entry.name, entry.value))
        })
        .collect()
}

/// Parses a JSON object of names to string values: `{"NAME": "value", …}`.
pub fn parse_json_secrets(text: &str) -> Result<Vec<(String, Zeroizing<String>)>, DeckError> {
    let document: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| invalid(format!("the file is not valid JSON: {error}")))?;
    let serde_json::Value::Object(object) = document else {
        return Err(invalid(
            "expected a JSON object of names to string values, e.g. {\"API_KEY\": \"…\"}".into(),
        ));
    };
    let mut entries = Vec::with_capacity(object.len());
    for (name, value) in object {
        check_name("secret", &name).map_err(|error| invalid(format!("key `{name}`: {error}")))?;
        let serde_json::Value::String(value) = value else {
            return Err(invalid(format!("key `{name}`: the value must be a string")));
        };
        entries.push((name, Zeroizing::new(value)));
    }
    if entries.is_empty() {
        return Err(invalid("the JSON object is empty".into()));
    }
    Ok(entries)
}

impl Deck {
    /// Stores each `(name, value)` as a new version in `vault`, all or none (operators and admins).
    pub async fn secret_import(
        &self,
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
        &self,
        caller: &Caller,
        vault: &str,
        writes: Vec<SecretWrite>,
        source: &str,
    ) -> Result<ImportReport, DeckError> {
        self.require(caller, vault, Role::Operator, "secret.import", vault, "importing secrets").await?;
        let audit =
            self.audit.scope(caller, "secret.import", vault, serde_json::json!({ "source": source })).await?;
        let infos = self.vaults.set_many(vault, &writes, &audit).await?;
        self.audit.announce(&audit).await;
        let imported: Vec<String> = infos.iter().map(|info| info.name.clone()).collect();
        for name in &imported {
            self.sync_rotation_job(vault, name).await?;
        }
        Ok(ImportReport { vault: vault.to_owned(), imported })
    }

    /// Seals the current value and metadata of every secret in `vault` into a
    /// bundle under `passphrase` (admins only; audited as an export of every value).
    pub async fn vault_export(
        &self,
        caller: &Caller,
        vault: &str,
        passphrase: &str,
    ) -> Result<Vec<u8>, DeckError> {
        self.require(caller, vault, Role::Admin, "vault.export", vault, "exporting").await?;
        let mut secrets = Vec::new();
        for info in self.vaults.secrets(Some(vault)).await? {
            let value = self.vaults.get(vault, &info.name, None).await?;
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
        self.audit(caller, "vault.export", vault, Outcome::Ok, details).await?;
        let bundle = Bundle { vault: vault.to_owned(), exported_at_unix_ms: now_unix_ms(), secrets };
        Ok(seal_bundle(&bundle, passphrase)?)
    }

    /// Opens a bundle with `passphrase` and stores its secrets in `vault`
    /// (default: the vault it came from), all or none.
    pub async fn vault_import_bundle(
        &self,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_files_parse_as_people_write_them() {
        let text = "# comment\nexport API_KEY=abc123\nDB_URL = \"postgres://u:p@h/db\" # main\nQUOTED='a b # c'\nMULTI=\"line1\\nline2\"\nBARE=value # note\n\n";
        let entries = parse_dotenv(text).unwrap();
        let get = |name: &str| entries.iter().find(|(n, _)| n == name).unwrap().1.as_str().to_owned();
        assert_eq!(get("API_KEY"), "abc123");
        assert_eq!(get("DB_URL"), "postgres://u:p@h/db");
        assert_eq!(get("QUOTED"), "a b # c");
        assert_eq!(get("MULTI"), "line1\nline2");
        assert_eq!(get("BARE"), "value");
    }

    #[test]
    fn bad_dotenv_lines_are_named() {
        let error = parse_dotenv("A=1\nthis is not an assignment\n").unwrap_err().to_string();
        assert!(error.starts_with("line 2:"), "{error}");
        assert!(parse_dotenv("A=\"open\n").unwrap_err().to_string().contains("never closed"));
        assert!(parse_dotenv("A=1\nA=2\n").unwrap_err().to_string().contains("set twice"));
        assert!(parse_dotenv("BAD NAME=1\n").unwrap_err().to_string().contains("line 1"));
        assert!(parse_dotenv("# only comments\n").is_err());
    }

    #[test]
    fn json_imports_take_an_object_of_strings() {
        assert_eq!(parse_json_secrets(r#"{"A": "1", "B": "2"}"#).unwrap().len(), 2);
        assert!(parse_json_secrets(r#"{"A": 1}"#).unwrap_err().to_string().contains("key `A`"));
        assert!(parse_json_secrets("[1,2]").is_err());
        assert!(parse_json_secrets("{\"A\": \"1\"").unwrap_err().to_string().contains("not valid JSON"));
    }
}
