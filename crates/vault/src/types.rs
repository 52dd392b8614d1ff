//! Secret types and the references that name a secret.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::VaultError;

/// What kind of secret a value is (shown while locked; picks a generator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecretType {
    /// An API key.
    ApiKey,
    /// A database password.
    DatabasePassword,
    /// An SSH private key.
    SshKey,
    /// A TLS certificate and key.
    TlsCertificate,
    /// Raw key material.
    EncryptionKey,
    /// An OAuth token.
    OauthToken,
    /// Service account credentials.
    ServiceAccount,
    /// A webhook signing secret.
    WebhookSecret,
    /// Anything else.
    Generic,
}

/// Every type, in the order they are offered.
pub const SECRET_TYPES: [SecretType; 9] = [
    SecretType::ApiKey,
    SecretType::DatabasePassword,
    SecretType::SshKey,
    SecretType::TlsCertificate,
    SecretType::EncryptionKey,
    SecretType::OauthToken,
    SecretType::ServiceAccount,
    SecretType::WebhookSecret,
    SecretType::Generic,
];

impl SecretType {
    /// The stored and typed name, e.g. `api_key`.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretType::ApiKey => "api_key",
            SecretType::DatabasePassword => "database_password",
            SecretType::SshKey => "ssh_key",
            SecretType::TlsCertificate => "tls_certificate",
            SecretType::EncryptionKey => "encryption_key",
            SecretType::OauthToken => "oauth_token",
            SecretType::ServiceAccount => "service_account",
            SecretType::WebhookSecret => "webhook_secret",
            SecretType::Generic => "generic",
        }
    }

    /// Parses a type name.
    pub fn parse(text: &str) -> Result<SecretType, VaultError> {
        SECRET_TYPES.iter().copied().find(|kind| kind.as_str() == text).ok_or_else(|| {
            let names: Vec<&str> = SECRET_TYPES.iter().map(|kind| kind.as_str()).collect();
            VaultError::Invalid(format!("unknown secret type `{text}`; use one of: {}", names.join(", ")))
        })
    }
}

/// Checks a vault or secret name: letters, digits, `-`, `_`, `.`; 1–128 characters.
pub fn check_name(what: &str, name: &str) -> Result<(), VaultError> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(VaultError::Invalid(format!(
            "`{name}` is not a valid {what} name: use 1–128 letters, digits, `-`, `_` or `.`"
        )))
    }
}

/// Splits `VAULT/NAME`.
pub fn split_reference(reference: &str) -> Result<(&str, &str), VaultError> {
    match reference.split_once('/') {
        Some((vault, name)) if !vault.is_empty() && !name.is_empty() => Ok((vault, name)),
        _ => Err(VaultError::Invalid(format!(
            "`{reference}` is not a secret reference; write VAULT/NAME, e.g. prod/db-password"
        ))),
    }
}

/// The scheme of secret references in templates, env files and configs.
pub const REFERENCE_SCHEME: &str = "opsdeck://";

/// A parsed `opsdeck://VAULT/NAME[#VERSION]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretReference {
    /// The vault.
    pub vault: String,
    /// The secret's name.
    pub name: String,
    /// A pinned version; the current one when `None`.
    pub version: Option<i64>,
}

impl SecretReference {
    /// Parses `opsdeck://VAULT/NAME[#VERSION]`.
    pub fn parse(text: &str) -> Result<SecretReference, VaultError> {
        let invalid = || {
            VaultError::Invalid(format!("`{text}` is not a secret reference; write opsdeck://VAULT/NAME or opsdeck://VAULT/NAME#VERSION"))
        };
        let rest = text.trim().strip_prefix(REFERENCE_SCHEME).ok_or_else(invalid)?;
        let (path, version) = match rest.split_once('#') {
            Some((path, version)) => (path, Some(version.parse::<i64>().map_err(|_| invalid())?)),
            None => (rest, None),
        };
        let (vault, name) = split_reference(path).map_err(|_| invalid())?;
        check_name("vault", vault)?;
        check_name("secret", name)?;
        Ok(SecretReference { vault: vault.to_owned(), name: name.to_owned(), version })
    }

    /// `VAULT/NAME`.
    pub fn path(&self) -> String {
        format!("{}/{}", self.vault, self.name)
    }
}

impl std::fmt::Display for SecretReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.version {
            Some(version) => write!(f, "{REFERENCE_SCHEME}{}/{}#{version}", self.vault, self.name),
            None => write!(f, "{REFERENCE_SCHEME}{}/{}", self.vault, self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_references_parse_with_and_without_a_version() {
        let reference = SecretReference::parse("opsdeck://prod/db-password#3").unwrap();
        assert_eq!(
            (reference.vault.as_str(), reference.name.as_str(), reference.version),
            ("prod", "db-password", Some(3))
        );
        assert_eq!(reference.to_string(), "opsdeck://prod/db-password#3");
        assert_eq!(SecretReference::parse("opsdeck://prod/key").unwrap().version, None);
        for bad in ["prod/key", "opsdeck://prod", "opsdeck://prod/key#x", "opsdeck:///key", "opsdeck://a b/c"]
        {
            assert!(SecretReference::parse(bad).is_err(), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn types_round_trip_and_unknown_ones_list_the_choices() {
        for kind in SECRET_TYPES {
            assert_eq!(SecretType::parse(kind.as_str()).unwrap(), kind);
        }
        let error = SecretType::parse("password").unwrap_err().to_string();
        assert!(error.contains("database_password"), "{error}");
    }

    #[test]
    fn references_and_names_are_checked() {
        assert_eq!(split_reference("prod/db").unwrap(), ("prod", "db"));
        assert!(split_reference("prod").is_err());
        assert!(split_reference("/db").is_err());
        assert!(check_name("vault", "prod-eu.1").is_ok());
        assert!(check_name("vault", "has space").is_err());
        assert!(check_name("vault", "").is_err());
    }
}
