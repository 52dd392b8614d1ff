//! Commands of the Jobs page: the scheduler's jobs and their runs.

use opsdeck::Caller;
use tauri::State;

use crate::{AppState, CommandError};

/// Pauses or resumes a job.
#[tauri::command]
pub async fn job_set_paused(
    state: State<'_, AppState>,
    name: String,
    paused: bool,
) -> Result<(), CommandError> {
    Ok(state.deck()?.job_set_paused(&Caller::local_user("app"), &name, paused).await?)
}
