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

    /// A failure with configs (a bad file, a schema violation, an unknown project).
    #[error(transparent)]
    Config(#[from] opsdeck_config::ConfigError),

    /// A failure with certificates (a bad file, a failed probe, the CA's refusal).
    #[error(transparent)]
    Cert(#[from] opsdeck_certs::CertError),

    /// A failure with telemetry (an unknown trace, a receiver that cannot listen).
    #[error(transparent)]
    Telemetry(#[from] opsdeck_telemetry::TelemetryError),

    /// A failure in the metrics series store (a damaged chunk, a bad pattern).
    #[error(transparent)]
    Metrics(#[from] opsdeck_metrics::MetricsError),

    /// A PromQL query that is malformed or cannot be evaluated.
    #[error(transparent)]
    Query(#[from] opsdeck_metrics::promql::QueryError),

    /// A secret scan's bad input (a missing path, a broken rules file).
    #[error(transparent)]
    Scan(#[from] opsdeck_scan::ScanError),
}

impl DeckError {
    /// A stable, machine-readable code (the UI decides its wording on this).
    pub fn code(&self) -> &'static str {
        match self {
            DeckError::Core(error) => error.code(),
            DeckError::Vault(error) => error.code(),
            DeckError::Cert(error) => error.code(),
            DeckError::Config(error) => error.code(),
            DeckError::Telemetry(error) => error.code(),
            DeckError::Metrics(error) => error.code(),
            DeckError::Query(error) => error.code(),
            DeckError::Scan(error) => error.code(),
        }
    }

    /// Exit code 2: every error is about the user's input or environment (a
    /// failed check is a result, reported with exit code 1 by the command).
    pub fn exit_code(&self) -> i32 {
        match self {
            // The work itself failed (the CA refused, an endpoint was down): exit 1.
            DeckError::Cert(error) if !error.is_input_error() => 1,
            _ => 2,
        }
    }
}

impl opsdeck_core::StoreContention for DeckError {
    fn is_store_contention(&self) -> bool {
        match self {
            DeckError::Core(error) => error.is_store_contention(),
            DeckError::Vault(error) => error.is_store_contention(),
            DeckError::Config(error) => error.is_store_contention(),
            DeckError::Cert(error) => error.is_store_contention(),
            DeckError::Telemetry(error) => error.is_store_contention(),
            DeckError::Metrics(opsdeck_metrics::MetricsError::Store(error)) => error.is_store_contention(),
            DeckError::Metrics(_) => false,
            DeckError::Query(opsdeck_metrics::promql::QueryError::Store(
                opsdeck_metrics::MetricsError::Store(error),
            )) => error.is_store_contention(),
            DeckError::Query(_) => false,
            DeckError::Scan(_) => false,
        }
    }
}
