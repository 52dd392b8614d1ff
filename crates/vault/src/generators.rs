//! New values for secrets: random strings under a length and alphabet
//! policy, random key bytes, and Ed25519 SSH key pairs in OpenSSH format.
//! `secret set --generate` and rotation both use the generator of the
//! secret's type.

use base64::Engine as _;
use serde::Serialize;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::{SecretType, VaultError};

/// The characters a generated string is drawn from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, TS, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Alphabet {
    /// Letters and digits: safe in URLs, shells and config files.
    #[default]
    Alphanumeric,
    /// Lower-case hexadecimal digits.
    Hex,
    /// Letters, digits, `-` and `_` (URL-safe base64 characters).
    Base64url,
    /// Letters, digits and punctuation that needs no quoting in most shells.
    Symbols,
}

impl Alphabet {
    /// Parses `alphanumeric`, `hex`, `base64url` or `symbols`.
    pub fn parse(text: &str) -> Result<Alphabet, VaultError> {
        match text {
            "alphanumeric" => Ok(Alphabet::Alphanumeric),
            "hex" => Ok(Alphabet::Hex),
            "base64url" => Ok(Alphabet::Base64url),
            "symbols" => Ok(Alphabet::Symbols),
            other => Err(VaultError::Invalid(format!(
                "unknown alphabet `{other}`; use alphanumeric, hex, base64url or symbols"
            ))),
        }
    }

    fn characters(self) -> &'static [u8] {
        match self {
            Alphabet::Alphanumeric => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            Alphabet::Hex => b"0123456789abcdef",
            Alphabet::Base64url => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
            Alphabet::Symbols => {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%+,-.:=@^_~"
            }
        }
    }
}

/// How long a generated string is and what it is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringPolicy {
    /// Characters, 8–4096.
    pub length: usize,
    /// The alphabet.
    pub alphabet: Alphabet,
}

impl Default for StringPolicy {
    fn default() -> Self {
        StringPolicy { length: 32, alphabet: Alphabet::Alphanumeric }
    }
}

fn random_bytes(buffer: &mut [u8]) -> Result<(), VaultError> {
    getrandom::fill(buffer).map_err(|error| opsdeck_core::CoreError::Random(error.to_string()).into())
}

/// A random string under `policy` (uniform over the alphabet, by rejection sampling).
pub fn random_string(policy: StringPolicy) -> Result<Zeroizing<String>, VaultError> {
    if !(8..=4096).contains(&policy.length) {
        return Err(VaultError::Invalid(format!(
            "a generated value of {} characters: give a length between 8 and 4096",
            policy.length
        )));
    }
    let characters = policy.alphabet.characters();
    let limit = 256 - (256 % characters.len());
    let mut value = Zeroizing::new(String::with_capacity(policy.length));
    while value.len() < policy.length {
        let mut bytes = Zeroizing::new([0_u8; 64]);
        random_bytes(bytes.as_mut())?;
        for &byte in bytes.iter() {
            if usize::from(byte) < limit && value.len() < policy.length {
                value.push(char::from(characters[usize::from(byte) % characters.len()]));
            }
        }
    }
    Ok(value)
}

/// A generated value, with the public half when the type has one.
pub struct Generated {
    /// The value to store (for SSH keys, the private key).
    pub value: Zeroizing<String>,
    /// The OpenSSH public key line of a generated SSH key.
    pub public_key: Option<String>,
}

/// A new value for a secret of `secret_type`.
pub fn generate_for(
    secret_type: SecretType,
    policy: StringPolicy,
    comment: &str,
) -> Result<Generated, VaultError> {
    match secret_type {
        SecretType::EncryptionKey => {
            let key = opsdeck_core::keys::random_key()?;
            Ok(Generated { value: Zeroizing::new(hex::encode(key.as_ref())), public_key: None })
        }
        SecretType::SshKey => {
            let pair = ssh_ed25519_key_pair(comment)?;
            Ok(Generated { value: pair.private_key, public_key: Some(pair.public_key) })
        }
        SecretType::TlsCertificate | SecretType::ServiceAccount => {
            Err(VaultError::NotGenerated { secret_type: secret_type.as_str().to_owned() })
        }
        _ => Ok(Generated { value: random_string(policy)?, public_key: None }),
    }
}

