//! `opsdeck-vault`: local encrypted vaults of secrets.
//!
//! Envelope encryption: each vault has a random 256-bit data key; every
//! version of every secret is sealed with AES-256-GCM under it, the additional
//! data binding vault id, secret id and version ([`envelope`]). The data key is
//! stored only wrapped by key slots: a random key kept in the OS keychain,
//! and/or a key derived from a passphrase with Argon2id. Values are revealed
//! only by [`Vaults::get`], in wiped-on-drop buffers whose `Debug` is redacted.
//!
//! Vaults also keep their members' roles ([`members`]) and key slots
//! ([`slots`]), and seal portable export bundles ([`bundle`]). This crate
//! stores roles but does not enforce them, nor audit: the deck checks the
//! caller's role and records every reveal and change in the audit trail.

pub mod bundle;
pub mod dotenv;
pub mod envelope;
mod error;
pub mod generators;
pub mod import;
pub mod members;
pub mod slots;
pub mod types;
mod vaults;

pub use error::VaultError;
pub use members::{MemberInfo, Role};
pub use slots::{SlotInfo, MIN_PASSPHRASE_CHARS};
pub use types::{check_name, split_reference, SecretReference, SecretType, REFERENCE_SCHEME, SECRET_TYPES};
pub use vaults::{
    migrator, MetadataChange, SecretInfo, SecretValue, SecretWrite, VaultInfo, Vaults, VersionInfo,
};
