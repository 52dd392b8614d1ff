//! The app's one managed value: the deck, or why it could not be opened.

use opsdeck::{Deck, DeckOptions};

use crate::CommandError;

/// Managed with `app.manage`, read by every command through `State<'_, AppState>`.
///
/// When the deck cannot be opened (a bad data dir, an unreachable database) the
/// window still opens and every command answers with the reason, so the user
/// sees it where they look instead of a process that silently exits.
pub enum AppState {
    /// The deck is open.
    Open(std::sync::Arc<Deck>),
    /// Opening failed; the error is shown on every page.
    Failed(CommandError),
}

impl AppState {
    /// Opens the deck described by `options`.
    pub async fn open(options: DeckOptions) -> AppState {
        match Deck::open(options).await {
            Ok(deck) => AppState::Open(std::sync::Arc::new(deck)),
            Err(error) => {
                eprintln!("error: {error}");
                AppState::Failed(CommandError::from(error))
            }
        }
    }

    /// The open deck, or the error that prevented opening it.
    pub fn deck(&self) -> Result<&std::sync::Arc<Deck>, CommandError> {
        match self {
            AppState::Open(deck) => Ok(deck),
            AppState::Failed(error) => Err(error.clone()),
        }
    }

    /// Shuts the deck down (background tasks first, then the store).
    pub async fn shutdown(&self) {
        if let AppState::Open(deck) = self {
            deck.shutdown().await;
        }
    }
}
