//! The vaults area: vaults and their secrets (versions, metadata, rotation
//! with verification), members and key slots, references resolved into
//! processes and files, and import and export.
//!
//! `secrets.rs`: vaults and secret versions; `members.rs`: roles and key
//! slots; `rotate.rs`: rotation and its job; `inject.rs`: `op://`-style
//! references; `transfer.rs`: `.env`/JSON import and encrypted bundles.
//! The `*_operations.rs` files are the area's entries in the catalogue.

mod inject;
pub mod member_operations;
mod members;
pub mod operations;
mod rotate;
pub mod secret_operations;
mod secrets;
mod transfer;

pub use rotate::RotationReport;
pub(crate) use rotate::ROTATE_JOB_KIND;
pub(crate) use secrets::rotation_policy_content;
pub use transfer::{parse_dotenv, parse_json_secrets, ImportReport};

/// A deck's vaults and secrets: `deck.vaults()`.
#[derive(Clone, Copy)]
pub struct Vaults<'d> {
    pub(crate) deck: &'d crate::Deck,
}

/// The vaults' job: rotating a secret on its policy's schedule (one job per
/// secret with a policy, kept in step by `sync_rotation_job`).
pub(crate) fn register_jobs(kinds: &mut crate::jobs::JobKinds<'_>) {
    kinds.register(
        ROTATE_JOB_KIND,
        |deck, job| async move { deck.vaults().run_rotation_job(&job.payload).await },
    );
}

/// This area's operations in the catalogue, in the order front ends list
/// them: a new operation is written in this folder and added here.
pub(crate) fn catalogue_entries() -> Vec<crate::catalogue::Entry> {
    use crate::catalogue::entry;
    vec![
        entry::<operations::VaultList>(),
        entry::<member_operations::VaultCreate>(),
        entry::<member_operations::VaultAccessOperation>(),
        entry::<member_operations::VaultMemberSet>(),
        entry::<member_operations::VaultMemberRemove>(),
        entry::<member_operations::VaultChangePassphrase>(),
        entry::<operations::SecretList>(),
        entry::<operations::SecretShow>(),
        entry::<operations::SecretVersions>(),
        entry::<operations::SecretReveal>(),
        entry::<secret_operations::SecretSet>(),
        entry::<secret_operations::SecretEdit>(),
        entry::<secret_operations::SecretImport>(),
        entry::<secret_operations::SecretRollback>(),
        entry::<secret_operations::SecretRemove>(),
        entry::<secret_operations::SecretRotate>(),
        entry::<operations::SecretsDue>(),
    ]
}
