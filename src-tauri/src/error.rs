//! The one error shape the UI receives: `{ code, message }`.
//!
//! The UI decides its wording and behaviour on `code`, never on `message`.

use serde::Serialize;
use ts_rs::TS;

/// An error returned by any command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    /// Stable machine-readable code, e.g. `store_unreachable`.
    pub code: String,
    /// A sentence for people: what went wrong and what to do.
    pub message: String,
}

impl From<opsdeck::DeckError> for CommandError {
    fn from(error: opsdeck::DeckError) -> Self {
        CommandError { code: error.code().to_owned(), message: error.to_string() }
    }
}
