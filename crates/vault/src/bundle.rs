//! Export bundles: a vault's current values and metadata sealed under a
//! passphrase, to move secrets between machines or keep an offline copy.
//!
//! The file is a small JSON document: format name and version, the Argon2id
//! parameters and salt, a nonce, and the AES-256-GCM ciphertext (hex) of the
//! JSON list of secrets. The header is bound as additional data, so changing
//! any part of the file makes opening fail rather than yield other contents.

use opsdeck_core::keys;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::types::SecretType;
use crate::{MetadataChange, SecretWrite, VaultError};

/// The `format` field of every bundle.
pub const BUNDLE_FORMAT: &str = "opsdeck-bundle";
/// The bundle version this build writes and reads.
pub const BUNDLE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Envelope {
    format: String,
    version: u32,
    kdf: String,
    kdf_params: String,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// One secret in a bundle. `Debug` never shows the value.
#[derive(Clone, Serialize, Deserialize)]
pub struct BundleSecret {
    /// The secret's name.
    pub name: String,
    /// Its type name.
    #[serde(rename = "type")]
    pub secret_type: String,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Its note.
    #[serde(default)]
    pub note: String,
    /// Its rotation policy in days.
    #[serde(default)]
    pub rotate_every_days: Option<i64>,
    /// Its expiry.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// The current value.
    pub value: Zeroizing<String>,
}

impl std::fmt::Debug for BundleSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleSecret").field("name", &self.name).field("value", &"<redacted>").finish()
    }
}

impl BundleSecret {
    /// The write that stores this secret in a vault.
    pub fn to_write(&self) -> Result<SecretWrite, VaultError> {
        Ok(SecretWrite {
            name: self.name.clone(),
            secret_type: SecretType::parse(&self.secret_type)?,
            value: self.value.clone(),
            metadata: MetadataChange {
                tags: Some(self.tags.clone()),
                note: Some(self.note.clone()),
                rotate_every_days: Some(self.rotate_every_days),
                rotate_verify: None,
                expires_at: Some(self.expires_at),
            },
        })
    }
}

/// What a bundle holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bundle {
    /// The vault it was exported from.
    pub vault: String,
    /// When it was made.
    pub exported_at_unix_ms: i64,
    /// The secrets, by name.
    pub secrets: Vec<BundleSecret>,
}

fn aad(envelope: &Envelope) -> Vec<u8> {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        envelope.format, envelope.version, envelope.kdf, envelope.kdf_params, envelope.salt, envelope.nonce
    )
    .into_bytes()
}

