//! The error type of `opsdeck-config`.

/// What can go wrong reading a config, in the user's terms.
#[derive(Debug, thiserror::Error)]
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

    /// The result would break the project's schema; nothing was stored.
    #[error("{} breaks the schema; nothing was stored:\n{}", .what, .violations.iter().map(|v| format!("  {}", v)).collect::<Vec<_>>().join("\n"))]
    SchemaViolations {
        /// What was being saved (`shop/prod committed`).
        what: String,
        /// Each violation.
        violations: Vec<crate::schema::Violation>,
    },

    /// No project has this name.
    #[error("no config project {name}; `opsdeck config import {name} ENV FILE` makes it")]
    UnknownProject {
        /// The name asked for.
        name: String,
    },

    /// No such version in an environment's history.
    #[error("{project}/{env} has no version {version}; `opsdeck config history {project} {env}` lists them")]
    UnknownVersion {
        /// The project.
        project: String,
        /// The environment.
        env: String,
        /// The version asked for.
        version: i64,
    },

    /// A name (project, environment, layer) is not usable.
    #[error("{0}")]
    Invalid(String),

    /// The store failed.
    #[error(transparent)]
    Core(#[from] opsdeck_core::CoreError),

    /// A promotion request cannot be decided this way (the requester
    /// approving it, or it is no longer pending).
    #[error("{0}")]
    Approval(String),

    /// The caller is not an admin of the project, and the action needs one.
    #[error("{member} is not an admin of config project `{project}`, and {action} needs one; an admin of it ({admins}) can make {member} one with `opsdeck config admin add {project} {member}`")]
    Forbidden {
        /// The project.
        project: String,
        /// Who tried.
        member: String,
        /// What they tried, in words.
        action: String,
        /// Its admins, for the message.
        admins: String,
    },

    /// No promotion request has this id.
    #[error("no promotion request {id}; `opsdeck config requests PROJECT` lists them")]
    UnknownRequest {
        /// The id asked for.
        id: String,
    },

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
            ConfigError::SchemaViolations { .. } => "config_invalid",
            ConfigError::UnknownProject { .. } => "unknown_config_project",
            ConfigError::UnknownVersion { .. } => "unknown_config_version",
            ConfigError::Invalid(_) => "invalid_input",
            ConfigError::Approval(_) => "config_approval",
            ConfigError::Forbidden { .. } => "forbidden",
            ConfigError::UnknownRequest { .. } => "unknown_config_request",
            ConfigError::Core(error) => error.code(),
        }
    }
}

impl From<sqlx::Error> for ConfigError {
    fn from(error: sqlx::Error) -> Self {
        ConfigError::Core(error.into())
    }
}

impl From<opsdeck_core::words::UnknownWord> for ConfigError {
    fn from(error: opsdeck_core::words::UnknownWord) -> ConfigError {
        ConfigError::Core(error.into())
    }
}

impl opsdeck_core::StoreContention for ConfigError {
    fn is_store_contention(&self) -> bool {
        matches!(self, ConfigError::Core(error) if error.is_store_contention())
    }
}