/// An Ed25519 key pair in OpenSSH's formats.
pub struct SshKeyPair {
    /// `-----BEGIN OPENSSH PRIVATE KEY-----` … (unencrypted: the vault seals it).
    pub private_key: Zeroizing<String>,
    /// `ssh-ed25519 AAAA… comment`, for authorized_keys.
    pub public_key: String,
}

/// Appends an SSH wire-format string (u32 length, bytes).
fn put_string(buffer: &mut Vec<u8>, bytes: &[u8]) {
    let length = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    buffer.extend_from_slice(&length.to_be_bytes());
    buffer.extend_from_slice(bytes);
}

/// A new Ed25519 key pair, written as OpenSSH writes one (`openssh-key-v1`,
/// cipher `none`), so ssh, ssh-keygen and agents read it as is.
pub fn ssh_ed25519_key_pair(comment: &str) -> Result<SshKeyPair, VaultError> {
    let mut seed = Zeroizing::new([0_u8; 32]);
    random_bytes(seed.as_mut())?;
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    let public = signing.verifying_key().to_bytes();

    let mut public_blob = Vec::new();
    put_string(&mut public_blob, b"ssh-ed25519");
    put_string(&mut public_blob, &public);

    let mut check = [0_u8; 4];
    random_bytes(&mut check)?;
    let mut private_block = Zeroizing::new(Vec::new());
    private_block.extend_from_slice(&check);
    private_block.extend_from_slice(&check);
    put_string(&mut private_block, b"ssh-ed25519");
    put_string(&mut private_block, &public);
    let mut secret = Zeroizing::new([0_u8; 64]);
    secret[..32].copy_from_slice(seed.as_ref());
    secret[32..].copy_from_slice(&public);
    put_string(&mut private_block, secret.as_ref());
    put_string(&mut private_block, comment.as_bytes());
    let mut pad = 1_u8;
    while private_block.len() % 8 != 0 {
        private_block.push(pad);
        pad += 1;
    }

    let mut file = Zeroizing::new(b"openssh-key-v1\0".to_vec());
    put_string(&mut file, b"none");
    put_string(&mut file, b"none");
    put_string(&mut file, b"");
    file.extend_from_slice(&1_u32.to_be_bytes());
    put_string(&mut file, &public_blob);
    put_string(&mut file, &private_block);

    let engine = base64::engine::general_purpose::STANDARD;
    let body = Zeroizing::new(engine.encode(file.as_slice()));
    let mut private_key = Zeroizing::new(String::from("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
    for line in body.as_bytes().chunks(70) {
        private_key.push_str(std::str::from_utf8(line).unwrap_or_default());
        private_key.push('\n');
    }
    private_key.push_str("-----END OPENSSH PRIVATE KEY-----\n");
    let public_key = format!("ssh-ed25519 {} {comment}", engine.encode(&public_blob)).trim_end().to_owned();
    Ok(SshKeyPair { private_key, public_key })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_strings_follow_their_policy() {
        let letters = |length| random_string(StringPolicy { length, alphabet: Alphabet::Alphanumeric });
        let value = letters(40).unwrap();
        assert_eq!(value.len(), 40);
        assert!(value.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(*value, *letters(40).unwrap());
        assert!(letters(4).is_err());
        let hex = random_string(StringPolicy { length: 64, alphabet: Alphabet::Hex }).unwrap();
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        let url = random_string(StringPolicy { length: 200, alphabet: Alphabet::Base64url }).unwrap();
        assert!(url.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    /// ssh-keygen (OpenSSH itself) must read the private key and derive the same public key.
    #[test]
    fn generated_ssh_keys_are_read_by_ssh_keygen() {
        let pair = ssh_ed25519_key_pair("opsdeck@test").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id_ed25519");
        std::fs::write(&path, pair.private_key.as_bytes()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let output = std::process::Command::new("ssh-keygen").arg("-y").arg("-f").arg(&path).output();
        let output = output.expect("ssh-keygen (openssh-client) is installed by scripts/setup.sh");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let derived = String::from_utf8(output.stdout).unwrap();
        assert_eq!(derived.trim(), pair.public_key);
    }
}
