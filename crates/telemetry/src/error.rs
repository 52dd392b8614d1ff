//! The error type of `opsdeck-telemetry`.

/// What can go wrong with telemetry, in the user's terms.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// An argument is not usable.
    #[error("{0}")]
    Invalid(String),

    /// No span of this trace is stored.
    #[error("no trace {trace_id} is stored (it may be older than the retention, or not sent yet)")]
    UnknownTrace {
        /// The id asked for.
        trace_id: String,
    },

    /// The receiver could not start.
    #[error("the OTLP receiver cannot listen on {address}: {reason}")]
    Listen {
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },

    /// The store failed.
    #[error(transparent)]
    Core(#[from] opsdeck_core::CoreError),
}

impl TelemetryError {
    /// A stable code for the adapters.
    pub fn code(&self) -> &'static str {
        match self {
            TelemetryError::Invalid(_) => "invalid_input",
            TelemetryError::UnknownTrace { .. } => "unknown_trace",
            TelemetryError::Listen { .. } => "otlp_listen",
            TelemetryError::Core(error) => error.code(),
        }
    }
}

impl From<sqlx::Error> for TelemetryError {
    fn from(error: sqlx::Error) -> Self {
        TelemetryError::Core(error.into())
    }
}

impl opsdeck_core::StoreContention for TelemetryError {
    fn is_store_contention(&self) -> bool {
        matches!(self, TelemetryError::Core(error) if error.is_store_contention())
    }
}
