//! Commands of the Jobs page: the scheduler's jobs and their runs.

use opsdeck::{Caller, JobInfo, JobRun};
use tauri::State;

use crate::{AppState, CommandError};

/// Every job with its latest run.
#[tauri::command]
pub async fn jobs_list(state: State<'_, AppState>) -> Result<Vec<JobInfo>, CommandError> {
    Ok(state.deck()?.jobs().await?)
}

/// The latest attempts of one job, newest first.
#[tauri::command]
pub async fn job_runs(
    state: State<'_, AppState>,
    name: String,
    limit: i64,
) -> Result<Vec<JobRun>, CommandError> {
    Ok(state.deck()?.job_runs(&name, limit).await?)
}

/// Makes a job due now.
#[tauri::command]
pub async fn job_run_now(state: State<'_, AppState>, name: String) -> Result<(), CommandError> {
    Ok(state.deck()?.job_run_now(&Caller::local_user("app"), &name).await?)
}

/// Pauses or resumes a job.
#[tauri::command]
pub async fn job_set_paused(
    state: State<'_, AppState>,
    name: String,
    paused: bool,
) -> Result<(), CommandError> {
    Ok(state.deck()?.job_set_paused(&Caller::local_user("app"), &name, paused).await?)
}
