//! The error type of the service layer, shared by every adapter.

use opsdeck_core::CoreError;

/// Everything a deck operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum DeckError {
    /// A failure in the shared foundations (data dir, store).
    #[error(transparent)]
    Core(#[from] CoreError),

    /// A failure in a vault.
    #[error(transparent)]
    Vault(#[from] opsdeck_vault::VaultError),
}

impl DeckError {
    /// A stable, machine-readable code (the UI decides its wording on this).
    pub fn code(&self) -> &'static str {
        match self {
            DeckError::Core(error) => error.code(),
            DeckError::Vault(error) => error.code(),
        }
    }

    /// Exit code 2: every error is about the user's input or environment (a
    /// failed check is a result, reported with exit code 1 by the command).
    pub fn exit_code(&self) -> i32 {
        2
    }
}
