//! The error type of `opsdeck-certs`.

/// Everything that can go wrong with certificates, in the user's terms.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// A file (or bytes) holds no certificate we can read.
    #[error("{source_name}: {reason}")]
    Unreadable {
        /// Where the bytes came from (a path, an endpoint).
        source_name: String,
        /// What is wrong with them and what to do.
        reason: String,
    },

    /// A file or directory could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The path.
        path: String,
        /// What the operating system said.
        reason: String,
    },

    /// An endpoint could not be reached or did not complete a TLS handshake.
    #[error("probe of {endpoint} failed: {reason}")]
    Probe {
        /// `HOST:PORT`.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },

    /// An argument was not acceptable (a domain, a key type, an endpoint).
    #[error("{0}")]
    Invalid(String),

    /// No certificate has this id.
    #[error("no certificate {id}; `opsdeck cert list` shows the ids")]
    UnknownCertificate {
        /// The id that was asked for.
        id: String,
    },

    /// The ACME server refused or failed a step; its own words are kept.
    #[error("ACME {step} failed: {reason}")]
    Acme {
        /// The step (account, order, challenge, finalize, download, revoke).
        step: String,
        /// The CA's error text or the transport error.
        reason: String,
    },

    /// A challenge could not be answered (responder port busy, DNS hook failed).
    #[error("challenge for {domain} could not be set up: {reason}")]
    Challenge {
        /// The domain.
        domain: String,
        /// What went wrong.
        reason: String,
    },

    /// A deploy hook failed.
    #[error("deploy hook failed: {0}")]
    Deploy(String),

    /// The store failed.
    #[error(transparent)]
    Core(#[from] opsdeck_core::CoreError),
}

impl CertError {
    /// A stable code the adapters map to exit codes and UI wording.
    pub fn code(&self) -> &'static str {
        match self {
            CertError::Unreadable { .. } => "unreadable_certificate",
            CertError::Io { .. } => "io",
            CertError::Probe { .. } => "probe_failed",
            CertError::Invalid(_) => "invalid_input",
            CertError::UnknownCertificate { .. } => "unknown_certificate",
            CertError::Acme { .. } => "acme_failed",
            CertError::Challenge { .. } => "challenge_failed",
            CertError::Deploy(_) => "deploy_failed",
            CertError::Core(error) => error.code(),
        }
    }

    /// True for mistakes in what the user gave (exit code 2).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            CertError::Unreadable { .. }
                | CertError::Io { .. }
                | CertError::Invalid(_)
                | CertError::UnknownCertificate { .. }
        )
    }
}

impl From<sqlx::Error> for CertError {
    fn from(error: sqlx::Error) -> Self {
        CertError::Core(error.into())
    }
}

impl From<opsdeck_core::words::UnknownWord> for CertError {
    fn from(error: opsdeck_core::words::UnknownWord) -> CertError {
        CertError::Core(error.into())
    }
}

impl opsdeck_core::StoreContention for CertError {
    fn is_store_contention(&self) -> bool {
        matches!(self, CertError::Core(error) if error.is_store_contention())
    }
}
