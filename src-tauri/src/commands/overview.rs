//! Commands of the Overview and Settings pages.

use opsdeck::DeckStatus;
use tauri::State;

use crate::{AppState, CommandError};

/// The data dir, store and schema of the open deck.
#[tauri::command]
pub async fn deck_status(state: State<'_, AppState>) -> Result<DeckStatus, CommandError> {
    Ok(state.deck()?.status().await?)
}
