//! The error type of `opsdeck-config`.

/// What can go wrong reading a config, in the user's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not valid in its format, or repeats a key.
    #[error("{source_name}{}: {message}", line.map(|line| format!(":{line}")).unwrap_or_default())]
    Syntax {
        /// The file (or layer) name.
        source_name: String,
        /// The 1-based line, when known.
        line: Option<usize>,
        /// What is wrong and where (`key db.pool: ...`).
        message: String,
    },

    /// The format is not one we read.
    #[error("{0}")]
    UnknownFormat(String),

    /// The JSON Schema itself is broken.
    #[error("the schema is not a valid JSON Schema: {0}")]
    InvalidSchema(String),

    /// An environment variable's value does not have the type the schema asks for.
    #[error("{variable}={value:?}: {path} must be {expected} (the schema says so); fix the variable or the schema")]
    EnvType {
        /// The variable's name.
        variable: String,
        /// Its value.
        value: String,
        /// The config key it sets.
        path: String,
        /// The type the schema names.
        expected: String,
    },
}

impl ConfigError {
    /// A stable code for the adapters.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::Syntax { .. } => "config_syntax",
            ConfigError::UnknownFormat(_) => "config_format",
            ConfigError::InvalidSchema(_) => "config_schema_invalid",
            ConfigError::EnvType { .. } => "config_env_type",
        }
    }
}
