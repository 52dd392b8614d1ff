//! `opsdeck-vault`: local encrypted vaults of secrets.
//!
//! Envelope encryption: each vault has a random 256-bit data key; every
//! version of every secret is sealed with AES-256-GCM under it, the additional
//! data binding vault id, secret id and version ([`envelope`]). The data key is
//! stored only wrapped by key slots: a random key kept in the OS keychain,
//! and/or a key derived from a passphrase with Argon2id. Values are revealed
//! only by [`Vaults::get`], in wiped-on-drop buffers whose `Debug` is redacted.
//!
//! This crate does not audit or authorise: the deck records every reveal and
//! change in the audit trail before calling it.

pub mod envelope;
mod error;
pub mod types;
mod vaults;

pub use error::VaultError;
pub use types::{split_reference, SecretReference, SecretType, REFERENCE_SCHEME, SECRET_TYPES};
pub use vaults::{migrator, SecretInfo, SecretValue, VaultInfo, Vaults, VersionInfo};
