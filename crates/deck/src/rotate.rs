//! Rotation: a new value from the type's generator, kept only when an
//! optional verification command accepts it; otherwise the previous value is
//! current again and the reason is reported (and audited).

use serde::Serialize;
use ts_rs::TS;
use zeroize::Zeroizing;

use opsdeck_vault::{split_reference, SecretType};

use crate::{generate_value, Caller, Deck, DeckError, Outcome};

/// How a rotation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RotationReport {
    /// The vault.
    pub vault: String,
    /// The secret.
    pub name: String,
    /// The current version after the rotation (the new one, or the old one when restored).
    #[ts(type = "number")]
    pub version: i64,
    /// True when the new value was kept.
    pub rotated: bool,
    /// Why the new value was not kept.
    pub reason: Option<String>,
}

/// A new value for a secret of `secret_type`.
fn new_value(secret_type: SecretType) -> Result<Zeroizing<String>, DeckError> {
    match secret_type {
        SecretType::EncryptionKey => {
            let key = opsdeck_core::keys::random_key()?;
            Ok(Zeroizing::new(hex::encode(key.as_ref())))
        }
        SecretType::SshKey | SecretType::TlsCertificate | SecretType::ServiceAccount => {
            Err(opsdeck_vault::VaultError::Invalid(format!(
                "{} values are issued elsewhere (a key pair, a certificate, a provider's console); set the new value with `opsdeck secret set … --value-stdin`",
                secret_type.as_str()
            ))
            .into())
        }
        _ => generate_value(32),
    }
}

impl Deck {
    /// Rotates `VAULT/NAME`; with `verify`, runs it through `sh -c` with the
    /// new value in `OPSDECK_NEW_VALUE` and the old one in `OPSDECK_OLD_VALUE`,
    /// and keeps the new value only when it exits 0.
    pub async fn secret_rotate(
        &self,
        caller: &Caller,
        reference: &str,
        verify: Option<&str>,
    ) -> Result<RotationReport, DeckError> {
        let (vault, name) = split_reference(reference)?;
        let old = self.secret_get(caller, reference, None).await?;
        let secret_type = SecretType::parse(&old.secret_type)?;
        let value = new_value(secret_type)?;
        let info = self.vaults.set(vault, name, secret_type, value.as_bytes(), &caller.actor).await?;

        let failure = match verify {
            None => None,
            Some(command) => {
                let result = tokio::process::Command::new("sh")
                    .arg("-c")
                    .arg(command)
                    .env("OPSDECK_NEW_VALUE", value.as_str())
                    .env("OPSDECK_OLD_VALUE", old.value.as_str())
                    .stdin(std::process::Stdio::null())
                    .output()
                    .await;
                match result {
                    Ok(output) if output.status.success() => None,
                    Ok(output) => {
                        let said = String::from_utf8_lossy(&output.stderr);
                        let said = said.trim();
                        let said = said
                            .chars()
                            .rev()
                            .take(300)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect::<String>();
                        Some(format!(
                            "the verification command exited with {}{}",
                            output.status.code().map_or("a signal".to_owned(), |code| format!("code {code}")),
                            if said.is_empty() { String::new() } else { format!(": {said}") }
                        ))
                    }
                    Err(error) => Some(format!("the verification command could not start: {error}")),
                }
            }
        };

        match failure {
            None => {
                let details = serde_json::json!({ "version": info.version, "verified": verify.is_some() });
                self.audit(caller, "secret.rotate", reference, Outcome::Ok, details).await?;
                Ok(RotationReport {
                    vault: vault.into(),
                    name: name.into(),
                    version: info.version,
                    rotated: true,
                    reason: None,
                })
            }
            Some(reason) => {
                let restored = self.vaults.discard_version(vault, name, info.version).await?;
                let details = serde_json::json!({ "reason": reason, "restored_version": restored });
                self.audit(caller, "secret.rotate", reference, Outcome::Failed, details).await?;
                Ok(RotationReport {
                    vault: vault.into(),
                    name: name.into(),
                    version: restored,
                    rotated: false,
                    reason: Some(reason),
                })
            }
        }
    }
}
