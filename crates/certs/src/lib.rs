//! OpsDeck certificates: the pieces the deck puts together to keep TLS
//! certificates known, valid and renewed.
//!
//! - [`x509`] reads PEM/DER into facts (names, issuer, validity, key);
//! - [`trust`] checks chains against the system roots or a given bundle;
//! - [`probe`] fetches the chain a live endpoint serves;
//! - [`inventory`] keeps certificates, their locations, states and history;
//! - [`acme`] orders certificates from an ACME CA (`instant-acme`), answering
//!   challenges through [`challenges`] with keys from [`keys`];
//! - [`renewal`] decides when to renew; [`deploy`] writes files and runs a
//!   command after each issuance.
//!
//! This crate keeps no secrets: private keys and ACME account credentials are
//! handed back to the caller (the deck), which seals them in a vault. It knows
//! nothing of roles, audit or the scheduler either; the deck does.

mod error;

pub mod acme;
pub mod challenges;
pub mod deploy;
pub mod inventory;
pub mod keys;
pub mod probe;
pub mod renewal;
pub mod rfc2136;
pub mod trust;
pub mod x509;

pub use error::CertError;
pub use inventory::{
    migrator, CertEvent, CertRecord, CertSource, CertState, DnsUpdate, ExternalAccount, Inventory, Location,
    Managed,
};
pub use trust::ChainStatus;
