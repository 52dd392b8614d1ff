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
}

impl ConfigError {
    /// A stable code for the adapters.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::Syntax { .. } => "config_syntax",
            ConfigError::UnknownFormat(_) => "config_format",
        }
    }
}
