//! The error type of `opsdeck-vault`.

use opsdeck_core::CoreError;

/// Everything a vault operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// A failure of the store or the deck's keys.
    #[error(transparent)]
    Core(#[from] CoreError),

    /// The OS random number generator failed.
    #[error("could not get random bytes from the operating system: {0}")]
    Random(String),

    /// No vault has this name.
    #[error("there is no vault called `{name}`; `opsdeck vault list` shows the vaults, `opsdeck vault init NAME` makes one")]
    UnknownVault {
        /// The name given.
        name: String,
    },

    /// The vault exists already.
    #[error("a vault called `{name}` already exists")]
    VaultExists {
        /// The name given.
        name: String,
    },

    /// No secret has this name (or version).
    #[error("there is no secret `{reference}`; `opsdeck secret list` shows the secrets")]
    UnknownSecret {
        /// `VAULT/NAME` or `VAULT/NAME#VERSION`.
        reference: String,
    },

    /// The vault cannot be unlocked with what was given.
    #[error("vault `{name}` is locked: {reason}")]
    Locked {
        /// The vault.
        name: String,
        /// Why, and what to do.
        reason: String,
    },

    /// The passphrase opens none of the vault's passphrase slots.
    #[error("wrong passphrase for vault `{name}`: it opens none of its key slots; check OPSDECK_PASSPHRASE and try again")]
    WrongPassphrase {
        /// The vault.
        name: String,
    },

    /// A sealed value failed its integrity check.
    #[error("{what} failed its integrity check: the stored data was changed or damaged; restore it from a backup or roll back to another version")]
    Integrity {
        /// Which value.
        what: String,
    },

    /// The caller's role in the vault does not allow the action.
    #[error("{member} {has} vault `{vault}`, and {action} needs the {needed} role; an admin of the vault can grant it with `opsdeck vault member set {vault} {member} {needed}`")]
    Forbidden {
        /// The vault.
        vault: String,
        /// Who tried.
        member: String,
        /// "is a viewer of", "is not a member of", …
        has: String,
        /// What they tried, in words ("revealing a value").
        action: String,
        /// The role needed.
        needed: &'static str,
    },

    /// Bad input from the user.
    #[error("{0}")]
    Invalid(String),

    /// A value of this type cannot be generated: it comes from elsewhere.
    #[error(
        "{secret_type} values are issued elsewhere (a certificate authority, a provider's console): store the \
         new value you were given instead of generating one"
    )]
    NotGenerated {
        /// The secret's type.
        secret_type: String,
    },
}

impl VaultError {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            VaultError::Core(error) => error.code(),
            VaultError::Random(_) => "random_unavailable",
            VaultError::UnknownVault { .. } => "unknown_vault",
            VaultError::VaultExists { .. } => "vault_exists",
            VaultError::UnknownSecret { .. } => "unknown_secret",
            VaultError::Locked { .. } => "vault_locked",
            VaultError::WrongPassphrase { .. } => "wrong_passphrase",
            VaultError::Integrity { .. } => "integrity",
            VaultError::Forbidden { .. } => "forbidden",
            VaultError::Invalid(_) => "invalid_input",
            VaultError::NotGenerated { .. } => "value_not_generated",
        }
    }
}

impl From<sqlx::Error> for VaultError {
    fn from(error: sqlx::Error) -> Self {
        VaultError::Core(error.into())
    }
}

impl opsdeck_core::StoreContention for VaultError {
    fn is_store_contention(&self) -> bool {
        matches!(self, VaultError::Core(error) if error.is_store_contention())
    }
}