/// Seals `bundle` under `passphrase`; returns the file's bytes.
pub fn seal_bundle(bundle: &Bundle, passphrase: &str) -> Result<Vec<u8>, VaultError> {
    crate::slots::check_new_passphrase("the bundle passphrase", passphrase)?;
    let mut salt = [0_u8; 16];
    getrandom::fill(&mut salt).map_err(|error| VaultError::Random(error.to_string()))?;
    let nonce = keys::random_nonce()?;
    let mut envelope = Envelope {
        format: BUNDLE_FORMAT.to_owned(),
        version: BUNDLE_VERSION,
        kdf: "argon2id".to_owned(),
        kdf_params: keys::default_kdf_params(),
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: String::new(),
    };
    let key = keys::derive_from_passphrase(passphrase, &salt, &envelope.kdf_params)?;
    let plaintext =
        Zeroizing::new(serde_json::to_vec(bundle).map_err(|error| VaultError::Invalid(error.to_string()))?);
    let sealed = keys::aead_seal(&key, nonce, &aad(&envelope), &plaintext)?;
    envelope.ciphertext = hex::encode(sealed);
    let mut bytes =
        serde_json::to_vec_pretty(&envelope).map_err(|error| VaultError::Invalid(error.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Opens a bundle file's bytes with `passphrase`.
pub fn open_bundle(bytes: &[u8], passphrase: &str) -> Result<Bundle, VaultError> {
    let not_a_bundle = |why: &str| {
        VaultError::Invalid(format!(
            "this is not an OpsDeck export bundle ({why}); make one with `opsdeck vault export VAULT -o FILE`"
        ))
    };
    let envelope: Envelope =
        serde_json::from_slice(bytes).map_err(|error| not_a_bundle(&error.to_string()))?;
    if envelope.format != BUNDLE_FORMAT {
        return Err(not_a_bundle(&format!("its format is `{}`", envelope.format)));
    }
    if envelope.version != BUNDLE_VERSION {
        return Err(VaultError::Invalid(format!(
            "the bundle is version {}, this OpsDeck reads version {BUNDLE_VERSION}; use a matching OpsDeck",
            envelope.version
        )));
    }
    if envelope.kdf != "argon2id" {
        return Err(not_a_bundle(&format!("unknown key derivation `{}`", envelope.kdf)));
    }
    let salt = hex::decode(&envelope.salt).map_err(|_| not_a_bundle("its salt is not hex"))?;
    let nonce = hex::decode(&envelope.nonce).map_err(|_| not_a_bundle("its nonce is not hex"))?;
    let ciphertext =
        hex::decode(&envelope.ciphertext).map_err(|_| not_a_bundle("its contents are not hex"))?;
    if nonce.len() != 12 || salt.len() < 8 {
        return Err(not_a_bundle("its salt or nonce has the wrong length"));
    }
    let key = keys::derive_from_passphrase(passphrase, &salt, &envelope.kdf_params)?;
    let plaintext = keys::aead_open(&key, &nonce, &aad(&envelope), &ciphertext).ok_or_else(|| {
        VaultError::Invalid(
            "the bundle did not open: the passphrase is wrong or the file was changed or truncated".into(),
        )
    })?;
    serde_json::from_slice(&plaintext).map_err(|error| not_a_bundle(&format!("its contents: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Bundle {
        Bundle {
            vault: "prod".into(),
            exported_at_unix_ms: 1,
            secrets: vec![BundleSecret {
                name: "db".into(),
                secret_type: "database_password".into(),
                tags: vec!["team:core".into()],
                note: "primary".into(),
                rotate_every_days: Some(30),
                expires_at: None,
                value: Zeroizing::new("s3cret-value".into()),
            }],
        }
    }

    #[test]
    fn a_bundle_opens_with_its_passphrase_and_not_otherwise() {
        let bytes = seal_bundle(&sample(), "correct horse").unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("s3cret-value"));
        let opened = open_bundle(&bytes, "correct horse").unwrap();
        assert_eq!(opened.secrets[0].value.as_str(), "s3cret-value");
        assert_eq!(opened.secrets[0].rotate_every_days, Some(30));
        let wrong = open_bundle(&bytes, "wrong horse").unwrap_err().to_string();
        assert!(wrong.contains("passphrase is wrong"), "{wrong}");
    }

    #[test]
    fn changed_or_truncated_bundles_are_refused_clearly() {
        let bytes = seal_bundle(&sample(), "correct horse").unwrap();
        let truncated = open_bundle(&bytes[..bytes.len() / 2], "correct horse").unwrap_err().to_string();
        assert!(truncated.contains("not an OpsDeck export bundle"), "{truncated}");
        let mut envelope: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let ciphertext = envelope["ciphertext"].as_str().unwrap().to_owned();
        let flipped = format!("{}{}", if ciphertext.starts_with('0') { '1' } else { '0' }, &ciphertext[1..]);
        envelope["ciphertext"] = flipped.into();
        let changed = open_bundle(&serde_json::to_vec(&envelope).unwrap(), "correct horse").unwrap_err();
        assert!(changed.to_string().contains("changed or truncated"), "{changed}");
        assert!(open_bundle(b"KEY=value\n", "correct horse").is_err());
        assert!(seal_bundle(&sample(), "short").is_err());
    }
}
